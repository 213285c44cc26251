using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Sessions.Hosting;

public sealed record ReadinessReport(string Status, Dictionary<string, string> Checks);

/// <summary>/health/live and /health/ready, as every Sessions process serves them.</summary>
public static class HealthEndpoints
{
    public const string Ready = "ready";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    /// <summary>The readiness checks every process has: the database answers.</summary>
    public static IHealthChecksBuilder AddReadinessChecks(this IServiceCollection services)
    {
        // The health check service logs every failing check of every probe as an error, with its exception: a
        // process starting, or a probe every few seconds while the database is down, would fill the log. Readiness
        // changes are logged once instead (ReadinessLog), and /health/ready says what is missing.
        services.AddLogging(logging => logging.AddFilter(typeof(HealthCheckService).Namespace + ".DefaultHealthCheckService", LogLevel.Critical));
        services.AddSingleton<ReadinessLog>();
        return services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: [Ready]);
    }

    /// <summary>/health/live: the process answers. /health/ready: every readiness check passes, or which did not.</summary>
    public static RouteGroupBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        var health = app.MapGroup("/health").WithTags("Health");
        health.MapGet("/live", () => TypedResults.Text("Healthy"));
        health.MapGet("/ready", ReadyAsync);
        return health;
    }

    private static async Task<Results<Ok<ReadinessReport>, JsonHttpResult<ReadinessReport>>> ReadyAsync(
        HealthCheckService checks, ReadinessLog log, CancellationToken cancellationToken)
    {
        var report = await checks.CheckHealthAsync(check => check.Tags.Contains(Ready), cancellationToken);
        var body = new ReadinessReport(report.Status.ToString(),
            report.Entries.ToDictionary(e => e.Key, e => e.Value.Status == HealthStatus.Healthy ? "Healthy" : e.Value.Description ?? e.Value.Status.ToString()));
        log.Observed(report.Status == HealthStatus.Healthy, body.Checks);
        return report.Status == HealthStatus.Healthy
            ? TypedResults.Ok(body)
            : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>Healthy when <paramref name="probe"/> completes within 3 s; otherwise unhealthy with <paramref name="failure"/>.</summary>
    public static async Task<HealthCheckResult> Probe(Func<CancellationToken, Task> probe, string failure, CancellationToken cancellationToken)
    {
        try
        {
            await probe(cancellationToken).WaitAsync(Timeout, cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy(failure, e);
        }
    }
}

public sealed class DatabaseHealthCheck(NpgsqlDataSource database) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        HealthEndpoints.Probe(ct => database.CreateCommand("SELECT 1").ExecuteScalarAsync(ct), "PostgreSQL did not answer.", cancellationToken);
}

/// <summary>
/// One line when readiness changes: at start (not ready until the cluster and keys are reached) as information, a
/// ready process becoming unready as a warning with the checks that failed. Its EventIds are LogEventIds.Hosting + n,
/// written out: Hosting references no project of the app.
/// </summary>
public sealed partial class ReadinessLog(ILogger<ReadinessLog> logger)
{
    private int _state; // 0 never observed, 1 ready, 2 not ready

    public void Observed(bool ready, IReadOnlyDictionary<string, string> checks)
    {
        var previous = Interlocked.Exchange(ref _state, ready ? 1 : 2);
        if (previous == (ready ? 1 : 2))
            return;
        var failing = string.Join("; ", checks.Where(c => c.Value != "Healthy").Select(c => $"{c.Key}: {c.Value}"));
        if (ready)
            LogReady(logger);
        else if (previous == 0)
            LogNotReadyYet(logger, failing);
        else
            LogNotReady(logger, failing);
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Ready")]
    private static partial void LogReady(ILogger logger);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Information, Message = "Not ready yet: {Failing}")]
    private static partial void LogNotReadyYet(ILogger logger, string failing);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "No longer ready: {Failing}")]
    private static partial void LogNotReady(ILogger logger, string failing);
}
