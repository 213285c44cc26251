using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;

namespace Sessions.Hosting;

/// <summary>
/// The management listener of a process: /metrics (Prometheus), /health, and on silos the Orleans dashboard. Off the
/// public listener, on loopback by default: none of it has authentication of its own.
/// </summary>
public sealed class ManagementOptions
{
    public const string Section = "Management";

    /// <summary>The address it listens on; "127.0.0.1" keeps it on the host (reach it through an SSH tunnel or a proxy with auth).</summary>
    public string Address { get; set; } = "127.0.0.1";
    /// <summary>Its port; on a silo Cluster:Instance is added, like the silo and gateway ports. 0: no management listener.</summary>
    public int Port { get; set; }
    /// <summary>Silos: the Orleans dashboard at /dashboard (its grain profiler costs throughput; off unless asked for).</summary>
    public bool Dashboard { get; set; }

    public static ManagementOptions From(IConfiguration configuration, int defaultPort)
    {
        var options = new ManagementOptions { Port = defaultPort };
        configuration.GetSection(Section).Bind(options);
        if (options.Port is < 0 or > 65535 || !System.Net.IPAddress.TryParse(options.Address, out _))
            throw new InvalidOperationException(
                $"Management:Port must be a TCP port or 0 (it is {options.Port}) and Management:Address an IP address (it is \"{options.Address}\").");
        return options;
    }
}

public static class Management
{
    /// <summary>Adds the management listener beside the public ones (ASPNETCORE_URLS, --urls), if it has a port.</summary>
    public static WebApplicationBuilder AddManagementListener(this WebApplicationBuilder builder, ManagementOptions management, bool publicListeners = true)
    {
        if (management.Port == 0)
            return builder;
        var urls = publicListeners ? (builder.Configuration[WebHostDefaults.ServerUrlsKey] ?? "http://localhost:5000").Split(';', StringSplitOptions.RemoveEmptyEntries) : [];
        builder.WebHost.UseUrls([.. urls, ManagementUrl(management)]);
        return builder;
    }

    /// <summary>/metrics (and what <paramref name="more"/> maps) on the management port only.</summary>
    public static WebApplication MapManagement(this WebApplication app, ManagementOptions management, Action<IEndpointRouteBuilder>? more = null)
    {
        if (management.Port == 0)
            return app;
        var endpoints = app.MapGroup("").RequireHost($"*:{management.Port}").ExcludeFromDescription();
        if (app.Configuration.GetValue("Telemetry:Metrics", true))
            endpoints.MapPrometheusScrapingEndpoint("/metrics");
        more?.Invoke(endpoints);
        return app;
    }

    private static string ManagementUrl(ManagementOptions management) =>
        $"http://{(management.Address.Contains(':', StringComparison.Ordinal) ? $"[{management.Address}]" : management.Address)}:{management.Port}";
}
