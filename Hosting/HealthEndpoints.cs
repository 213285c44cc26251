using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Sessions.Hosting;

public sealed record ReadinessReport(string Status, Dictionary<string, string> Checks);

/// <summary>/health/live and /health/ready, as every Sessions process serves them.</summary>
public static class HealthEndpoints
{
    public const string Ready = "ready";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    /// <summary>The readiness checks every process has: the database answers.</summary>
    public static IHealthChecksBuilder AddReadinessChecks(this IServiceCollection services) =>
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: [Ready]);

    /// <summary>/health/live: the process answers. /health/ready: every readiness check passes, or which did not.</summary>
    public static RouteGroupBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        var health = app.MapGroup("/health").WithTags("Health");
        health.MapGet("/live", () => TypedResults.Text("Healthy"));
        health.MapGet("/ready", ReadyAsync);
        return health;
    }

    private static async Task<Results<Ok<ReadinessReport>, JsonHttpResult<ReadinessReport>>> ReadyAsync(HealthCheckService checks, CancellationToken cancellationToken)
    {
        var report = await checks.CheckHealthAsync(check => check.Tags.Contains(Ready), cancellationToken);
        var body = new ReadinessReport(report.Status.ToString(),
            report.Entries.ToDictionary(e => e.Key, e => e.Value.Status == HealthStatus.Healthy ? "Healthy" : e.Value.Description ?? e.Value.Status.ToString()));
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
