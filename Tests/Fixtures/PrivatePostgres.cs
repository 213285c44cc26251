namespace Sessions.Tests.Fixtures;

/// <summary>
/// A PostgreSQL server of one test's own (scripts/postgres.sh on a free port with a temporary data folder),
/// so the test may stop and start it without harming any other test.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private readonly int _port = FreePorts.Consecutive(1);
    private readonly string _data = Path.Combine(Path.GetTempPath(), "sessions-pg-" + Guid.NewGuid().ToString("N")[..12]);

    public string ServerConnectionString => $"Host=127.0.0.1;Port={_port};Username=postgres;Database=postgres";

    /// <summary>What scripts/ need to find this server: its port and data folder.</summary>
    public Dictionary<string, string> Environment => new()
    {
        ["SESSIONS_PG_PORT"] = _port.ToString(CultureInfo.InvariantCulture),
        ["SESSIONS_PG_DATA"] = _data,
    };

    /// <summary>A server that scripts will start (initdb on first start).</summary>
    public static PrivatePostgres NotStarted() => new();

    public static async Task<PrivatePostgres> StartAsync()
    {
        var server = new PrivatePostgres();
        await server.RunAsync("start");
        return server;
    }

    public async Task<bool> IsRunningAsync() => (await Scripts.RunAsync("postgres.sh", ["status"], Environment)).ExitCode == 0;

    public Task StopAsync() => RunAsync("stop");

    public Task RestartAsync() => RunAsync("start");

    public async ValueTask DisposeAsync()
    {
        await RunAsync("stop");
        if (Directory.Exists(_data))
            Directory.Delete(_data, recursive: true);
    }

    private async Task RunAsync(string command)
    {
        var (exitCode, output) = await Scripts.RunAsync("postgres.sh", [command], Environment);
        if (exitCode != 0)
            throw new InvalidOperationException($"scripts/postgres.sh {command} failed ({exitCode}):\n{output}");
    }
}
