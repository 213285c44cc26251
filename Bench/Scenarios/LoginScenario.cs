using System.Diagnostics;
using System.Net.Http.Json;

namespace Sessions.Bench.Scenarios;

/// <summary>Each user logging in to its own account in a closed loop: a password hash per request.</summary>
public sealed class LoginScenario : Scenario
{
    public override string Name => "login";

    public override string Arguments => "[--users N] [--seconds S] [--warmup S]";

    public override async Task RunAsync(Target target)
    {
        var (options, http) = (target.Options, target.Http);
        var users = await InParallelAsync(options.Users, _ => RegisterAsync(http));
        var result = await MeasureAsync(options, target.Meter, async (vu, recorder, stop) =>
        {
            while (!stop.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await http.PostAsJsonAsync("/auth/login", new { email = users[vu], password = Password, refreshTokenIn = "body" }, CancellationToken.None);
                recorder.Record(started, (int)response.StatusCode);
            }
        });
        Report(options, result, $"password hash alone: {HashMilliseconds():F1} ms");
    }
}
