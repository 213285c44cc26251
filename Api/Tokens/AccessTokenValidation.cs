using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Sessions.Api.Http;
using Sessions.Api.Keys;

namespace Sessions.Api.Tokens;

/// <summary>
/// Bearer validation: ES256 only, our issuer and audience, typ at+jwt, lifetime on the session clock
/// with a small skew, a key from the ring by kid; then the session itself must still be live, so a
/// revoked session's access tokens stop working at once.
/// </summary>
public sealed class AccessTokenValidation(
    SigningKeys keys,
    IGrainFactory grains,
    IOptions<ApiOptions> options,
    [FromKeyedServices(SessionClock.Key)] TimeProvider time) : IConfigureNamedOptions<JwtBearerOptions>
{
    public void Configure(string? name, JwtBearerOptions bearer)
    {
        var o = options.Value;
        bearer.MapInboundClaims = false;
        bearer.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = o.Issuer,
            ValidAudience = o.Audience,
            ValidAlgorithms = [SigningKeys.Algorithm],
            ValidTypes = [AccessTokens.TokenType],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ClockSkew = o.ClockSkew,
            IssuerSigningKeyResolver = (_, _, keyId, _) => keys.Find(keyId) is { } key ? [key] : [],
            LifetimeValidator = (notBefore, expires, _, _) =>
            {
                var now = time.GetUtcNow().UtcDateTime;
                return expires is { } exp && now < exp + o.ClockSkew && (notBefore is not { } nbf || now >= nbf - o.ClockSkew);
            },
            NameClaimType = JwtRegisteredClaimNames.Sub,
            RoleClaimType = Claims.Role,
        };
        bearer.Events = new JwtBearerEvents
        {
            OnTokenValidated = async context =>
            {
                var sessionId = context.Principal?.FindFirst(Claims.SessionId)?.Value;
                if (!Guid.TryParse(sessionId, out var id) || !await grains.GetGrain<ISessionGrain>(id).IsActiveAsync())
                    context.Fail("The session of this access token has ended.");
            },
            OnChallenge = async context =>
            {
                context.HandleResponse();
                context.Response.Headers.WWWAuthenticate = context.AuthenticateFailure is null ? "Bearer" : "Bearer error=\"invalid_token\"";
                await Problems.WriteAsync(context.HttpContext, StatusCodes.Status401Unauthorized, Problems.InvalidToken,
                    "A valid access token is required.");
            },
        };
    }

    public void Configure(JwtBearerOptions options) => Configure(Options.DefaultName, options);
}
