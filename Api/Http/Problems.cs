using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Sessions.Api.Http;

/// <summary>The error codes of docs/http-api.md#errors and the RFC 9457 problem bodies that carry them.</summary>
public static class Problems
{
    public const string InvalidRequest = "invalid_request";
    public const string EmailTaken = "email_taken";
    public const string InvalidCredentials = "invalid_credentials";
    public const string TooManyAttempts = "too_many_attempts";
    public const string MissingToken = "missing_token";
    public const string InvalidGrant = "invalid_grant";
    public const string OriginNotAllowed = "origin_not_allowed";
    public const string NotFound = "not_found";
    public const string InvalidToken = "invalid_token";
    /// <summary>DPoP: a proof missing, failing a check or replayed (400 at login, refresh and logout; 401 at protected endpoints).</summary>
    public const string InvalidDpopProof = "invalid_dpop_proof";
    /// <summary>A backend client without valid HTTP Basic credentials (401), or lacking the endpoint's scope (403).</summary>
    public const string InvalidClient = "invalid_client", InsufficientScope = "insufficient_scope";
    public const string AccountDisabled = "account_disabled";
    /// <summary>501: an endpoint that only sends mail, on a service configured without SMTP.</summary>
    public const string EmailNotConfigured = "email_not_configured";
    public const string Unavailable = "unavailable";
    public const string InternalError = "internal_error";

    public static ProblemHttpResult Of(int status, string error, string title) =>
        TypedResults.Problem(title: title, statusCode: status, type: $"urn:sessions:problem:{error}",
            extensions: new Dictionary<string, object?> { ["error"] = error });

    public static ProblemHttpResult BadRequest(string title) => Of(StatusCodes.Status400BadRequest, InvalidRequest, title);

    public static ProblemHttpResult BadDpopProof() =>
        Of(StatusCodes.Status400BadRequest, InvalidDpopProof, "The DPoP proof is missing or not valid.");

    /// <summary>429 or 503 with Retry-After, in whole seconds, rounded up.</summary>
    public static ProblemHttpResult RetryLater(HttpContext http, int status, string error, string title, TimeSpan retryAfter)
    {
        http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return Of(status, error, title);
    }

    /// <summary>429 for a login, password change or password check held back by the failed-login limit.</summary>
    public static ProblemHttpResult TooManyFailedLogins(HttpContext http, TimeSpan? retryAfter) =>
        RetryLater(http, StatusCodes.Status429TooManyRequests, TooManyAttempts,
            "Too many failed logins for this account; retry later.", retryAfter ?? TimeSpan.FromMinutes(1));

    /// <summary>For places outside endpoints (authentication, rate limiter, exception handler).</summary>
    public static Task WriteAsync(HttpContext http, int status, string error, string title) =>
        Of(status, error, title).ExecuteAsync(http);
}
