using System.Diagnostics;
using System.Net.Http.Json;

namespace Sessions.Bench.Scenarios;

/// <summary>
/// Well-formed refresh tokens naming no session, as fast as the service answers, by refresh and logout; then what the
/// silo holds.
/// </summary>
public sealed class ForgedScenario : Scenario
{
    public override string Name => "forged";

    public override string Arguments => "[--users N] [--seconds S] [--silo-metrics URL], with silo=P in --pids; no warm-up";

    public override async Task RunAsync(Target target)
    {
        var options = target.Options;
        var silo = options.Pids["silo"].Single();
        var before = CpuMeter.ResidentBytes(silo);
        var result = await MeasureAsync(options with { WarmupSeconds = 0 }, target.Meter, async (vu, recorder, stop) =>
        {
            var http = target.Api(vu);
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await http.PostAsJsonAsync(n % 2 == 0 ? "/auth/refresh" : "/auth/logout",
                    new { refreshToken = ForgedToken() }, CancellationToken.None);
                recorder.Record(started, (int)response.StatusCode);
            }
        });
        var after = CpuMeter.ResidentBytes(silo);
        await Task.Delay(TimeSpan.FromSeconds(20));
        var settled = CpuMeter.ResidentBytes(silo);
        // What the silo itself says it holds, from its management port: session grains loaded and the GC heap.
        Report(options, result, $"silo RSS {before / 1048576.0:F0} MB before, {after / 1048576.0:F0} MB at the end, {settled / 1048576.0:F0} MB 20 s later; " +
                                $"then {await SiloSampleAsync(options, "sessions_session_activations")} session grains loaded, GC heap after the last collection " +
                                $"{await SiloSampleAsync(options, "dotnet_gc_last_collection_heap_size_bytes") / 1048576.0:F0} MB");
    }

    private static string ForgedToken()
    {
        Span<byte> bytes = stackalloc byte[57];
        Random.Shared.NextBytes(bytes);
        bytes[0] = 1; // format version
        bytes[17] = 0; // a non-negative counter
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
