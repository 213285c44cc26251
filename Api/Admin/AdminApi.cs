using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Sessions.Api.Http;
using Sessions.Api.OAuth;
using Sessions.Api.Tokens;

namespace Sessions.Api.Admin;

public sealed record RolesRequest(string?[]? Roles);

public sealed record AdminSessionResponse(
    Guid SessionId, DateTimeOffset CreatedAt, DateTimeOffset LastRefreshedAt, DateTimeOffset ExpiresAt, string? UserAgent, string? IpAddress);

/// <summary>
/// Accounts for operators (docs/http-api.md#admin-api): a backend client with scope admin, or a user whose roles include
/// admin now (the access token's session answers with the roles of now). Every change is a security event.
/// </summary>
public static partial class AdminApi
{
    public const string Policy = "administer";
    /// <summary>Basic credentials go to the backend-client scheme, anything else to the access-token one.</summary>
    private const string CallerScheme = "admin-caller";

    public static AuthenticationBuilder AddAdminCallers(this AuthenticationBuilder authentication, AuthorizationBuilder authorization)
    {
        authorization.AddPolicy(Policy, policy => policy.AddAuthenticationSchemes(CallerScheme).RequireAuthenticatedUser()
            .RequireAssertion(context => IsClient(context.User)
                ? context.User.HasClaim(ClientScopes.ClaimType, ClientScopes.Admin)
                : context.User.IsInRole(Roles.Admin)));
        return authentication.AddPolicyScheme(CallerScheme, null, scheme => scheme.ForwardDefaultSelector = http =>
            http.Request.Headers.Authorization.ToString().StartsWith(BackendClientAuthentication.SchemeName + " ", StringComparison.OrdinalIgnoreCase)
                ? BackendClientAuthentication.SchemeName
                : JwtBearerDefaults.AuthenticationScheme);
    }

    public static RouteGroupBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("/admin/users").WithTags("Admin").RequireAuthorization(Policy).NoStore()
            .ProducesProblems(400, 401, 403, 404, 503);
        users.MapGet("/", FindAsync);
        users.MapGet("/{userId}", GetAsync);
        users.MapPut("/{userId}/roles", SetRolesAsync).AcceptsJson<RolesRequest>();
        users.MapPost("/{userId}/disable", (Guid userId, HttpContext http, IGrainFactory grains, ApiInstruments instruments) =>
            SetDisabledAsync(userId, disabled: true, http, grains, instruments));
        users.MapPost("/{userId}/enable", (Guid userId, HttpContext http, IGrainFactory grains, ApiInstruments instruments) =>
            SetDisabledAsync(userId, disabled: false, http, grains, instruments));
        users.MapGet("/{userId}/sessions", ListSessionsAsync);
        users.MapDelete("/{userId}/sessions", RevokeSessionsAsync);
        users.MapDelete("/{userId}/sessions/{sessionId}", RevokeSessionAsync);
        users.MapDelete("/{userId}", DeleteAsync);
        return users;
    }

    private static async Task<Results<Ok<UserAccount>, ProblemHttpResult>> FindAsync(string? email, IGrainFactory grains)
    {
        if (string.IsNullOrWhiteSpace(email))
            return Problems.BadRequest("The email query parameter is required.");
        // Normalised as at login, so any spelling of the address finds its account.
        if (!Credentials.TryNormalizeEmail(email.Trim(), out var normal))
            return Problems.BadRequest("email must be an email address.");
        return await grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(normal)).FindUserAsync() is { } userId
            && await grains.GetGrain<IUserGrain>(userId).GetAccountAsync() is { } account
            ? TypedResults.Ok(account)
            : NoSuchUser();
    }

    private static async Task<Results<Ok<UserAccount>, ProblemHttpResult>> GetAsync(Guid userId, IGrainFactory grains) =>
        await grains.GetGrain<IUserGrain>(userId).GetAccountAsync() is { } account ? TypedResults.Ok(account) : NoSuchUser();

    private static async Task<Results<Ok<UserAccount>, ProblemHttpResult>> SetRolesAsync(Guid userId, HttpContext http, IGrainFactory grains, ApiInstruments instruments)
    {
        var (body, problem) = await RequestBody.ReadJsonAsync<RolesRequest>(http);
        if (problem is not null)
            return problem;
        if (!Roles.TryNormalize(body!.Roles, out var roles))
            return Problems.BadRequest($"roles must hold 1 to {Roles.MaxCount} names of 1 to {Roles.MaxLength} characters a-z 0-9 _ . : -, each starting with a letter.");
        if (await grains.GetGrain<IUserGrain>(userId).SetRolesAsync(roles) is not { } account)
            return NoSuchUser();
        Audit(http, instruments, "set_roles", userId);
        return TypedResults.Ok(account);
    }

    private static async Task<Results<Ok<UserAccount>, ProblemHttpResult>> SetDisabledAsync(Guid userId, bool disabled, HttpContext http, IGrainFactory grains, ApiInstruments instruments)
    {
        if (await grains.GetGrain<IUserGrain>(userId).SetDisabledAsync(disabled) is not { } account)
            return NoSuchUser();
        Audit(http, instruments, disabled ? "disable" : "enable", userId);
        return TypedResults.Ok(account);
    }

    private static async Task<Results<Ok<AdminSessionResponse[]>, ProblemHttpResult>> ListSessionsAsync(Guid userId, IGrainFactory grains)
    {
        var user = grains.GetGrain<IUserGrain>(userId);
        if (!await user.ExistsAsync())
            return NoSuchUser();
        var sessions = await user.GetSessionsAsync();
        return TypedResults.Ok(sessions.Select(s => new AdminSessionResponse(s.SessionId, s.CreatedAt, s.LastRefreshedAt, s.ExpiresAt,
            UnicodeText.WithoutHidden(s.UserAgent, ClientInput.MaxUserAgentLength), s.IpAddress)).ToArray());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeSessionsAsync(Guid userId, HttpContext http, IGrainFactory grains, ApiInstruments instruments)
    {
        var user = grains.GetGrain<IUserGrain>(userId);
        if (!await user.ExistsAsync())
            return NoSuchUser();
        await user.RevokeAllSessionsAsync(new AllSessionsRevocation(RevocationReason.RevokedByAdmin));
        Audit(http, instruments, "revoke_sessions", userId);
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeSessionAsync(Guid userId, string sessionId, HttpContext http, IGrainFactory grains, ApiInstruments instruments)
    {
        if (!Guid.TryParse(sessionId, out var session) || !await grains.GetGrain<IUserGrain>(userId).RevokeSessionAsync(new SessionRevocation(session, RevocationReason.RevokedByAdmin)))
            return Problems.Of(ProblemCatalogue.NotFound, "No such session of this user.");
        Audit(http, instruments, "revoke_session", userId);
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(Guid userId, HttpContext http, IGrainFactory grains, ApiInstruments instruments)
    {
        if (!await grains.GetGrain<IUserGrain>(userId).DeleteAsync())
            return NoSuchUser();
        Audit(http, instruments, "delete", userId);
        return TypedResults.NoContent();
    }

    private static bool IsClient(ClaimsPrincipal user) => user.Identity?.AuthenticationType == BackendClientAuthentication.SchemeName;

    /// <summary>Who made the change: "client:" and the backend's id, or "user:" and the admin's user id.</summary>
    private static string Actor(HttpContext http) => IsClient(http.User)
        ? "client:" + http.User.FindFirst(BackendClientAuthentication.ClientIdClaim)?.Value
        : "user:" + http.User.FindFirst(Claims.Subject)?.Value;

    private static void Audit(HttpContext http, ApiInstruments instruments, string action, Guid target)
    {
        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AdminApi));
        var actor = Actor(http);
        SecurityEvents.AdminAction(logger, actor, action, target);
        instruments.AdminAction(action);
    }

    private static ProblemHttpResult NoSuchUser() => Problems.Of(ProblemCatalogue.NotFound, "No such user.");
}
