using Microsoft.AspNetCore.Http.HttpResults;

namespace Sessions.Api.Keys;

/// <summary>The public keys that verify access tokens (RFC 7517).</summary>
public static class KeysApi
{
    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/.well-known/jwks.json", Jwks).WithTags("Keys");
        return app;
    }

    private static ContentHttpResult Jwks(HttpContext http, SigningKeys keys)
    {
        http.Response.Headers.CacheControl = "public, max-age=300";
        return TypedResults.Text(keys.Jwks, "application/json");
    }
}
