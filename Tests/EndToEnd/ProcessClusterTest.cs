using System.Net;
using Sessions.Tests.Api;
using Sessions.Tests.Infrastructure;

namespace Sessions.Tests.EndToEnd;

/// <summary>
/// A test that runs the built Silo and Api as processes on loopback, clustered through a fresh
/// PostgreSQL database. Silo i listens on Ports+i (gateway Ports+Silos+i); Api node j on Ports+2·Silos+j.
/// </summary>
public abstract class ProcessClusterTest(int silos, int apis) : IAsyncLifetime
{
    private readonly List<ServiceProcess> _processes = [];

    protected int Ports { get; } = FreePorts.Consecutive(2 * silos + apis);
    protected string ClusterId { get; } = "proc-" + Guid.NewGuid().ToString("N")[..8];
    protected PostgresDatabase Database { get; private set; } = null!;

    public async Task InitializeAsync() => Database = await PostgresDatabase.CreateAsync();

    public async Task DisposeAsync()
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
        ["Cluster__Clustering"] = "AdoNet",
        ["Cluster__ClusterId"] = ClusterId,
        ["Cluster__ServiceId"] = ClusterId,
        ["Cluster__SiloPort"] = Ports.ToString(),
        ["Cluster__GatewayPort"] = (Ports + silos).ToString(),
        ["Sessions__RefreshTokenPepper"] = Convert.ToBase64String(new byte[32]),
        ["Api__KeyEncryptionKey"] = ApiFixture.KeyEncryptionKey,
    };

    protected string ApiUrl(int node) => $"http://127.0.0.1:{Ports + 2 * silos + node}";

    protected ServiceProcess StartSilo(int instance) =>
        Start("Silo", new Dictionary<string, string>(Environment()) { ["Cluster__Instance"] = instance.ToString() });

    protected ServiceProcess StartApi(int node) =>
        Start("Api", new Dictionary<string, string>(Environment()) { ["ASPNETCORE_URLS"] = ApiUrl(node) });

    private ServiceProcess Start(string project, Dictionary<string, string> environment)
    {
        var process = ServiceProcess.Start(project, environment);
        _processes.Add(process);
        return process;
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
            if (DateTime.UtcNow > deadline || _processes.Any(p => p.HasExited && !p.Killed))
                Assert.Fail($"not {what} within 90 s, or a process exited:\n" +
                    string.Join("\n---\n", _processes.Select(p => p.Output[^Math.Min(p.Output.Length, 3000)..])));
            await Task.Delay(250);
        }
    }
}
