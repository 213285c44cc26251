using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Xunit.Abstractions;

namespace Sessions.Tests.EndToEnd;

/// <summary>
/// The faults of docs/operations.md#the-fault-suite-and-its-figures, each on its own cluster of real processes: 3 silos and 2 Api nodes clustered through
/// PostgreSQL with the shipped failover settings, and 32 clients refreshing in a loop (<see cref="RefreshLoad"/>).
/// </summary>
[Layer(Layer.Fault)]
[Collection(Alone.Name)]
public sealed class FaultTests(ITestOutputHelper output) : ProcessClusterTest(Silos, Apis)
{
    private const int Silos = 3, Apis = 2, Clients = 32;

    [Fact]
    public async Task A_killed_silo_loses_no_session_every_client_continues_within_10_seconds_and_the_silo_rejoins()
    {
        var (silos, apis) = await StartClusterAsync();
        using var load = await RefreshLoad.StartAsync(apis, Clients);

        await Task.Delay(TimeSpan.FromSeconds(5));
        silos[1].Dispose(); // SIGKILL
        var faultOver = DateTime.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(20));

        AssertSurvived(await load.StopAsync(), faultOver, output);
        StartSilo(1);
        await WaitAsync(async () => await ActiveSilosAsync() == Silos, "the restarted silo rejoined");
    }

    [Fact]
    public async Task A_hung_silo_loses_no_session_and_every_client_continues_within_10_seconds()
    {
        var (silos, apis) = await StartClusterAsync();
        using var load = await RefreshLoad.StartAsync(apis, Clients);

        await Task.Delay(TimeSpan.FromSeconds(5));
        silos[1].Pause(); // SIGSTOP: its sockets stay open, nothing answers
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} silo 1 hangs");
        await WaitAsync(async () => await ActiveSilosAsync() == Silos - 1, "the hung silo declared dead");
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} silo 1 declared dead");
        await Task.Delay(TimeSpan.FromSeconds(5));
        silos[1].Resume(); // it learns it was declared dead and stops itself, touching nothing
        var resumed = DateTime.UtcNow;
        output.WriteLine($"{resumed:HH:mm:ss.fff} silo 1 resumed");
        await Task.Delay(TimeSpan.FromSeconds(10));

        AssertSurvived(await load.StopAsync(), resumed, output);
    }

    [Fact]
    public async Task A_rolling_restart_of_every_silo_fails_no_request()
    {
        var (silos, apis) = await StartClusterAsync();
        using var load = await RefreshLoad.StartAsync(apis, Clients);

        await Task.Delay(TimeSpan.FromSeconds(5));
        for (var i = 0; i < Silos; i++)
        {
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} stopping silo {i}");
            await silos[i].StopAsync(TimeSpan.FromSeconds(30)); // SIGTERM: a graceful shutdown
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} silo {i} stopped");
            StartSilo(i);
            await WaitAsync(async () => await ActiveSilosAsync() == Silos, $"silo {i} rejoined");
            await Task.Delay(TimeSpan.FromSeconds(3));
        }
        var faultOver = DateTime.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(5));

        var figures = await load.StopAsync();
        var resent = LogLines("sending it once more").ToList();
        output.WriteLine($"refreshes the Api sent once more after a lost answer: {resent.Count}");
        foreach (var line in resent.Concat(LogLines("answered 503")))
            output.WriteLine(line);
        AssertSurvived(figures, faultOver, output);
        Assert.Equal(0, figures.Unavailable); // a silo stopping gracefully hands over without failing a request
    }

    /// <summary>
    /// The upgrade in place of docs/operations.md: a cluster whose silos write through Orleans' ADO.NET provider alone
    /// is rolled onto batched reads and writes. On the way, one upgraded silo is rolled back, so sessions written by the
    /// batching provider move to silos that read them with the ADO.NET provider, and then the other way.
    /// No session is lost and no request fails. The old silos name the setting by its former name.
    /// </summary>
    [Fact]
    public async Task Rolling_silos_from_the_ADO_NET_provider_onto_batching_and_back_fails_no_request()
    {
        Dictionary<string, string> adoNet = new() { ["Storage__CoalesceWrites"] = "false" }, batching = new() { ["Storage__Batching"] = "true" };
        var (silos, apis) = await StartClusterAsync(siloSettings: adoNet);
        using var load = await RefreshLoad.StartAsync(apis, Clients);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(0, await BatchedCommitsAsync(silos, 0));

        await RollAsync(silos, 0, batching);
        using var mixedLoad = await RefreshLoad.StartAsync(apis, Clients); // new sessions, some placed on the upgraded silo
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.True(await BatchedCommitsAsync(silos, 0) > 0, "the upgraded silo serves sessions beside the old ones");
        await RollAsync(silos, 0, adoNet); // its sessions move to silos 1 and 2, which still run the ADO.NET provider
        for (var i = 0; i < Silos; i++)
            await RollAsync(silos, i, batching);
        var faultOver = DateTime.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(5));

        foreach (var figures in new[] { await load.StopAsync(), await mixedLoad.StopAsync() })
        {
            AssertSurvived(figures, faultOver, output);
            Assert.Equal(0, figures.Unavailable);
        }
        Assert.True(await BatchedCommitsAsync(silos, 0) > 0, "silo 0 batches after the upgrade");
    }

    /// <summary>Stops silo <paramref name="instance"/> gracefully, starts it again with <paramref name="settings"/>, and waits until it has rejoined.</summary>
    private async Task RollAsync(List<ServiceProcess> silos, int instance, Dictionary<string, string> settings)
    {
        await silos[instance].StopAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} silo {instance} stopped; starting it with {string.Join(", ", settings.Select(s => $"{s.Key}={s.Value}"))}");
        silos[instance] = StartSilo(instance, settings);
        await WaitAsync(async () => await ActiveSilosAsync() == Silos, $"silo {instance} rejoined");
        await WaitForSiloManagementAsync(instance);
        await Task.Delay(TimeSpan.FromSeconds(3));
    }

    /// <summary>How many batched commits silo <paramref name="instance"/> has made, from its metrics.</summary>
    private async Task<long> BatchedCommitsAsync(List<ServiceProcess> silos, int instance)
    {
        using var scraper = new HttpClient();
        string metrics;
        try
        {
            metrics = await scraper.GetStringAsync($"http://127.0.0.1:{SiloManagementPort(instance)}/metrics");
        }
        catch (HttpRequestException e)
        {
            var silo = silos[instance];
            var printed = silo.Output;
            throw new InvalidOperationException($"silo {instance}'s metrics did not answer ({e.Message}); the silo {(silo.HasExited ? "has exited" : "is running")}, " +
                $"and printed last:\n{printed[^Math.Min(printed.Length, 6000)..]}", e);
        }
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith("sessions_storage_writes_per_commit_count", StringComparison.Ordinal));
        return line is null ? 0 : (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// The database outage: the cluster runs on a PostgreSQL server of this test's own, which is stopped for
/// a few seconds mid-run. While it is down the answer is 503; after, every client continues with its latest token,
/// and users who tried to log in or register meanwhile do so at once (no grain stays wedged).
/// </summary>
[Layer(Layer.Fault)]
[Collection(Alone.Name)]
public sealed class DatabaseOutageTests(ITestOutputHelper output) : PrivatePostgresClusterTest(silos: 3, apis: 2)
{
    [Fact]
    public async Task While_the_database_is_down_clients_get_503_then_continue_with_their_latest_token_log_in_and_register()
    {
        var (_, apis) = await StartClusterAsync();
        var members = Enumerable.Range(0, 4).Select(_ => Http.NewEmail()).ToList();
        var newcomers = Enumerable.Range(0, 4).Select(_ => Http.NewEmail()).ToList();
        foreach (var (email, i) in members.Select((e, i) => (e, i)))
            Assert.Equal(HttpStatusCode.Created, await UntilServedAsync(() => Register(apis[i % apis.Count], email)));
        using var load = await RefreshLoad.StartAsync(apis, clients: 32);

        await Task.Delay(TimeSpan.FromSeconds(5));
        await Server.StopAsync();
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} PostgreSQL stopped");
        var outage = Task.Delay(TimeSpan.FromSeconds(4));
        // Each of these fails to store, leaving its user or email grain to recover once storage is back.
        var meanwhile = await Task.WhenAll(
            members.Select((email, i) => StatusAsync(() => Login(apis[i % apis.Count], email))).Concat(
            newcomers.Select((email, i) => StatusAsync(() => Register(apis[i % apis.Count], email)))));
        await outage;
        output.WriteLine($"logins and registrations during the outage: {string.Join(", ", meanwhile.Select(s => (int)s))}");
        Assert.All(meanwhile, status => Assert.Equal(HttpStatusCode.ServiceUnavailable, status));
        await Server.RestartAsync();
        var restarted = DateTime.UtcNow;
        output.WriteLine($"{restarted:HH:mm:ss.fff} PostgreSQL running again");

        // The same users again, retrying on 503 as clients do: a registration that landed unacknowledged answers 409.
        var accountsServed = AccountsServedAsync();
        async Task<TimeSpan> AccountsServedAsync()
        {
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(
                members.Select(async (email, i) => Assert.Equal(HttpStatusCode.OK, await UntilServedAsync(() => Login(apis[i % apis.Count], email)))).Concat(
                newcomers.Select(async (email, i) =>
                {
                    var api = apis[(i + 1) % apis.Count];
                    Assert.Contains(await UntilServedAsync(() => Register(api, email)), new[] { HttpStatusCode.Created, HttpStatusCode.Conflict });
                    Assert.Equal(HttpStatusCode.OK, await UntilServedAsync(() => Login(api, email)));
                })));
            return clock.Elapsed;
        }
        await Task.Delay(TimeSpan.FromSeconds(10));

        var figures = await load.StopAsync();
        AssertSurvived(figures, restarted, output);
        Assert.True(figures.Unavailable > 0, "the outage was not seen");
        var served = await accountsServed;
        output.WriteLine($"every login and registration served {served.TotalSeconds:F1} s after PostgreSQL returned");
        Assert.True(served < TimeSpan.FromSeconds(10), $"logins and registrations took {served.TotalSeconds:F1} s to recover");
    }

    private static Task<HttpResponseMessage> Register(HttpClient api, string email) =>
        api.PostAsJsonAsync("/auth/register", new { email, password = TestSteps.Password });

    private static Task<HttpResponseMessage> Login(HttpClient api, string email) =>
        api.PostAsJsonAsync("/auth/login", new { email, password = TestSteps.Password, refreshTokenIn = "body" });

    private static async Task<HttpStatusCode> StatusAsync(Func<Task<HttpResponseMessage>> send)
    {
        using var response = await send();
        return response.StatusCode;
    }

    /// <summary>Sends until the answer is not 503, pausing 200 ms between attempts as a client would; gives up after 20 s.</summary>
    private static async Task<HttpStatusCode> UntilServedAsync(Func<Task<HttpResponseMessage>> send)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var status = await StatusAsync(send);
            if (status != HttpStatusCode.ServiceUnavailable || DateTime.UtcNow > deadline)
                return status;
            await Task.Delay(200);
        }
    }
}
