using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using System.Net;
using Orleans.Configuration;
using Sessions.Grains;
using Sessions.Hosting;
using Sessions.Storage;

namespace Sessions.SiloHosting;

public static class SiloSetup
{
    // Development only: a known pepper, so a fresh clone runs without secrets. Never valid outside Development.
    private const string DevelopmentPepper = "ZGV2ZWxvcG1lbnQtb25seS1yZWZyZXNoLXRva2VuLXBlcHBlcg==";

    /// <summary>
    /// Makes this host a silo of the Sessions cluster, entirely from configuration: the Silo process, or an Api
    /// node that hosts its own silo (<paramref name="configure"/> adds what that host needs on top).
    /// </summary>
    public static IHostApplicationBuilder AddSessionsSilo(this IHostApplicationBuilder builder, Action<ISiloBuilder>? configure = null)
    {
        // Grains key accounts by the NFKC form of the email, which .NET computes only with ICU: no silo without it.
        if (!Credentials.CanNormalizeEmails)
            throw new InvalidOperationException("A silo normalizes emails with ICU: it must run without invariant globalization, with libicu installed.");
        var configuration = builder.Configuration;
        var (cluster, connectionString) = builder.AddSessionsDefaults();

        if (builder.Environment.IsDevelopment())
            builder.Services.PostConfigure<Grains.SessionOptions>(o => o.RefreshTokenPepper ??= DevelopmentPepper);

        builder.Services.AddSessionGrains(configuration);
        builder.Services.AddSingleton<IValidateOptions<Grains.SessionOptions>, ReuseGraceWindowValidator>();
        builder.Services.AddStatePurger(configuration);
        builder.UseOrleans(silo =>
        {
            silo.Services.AddClusterIdentity(cluster);
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                // Orleans adapts a peer's probe timeout between half and four times ProbeTimeout, and holds back
                // suspicion while its connection saw traffic within MaxProbeTimeout x NumMissedProbesLimit: a hung
                // silo was declared dead only after about 17 s. Pinned, detection takes about ProbeTimeout x
                // NumMissedProbesLimit, and a busy peer is never held to less than ProbeTimeout.
                o.ProbeTimeout = o.MinProbeTimeout = o.MaxProbeTimeout = cluster.ProbeTimeout;
                o.NumMissedProbesLimit = cluster.NumMissedProbesLimit;
            });
            silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = cluster.ResponseTimeout);
            if (cluster.Clustering == ClusteringMode.AdoNet)
            {
                silo.UseAdoNetClustering(o =>
                {
                    o.Invariant = SessionsDatabase.Invariant;
                    o.ConnectionString = connectionString;
                });
                silo.ConfigureEndpoints(IPAddress.Parse(cluster.AdvertisedAddress), cluster.SiloPortForInstance, cluster.GatewayPortForInstance);
            }
            else
            {
                silo.UseLocalhostClustering(cluster.SiloPortForInstance, cluster.GatewayPortForInstance,
                    serviceId: cluster.ServiceId, clusterId: cluster.ClusterId);
            }
            silo.AddSessionsStorage(StorageNames.Grains, connectionString, StorageSetup.Batching(configuration));
            silo.AddActivityPropagation();
            configure?.Invoke(silo);
        });
        builder.Services.AddHealthChecks().AddCheck<SiloHealthCheck>("silo", tags: [HealthEndpoints.Ready]);
        return builder;
    }
}

/// <summary>
/// Every silo: the Api resends a refresh whose answer was lost (a silo stopped or failed) once its Cluster:ResponseTimeout
/// is over, and that resend of a rotated token is a replay only inside the reuse grace window; past it, reuse detection.
/// </summary>
public sealed class ReuseGraceWindowValidator(IOptions<ClusterSettings> cluster) : IValidateOptions<Grains.SessionOptions>
{
    public ValidateOptionsResult Validate(string? name, Grains.SessionOptions options)
    {
        var responseTimeout = cluster.Value.ResponseTimeout;
        return options.ReuseGraceWindow > responseTimeout
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"{Grains.SessionOptions.Section}:ReuseGraceWindow ({options.ReuseGraceWindow}) must be longer than {ClusterSettings.Section}:ResponseTimeout " +
                $"({responseTimeout}): the Api resends a refresh whose answer was lost, which is a replay only inside the grace window.");
    }
}
