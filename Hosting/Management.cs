using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

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

    /// <summary>The "Management" section over <paramref name="defaultPort"/>, checked by <see cref="ManagementOptionsValidator"/>.</summary>
    public static ManagementOptions From(IConfiguration configuration, int defaultPort, bool required = false) =>
        BuildTimeOptions.Bind(configuration.GetSection(Section), new ManagementOptionsValidator(required), new ManagementOptions { Port = defaultPort });
}

/// <param name="required">A silo's management listener is its only HTTP listener: port 0 is refused.</param>
public sealed class ManagementOptionsValidator(bool required) : IValidateOptions<ManagementOptions>
{
    public ValidateOptionsResult Validate(string? name, ManagementOptions o)
    {
        var errors = new List<string>();
        if (o.Port is < 0 or > 65535)
            errors.Add($"{ManagementOptions.Section}:Port must be a TCP port or 0 (it is {o.Port}).");
        else if (required && o.Port == 0)
            errors.Add($"{ManagementOptions.Section}:Port must be set on a silo: it is the silo's only HTTP listener.");
        if (!IPAddress.TryParse(o.Address, out _))
            errors.Add($"{ManagementOptions.Section}:Address must be an IP address (it is \"{o.Address}\").");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

public static class Management
{
    /// <summary>Served only on the management port.</summary>
    private static readonly PathString[] ManagementOnlyPaths = ["/metrics", "/dashboard"];

    /// <summary>
    /// Adds the management listener beside the host's own listeners (ASPNETCORE_URLS, ASPNETCORE_HTTP_PORTS, --urls,
    /// Kestrel:Endpoints), which are kept; with <paramref name="publicListeners"/> false it is the only one (a silo).
    /// </summary>
    public static WebApplicationBuilder AddManagementListener(this WebApplicationBuilder builder, ManagementOptions management, bool publicListeners = true)
    {
        builder.Services.AddSingleton(Options.Create(management));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, ManagementPortFilter>());
        if (management.Port == 0)
            return builder;
        // Kestrel binds endpoints from code together with those of Kestrel:Endpoints, but either replaces the URLs.
        // So the management endpoint is code when there are Kestrel:Endpoints (or no public listener), else one more URL.
        if (!publicListeners || builder.Configuration.GetSection("Kestrel:Endpoints").GetChildren().Any())
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Parse(management.Address), management.Port));
        else
            builder.WebHost.UseUrls([.. HostUrls(builder.Configuration), ManagementUrl(management)]);
        return builder;
    }

    /// <summary>/metrics (and what <paramref name="more"/> maps); <see cref="ManagementPortFilter"/> keeps them to the management port.</summary>
    public static WebApplication MapManagement(this WebApplication app, ManagementOptions management, Action<IEndpointRouteBuilder>? more = null)
    {
        if (management.Port == 0)
            return app;
        var endpoints = app.MapGroup("").ExcludeFromDescription();
        if (app.Configuration.GetValue("Telemetry:Metrics", true))
            endpoints.MapPrometheusScrapingEndpoint("/metrics");
        more?.Invoke(endpoints);
        return app;
    }

    public static bool IsManagementOnly(PathString path) => ManagementOnlyPaths.Any(path.StartsWithSegments);

    /// <summary>What the web host would listen on by itself: --urls/ASPNETCORE_URLS, else ASPNETCORE_HTTP(S)_PORTS, else Kestrel's default.</summary>
    private static string[] HostUrls(ConfigurationManager configuration)
    {
        const StringSplitOptions Split = StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries;
        if (configuration[WebHostDefaults.ServerUrlsKey] is { Length: > 0 } urls)
            return urls.Split(';', Split);
        string[] ports =
        [
            .. (configuration[WebHostDefaults.HttpPortsKey] ?? "").Split(';', Split).Select(port => $"http://*:{port}"),
            .. (configuration[WebHostDefaults.HttpsPortsKey] ?? "").Split(';', Split).Select(port => $"https://*:{port}"),
        ];
        return ports.Length > 0 ? ports : ["http://localhost:5000"];
    }

    private static string ManagementUrl(ManagementOptions management) =>
        $"http://{(management.Address.Contains(':', StringComparison.Ordinal) ? $"[{management.Address}]" : management.Address)}:{management.Port}";
}

/// <summary>
/// First in every pipeline: which listener a request came in on is the connection's local port, never its Host header.
/// The management port serves only /metrics, /dashboard and /health, and only to Host values naming its own address
/// (a DNS-rebinding guard: a browser on the host must not reach it under a foreign name); elsewhere the management-only
/// paths are 404.
/// </summary>
internal sealed class ManagementPortFilter(IOptions<ManagementOptions> options) : IStartupFilter
{
    private readonly ManagementOptions _management = options.Value;

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(GuardAsync);
        next(app);
    };

    private Task GuardAsync(HttpContext http, RequestDelegate next)
    {
        var path = http.Request.Path;
        if (_management.Port == 0 || http.Connection.LocalPort != _management.Port)
            return Management.IsManagementOnly(path) ? NotFound(http) : next(http);
        if (!NamesThisListener(http))
            return Results.Problem(statusCode: StatusCodes.Status421MisdirectedRequest, title: "Misdirected request",
                detail: "The management listener answers only requests addressed to its own address.").ExecuteAsync(http);
        return Management.IsManagementOnly(path) || path.StartsWithSegments("/health") ? next(http) : NotFound(http);
    }

    private static Task NotFound(HttpContext http) => Results.Problem(statusCode: StatusCodes.Status404NotFound).ExecuteAsync(http);

    /// <summary>The Host is the address connected to, or on loopback localhost or a loopback address; with no port or this one.</summary>
    private bool NamesThisListener(HttpContext http)
    {
        var host = http.Request.Host;
        if (!host.HasValue || (host.Port is { } port && port != _management.Port))
            return false;
        var local = http.Connection.LocalIpAddress is { } address && address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : http.Connection.LocalIpAddress;
        var loopback = local is not null && IPAddress.IsLoopback(local);
        if (string.Equals(host.Host, "localhost", StringComparison.OrdinalIgnoreCase))
            return loopback;
        if (!IPAddress.TryParse(host.Host.TrimStart('[').TrimEnd(']'), out var named))
            return false;
        // Bound to one address, that is the connection's; bound to any, the address the client connected to.
        return named.Equals(local) || (loopback && IPAddress.IsLoopback(named));
    }
}
