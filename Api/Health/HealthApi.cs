using Microsoft.Extensions.Diagnostics.HealthChecks;
using Sessions.Api.Keys;
using Sessions.Hosting;

namespace Sessions.Api.Health;

/// <summary>The Api's readiness: a silo and a signing key (this node), beside the database (every process: AddServiceDefaults).</summary>
public static class HealthApi
{
    public static IServiceCollection AddApiReadinessChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<ClusterHealthCheck>("cluster", tags: [HealthEndpoints.Ready])
            .AddCheck<SigningKeyHealthCheck>("signing-keys", tags: [HealthEndpoints.Ready]);
        return services;
    }
}

/// <summary>
/// This node reaches a live silo. The probe is a stateless worker that answers on the silo the call arrives at, this
/// node's gateway: a grain with one activation would make every node's readiness hang on the silo hosting it.
/// </summary>
public sealed class ClusterHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        HealthEndpoints.Probe(_ => grains.GetGrain<IClusterProbeGrain>(0).PingAsync(), "No silo answered.", cancellationToken);
}

public sealed class SigningKeyHealthCheck(SigningKeys keys) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(keys.Current() is null ? HealthCheckResult.Unhealthy("No signing key loaded yet.") : HealthCheckResult.Healthy());
}
