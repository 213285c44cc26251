using System.Collections.Immutable;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Sessions.Api.Http;
using Sessions.Api.Keys;
using Sessions.Api.Tokens;

namespace Sessions.Api.OAuth;

/// <summary>
/// What other services need to trust our tokens: discovery metadata (RFC 8414 and OpenID Connect Discovery), token
/// introspection (RFC 7662) and revocation (RFC 7009) for backend clients (docs/http-api.md#issuer-and-discovery).
/// </summary>
public static class OAuthApi
{
    /// <summary>Far longer than any token we issue (a refresh token is 76 characters, an access token under 1 KB).</summary>
    internal const int MaxTokenLength = 8192;

    private static readonly JsonSerializerOptions SnakeCase = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };
    private static readonly JsonWebTokenHandler Jwt = new() { MapInboundClaims = false };

    public static IEndpointRouteBuilder MapOAuthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/.well-known/openid-configuration", Discovery).WithTags("Discovery");
        app.MapGet("/.well-known/oauth-authorization-server", Discovery).WithTags("Discovery");
        var oauth = app.MapGroup("/oauth").WithTags("OAuth").NoStore();
        oauth.MapPost("/introspect", IntrospectAsync).RequireAuthorization(ClientScopes.Introspect)
            .Produces<ActiveAccessToken>().ProducesProblems(400, 401, 403, 413, 415, 429, 503);
        oauth.MapPost("/revoke", RevokeAsync).RequireAuthorization(ClientScopes.Revoke)
            .ProducesProblems(400, 401, 403, 413, 415, 429, 503);
        return app;
    }

    private static JsonHttpResult<DiscoveryDocument> Discovery(HttpContext http, IOptions<ApiOptions> options)
    {
        http.Response.Headers.CacheControl = "public, max-age=300";
        var issuer = options.Value.Issuer!;
        var root = issuer.TrimEnd('/');
        string[] basic = ["client_secret_basic"], es256 = [SigningKeys.Algorithm], refresh = ["refresh_token"];
        return TypedResults.Json(new DiscoveryDocument(issuer, $"{root}/.well-known/jwks.json", $"{root}/oauth/introspect", $"{root}/oauth/revoke",
            basic, basic, es256, es256, ["public"], refresh, refresh), SnakeCase);
    }

    private static async Task<Results<JsonHttpResult<ActiveAccessToken>, JsonHttpResult<ActiveRefreshToken>, JsonHttpResult<Inactive>, ProblemHttpResult>> IntrospectAsync(
        HttpContext http, IGrainFactory grains, IOptions<ApiOptions> options, IOptionsMonitor<JwtBearerOptions> bearer)
    {
        var (token, problem) = await ReadTokenAsync(http);
        if (problem is not null)
            return problem;
        // The token's shape decides, not token_type_hint (RFC 7662 2.1: a hint may be wrong).
        if (RefreshToken.TryParse(token, out var refresh))
        {
            var session = await grains.GetGrain<ISessionGrain>(refresh.SessionId).IntrospectAsync(token);
            return session is null
                ? TypedResults.Json(Inactive.Answer, SnakeCase)
                : TypedResults.Json(new ActiveRefreshToken(session.UserId.ToString(), refresh.SessionId, options.Value.ClientId, session.ExpiresAt.ToUnixTimeSeconds()), SnakeCase);
        }
        if (await VerifyAsync(token!, bearer) is not { } jwt || !Guid.TryParse(jwt.GetClaim(Claims.SessionId).Value, out var sessionId))
            return TypedResults.Json(Inactive.Answer, SnakeCase);
        // The signature says what was true at issue; the session says whether it still is, and who the user is now.
        var live = await grains.GetGrain<ISessionGrain>(sessionId).IntrospectAsync(null);
        if (live is null || live.UserId.ToString() != jwt.Subject)
            return TypedResults.Json(Inactive.Answer, SnakeCase);
        return TypedResults.Json(new ActiveAccessToken(jwt.Issuer, jwt.Subject, sessionId,
            jwt.TryGetPayloadValue<string>(Claims.ClientId, out var clientId) ? clientId : options.Value.ClientId,
            jwt.Audiences.FirstOrDefault() ?? "", jwt.ValidTo.ToUnixSeconds(), jwt.IssuedAt.ToUnixSeconds(),
            live.Email, live.EmailVerified, live.Roles, live.DpopJkt is { } jkt ? new Confirmation(jkt) : null), SnakeCase);
    }

    private static async Task<Results<Ok, ProblemHttpResult>> RevokeAsync(HttpContext http, IGrainFactory grains, IOptionsMonitor<JwtBearerOptions> bearer)
    {
        var (token, problem) = await ReadTokenAsync(http);
        if (problem is not null)
            return problem;
        // RFC 7009 2.2: the same 200 whether the token was live, already dead, unknown or not a token at all.
        if (RefreshToken.TryParse(token, out var refresh))
            await grains.GetGrain<ISessionGrain>(refresh.SessionId).RevokeFamilyAsync(token!, RevocationReason.RevokedByClient);
        else if (await VerifyAsync(token!, bearer) is { } jwt && Guid.TryParse(jwt.GetClaim(Claims.SessionId).Value, out var sessionId))
            await grains.GetGrain<ISessionGrain>(sessionId).RevokeAsync(RevocationReason.RevokedByClient);
        return TypedResults.Ok();
    }

    /// <summary>The access token when it verifies exactly as at the protected endpoints (signature, issuer, audience, typ, lifetime).</summary>
    private static async Task<JsonWebToken?> VerifyAsync(string token, IOptionsMonitor<JwtBearerOptions> bearer)
    {
        var result = await Jwt.ValidateTokenAsync(token, bearer.Get(JwtBearerDefaults.AuthenticationScheme).TokenValidationParameters);
        return result.IsValid ? result.SecurityToken as JsonWebToken : null;
    }

    private static async Task<(string? Token, ProblemHttpResult? Problem)> ReadTokenAsync(HttpContext http)
    {
        var (form, problem) = await RequestBody.ReadFormAsync(http);
        if (problem is not null)
            return (null, problem);
        if (!form!.TryGetValue("token", out var values) || values.Count != 1 || string.IsNullOrEmpty(values[0]))
            return (null, Problems.BadRequest("The form must hold one token."));
        if (values[0]!.Length > MaxTokenLength)
            return (null, Problems.BadRequest($"token is longer than any token this service issues ({MaxTokenLength} characters)."));
        return (values[0], null);
    }

    private static long ToUnixSeconds(this DateTime utc) => new DateTimeOffset(utc, TimeSpan.Zero).ToUnixTimeSeconds();

    public sealed record DiscoveryDocument(
        string Issuer, string JwksUri, string IntrospectionEndpoint, string RevocationEndpoint,
        string[] IntrospectionEndpointAuthMethodsSupported, string[] RevocationEndpointAuthMethodsSupported,
        string[] IdTokenSigningAlgValuesSupported, string[] DpopSigningAlgValuesSupported, string[] SubjectTypesSupported,
        string[] ResponseTypesSupported, string[] GrantTypesSupported);

    public sealed record Inactive(bool Active)
    {
        public static readonly Inactive Answer = new(false);
    }

    public sealed record ActiveAccessToken(
        string Iss, string Sub, Guid Sid, string ClientId, string Aud, long Exp, long Iat,
        string Email, bool EmailVerified, ImmutableArray<string> Role, Confirmation? Cnf)
    {
        public bool Active => true;
        public string TokenType => "access_token";
    }

    public sealed record ActiveRefreshToken(string Sub, Guid Sid, string ClientId, long Exp)
    {
        public bool Active => true;
        public string TokenType => "refresh_token";
    }

    /// <summary>RFC 9449 6.1: the thumbprint of the key a DPoP-bound session's tokens are bound to.</summary>
    public sealed record Confirmation(string Jkt);
}
