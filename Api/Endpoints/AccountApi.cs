using Microsoft.AspNetCore.Http.HttpResults;
using Sessions.Api.Http;
using Sessions.Api.Tokens;

namespace Sessions.Api.Endpoints;

/// <summary>The caller's sessions and identity (access token required), and the public keys.</summary>
public static class AccountApi
{
    public static IEndpointRouteBuilder MapAccountApi(this IEndpointRouteBuilder app)
    {
        var sessions = app.MapGroup("/auth/sessions").WithTags("Sessions").RequireAuthorization();
        sessions.MapGet("/", ListSessionsAsync).ProducesProblem(401).ProducesProblem(503);
        sessions.MapDelete("/{sessionId}", RevokeSessionAsync).ProducesProblem(401).ProducesProblem(404).ProducesProblem(503);

        app.MapGet("/me", Me).WithTags("Account").RequireAuthorization().ProducesProblem(401);
        app.MapGet("/.well-known/jwks.json", Jwks).WithTags("Keys");
        return app;
    }

    private static async Task<Ok<SessionResponse[]>> ListSessionsAsync(HttpContext http, IGrainFactory grains)
    {
        var current = Caller.SessionId(http);
        var sessions = await grains.GetGrain<IUserGrain>(Caller.UserId(http)).GetSessionsAsync();
        return TypedResults.Ok(sessions.Select(s => new SessionResponse(
            s.SessionId, s.CreatedAt, s.LastRefreshedAt, s.ExpiresAt, s.UserAgent, s.IpAddress, s.SessionId == current)).ToArray());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeSessionAsync(string sessionId, HttpContext http, IGrainFactory grains)
    {
        if (Guid.TryParse(sessionId, out var id) && await grains.GetGrain<IUserGrain>(Caller.UserId(http)).RevokeSessionAsync(id))
            return TypedResults.NoContent();
        return Problems.Of(StatusCodes.Status404NotFound, Problems.NotFound, "No such session among yours.");
    }

    private static Ok<MeResponse> Me(HttpContext http) => TypedResults.Ok(new MeResponse(
        Caller.UserId(http),
        http.User.FindFirst("email")?.Value ?? "",
        http.User.FindAll(Claims.Role).Select(c => c.Value).ToArray(),
        Caller.SessionId(http)));

    private static ContentHttpResult Jwks(HttpContext http, SigningKeys keys)
    {
        http.Response.Headers.CacheControl = "public, max-age=300";
        return TypedResults.Text(keys.Jwks, "application/json");
    }
}
