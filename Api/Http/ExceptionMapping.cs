using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using Sessions.Api.Cluster;

namespace Sessions.Api.Http;

/// <summary>
/// The last word on exceptions: cluster or storage trouble is 503 with Retry-After, a client's bad
/// request keeps its status, a request its client aborted gets nothing, anything else is a bare 500. No exception text reaches a response.
/// </summary>
public sealed partial class ExceptionMapping(IOptions<ApiOptions> options, ClusterConnection cluster, ILogger<ExceptionMapping> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (httpContext.Response.HasStarted)
            return false;
        switch (exception)
        {
            // The client gave up: not an outage, and nobody is left to read an answer.
            case OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested:
                LogAborted(logger, httpContext.Request.Path);
                httpContext.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
                return true;
            case BadHttpRequestException bad:
                await Problems.Unreadable(bad, "The request could not be read.").ExecuteAsync(httpContext);
                return true;
            // Without a gateway any grain call fails, some with plain ArgumentExceptions (no cluster manifest yet).
            case StorageUnavailableException or OverloadedException or OrleansException or TimeoutException or NpgsqlException or OperationCanceledException:
            case Exception when !cluster.IsConnected:
                LogUnavailable(logger, exception, httpContext.Request.Path);
                await Problems.RetryLater(httpContext, ProblemCatalogue.Unavailable,
                    "The service is temporarily unavailable; retry shortly.", TimeSpan.FromSeconds(options.Value.RetryAfterSecondsWhenUnavailable)).ExecuteAsync(httpContext);
                return true;
            default:
                LogFailed(logger, exception, httpContext.Request.Path);
                await Problems.WriteAsync(httpContext, ProblemCatalogue.InternalError, "An unexpected error occurred.");
                return true;
        }
    }

    [LoggerMessage(EventId = LogEventIds.Requests + 1, Level = LogLevel.Debug, Message = "Request to {Path} was aborted by its client")]
    private static partial void LogAborted(ILogger logger, PathString path);

    [LoggerMessage(EventId = LogEventIds.Requests + 2, Level = LogLevel.Warning, Message = "Request to {Path} answered 503: the cluster or its storage failed")]
    private static partial void LogUnavailable(ILogger logger, Exception exception, string path);

    [LoggerMessage(EventId = LogEventIds.Requests + 3, Level = LogLevel.Error, Message = "Request to {Path} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string path);
}
