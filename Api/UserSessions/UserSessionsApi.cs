using Microsoft.AspNetCore.Http.HttpResults;
using Sessions.Api.Http;
using Sessions.Api.Tokens;

namespace Sessions.Api.UserSessions;

public sealed record SessionResponse(
    Guid SessionId, DateTimeOffset CreatedAt, DateTimeOffset LastRefreshedAt, DateTimeOffset ExpiresAt,
    string? UserAgent, string? IpAddress, bool Current);

/// <summary>The caller's sessions: list and revoke (access token required).</summary>
public static class UserSessionsApi
{
    public static RouteGroupBuilder MapUserSessionsApi(this IEndpointRouteBuilder app)
    {
        var sessions = app.MapGroup("/auth/sessions").WithTags("Sessions").RequireAuthorization().NoStore();
        sessions.MapGet("/", ListAsync).ProducesProblems(401, 503);
        sessions.MapDelete("/{sessionId}", RevokeAsync).ProducesProblems(401, 404, 503);
        return sessions;
    }

    private static async Task<Ok<SessionResponse[]>> ListAsync(HttpContext http, IGrainFactory grains)
    {
        var current = Caller.SessionId(http);
        var sessions = await grains.GetGrain<IUserGrain>(Caller.UserId(http)).GetSessionsAsync();
        return TypedResults.Ok(sessions.Select(s => new SessionResponse(
            s.SessionId, s.CreatedAt, s.LastRefreshedAt, s.ExpiresAt,
            UnicodeText.WithoutHidden(s.UserAgent, ClientInput.MaxUserAgentLength), // sessions stored before user agents were cleaned
            s.IpAddress, s.SessionId == current)).ToArray());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(string sessionId, HttpContext http, IGrainFactory grains)
    {
        if (Guid.TryParse(sessionId, out var id) && await grains.GetGrain<IUserGrain>(Caller.UserId(http)).RevokeSessionAsync(new SessionRevocation(id, RevocationReason.RevokedByUser)))
            return TypedResults.NoContent();
        return Problems.Of(ProblemCatalogue.NotFound, "No such session among yours.");
    }
}
