using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Sessions.Api.Http;
using Sessions.Api.Tokens;

namespace Sessions.Api.Email;

public sealed record EmailTokenRequest(string? Token);
public sealed record ForgotPasswordRequest(string? Email);
public sealed record ResetPasswordRequest(string? Token, string? NewPassword);

/// <summary>
/// Address verification and password reset by mail (docs/http-api.md#email-verification-and-password-reset). Tokens are made
/// by the user grain, which keeps only their hashes; mail goes through the <see cref="MailOutbox"/>, after the answer.
/// </summary>
public static class EmailApi
{
    public const string Verification = "verification", PasswordReset = "password_reset";

    public static RouteGroupBuilder MapEmailApi(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/auth").WithTags("Email");
        auth.MapPost("/email/verify-request", RequestVerificationAsync).RequireAuthorization()
            .ProducesProblems(401, 429, 501, 503);
        auth.MapPost("/email/verify", VerifyAsync).RequireRateLimiting(RateLimits.Login)
            .AcceptsJson<EmailTokenRequest>().ProducesProblems(429, 503);
        auth.MapPost("/password/forgot", Forgot).RequireRateLimiting(RateLimits.Login)
            .AcceptsJson<ForgotPasswordRequest>().ProducesProblems(429, 501);
        auth.MapPost("/password/reset", ResetAsync).RequireRateLimiting(RateLimits.Login)
            .AcceptsJson<ResetPasswordRequest>().ProducesProblems(429, 503);
        return auth;
    }

    /// <summary>After a registration: the verification mail, composed and sent by the outbox (a failure there fails nothing here).</summary>
    public static void QueueVerification(MailOutbox outbox, IGrainFactory grains, EmailOptions options, Guid userId)
    {
        if (outbox.Enabled)
            outbox.Enqueue(Verification, async _ => VerificationMessage(outbox, options, await grains.GetGrain<IUserGrain>(userId).IssueEmailTokenAsync(EmailTokenKind.Verification)));
    }

    private static async Task<Results<Accepted, ProblemHttpResult>> RequestVerificationAsync(
        HttpContext http, IGrainFactory grains, MailOutbox outbox, IOptions<EmailOptions> options)
    {
        if (!outbox.Enabled)
            return NotConfigured();
        var issue = await grains.GetGrain<IUserGrain>(Caller.UserId(http)).IssueEmailTokenAsync(EmailTokenKind.Verification);
        if (issue.Status == EmailTokenStatus.TooManyMails)
            return Problems.RetryLater(http, ProblemCatalogue.TooManyAttempts,
                "As many mails as an account may get in a while were sent to this one; retry later.", issue.RetryAfter ?? TimeSpan.FromMinutes(15));
        if (VerificationMessage(outbox, options.Value, issue) is { } message)
            outbox.Enqueue(Verification, _ => Task.FromResult<MimeKit.MimeMessage?>(message));
        return TypedResults.Accepted((string?)null);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> VerifyAsync(HttpContext http, IGrainFactory grains)
    {
        var (body, problem) = await RequestBody.ReadJsonAsync<EmailTokenRequest>(http);
        if (problem is not null)
            return problem;
        if (string.IsNullOrEmpty(body!.Token))
            return Problems.BadRequest("token is required.");
        return EmailToken.TryParse(body.Token, out var token) && token.Kind == EmailTokenKind.Verification
            && await grains.GetGrain<IUserGrain>(token.UserId).VerifyEmailAsync(body.Token)
            ? TypedResults.NoContent()
            : BadToken();
    }

    private static async Task<Results<Accepted, ProblemHttpResult>> Forgot(
        HttpContext http, IGrainFactory grains, MailOutbox outbox, IOptions<EmailOptions> options)
    {
        if (!outbox.Enabled)
            return NotConfigured();
        var (body, problem) = await RequestBody.ReadJsonAsync<ForgotPasswordRequest>(http);
        if (problem is not null)
            return problem;
        if (!Credentials.TryNormalizeEmail(body!.Email?.Trim(), out var email))
            return Problems.BadRequest("email must be an email address.");
        // The same answer at once for every well-formed email: whether it has an account is found out after, by the outbox.
        outbox.Enqueue(PasswordReset, async _ =>
        {
            if (await grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(email)).FindUserAsync() is not { } userId)
                return null;
            var issue = await grains.GetGrain<IUserGrain>(userId).IssueEmailTokenAsync(EmailTokenKind.PasswordReset);
            return issue is { Status: EmailTokenStatus.Issued, Token: { } token, Email: { } to }
                ? outbox.Message(to, "Reset your password",
                    "Someone asked to reset the password of your account. If it was you, open this link to choose a new password; it works once, and only for a short while:",
                    options.Value.ResetPasswordUrl!, token,
                    "Setting a new password signs you out on every device. If you did not ask for this, ignore this mail: your password stays as it is.")
                : null;
        });
        return TypedResults.Accepted((string?)null);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ResetAsync(HttpContext http, GrainCalls calls)
    {
        var (body, problem) = await RequestBody.ReadJsonAsync<ResetPasswordRequest>(http);
        if (problem is not null)
            return problem;
        if (string.IsNullOrEmpty(body!.Token))
            return Problems.BadRequest("token is required.");
        // Before the token is looked at, so a bad new password spends nothing.
        if (!Credentials.IsValidPassword(body.NewPassword))
            return Problems.BadRequest($"newPassword must be {Credentials.MinPasswordLength} to {Credentials.MaxPasswordLength} characters.");
        return EmailToken.TryParse(body.Token, out var token) && token.Kind == EmailTokenKind.PasswordReset
            && await calls.Grains.GetGrain<IUserGrain>(token.UserId).ResetPasswordAsync(new PasswordReset(body.Token, body.NewPassword!, calls.Deadline()))
            ? TypedResults.NoContent()
            : BadToken();
    }

    private static MimeKit.MimeMessage? VerificationMessage(MailOutbox outbox, EmailOptions options, EmailTokenIssue issue) =>
        issue is { Status: EmailTokenStatus.Issued, Token: { } token, Email: { } to }
            ? outbox.Message(to, "Verify your email address",
                "Open this link to confirm that this address is yours:", options.VerifyEmailUrl!, token,
                "If you did not create an account, ignore this mail.")
            : null;

    private static ProblemHttpResult BadToken() =>
        Problems.Of(ProblemCatalogue.InvalidGrant, StatusCodes.Status400BadRequest, "The link is not valid: it is unknown, expired, used, or a newer one was sent.");

    private static ProblemHttpResult NotConfigured() =>
        Problems.Of(ProblemCatalogue.EmailNotConfigured, "This service sends no mail (Email:Smtp:Host is not set).");
}
