using Microsoft.AspNetCore.Http.HttpResults;
using Sessions.Api.Http;
using Sessions.Api.Tokens;

namespace Sessions.Api.Account;

public sealed record MeResponse(Guid UserId, string Email, bool EmailVerified, string[] Roles, Guid SessionId);
public sealed record PasswordChangeRequest(string? CurrentPassword, string? NewPassword);
public sealed record AccountDeletionRequest(string? Password);

/// <summary>The caller's own account (access token required): /me, the password change and deleting the account.</summary>
public static class AccountApi
{
    public static RouteGroupBuilder MapAccountApi(this IEndpointRouteBuilder app)
    {
        var account = app.MapGroup("").WithTags("Account").RequireAuthorization().NoStore();
        account.MapGet("/me", Me).ProducesProblems(401);
        // Each request checks a password, so it shares login's per-address limit as well as its failed-login count.
        account.MapPost("/auth/password", ChangePasswordAsync).RequireRateLimiting(RateLimits.Login)
            .AcceptsJson<PasswordChangeRequest>()
            .ProducesProblems(401, 403, 429, 503);
        account.MapDelete("/me", DeleteAsync).RequireRateLimiting(RateLimits.Login)
            .AcceptsJson<AccountDeletionRequest>()
            .ProducesProblems(401, 403, 429, 503);
        return account;
    }

    private static Ok<MeResponse> Me(HttpContext http) => TypedResults.Ok(new MeResponse(
        Caller.UserId(http),
        http.User.FindFirst(Claims.Email)?.Value ?? "",
        http.User.FindFirst(Claims.EmailVerified)?.Value == "true",
        http.User.FindAll(Claims.Role).Select(c => c.Value).ToArray(),
        Caller.SessionId(http)));

    /// <summary>
    /// POST /auth/password (docs/http-api.md#change-password): through the email index, which keeps the failed-login count this request
    /// shares with login, to the user grain, which stores the new hash and revokes every other session before
    /// the 204. A 503 (a revocation not stored) is finished by sending the same request again.
    /// </summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> ChangePasswordAsync(HttpContext http, GrainCalls calls)
    {
        var (body, problem) = await RequestBody.ReadJsonAsync<PasswordChangeRequest>(http);
        if (problem is not null)
            return problem;
        // The current password is checked, not judged: any length a login takes (the old rules may have allowed it).
        if (body!.CurrentPassword is not { Length: > 0 and <= ClientInput.MaxPresentedPasswordLength })
            return Problems.BadRequest("currentPassword is required.");
        if (!Credentials.IsValidPassword(body.NewPassword))
            return Problems.BadRequest($"newPassword must be {Credentials.MinPasswordLength} to {Credentials.MaxPasswordLength} characters.");

        var change = new PasswordChange(body.CurrentPassword, body.NewPassword, Caller.UserId(http), Caller.SessionId(http),
            ClientInput.Client(http), calls.Deadline());
        var result = await calls.Grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(Caller.Email(http))).ChangePasswordAsync(change);
        return result.Status switch
        {
            PasswordChangeStatus.Changed => TypedResults.NoContent(),
            PasswordChangeStatus.TooManyAttempts => Problems.TooManyFailedLogins(http, result.RetryAfter),
            // 403, not 401: the access token is fine, and a 401 would make clients refresh and retry it.
            _ => Problems.Of(ProblemCatalogue.InvalidCredentials, StatusCodes.Status403Forbidden, "The current password is wrong."),
        };
    }

    /// <summary>
    /// DELETE /me (docs/http-api.md#admin-api): the password is checked by the email index under the password change's
    /// limits, then the user grain deletes the account. A 503 is finished by the same request again, or by the grain.
    /// </summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(HttpContext http, GrainCalls calls, RefreshTokenTransport transport)
    {
        var (body, problem) = await RequestBody.ReadJsonAsync<AccountDeletionRequest>(http);
        if (problem is not null)
            return problem;
        if (body!.Password is not { Length: > 0 and <= ClientInput.MaxPresentedPasswordLength })
            return Problems.BadRequest("password is required.");

        var check = new PasswordCheck(body.Password, Caller.UserId(http), Caller.SessionId(http), ClientInput.Client(http), calls.Deadline());
        var result = await calls.Grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(Caller.Email(http))).CheckPasswordAsync(check);
        switch (result.Status)
        {
            case PasswordCheckStatus.TooManyAttempts:
                return Problems.TooManyFailedLogins(http, result.RetryAfter);
            case PasswordCheckStatus.InvalidCredentials:
                return Problems.Of(ProblemCatalogue.InvalidCredentials, StatusCodes.Status403Forbidden, "The password is wrong.");
        }
        await calls.Grains.GetGrain<IUserGrain>(Caller.UserId(http)).DeleteAsync();
        transport.ClearCookie(http);
        return TypedResults.NoContent();
    }
}
