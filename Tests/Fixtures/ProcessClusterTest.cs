using System.Net;
using Xunit.Abstractions;

namespace Sessions.Tests.Fixtures;

/// <summary>
/// A test that runs the built Silo and Api as processes on loopback, clustered through a fresh
/// PostgreSQL database. Silo i listens on Ports+i (gateway Ports+Silos+i); Api node j on Ports+2·Silos+j; their
/// management listeners follow: silo i on Ports+2·Silos+Apis+i, Api node j on Ports+3·Silos+Apis+j.
/// </summary>
public abstract class ProcessClusterTest(int silos, int apis) : IAsyncLifetime
{
    private readonly List<ServiceProcess> _processes = [];

    protected int Ports { get; } = FreePorts.Consecutive(3 * silos + 2 * apis);
    protected string ClusterId { get; } = "proc-" + Guid.NewGuid().ToString("N")[..8];
    protected PostgresDatabase Database { get; private set; } = null!;

    public virtual async Task InitializeAsync() => Database = await CreateDatabaseAsync();

    protected virtual Task<PostgresDatabase> CreateDatabaseAsync() => PostgresDatabase.CreateAsync();

    public virtual async Task DisposeAsync()
    {
        foreach (var process in _processes)
            process.Dispose();
        await Database.DisposeAsync();
    }

    /// <summary>Settings every node gets, as a production deployment would have them; tests add their own.</summary>
    protected virtual Dictionary<string, string> Environment() => new()
    {
        ["DOTNET_ENVIRONMENT"] = "Production",
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["ConnectionStrings__Sessions"] = Database.ConnectionString,
        ["Logging__Console__FormatterName"] = "simple",
        ["Logging__Console__FormatterOptions__SingleLine"] = "true",
        ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ",
        ["Cluster__Clustering"] = "AdoNet",
        ["Cluster__ClusterId"] = ClusterId,
        ["Cluster__ServiceId"] = ClusterId,
        ["Cluster__SiloPort"] = Ports.ToString(CultureInfo.InvariantCulture),
        ["Cluster__GatewayPort"] = (Ports + silos).ToString(CultureInfo.InvariantCulture),
        ["Management__Port"] = SiloManagementPort(0).ToString(CultureInfo.InvariantCulture),
        ["Sessions__RefreshTokenPepper"] = Convert.ToBase64String(new byte[32]),
        ["Api__KeyEncryptionKey"] = ApiFixture.KeyEncryptionKey,
        // One issuer for every Api node, as behind one load balancer.
        ["Api__Issuer"] = ApiUrl(0),
        // Every test client comes from 127.0.0.1.
        ["Api__RefreshesPerMinutePerAddress"] = "1000000",
        ["Api__AccessTokenRequestsPerMinutePerAddress"] = "1000000",
        ["Api__LoginsPerMinutePerAddress"] = "1000000",
        ["Api__RegistrationsPerMinutePerAddress"] = "1000000",
    };

    /// <summary>The host name Api nodes listen on and are addressed by.</summary>
    protected virtual string ApiHost => "127.0.0.1";

    protected string ApiUrl(int node) => $"http://{ApiHost}:{Ports + 2 * silos + node}";

    /// <summary>The lines every process started so far printed that contain <paramref name="text"/>.</summary>
    protected IEnumerable<string> LogLines(string text) => _processes.SelectMany(p => p.Lines(text));

    protected ServiceProcess StartSilo(int instance, Dictionary<string, string>? settings = null)
    {
        var environment = new Dictionary<string, string>(Environment()) { ["Cluster__Instance"] = instance.ToString(CultureInfo.InvariantCulture) };
        foreach (var (name, value) in settings ?? [])
            environment[name] = value;
        return Start("Silo", environment);
    }

    /// <summary>The management listener (metrics, health) of silo <paramref name="instance"/>.</summary>
    protected int SiloManagementPort(int instance) => Ports + 2 * silos + apis + instance;

    /// <summary>The management listener (metrics, health) of Api node <paramref name="node"/>.</summary>
    protected int ApiManagementPort(int node) => Ports + 3 * silos + apis + node;

    protected ServiceProcess StartApi(int node, Dictionary<string, string>? settings = null)
    {
        var environment = new Dictionary<string, string>(Environment())
        {
            ["ASPNETCORE_URLS"] = ApiUrl(node),
            ["Management__Port"] = ApiManagementPort(node).ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (name, value) in settings ?? [])
            environment[name] = value;
        return Start("Api", environment);
    }

    private ServiceProcess Start(string project, Dictionary<string, string> environment) => Track(ServiceProcess.Start(project, environment));

    /// <summary>A process the test started itself: stopped with the cluster, its output in failure messages.</summary>
    protected ServiceProcess Track(ServiceProcess process)
    {
        _processes.Add(process);
        return process;
    }

    /// <summary>
    /// Starts every silo (with <paramref name="siloSettings"/>), waits until all are active, then every Api node
    /// (with <paramref name="apiSettings"/>), and waits until each is ready.
    /// </summary>
    protected async Task<(List<ServiceProcess> Silos, List<HttpClient> Apis)> StartClusterAsync(
        Dictionary<string, string>? apiSettings = null, Dictionary<string, string>? siloSettings = null)
    {
        var siloProcesses = Enumerable.Range(0, silos).Select(i => StartSilo(i, siloSettings)).ToList();
        await WaitAsync(async () => await ActiveSilosAsync() == silos, "silos joined");
        for (var i = 0; i < silos; i++)
            await WaitForSiloManagementAsync(i);
        var apiClients = Enumerable.Range(0, apis)
            .Select(j => new HttpClient { BaseAddress = new Uri(ApiUrl(j)), Timeout = TimeSpan.FromSeconds(30) }).ToList();
        for (var j = 0; j < apis; j++)
            StartApi(j, apiSettings);
        foreach (var api in apiClients)
            await WaitAsync(async () => await TryGetAsync(api, "/health/ready") == HttpStatusCode.OK, "Api ready");
        return (siloProcesses, apiClients);
    }

    /// <summary>
    /// What every fault test demands of its clients. A rotation can be stored by a silo that dies before it answers;
    /// its client then retries the previous token, which only replays inside the 10 s reuse grace window. So every
    /// client must be served again within 10 s, or a legitimate session is revoked for reuse.
    /// </summary>
    protected void AssertSurvived(RefreshFigures figures, DateTime faultOver, ITestOutputHelper output)
    {
        // In a fault test every reuse event a silo logged is a false revocation.
        var reuse = LogLines("Security event refresh_token_reuse").ToList();
        output.WriteLine($"{figures}, false reuse revocations {reuse.Count}");
        reuse.ForEach(output.WriteLine);
        Assert.Equal(0, figures.LostSessions); // every client's latest acknowledged token still refreshes
        Assert.Empty(reuse);
        Assert.Equal(0, figures.ServerErrors);
        Assert.Equal(0, figures.NoAnswer);
        Assert.True(figures.LastSuccess > faultOver, "a client made no progress after the fault");
        Assert.True(figures.LongestGap < TimeSpan.FromSeconds(10), $"a client went {figures.LongestGap.TotalSeconds:F1} s without a refresh");
    }

    /// <summary>
    /// Until silo <paramref name="instance"/>'s management listener answers: it opens after the silo has joined the
    /// membership table, so a scrape right after the join can find the port closed.
    /// </summary>
    protected async Task WaitForSiloManagementAsync(int instance)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{SiloManagementPort(instance)}"), Timeout = TimeSpan.FromSeconds(10) };
        await WaitAsync(async () => await TryGetAsync(http, "/health/live") == HttpStatusCode.OK, $"silo {instance}'s management listener answering");
    }

    protected async Task<long> ActiveSilosAsync() =>
        await Database.ScalarAsync<long>("SELECT count(*) FROM membership WHERE deploymentid = $1 AND status = 3", ClusterId);

    protected static async Task<HttpStatusCode?> TryGetAsync(HttpClient http, string path)
    {
        try
        {
            return (await http.GetAsync(path)).StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>Waits up to 90 s; on failure shows what every process printed.</summary>
    protected async Task WaitAsync(Func<Task<bool>> ready, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!await ready())
        {
            if (DateTime.UtcNow > deadline || _processes.Any(p => p.HasExited && !p.StoppedByTest))
                Assert.Fail($"not {what} within 90 s, or a process exited:\n" +
                    string.Join("\n---\n", _processes.Select(p => p.Output[^Math.Min(p.Output.Length, 3000)..])));
            await Task.Delay(250);
        }
    }
}

/// <summary>A process cluster on a PostgreSQL server of the test's own, which the test may stop and start.</summary>
public abstract class PrivatePostgresClusterTest(int silos, int apis) : ProcessClusterTest(silos, apis)
{
    protected PrivatePostgres Server { get; private set; } = null!;

    protected override async Task<PostgresDatabase> CreateDatabaseAsync()
    {
        Server = await PrivatePostgres.StartAsync();
        return await PostgresDatabase.CreateAsync(Server.ServerConnectionString);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Server.DisposeAsync();
    }
}
