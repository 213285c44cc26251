using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Serialization;

namespace Sessions.Hosting;

/// <summary>What a silo and an Api node read from configuration to join one cluster.</summary>
public sealed record HostSettings(ClusterSettings Cluster, string ConnectionString);

/// <summary>The wiring every Sessions process shares, silo or Api (the role of eShop's ServiceDefaults).</summary>
public static class HostingDefaults
{
    /// <summary>Reads and checks the cluster settings and the connection string, and adds the host's small data source.</summary>
    public static HostSettings AddSessionsDefaults(this IHostApplicationBuilder builder)
    {
        var settings = new HostSettings(ClusterSettings.From(builder.Configuration), SessionsDatabase.ConnectionString(builder.Configuration));
        builder.Services.AddSmallDataSource(settings.ConnectionString);
        return settings;
    }

    /// <summary>For a silo's or a client's services: the cluster's ids, and storage errors that cross the wire as themselves.</summary>
    public static IServiceCollection AddClusterIdentity(this IServiceCollection services, ClusterSettings cluster)
    {
        services.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (cluster.ClusterId, cluster.ServiceId));
        services.AddStorageExceptionSerialization();
        return services;
    }

    /// <summary>Orleans serializes only exceptions of known namespaces; without this a storage error reaches the caller as a codec failure.</summary>
    public static IServiceCollection AddStorageExceptionSerialization(this IServiceCollection services) =>
        services.Configure<ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.Add("Npgsql"));
}
