using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Sessions.Api.Keys;

namespace Sessions.Api.Health;

public sealed record ReadinessReport(string Status, Dictionary<string, string> Checks);

public static class HealthApi
{
    public const string Ready = "ready";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    /// <summary>Readiness: a silo, the database and a signing key.</summary>
    public static IServiceCollection AddReadinessChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<ClusterHealthCheck>("cluster", tags: [Ready])
            .AddCheck<DatabaseHealthCheck>("database", tags: [Ready])
            .AddCheck<SigningKeyHealthCheck>("signing-keys", tags: [Ready]);
        return services;
    }

    /// <summary>/health/live: the process answers. /health/ready: a silo, the database and a signing key answer too, and which did not.</summary>
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        var health = app.MapGroup("/health").WithTags("Health");
        health.MapGet("/live", () => TypedResults.Text("Healthy"));
        health.MapGet("/ready", ReadyAsync);
        return app;
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

    internal static async Task<HealthCheckResult> Probe(Func<CancellationToken, Task> probe, string failure, CancellationToken cancellationToken)
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

/// <summary>
/// This node reaches a live silo. The probe is a stateless worker that answers on the silo the call arrives at, this
/// node's gateway: a grain with one activation would make every node's readiness hang on the silo hosting it.
/// </summary>
public sealed class ClusterHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        HealthApi.Probe(_ => grains.GetGrain<IClusterProbeGrain>(0).PingAsync(), "No silo answered.", cancellationToken);
}

public sealed class DatabaseHealthCheck(NpgsqlDataSource database) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        HealthApi.Probe(ct => database.CreateCommand("SELECT 1").ExecuteScalarAsync(ct), "PostgreSQL did not answer.", cancellationToken);
}

public sealed class SigningKeyHealthCheck(SigningKeys keys) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(keys.Current() is null ? HealthCheckResult.Unhealthy("No signing key loaded yet.") : HealthCheckResult.Healthy());
}
