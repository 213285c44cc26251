using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Sessions.Hosting;

/// <summary>Metrics, traces and logs of every Sessions process, exported with OpenTelemetry.</summary>
public static class Telemetry
{
    /// <summary>What the platform emits by itself that an operator needs beside ours.</summary>
    private static readonly string[] PlatformMeters =
    [
        "Microsoft.Orleans",
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.RateLimiting",
        "Microsoft.AspNetCore.Diagnostics",
        "Npgsql",
        "System.Runtime",
    ];

    /// <summary>Orleans' activity sources (grain calls) and Npgsql's (statements): one trace from HTTP request to SQL.</summary>
    private static readonly string[] TraceSources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", "Npgsql"];

    /// <summary>
    /// Metrics always (scraped from the management port, and pushed over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set,
    /// as .NET Aspire's service defaults do); traces only with an OTLP endpoint, since recording spans nobody exports
    /// would cost the hot path for nothing. Logs too go over OTLP when it is set: the security events are structured logs,
    /// the audit trail, and arrive there with their fields. <paramref name="appMeter"/> is the service's own meter.
    /// </summary>
    public static IHostApplicationBuilder AddSessionsTelemetry(this IHostApplicationBuilder builder, string serviceName, string appMeter)
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var telemetry = builder.Services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService(serviceName));
        // Telemetry:Metrics=false leaves every instrument without a listener (what BENCHMARKS.md measures metrics against).
        if (builder.Configuration.GetValue("Telemetry:Metrics", true))
            telemetry.WithMetrics(metrics => metrics.AddMeter(appMeter).AddMeter(PlatformMeters).AddPrometheusExporter());
        if (otlp)
            telemetry.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(o => o.Filter = http => !http.Request.Path.StartsWithSegments("/metrics"))
                .AddSource(TraceSources));
        if (otlp)
        {
            builder.Logging.AddOpenTelemetry(logging => (logging.IncludeFormattedMessage, logging.IncludeScopes) = (true, true));
            // One exporter for the three signals.
            telemetry.UseOtlpExporter();
        }
        return builder;
    }
}
