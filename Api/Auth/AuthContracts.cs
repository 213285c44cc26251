using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Sessions.Api.Dpop;
using Sessions.Api.Http;
using Sessions.Api.Tokens;

namespace Sessions.Api.Auth;

public sealed record RegisterRequest(string? Email, string? Password);
public sealed record RegisterResponse(Guid UserId);
/// <summary>A login; <see cref="DeviceToken"/> is the device token of an earlier login, for clients whose tokens travel in the body.</summary>
public sealed record LoginRequest(string? Email, string? Password, string? RefreshTokenIn, string? DeviceToken = null);
public sealed record RefreshRequest(string? RefreshToken);

public sealed record TokenResponse(
    string AccessToken,
    string TokenType,
    int ExpiresIn,
    Guid SessionId,
    DateTimeOffset RefreshTokenExpiresAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RefreshToken,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DeviceToken = null);

/// <summary>What the auth handlers use, bound per request with [AsParameters].</summary>
public sealed record AuthServices(
    GrainCalls Calls,
    AccessTokens Tokens,
    RefreshTokenTransport Transport,
    DpopProofValidator Dpop,
    IOptions<ApiOptions> Options,
    ILogger<AuthServices> Logger)
{
    /// <summary>A refresh of <paramref name="token"/>; the grain checks that our resend after a lost answer would fall inside its grace window.</summary>
    public RefreshAttempt RefreshAttempt(string token, ClientInfo client, DpopProof? proof) =>
        new(token, client, Calls.Deadline(), proof, ResendAfter: Calls.ResponseTimeout);
}
