using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;

namespace Sessions.Hosting;

/// <summary>What a silo and an Api node read from configuration to join one cluster.</summary>
public sealed record HostSettings(ClusterSettings Cluster, string ConnectionString);

/// <summary>The two kinds of Sessions process; an Api node that hosts a silo is an Api.</summary>
public enum SessionsProcess
{
    /// <summary>Its management listener (default port 8100 + Cluster:Instance) is its only HTTP listener.</summary>
    Silo,
    /// <summary>Its management listener (default port 8090, 0 for none) is beside the public ones.</summary>
    Api,
}

/// <summary>The wiring every Sessions process shares, silo or Api (the role of eShop's ServiceDefaults).</summary>
public static class HostingDefaults
{
    /// <summary>
    /// What every process gets, as eShop's AddServiceDefaults: telemetry (metrics, traces and logs), the readiness
    /// checks every process has, and the management listener; <paramref name="appMeter"/> is the meter of the app's own
    /// instruments. Returns the management options for <see cref="MapDefaultEndpoints"/>.
    /// </summary>
    public static ManagementOptions AddServiceDefaults(this WebApplicationBuilder builder, SessionsProcess process, string appMeter)
    {
        var silo = process == SessionsProcess.Silo;
        var management = ManagementOptions.From(builder.Configuration, defaultPort: silo ? 8100 : 8090, required: silo);
        if (silo)
            management.Port += ClusterSettings.From(builder.Configuration).Instance;
        builder.AddManagementListener(management, publicListeners: !silo);
        builder.AddSessionsTelemetry(silo ? "sessions-silo" : "sessions-api", appMeter);
        builder.Services.AddReadinessChecks();
        return management;
    }

    /// <summary>As eShop's MapDefaultEndpoints: /health, and /metrics with what <paramref name="more"/> maps on the management port.</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app, ManagementOptions management, Action<IEndpointRouteBuilder>? more = null)
    {
        app.MapHealth();
        return app.MapManagement(management, more);
    }

    /// <summary>Reads and checks the cluster settings and the connection string, and adds the host's small data source.</summary>
    public static HostSettings AddSessionsDefaults(this IHostApplicationBuilder builder)
    {
        var settings = new HostSettings(ClusterSettings.From(builder.Configuration), SessionsDatabase.ConnectionString(builder.Configuration));
        // Also as options, for the rules that relate them to other sections (ReuseGraceWindowValidator).
        builder.Services.AddOptions<ClusterSettings>().Bind(builder.Configuration.GetSection(ClusterSettings.Section)).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ClusterSettings>, ClusterSettingsValidator>());
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
