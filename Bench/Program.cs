using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Sessions.Bench;

// A load generator that drives the service through its HTTP API (docs/http-api.md); only idle-memory also
// reads the database, to size the stored rows. One scenario per run; prints one markdown table row.
//   Bench <refresh|mixed|introspect|login|cold-setup|cold|idle-memory|forged|login-flood|registration-flood|one-user|hash> [--url U[,U...]] [--users N]
//         [--seconds S] [--sessions N] [--flood N] [--tokens FILE] [--pids api=P[+P...],silo=P[+P...],postgres=P,seed=P] [--database CONNECTION]
//         [--seed URL]   refresh only: then the seed design's server too, and the ratio of the two
var options = Options.Parse(args);
var handler = new SocketsHttpHandler { MaxConnectionsPerServer = Math.Max(options.Users, 1) * 2, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
// Several Api nodes (--url A,B): virtual user i talks to node i mod N.
var apis = options.Urls.Select(url => new HttpClient(handler, disposeHandler: false) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) }).ToArray();
var http = apis[0];
// The seed's process is measured on its own rows only.
var meter = new CpuMeter(options.Pids.Where(p => p.Key != "seed").ToDictionary());
var seedMeter = new CpuMeter(options.Pids.Where(p => p.Key == "seed").ToDictionary());

switch (options.Scenario)
{
    case "refresh":
    case "mixed":
    {
        var sessions = await InParallelAsync(options.Users, vu => LoginNewUserAsync(apis[vu % apis.Length]));
        var result = await MeasureAsync(options, meter, (vu, recorder, stop) =>
            RefreshLoopAsync(apis[vu % apis.Length], "/auth/refresh", sessions, vu, recorder, withMe: options.Scenario == "mixed", stop));
        Report(options, result);
        if (options.Seed is { } seedUrl && options.Scenario == "refresh")
        {
            // The seed design's server, right after, with the same users and loop: the baseline of the same run.
            var seed = new HttpClient(handler, disposeHandler: false) { BaseAddress = new Uri(seedUrl), Timeout = TimeSpan.FromSeconds(30) };
            var seedSessions = await InParallelAsync(options.Users, _ => SeedLoginNewUserAsync(seed));
            var seedResult = await MeasureAsync(options, seedMeter, (vu, recorder, stop) =>
                RefreshLoopAsync(seed, "/refresh", seedSessions, vu, recorder, withMe: false, stop));
            Report(options with { Scenario = "seed refresh" }, seedResult, "the seed server: stateless JWTs, nothing stored or rotated");
            ReportRatio(options, result, seedResult);
        }
        break;
    }
    case "introspect":
    {
        // A resource server asking about each user's access token in a closed loop, as backend client BENCH_CLIENT ("id:secret").
        var client = Environment.GetEnvironmentVariable("BENCH_CLIENT") ?? throw new ArgumentException("introspect needs BENCH_CLIENT=id:secret, a client with scope introspect");
        var basic = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(client)));
        var sessions = await InParallelAsync(options.Users, vu => LoginNewUserAsync(apis[vu % apis.Length]));
        var result = await MeasureAsync(options, meter, async (vu, recorder, stop) =>
        {
            var api = apis[vu % apis.Length];
            while (!stop.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                using var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/introspect")
                {
                    Headers = { Authorization = basic },
                    Content = new FormUrlEncodedContent([KeyValuePair.Create("token", sessions[vu].AccessToken)]),
                };
                using var response = await api.SendAsync(request, CancellationToken.None);
                var active = response.IsSuccessStatusCode && (await response.Content.ReadFromJsonAsync<JsonElement>(CancellationToken.None)).GetProperty("active").GetBoolean();
                // "600": answered, but inactive for a live session, which is a bug; counted among the errors.
                recorder.Record(started, active ? 200 : response.IsSuccessStatusCode ? 600 : (int)response.StatusCode);
            }
        });
        Report(options, result, "access tokens, each user's own; nothing is written");
        break;
    }
    case "login":
    {
        var users = await InParallelAsync(options.Users, _ => RegisterAsync(http));
        var result = await MeasureAsync(options, meter, async (vu, recorder, stop) =>
        {
            while (!stop.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await http.PostAsJsonAsync("/auth/login", new { email = users[vu], password = Password, refreshTokenIn = "body" }, CancellationToken.None);
                recorder.Record(started, (int)response.StatusCode);
            }
        });
        Report(options, result, $"password hash alone: {HashMilliseconds():F1} ms");
        break;
    }
    case "forged":
    {
        // Well-formed refresh tokens naming no session, as fast as the service answers, by refresh and logout.
        var silo = options.Pids["silo"].Single();
        var before = CpuMeter.ResidentBytes(silo);
        var result = await MeasureAsync(options with { WarmupSeconds = 0 }, meter, async (vu, recorder, stop) =>
        {
            var http = apis[vu % apis.Length];
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
        break;
    }
    case "login-flood":
    {
        // Refreshes measured while --flood clients, each from an address of its own (X-Forwarded-For through a
        // trusted proxy), log in with wrong passwords to unknown emails: every attempt costs a full hash.
        var sessions = await InParallelAsync(options.Users, vu => LoginNewUserAsync(apis[vu % apis.Length]));
        await using var flood = Flood.Start(options, "/auth/login", () => new { email = $"flood-{Guid.NewGuid():N}@example.com", password = "wrong password 1" });
        var result = await MeasureAsync(options, meter, (vu, recorder, stop) =>
            RefreshLoopAsync(apis[vu % apis.Length], "/auth/refresh", sessions, vu, recorder, withMe: false, stop));
        var answers = await flood.StopAsync();
        // An unknown email's grain leaves memory within seconds once it has no failures to remember; those answered
        // 401 remember theirs for the failed-login window.
        await Task.Delay(TimeSpan.FromSeconds(20));
        var loaded = await SiloSampleAsync(options, "orleans_catalog_activations");
        Report(options, result, $"refreshes during a flood of {options.Flood} login clients, whose answers were {answers}; " +
                                $"20 s after it, {loaded} grains loaded in the silo");
        break;
    }
    case "registration-flood":
    {
        // Honest logins measured while --flood clients, each from an address of its own, register new emails as fast
        // as they are answered. The owners log in from known devices (the device token of an earlier login), whose
        // hashes go ahead of registrations. Then, once the stragglers have had time to land, the rows: no user
        // without its email.
        var users = await InParallelAsync(options.Users, _ => RegisterAsync(http));
        var devices = await InParallelAsync(options.Users, async vu => (await LoginAsync(http, users[vu])).DeviceToken);
        await using var db = Npgsql.NpgsqlDataSource.Create(options.Database!);
        async Task<(long Users, long Emails)> RowsAsync()
        {
            await using var command = db.CreateCommand(
                "SELECT count(*) FILTER (WHERE graintypestring = 'user'), count(*) FILTER (WHERE graintypestring = 'email') FROM grainstate");
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            return (reader.GetInt64(0), reader.GetInt64(1));
        }
        var before = await RowsAsync();
        await using var flood = Flood.Start(options, "/auth/register", () => new { email = $"flood-{Guid.NewGuid():N}@example.com", password = "flood password 1" });
        var result = await MeasureAsync(options, meter, async (vu, recorder, stop) =>
        {
            while (!stop.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await http.PostAsJsonAsync("/auth/login",
                    new { email = users[vu], password = Password, refreshTokenIn = "body", deviceToken = devices[vu] }, CancellationToken.None);
                recorder.Record(started, (int)response.StatusCode);
            }
        });
        var answers = await flood.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(10));
        var after = await RowsAsync();
        long newUsers = after.Users - before.Users, newEmails = after.Emails - before.Emails;
        Report(options, result, $"known-device logins during a flood of {options.Flood} registering clients, whose answers were {answers}; " +
                                $"10 s after it, {newUsers:N0} new user rows and {newEmails:N0} new email rows: {Math.Max(0, newUsers - newEmails):N0} users no email reaches");
        break;
    }
    case "one-user":
    {
        // --sessions logins to one account: the user's row and session list stay small (MaxActiveSessions).
        var email = await RegisterAsync(http);
        var logins = await InParallelAsync(options.Sessions, _ => LoginAsync(http, email), concurrency: 8);
        var started = Stopwatch.GetTimestamp();
        using var list = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/auth/sessions")
        {
            Headers = { Authorization = new("Bearer", logins[^1].AccessToken) },
        });
        var listMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var body = await list.Content.ReadAsByteArrayAsync();
        await using var db = Npgsql.NpgsqlDataSource.Create(options.Database!);
        await using var command = db.CreateCommand("SELECT max(octet_length(payloadbinary)) FROM grainstate WHERE graintypestring = 'user'");
        var row = await command.ExecuteScalarAsync();
        Console.WriteLine($"| one-user | {options.Sessions:N0} logins to one account | GET /auth/sessions {(int)list.StatusCode}: " +
                          $"{JsonDocument.Parse(body).RootElement.GetArrayLength()} sessions, {body.Length:N0} B, {listMs:F1} ms | largest user row {row} B |");
        break;
    }
    case "hash":
        Console.WriteLine($"{HashMilliseconds():F2}");
        break;
    case "cold-setup":
    {
        // Many users with a few sessions each, as real traffic has; the tokens go to a file for "cold".
        var perUser = 10;
        var tokens = await InParallelAsync((options.Sessions + perUser - 1) / perUser, async _ =>
        {
            var email = await RegisterAsync(http);
            var list = new List<string>();
            for (var i = 0; i < perUser; i++)
                list.Add((await LoginAsync(http, email)).RefreshToken);
            return list;
        }, concurrency: 32);
        await File.WriteAllLinesAsync(options.Tokens!, tokens.SelectMany(t => t).Take(options.Sessions));
        Console.Error.WriteLine($"{options.Sessions} sessions created");
        break;
    }
    case "cold":
    {
        // The warm-up takes tokens from the same queue: cold grains, but a silo whose code is compiled, as in production.
        var tokens = new Queue<string>(await File.ReadAllLinesAsync(options.Tokens!));
        var result = await MeasureAsync(options, meter, async (vu, recorder, stop) =>
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
        break;
    }
    case "idle-memory":
    {
        var silo = options.Pids["silo"].Single(); // idle-memory measures one silo
        var before = CpuMeter.ResidentBytes(silo);
        var created = await InParallelAsync((options.Sessions + 9) / 10, async _ =>
        {
            var email = await RegisterAsync(http);
            for (var i = 0; i < 10; i++)
                await LoginAsync(http, email);
            return 10;
        }, concurrency: 32);
        await Task.Delay(TimeSpan.FromSeconds(10)); // let the silo's background GC settle; RSS still holds its garbage
        var after = CpuMeter.ResidentBytes(silo);
        await using var db = Npgsql.NpgsqlDataSource.Create(options.Database!);
        await using var command = db.CreateCommand("SELECT count(*), avg(octet_length(payloadbinary)), pg_total_relation_size('grainstate') FROM grainstate WHERE graintypestring = 'session'");
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Console.WriteLine($"| idle-memory | {created.Sum():N0} sessions | silo RSS {before / 1048576.0:F0} → {after / 1048576.0:F0} MB ({(after - before) / (double)created.Sum():F0} B/session) " +
                          $"| {reader.GetInt64(0):N0} session rows, payload {reader.GetDouble(1):F0} B/row, table with indexes {reader.GetInt64(2) / (double)reader.GetInt64(0):F0} B/row |");
        break;
    }
    default:
        throw new ArgumentException($"unknown scenario {options.Scenario}");
}

static async Task<Result> MeasureAsync(Options options, CpuMeter meter, Func<int, Recorder, CancellationToken, Task> virtualUser)
{
    if (options.WarmupSeconds > 0)
    {
        using var warmup = new CancellationTokenSource(TimeSpan.FromSeconds(options.WarmupSeconds));
        await Task.WhenAll(Enumerable.Range(0, options.Users).Select(vu => Task.Run(() => virtualUser(vu, new Recorder(), warmup.Token))));
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

static void Report(Options options, Result result, string note = "")
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

static void ReportRatio(Options options, Result sessions, Result seed)
{
    static double Rate(Result r) => r.Recorder.Statuses.Where(s => s.Key is >= 200 and < 300).Sum(s => s.Value) / r.Seconds;
    static double Efficiency(Result r) => Rate(r) * r.Seconds / Math.Max(r.Cpu.Values.Sum(), 1e-9);
    var (a, b) = (sessions.Recorder.Sorted(), seed.Recorder.Sorted());
    string Times(double x, double y) => $"{x / y:F2}x";
    Console.WriteLine($"| Sessions ÷ seed | {options.Users} | **{Times(Rate(sessions), Rate(seed))}** | {Times(Recorder.Percentile(a, 50), Recorder.Percentile(b, 50))} | " +
                      $"{Times(Recorder.Percentile(a, 90), Recorder.Percentile(b, 90))} | {Times(Recorder.Percentile(a, 99), Recorder.Percentile(b, 99))} | " +
                      $"{Times(a.LastOrDefault(), b.LastOrDefault())} | | | | | {Times(Efficiency(sessions), Efficiency(seed))} | rate ratio ≥ 1 is Sessions faster; latency ratio ≤ 1 is Sessions quicker |");
}

// One virtual user refreshing its session in a closed loop with the latest token (and calling /me between, for "mixed").
static async Task RefreshLoopAsync(HttpClient http, string path, TokenResponse[] sessions, int vu, Recorder recorder, bool withMe, CancellationToken stop)
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

static double HashMilliseconds()
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

static async Task<T[]> InParallelAsync<T>(int count, Func<int, Task<T>> work, int concurrency = 64)
{
    var results = new T[count];
    await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = concurrency },
        async (i, _) => results[i] = await work(i));
    return results;
}

static async Task<string> RegisterAsync(HttpClient http)
{
    var email = $"bench-{Guid.NewGuid():N}@example.com";
    // A retried registration that had landed answers 409: the email is this call's own.
    using var response = await SetupAsync(() => http.PostAsJsonAsync("/auth/register", new { email, password = Password }));
    if (response.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.Conflict))
        throw new InvalidOperationException($"register answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    return email;
}

static async Task<TokenResponse> LoginAsync(HttpClient http, string email)
{
    using var response = await SetupAsync(() => http.PostAsJsonAsync("/auth/login", new { email, password = Password, refreshTokenIn = "body" }));
    if (!response.IsSuccessStatusCode)
        throw new InvalidOperationException($"login answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    return (await response.Content.ReadFromJsonAsync<TokenResponse>())!;
}

// Setup is not measured: like a real client, it retries a 503 (a login burst on a fresh silo gets some).
static async Task<HttpResponseMessage> SetupAsync(Func<Task<HttpResponseMessage>> send)
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

static string ForgedToken()
{
    Span<byte> bytes = stackalloc byte[57];
    Random.Shared.NextBytes(bytes);
    bytes[0] = 1; // format version
    bytes[17] = 0; // a non-negative counter
    return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

// The sum of a metric's series on the silo's management port.
static async Task<double> SiloSampleAsync(Options options, string name)
{
    using var scraper = new HttpClient();
    var metrics = await scraper.GetStringAsync(options.SiloMetrics);
    return metrics.Split('\n')
        .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
        .Sum(l => double.Parse(l.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture));
}

static async Task<TokenResponse> LoginNewUserAsync(HttpClient http) => await LoginAsync(http, await RegisterAsync(http));

// The seed server's API: POST /register {email, password} → 201, POST /login → {accessToken, refreshToken}.
static async Task<TokenResponse> SeedLoginNewUserAsync(HttpClient seed)
{
    var credentials = new { email = $"bench-{Guid.NewGuid():N}@example.com", password = Password };
    using var registered = await seed.PostAsJsonAsync("/register", credentials);
    registered.EnsureSuccessStatusCode();
    using var response = await seed.PostAsJsonAsync("/login", credentials);
    response.EnsureSuccessStatusCode();
    return (await response.Content.ReadFromJsonAsync<TokenResponse>())!;
}

public partial class Program
{
    private const string Password = "bench password 1";
    private static readonly string[] Processes = ["api", "silo", "postgres"];
}

