using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sessions.Hosting;

/// <summary>Ready once this silo is an active member of its cluster.</summary>
public sealed class SiloHealthCheck(ISiloStatusOracle membership) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(membership.CurrentStatus == SiloStatus.Active
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"The silo is {membership.CurrentStatus}, not active."));
}
