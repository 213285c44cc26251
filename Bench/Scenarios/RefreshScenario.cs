using System.Net.Http.Json;

namespace Sessions.Bench.Scenarios;

/// <summary>
/// Each user refreshing its session in a closed loop; with --seed, the seed design's server right after, with the same
/// users and loop (the baseline of the same run), and the ratio of the two.
/// </summary>
public sealed class RefreshScenario : Scenario
{
    public override string Name => "refresh";

    public override string Arguments => "[--users N] [--seconds S] [--warmup S] [--seed URL]";

    public override async Task RunAsync(Target target)
    {
        var options = target.Options;
        var sessions = await InParallelAsync(options.Users, vu => LoginNewUserAsync(target.Api(vu)));
        var result = await MeasureAsync(options, target.Meter, (vu, recorder, stop) =>
            RefreshLoopAsync(target.Api(vu), "/auth/refresh", sessions, vu, recorder, withMe: false, stop));
        Report(options, result);
        if (options.Seed is { } seedUrl)
        {
            var seed = target.Client(seedUrl);
            var seedSessions = await InParallelAsync(options.Users, _ => SeedLoginNewUserAsync(seed));
            var seedResult = await MeasureAsync(options, target.SeedMeter, (vu, recorder, stop) =>
                RefreshLoopAsync(seed, "/refresh", seedSessions, vu, recorder, withMe: false, stop));
            Report(options with { Scenario = "seed refresh" }, seedResult, "the seed server: stateless JWTs, nothing stored or rotated");
            ReportRatio(options, result, seedResult);
        }
    }

    // The seed server's API: POST /register {email, password} → 201, POST /login → {accessToken, refreshToken}.
    private static async Task<TokenResponse> SeedLoginNewUserAsync(HttpClient seed)
    {
        var credentials = new { email = $"bench-{Guid.NewGuid():N}@example.com", password = Password };
        using var registered = await seed.PostAsJsonAsync("/register", credentials);
        registered.EnsureSuccessStatusCode();
        using var response = await seed.PostAsJsonAsync("/login", credentials);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TokenResponse>())!;
    }

    private static void ReportRatio(Options options, Result sessions, Result seed)
    {
        static double Rate(Result r) => r.Recorder.Statuses.Where(s => s.Key is >= 200 and < 300).Sum(s => s.Value) / r.Seconds;
        static double Efficiency(Result r) => Rate(r) * r.Seconds / Math.Max(r.Cpu.Values.Sum(), 1e-9);
        var (a, b) = (sessions.Recorder.Sorted(), seed.Recorder.Sorted());
        string Times(double x, double y) => $"{x / y:F2}x";
        Console.WriteLine($"| Sessions ÷ seed | {options.Users} | **{Times(Rate(sessions), Rate(seed))}** | {Times(Recorder.Percentile(a, 50), Recorder.Percentile(b, 50))} | " +
                          $"{Times(Recorder.Percentile(a, 90), Recorder.Percentile(b, 90))} | {Times(Recorder.Percentile(a, 99), Recorder.Percentile(b, 99))} | " +
                          $"{Times(a.LastOrDefault(), b.LastOrDefault())} | | | | | {Times(Efficiency(sessions), Efficiency(seed))} | rate ratio ≥ 1 is Sessions faster; latency ratio ≤ 1 is Sessions quicker |");
    }
}
