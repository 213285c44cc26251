using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Identity;

namespace Sessions.Bench.Scenarios;

/// <summary>
/// One kind of run, picked by its name as Bench's first argument; it prints its markdown row(s). Below, what scenarios
/// share: a closed loop of virtual users measured after a warm-up, its row, and accounts made outside the measurement.
/// </summary>
public abstract class Scenario
{
    protected const string Password = "bench password 1";
    private static readonly string[] Processes = ["api", "silo", "postgres"];

    /// <summary>The first argument that picks it.</summary>
    public abstract string Name { get; }

    /// <summary>The options it reads besides --url and --pids, for its usage line.</summary>
    public abstract string Arguments { get; }

    public abstract Task RunAsync(Target target);

    protected static async Task<Result> MeasureAsync(Options options, CpuMeter meter, Func<int, Recorder, CancellationToken, Task> virtualUser)
    {
        if (options.WarmupSeconds > 0)
        {
            // One recorder for the whole warm-up, released with it: nothing of it is reported.
            using var warmupRecorder = new Recorder();
            using var warmup = new CancellationTokenSource(TimeSpan.FromSeconds(options.WarmupSeconds));
            await Task.WhenAll(Enumerable.Range(0, options.Users).Select(vu => Task.Run(() => virtualUser(vu, warmupRecorder, warmup.Token))));
        }
        var recorder = new Recorder();
        var cpuBefore = meter.Read();
        var ownBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(options.Seconds));
        await Task.WhenAll(Enumerable.Range(0, options.Users).Select(vu => Task.Run(() => virtualUser(vu, recorder, stop.Token))));
        var elapsed = clock.Elapsed.TotalSeconds;
        var cpuAfter = meter.Read();
        var own = (Process.GetCurrentProcess().TotalProcessorTime - ownBefore).TotalSeconds;
        return new Result(recorder, elapsed, cpuAfter.ToDictionary(c => c.Key, c => c.Value - cpuBefore[c.Key]), own);
    }

    protected static void Report(Options options, Result result, string note = "")
    {
        var sorted = result.Recorder.Sorted();
        var ok = result.Recorder.Statuses.Where(s => s.Key is >= 200 and < 300).Sum(s => s.Value);
        var errors = string.Join(" ", result.Recorder.Statuses.Where(s => s.Key is < 200 or >= 300).OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"));
        var cpu = result.Cpu.Values.Sum();
        Console.WriteLine($"| {options.Scenario} | {options.Users} | {ok / result.Seconds:F0} | {Recorder.Percentile(sorted, 50):F2} | {Recorder.Percentile(sorted, 90):F2} | " +
                          $"{Recorder.Percentile(sorted, 99):F2} | {sorted.LastOrDefault():F1} | {(errors.Length == 0 ? "0" : errors)} | " +
                          string.Join(" | ", Processes.Select(p => result.Cpu.TryGetValue(p, out var s) ? $"{s:F1}" : "-")) +
                          $" | {(cpu > 0 ? ok / cpu : 0):F0} | {string.Join("; ", new[] { note, $"Bench itself {result.BenchCpu:F1} CPU s" }.Where(n => n.Length > 0))} |");
    }

    // One virtual user refreshing its session in a closed loop with the latest token (and calling /me between, for "mixed").
    protected static async Task RefreshLoopAsync(HttpClient http, string path, TokenResponse[] sessions, int vu, Recorder recorder, bool withMe, CancellationToken stop)
    {
        var session = sessions[vu];
        while (!stop.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            // A request in flight at the stop finishes: cancelled, it would be counted as a failure.
            using var response = await http.PostAsJsonAsync(path, new { refreshToken = session.RefreshToken }, CancellationToken.None);
            if (response.IsSuccessStatusCode
                && await response.Content.ReadFromJsonAsync<TokenResponse>(CancellationToken.None) is { } issued)
                // The seed answers an access token only: its refresh token never rotates.
                sessions[vu] = session = issued.RefreshToken is null ? session with { AccessToken = issued.AccessToken } : issued;
            recorder.Record(started, (int)response.StatusCode);
            if (response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
                return; // the session is lost: a bug, counted by its status
            if (withMe)
            {
                started = Stopwatch.GetTimestamp();
                using var me = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/me") { Headers = { Authorization = new("Bearer", session.AccessToken) } },
                    CancellationToken.None);
                recorder.Record(started, (int)me.StatusCode);
            }
        }
    }

    protected static double HashMilliseconds()
    {
        var hasher = new PasswordHasher<object>();
        var hash = hasher.HashPassword(new object(), Password);
        hasher.VerifyHashedPassword(new object(), hash, Password);
        var runs = Enumerable.Range(0, 20).Select(_ =>
        {
            var started = Stopwatch.GetTimestamp();
            hasher.VerifyHashedPassword(new object(), hash, Password);
            return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }).Order().ToArray();
        return runs[runs.Length / 2];
    }

    protected static async Task<T[]> InParallelAsync<T>(int count, Func<int, Task<T>> work, int concurrency = 64)
    {
        var results = new T[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = concurrency },
            async (i, _) => results[i] = await work(i));
        return results;
    }

    protected static async Task<string> RegisterAsync(HttpClient http)
    {
        var email = $"bench-{Guid.NewGuid():N}@example.com";
        // A retried registration that had landed answers 409: the email is this call's own.
        using var response = await SetupAsync(() => http.PostAsJsonAsync("/auth/register", new { email, password = Password }));
        if (response.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.Conflict))
            throw new InvalidOperationException($"register answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return email;
    }

    protected static async Task<TokenResponse> LoginAsync(HttpClient http, string email)
    {
        using var response = await SetupAsync(() => http.PostAsJsonAsync("/auth/login", new { email, password = Password, refreshTokenIn = "body" }));
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"login answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<TokenResponse>())!;
    }

    protected static async Task<TokenResponse> LoginNewUserAsync(HttpClient http) => await LoginAsync(http, await RegisterAsync(http));

    // Setup is not measured: like a real client, it retries a 503 (a login burst on a fresh silo gets some).
    private static async Task<HttpResponseMessage> SetupAsync(Func<Task<HttpResponseMessage>> send)
    {
        for (var attempt = 1; ; attempt++)
        {
            var response = await send();
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || attempt == 10)
                return response;
            response.Dispose();
            await Task.Delay(500);
        }
    }

    // The sum of a metric's series on the silo's management port.
    protected static async Task<double> SiloSampleAsync(Options options, string name)
    {
        using var scraper = new HttpClient();
        var metrics = await scraper.GetStringAsync(options.SiloMetrics);
        return metrics.Split('\n')
            .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
            .Sum(l => double.Parse(l.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture));
    }
}
