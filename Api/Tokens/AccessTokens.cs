using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Sessions.Api.Keys;

namespace Sessions.Api.Tokens;

/// <summary>Issues RFC 9068 access tokens (JWS, ES256, typ at+jwt) for a session grant: one signature, no I/O.</summary>
public sealed class AccessTokens(SigningKeys keys, ApiInstruments instruments, IOptions<ApiOptions> options, [FromKeyedServices(SessionClock.Key)] TimeProvider time)
{
    public const string TokenType = "at+jwt";

    private readonly ApiOptions _options = options.Value;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public int LifetimeSeconds => (int)_options.AccessTokenLifetime.TotalSeconds;

    /// <summary>The signed token, or null when this node has no signing key yet (the cluster was never reached).</summary>
    public string? Issue(SessionGrant grant)
    {
        if (keys.Current() is not { } credentials)
            return null;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var now = time.GetUtcNow().UtcDateTime;
        var claims = new Dictionary<string, object>
        {
            [Claims.Subject] = grant.UserId.ToString(),
            [Claims.SessionId] = grant.SessionId.ToString(),
            [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
            [Claims.Email] = grant.Email,
            [Claims.Role] = grant.Roles.ToArray(),
        };
        // DPoP (RFC 9449 6.1): a bound session's tokens name its key.
        if (grant.DpopJkt is { } jkt)
            claims[Claims.Confirmation] = new Dictionary<string, object> { ["jkt"] = jkt };
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = TokenType,
            Issuer = _options.Issuer,
            Audience = _options.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + _options.AccessTokenLifetime,
            SigningCredentials = credentials,
            Claims = claims,
        });
        instruments.AccessTokenIssued(started);
        return token;
    }
}

/// <summary>The claim names of our access tokens.</summary>
public static class Claims
{
    public const string Subject = JwtRegisteredClaimNames.Sub;
    public const string SessionId = "sid";
    public const string Email = JwtRegisteredClaimNames.Email;
    public const string Role = "role";
    /// <summary>DPoP: {"jkt": thumbprint of the key the session is bound to}.</summary>
    public const string Confirmation = "cnf";
}
