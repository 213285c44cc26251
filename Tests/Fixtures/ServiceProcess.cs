using System.Diagnostics;
using System.Text;

namespace Sessions.Tests.Fixtures;

/// <summary>A built Silo or Api, run as its own process from its output folder, with its output kept for failure messages.</summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(Process process) => _process = process;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public bool HasExited => _disposed || _process.HasExited;

    /// <summary>Stopped by the test, or expected by it to stop by itself.</summary>
    public bool StoppedByTest => _disposed || _exitExpected;

    /// <summary>Starts <c>project/bin/&lt;configuration&gt;/net10.0/project.dll</c>, built with the tests.</summary>
    public static ServiceProcess Start(string project, IReadOnlyDictionary<string, string> environment)
    {
        var (folder, dll) = Built(project);
        return Start("dotnet", [dll], folder, environment);
    }

    /// <summary>The output folder and assembly of <paramref name="project"/> (a folder of the repository), built with the tests.</summary>
    public static (string Folder, string Dll) Built(string project, string? assembly = null)
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory); // Tests/bin/<configuration>/net10.0/
        var configuration = testOutput.Parent!.Name;
        var folder = Path.Combine(Repository.Root, project, "bin", configuration, testOutput.Name);
        var dll = Path.Combine(folder, (assembly ?? project) + ".dll");
        if (!File.Exists(dll))
            throw new FileNotFoundException($"{dll} is missing: build the solution first.");
        return (folder, dll);
    }

    /// <summary>Starts any program, its output kept.</summary>
    public static ServiceProcess Start(string fileName, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        var service = new ServiceProcess(new Process { StartInfo = start, EnableRaisingEvents = true });
        service._process.OutputDataReceived += (_, e) => service.Append(e.Data);
        service._process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        service._process.Start();
        service._process.BeginOutputReadLine();
        service._process.BeginErrorReadLine();
        return service;
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }

    private bool _disposed, _exitExpected;

    /// <summary>SIGSTOP: the process hangs with its sockets open, as a stalled machine would.</summary>
    public void Pause() => Signal("STOP");

    /// <summary>SIGCONT; a silo declared dead meanwhile stops itself, which the test expects.</summary>
    public void Resume()
    {
        _exitExpected = true;
        Signal("CONT");
    }

    /// <summary>SIGTERM, as a service manager stops a service, then waits for the process to exit.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        _exitExpected = true;
        Signal("TERM");
        using var wait = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(wait.Token);
    }

    /// <summary>Waits for a process the test expects to stop by itself (one refusing its configuration); its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        _exitExpected = true;
        using var wait = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(wait.Token);
        return _process.ExitCode;
    }

    /// <summary>The lines of output that contain <paramref name="text"/>.</summary>
    public IEnumerable<string> Lines(string text) => Output.Split('\n').Where(line => line.Contains(text, StringComparison.Ordinal));

    private void Signal(string signal)
    {
        // A process that stopped on its own: say why, with what it printed last.
        if (_process.HasExited)
            throw new InvalidOperationException($"kill -{signal}: process {_process.Id} had already exited with code {_process.ExitCode}; its last output:\n{Output[^Math.Min(Output.Length, 4000)..]}");
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        if (kill.ExitCode != 0)
            throw new InvalidOperationException($"kill -{signal} {_process.Id} failed with exit code {kill.ExitCode}.");
    }

    /// <summary>Kills the process (SIGKILL, the whole tree); safe to call twice.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
    }
}
