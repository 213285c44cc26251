using System.Diagnostics;

namespace Sessions.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL server of one test's own (scripts/postgres.sh on a free port with a temporary data folder),
/// so the test may stop and start it without harming any other test.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private readonly int _port = FreePorts.Consecutive(1);
    private readonly string _data = Path.Combine(Path.GetTempPath(), "sessions-pg-" + Guid.NewGuid().ToString("N")[..12]);

    public string ServerConnectionString => $"Host=127.0.0.1;Port={_port};Username=postgres;Database=postgres";

    public static async Task<PrivatePostgres> StartAsync()
    {
        var server = new PrivatePostgres();
        await server.RunAsync("start");
        return server;
    }

    public Task StopAsync() => RunAsync("stop");

    public Task RestartAsync() => RunAsync("start");

    public async ValueTask DisposeAsync()
    {
        await RunAsync("stop");
        Directory.Delete(_data, recursive: true);
    }

    private async Task RunAsync(string command)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(Repository.Root, "scripts", "postgres.sh"), command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["SESSIONS_PG_PORT"] = _port.ToString(CultureInfo.InvariantCulture), ["SESSIONS_PG_DATA"] = _data },
        };
        using var script = Process.Start(start)!;
        var output = script.StandardOutput.ReadToEndAsync();
        var errors = script.StandardError.ReadToEndAsync();
        await script.WaitForExitAsync();
        if (script.ExitCode != 0)
            throw new InvalidOperationException($"scripts/postgres.sh {command} failed ({script.ExitCode}):\n{await output}{await errors}");
    }
}
