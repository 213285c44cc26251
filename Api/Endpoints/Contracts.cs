using System.Text.Json.Serialization;

namespace Sessions.Api.Endpoints;

public sealed record RegisterRequest(string? Email, string? Password);
public sealed record RegisterResponse(Guid UserId);
public sealed record LoginRequest(string? Email, string? Password, string? RefreshTokenIn);
public sealed record RefreshRequest(string? RefreshToken);

public sealed record TokenResponse(
    string AccessToken,
    string TokenType,
    int ExpiresIn,
    Guid SessionId,
    DateTimeOffset RefreshTokenExpiresAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RefreshToken);

public sealed record SessionResponse(
    Guid SessionId, DateTimeOffset CreatedAt, DateTimeOffset LastRefreshedAt, DateTimeOffset ExpiresAt,
    string? UserAgent, string? IpAddress, bool Current);

public sealed record MeResponse(Guid UserId, string Email, string[] Roles, Guid SessionId);
