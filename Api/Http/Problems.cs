using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Sessions.Api.Http;

/// <summary>
/// The RFC 9457 problem bodies of docs/http-api.md#errors: status and title from <see cref="ProblemCatalogue"/>, the
/// occurrence's sentence as detail; the type is added when the body is written (<see cref="Complete"/>).
/// </summary>
public static class Problems
{
    public static ProblemHttpResult Of(ProblemType problem, string detail) => Of(problem, problem.Status, detail);

    /// <summary>For a code with several statuses; a status the catalogue does not give the code is a bug.</summary>
    public static ProblemHttpResult Of(ProblemType problem, int status, string detail)
    {
        if (!problem.Statuses.Contains(status))
            throw new ArgumentOutOfRangeException(nameof(status), status, $"{problem.Error} does not answer with {status} (docs/http-api.md#errors).");
        return TypedResults.Problem(detail: detail, title: problem.Title, statusCode: status,
            extensions: new Dictionary<string, object?> { ["error"] = problem.Error });
    }

    public static ProblemHttpResult BadRequest(string detail) => Of(ProblemCatalogue.InvalidRequest, StatusCodes.Status400BadRequest, detail);

    /// <summary>A request Kestrel or the framework could not read: its status (400, 408 or 413) as invalid_request, else 400.</summary>
    public static ProblemHttpResult Unreadable(BadHttpRequestException? exception, string detail) =>
        Of(ProblemCatalogue.InvalidRequest, exception?.StatusCode is { } status && ProblemCatalogue.InvalidRequest.Statuses.Contains(status)
            ? status : StatusCodes.Status400BadRequest, detail);

    public static ProblemHttpResult BadDpopProof() =>
        Of(ProblemCatalogue.InvalidDpopProof, StatusCodes.Status400BadRequest, "The DPoP proof is missing or not valid.");

    /// <summary>429 or 503 with Retry-After, in whole seconds, rounded up.</summary>
    public static ProblemHttpResult RetryLater(HttpContext http, ProblemType problem, string detail, TimeSpan retryAfter)
    {
        http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return Of(problem, detail);
    }

    /// <summary>429 for a login, password change or password check held back by the failed-login limit.</summary>
    public static ProblemHttpResult TooManyFailedLogins(HttpContext http, TimeSpan? retryAfter) =>
        RetryLater(http, ProblemCatalogue.TooManyAttempts, "Too many failed logins for this account; retry later.", retryAfter ?? TimeSpan.FromMinutes(1));

    /// <summary>For places outside endpoints (authentication, rate limiter, exception handler).</summary>
    public static Task WriteAsync(HttpContext http, ProblemType problem, string detail) => Of(problem, detail).ExecuteAsync(http);

    public static Task WriteAsync(HttpContext http, ProblemType problem, int status, string detail) => Of(problem, status, detail).ExecuteAsync(http);

    /// <summary>
    /// Every problem body on its way out, ours or the framework's own (an unknown path, a wrong method): the code's
    /// type, and for the framework's the code and title, its own title (the status's reason phrase) becoming the detail.
    /// </summary>
    /// <summary>A framework 400 for a route id that does not bind (ids in paths are GUIDs): which one.</summary>
    private static string? MalformedRouteId(HttpContext http) =>
        http.Response.StatusCode == StatusCodes.Status400BadRequest
            ? http.Request.RouteValues.Where(value => value.Key.EndsWith("Id", StringComparison.Ordinal) && !Guid.TryParse(value.Value as string, out _))
                .Select(value => $"{value.Key} must be a GUID.").FirstOrDefault()
            : null;

    public static void Complete(ProblemDetailsContext context)
    {
        var body = context.ProblemDetails;
        ProblemType problem;
        if (body.Extensions.TryGetValue("error", out var error) && ProblemCatalogue.Find(error as string) is { } known)
            problem = known;
        else
        {
            problem = ProblemCatalogue.OfFrameworkStatus(body.Status ?? context.HttpContext.Response.StatusCode);
            body.Extensions["error"] = problem.Error;
            body.Detail ??= MalformedRouteId(context.HttpContext) ?? body.Title;
            body.Title = problem.Title;
        }
        body.Type = problem.TypeUri(context.HttpContext.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value.ErrorDocsUri);
    }
}
