using System.Diagnostics;
using System.Text;

namespace Sessions.Tests.EndToEnd;

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

    /// <summary>Stopped by the test rather than by itself.</summary>
    public bool Killed => _disposed;

    /// <summary>Starts <c>project/bin/&lt;configuration&gt;/net10.0/project.dll</c>, built with the tests.</summary>
    public static ServiceProcess Start(string project, IReadOnlyDictionary<string, string> environment)
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory); // Tests/bin/<configuration>/net10.0/
        var configuration = testOutput.Parent!.Name;
        var repository = testOutput.Parent.Parent!.Parent!.Parent!.FullName;
        var folder = Path.Combine(repository, project, "bin", configuration, testOutput.Name);
        var dll = Path.Combine(folder, project + ".dll");
        if (!File.Exists(dll))
            throw new FileNotFoundException($"{dll} is missing: build the solution first.");

        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = folder,
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

    private bool _disposed;

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
