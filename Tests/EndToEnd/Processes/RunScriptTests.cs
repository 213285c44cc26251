
namespace Sessions.Tests.EndToEnd;

/// <summary>
/// scripts/run.sh stops on the way out only what it started: a PostgreSQL it found running stays running, and one it
/// started is stopped even when the build fails. A stand-in `dotnet` builds (or fails to) and runs nothing.
/// </summary>
[Layer(Layer.EndToEnd)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class RunScriptTests : IDisposable
{
    private readonly string _bin = Directory.CreateTempSubdirectory("sessions-fake-dotnet-").FullName;

    public void Dispose() => Directory.Delete(_bin, recursive: true);

    [Fact]
    public async Task A_failed_build_stops_the_postgres_run_sh_started()
    {
        await using var postgres = PrivatePostgres.NotStarted();

        var (exitCode, output) = await RunAsync(postgres, buildSucceeds: false);

        Assert.True(exitCode != 0, output);
        Assert.Contains("fake build failure", output, StringComparison.Ordinal);
        Assert.False(await postgres.IsRunningAsync(), $"run.sh left running the PostgreSQL it started:\n{output}");
    }

    [Fact]
    public async Task A_postgres_that_was_running_before_run_sh_is_still_running_after_it()
    {
        await using var postgres = await PrivatePostgres.StartAsync();

        var (exitCode, output) = await RunAsync(postgres, buildSucceeds: true);

        Assert.True(exitCode != 0, output); // the stand-in cannot run the silo
        Assert.True(await postgres.IsRunningAsync(), $"run.sh stopped a PostgreSQL it did not start:\n{output}");
    }

    private Task<(int ExitCode, string Output)> RunAsync(PrivatePostgres postgres, bool buildSucceeds)
    {
        var dotnet = Path.Combine(_bin, "dotnet");
        File.WriteAllText(dotnet, $"""
            #!/bin/sh
            if [ "$1" = build ]; then
              echo "  Grains -> /nowhere/Grains.dll"
              {(buildSucceeds ? "exit 0" : "echo '/nowhere/Grains/Thing.cs(1,1): error CS1002: fake build failure'; exit 1")}
            fi
            exit 1
            """);
        File.SetUnixFileMode(dotnet, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var environment = new Dictionary<string, string>(postgres.Environment)
        {
            ["PATH"] = $"{_bin}:{System.Environment.GetEnvironmentVariable("PATH")}",
            // A mail server named, so that run.sh installs no mail catcher.
            ["Email__Smtp__Host"] = "127.0.0.1",
            ["SESSIONS_API_URL"] = $"http://127.0.0.1:{FreePorts.Consecutive(1)}",
        };
        return Scripts.RunAsync("run.sh", [], environment);
    }
}
