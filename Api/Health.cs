using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Sessions.Api.Tokens;

namespace Sessions.Api;

public static class Health
{
    public const string Ready = "ready";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    /// <summary>/health/live: the process answers. /health/ready: a silo, the database and a signing key answer too.</summary>
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).WithTags("Health");
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(Ready) }).WithTags("Health");
        return app;
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

public sealed class ClusterHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Health.Probe(_ => grains.GetGrain<ISigningKeyRingGrain>(0).GetAsync(), "No silo answered.", cancellationToken);
}

public sealed class DatabaseHealthCheck(NpgsqlDataSource database) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Health.Probe(ct => database.CreateCommand("SELECT 1").ExecuteScalarAsync(ct), "PostgreSQL did not answer.", cancellationToken);
}

public sealed class SigningKeyHealthCheck(SigningKeys keys) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(keys.Current() is null ? HealthCheckResult.Unhealthy("No signing key loaded yet.") : HealthCheckResult.Healthy());
}
