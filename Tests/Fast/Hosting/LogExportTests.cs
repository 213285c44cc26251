using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sessions.Hosting;

namespace Sessions.Tests;

/// <summary>
/// The security events are structured logs and the audit trail: with OTEL_EXPORTER_OTLP_ENDPOINT set, a process
/// exports them over OTLP beside its metrics and traces. The endpoint here is a real HTTP listener that keeps what
/// it is sent (OTLP/HTTP protobuf, whose strings are plain UTF-8).
/// </summary>
[Layer(Layer.Unit)]
public sealed class LogExportTests
{
    [Fact]
    public async Task A_security_event_reaches_the_otlp_endpoint_as_a_log_record_with_its_fields()
    {
        var received = new ConcurrentQueue<(string Path, byte[] Body)>();
        await using var collector = await StartCollectorAsync(received);
        var endpoint = collector.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production", DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["Telemetry:Metrics"] = "false",
        });
        builder.AddSessionsTelemetry("sessions-silo", SessionsMeter.Name);
        var (session, user) = (Guid.NewGuid(), Guid.NewGuid());

        using (var host = builder.Build())
        {
            await host.StartAsync();
            SecurityEvents.RefreshTokenReuse(host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Sessions.Grains.SessionGrain"),
                session, user, "192.0.2.7", "test agent", 3, 5);
            await host.StopAsync(); // flushes the batch of log records
        }

        var logs = received.Where(r => r.Path == "/v1/logs").Select(r => Encoding.UTF8.GetString(r.Body)).ToList();
        Assert.Contains(logs, body => body.Contains("Security event refresh_token_reuse", StringComparison.Ordinal)
                                      && body.Contains("SessionId", StringComparison.Ordinal)
                                      && body.Contains(session.ToString(), StringComparison.Ordinal)
                                      && body.Contains("sessions-silo", StringComparison.Ordinal));
    }

    private static async Task<WebApplication> StartCollectorAsync(ConcurrentQueue<(string, byte[])> received)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var collector = builder.Build();
        collector.MapPost("/v1/{signal}", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            received.Enqueue((request.Path, body.ToArray()));
            return Results.Bytes([], "application/x-protobuf");
        });
        await collector.StartAsync();
        return collector;
    }
}
