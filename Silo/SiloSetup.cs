using System.Net;
using Npgsql;
using Orleans.Configuration;
using Orleans.Serialization;
using Sessions.Grains;

namespace Sessions.Silo;

public static class SiloSetup
{
    /// <summary>The PostgreSQL connection string: ConnectionStrings:Sessions.</summary>
    public const string ConnectionStringName = "Sessions";
    private const string Invariant = "Npgsql"; // case-sensitive

    // Development only: a known pepper, so a fresh clone runs without secrets. Never valid outside Development.
    private const string DevelopmentPepper = "ZGV2ZWxvcG1lbnQtb25seS1yZWZyZXNoLXRva2VuLXBlcHBlcg==";

    /// <summary>Makes this host a silo of the Sessions cluster, entirely from configuration.</summary>
    public static HostApplicationBuilder AddSessionsSilo(this HostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var cluster = ClusterSettings.From(configuration);
        var connectionString = configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new InvalidOperationException(
                $"ConnectionStrings:{ConnectionStringName} must name the PostgreSQL database (environment: ConnectionStrings__{ConnectionStringName}).");

        if (builder.Environment.IsDevelopment())
            builder.Services.PostConfigure<SessionOptions>(o => o.RefreshTokenPepper ??= DevelopmentPepper);

        builder.Services.AddSessionGrains(configuration);
        builder.Services.AddStatePurger(configuration, connectionString);
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = cluster.ServiceId;
            });
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
                    o.Invariant = Invariant;
                    o.ConnectionString = connectionString;
                });
                silo.ConfigureEndpoints(IPAddress.Parse(cluster.AdvertisedAddress), cluster.SiloPortForInstance, cluster.GatewayPortForInstance);
            }
            else
            {
                silo.UseLocalhostClustering(cluster.SiloPortForInstance, cluster.GatewayPortForInstance,
                    serviceId: cluster.ServiceId, clusterId: cluster.ClusterId);
            }
            silo.AddSessionsStorage(connectionString);
        });
        return builder;
    }

    /// <summary>Grain state in PostgreSQL through Orleans' ADO.NET provider, in our compact payload format.</summary>
    public static ISiloBuilder AddSessionsStorage(this ISiloBuilder silo, string connectionString)
    {
        silo.AddAdoNetGrainStorage(StorageNames.Grains, options => options.Configure<Serializer>((o, serializer) =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connectionString;
            o.GrainStorageSerializer = new StateSerializer(serializer);
        }));
        // Storage errors reach callers as themselves, not as codec failures.
        silo.Services.Configure<ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.Add("Npgsql"));
        return silo;
    }

    public static IServiceCollection AddStatePurger(this IServiceCollection services, IConfiguration configuration, string connectionString)
    {
        services.AddOptions<PurgeOptions>().Bind(configuration.GetSection(PurgeOptions.Section))
            .Validate(o => o.Interval > TimeSpan.Zero && o.Delay >= TimeSpan.Zero && o.BatchSize > 0,
                "Purge:Interval must be positive, Purge:Delay not negative and Purge:BatchSize at least 1.")
            .ValidateOnStart();
        // The purger's own small pool, beside the provider's: one statement at a time.
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString) { ConnectionStringBuilder = { MaxPoolSize = 2 } }.Build());
        services.AddSingleton<StatePurger>();
        services.AddHostedService(sp => sp.GetRequiredService<StatePurger>());
        return services;
    }
}
