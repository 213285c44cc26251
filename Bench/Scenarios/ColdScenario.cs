using System.Diagnostics;
using System.Net.Http.Json;

namespace Sessions.Bench.Scenarios;

/// <summary>Refreshes of the sessions cold-setup wrote, each token once: every request activates its session grain.</summary>
public sealed class ColdScenario : Scenario
{
    public override string Name => "cold";

    public override string Arguments => "[--users N] [--seconds S] [--warmup S] --tokens FILE";

    public override async Task RunAsync(Target target)
    {
        var (options, http) = (target.Options, target.Http);
        // The warm-up takes tokens from the same queue: cold grains, but a silo whose code is compiled, as in production.
        var tokens = new Queue<string>(await File.ReadAllLinesAsync(options.Tokens!));
        var result = await MeasureAsync(options, target.Meter, async (vu, recorder, stop) =>
        {
            while (!stop.IsCancellationRequested)
            {
                string? token;
                lock (tokens)
                    if (!tokens.TryDequeue(out token))
                        return;
                var started = Stopwatch.GetTimestamp();
                using var response = await http.PostAsJsonAsync("/auth/refresh", new { refreshToken = token }, CancellationToken.None);
                recorder.Record(started, (int)response.StatusCode);
            }
        });
        Report(options, result, "each request activates its session grain from PostgreSQL");
    }
}
