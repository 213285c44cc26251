using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Sessions.Api.Dpop;
using Sessions.Api.Http;
using Sessions.Api.Keys;

namespace Sessions.Api.Tokens;

/// <summary>
/// Bearer validation: ES256 only, our issuer and audience, typ at+jwt, lifetime on the session clock
/// with a small skew, a key from the ring by kid; then the session itself must still be live, so a
/// revoked session's access tokens stop working at once. A DPoP-bound token (cnf.jkt) is taken only with the DPoP
/// scheme and a proof by its key, whose jti its session grain accepts once (docs/http-api.md#dpop-sender-constrained-tokens).
/// </summary>
public sealed class AccessTokenValidation(
    SigningKeys keys,
    IGrainFactory grains,
    DpopProofValidator dpop,
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
            // "Authorization: DPoP <token>": the handler itself reads only Bearer.
            OnMessageReceived = context =>
            {
                if (DpopAuthentication.ReadToken(context.HttpContext) is { } token)
                    context.Token = token;
                return Task.CompletedTask;
            },
            OnTokenValidated = async context =>
            {
                var http = context.HttpContext;
                var sessionId = context.Principal?.FindFirst(Claims.SessionId)?.Value;
                if (!Guid.TryParse(sessionId, out var id))
                {
                    context.Fail("The access token names no session.");
                    return;
                }
                var session = grains.GetGrain<ISessionGrain>(id);
                var viaDpop = DpopAuthentication.Of(http)?.AccessToken;
                // The hot path: an unbound token as Bearer, one grain call answered from memory, which also gives the
                // user's roles of now: a role removed since the token was issued is removed here too.
                if (context.Principal!.FindFirst(DpopAuthentication.ConfirmationClaim)?.Value is not { } cnf)
                {
                    if (viaDpop is not null)
                        Refuse(context, ProblemCatalogue.InvalidToken, "An unbound access token must be sent as Bearer.");
                    else if (await session.IntrospectAsync(null) is not { } live || live.UserId.ToString() != context.Principal.FindFirst(Claims.Subject)?.Value)
                        context.Fail("The session of this access token has ended.");
                    else
                        UseSessionOfNow(context.Principal, live);
                    return;
                }

                if (DpopAuthentication.BoundKey(cnf) is not { } jkt || viaDpop is null)
                {
                    Refuse(context, ProblemCatalogue.InvalidToken, "A DPoP-bound access token must be sent with the DPoP scheme.");
                    return;
                }
                if (dpop.Read(http, viaDpop).Proof is not { } proof || !string.Equals(proof.Jkt, jkt, StringComparison.Ordinal))
                {
                    Refuse(context, ProblemCatalogue.InvalidDpopProof, "The DPoP proof is missing, not valid, or not by the token's key.");
                    return;
                }
                switch (await session.CheckAccessAsync(new AccessCheck(proof)))
                {
                    case AccessStatus.Ended:
                        Refuse(context, ProblemCatalogue.InvalidToken, "The session of this access token has ended.");
                        return;
                    case AccessStatus.ProofRefused:
                        Refuse(context, ProblemCatalogue.InvalidDpopProof, "The DPoP proof was used before.");
                        return;
                }
                // A bound token's roles of now take a second call: DPoP is not the hot path.
                if (await session.IntrospectAsync(null) is { } bound)
                    UseSessionOfNow(context.Principal, bound);
                else
                    Refuse(context, ProblemCatalogue.InvalidToken, "The session of this access token has ended.");
            },
            OnForbidden = context =>
                Problems.WriteAsync(context.HttpContext, ProblemCatalogue.InsufficientScope, "This user lacks the role this endpoint needs."),
            OnChallenge = async context =>
            {
                context.HandleResponse();
                if (DpopAuthentication.ChallengeError(context.HttpContext) is { } error)
                {
                    context.Response.Headers.WWWAuthenticate = $"{DpopAuthentication.Scheme} error=\"{error.Error}\", algs=\"{DpopProofValidator.Algorithm}\"";
                    await Problems.WriteAsync(context.HttpContext, error, StatusCodes.Status401Unauthorized,
                        "A valid DPoP-bound access token and DPoP proof are required.");
                    return;
                }
                context.Response.Headers.WWWAuthenticate = context.AuthenticateFailure is null ? "Bearer" : "Bearer error=\"invalid_token\"";
                await Problems.WriteAsync(context.HttpContext, ProblemCatalogue.InvalidToken,
                    "A valid access token is required.");
            },
        };
    }

    public void Configure(JwtBearerOptions options) => Configure(Options.DefaultName, options);

    /// <summary>The user's roles and email verification as the session holds them now, in place of the token's.</summary>
    private static void UseSessionOfNow(ClaimsPrincipal principal, SessionIntrospection session)
    {
        var identity = (ClaimsIdentity)principal.Identity!;
        foreach (var claim in identity.FindAll(c => c.Type is Claims.Role or Claims.EmailVerified).ToList())
            identity.RemoveClaim(claim);
        identity.AddClaims(session.Roles.Select(role => new Claim(Claims.Role, role)));
        identity.AddClaim(new Claim(Claims.EmailVerified, session.EmailVerified ? "true" : "false"));
    }

    private static void Refuse(TokenValidatedContext context, ProblemType error, string reason)
    {
        DpopAuthentication.Refuse(context.HttpContext, error);
        context.Fail(reason);
    }
}
