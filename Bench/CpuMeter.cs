using System.Globalization;

namespace Sessions.Bench;

/// <summary>
/// CPU seconds (user + system) of named groups of processes (a name may stand for several nodes), read from /proc;
/// PostgreSQL counts the postmaster and all its children.
/// </summary>
public sealed class CpuMeter(IReadOnlyDictionary<string, int[]> processes)
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux

    public IReadOnlyDictionary<string, double> Read() =>
        processes.ToDictionary(p => p.Key, p => (p.Key == "postgres" ? p.Value.SelectMany(WithChildren) : p.Value).Sum(Seconds));

    private static IEnumerable<int> WithChildren(int parent) =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && (pid == parent || ParentOf(pid) == parent));

    private static string[]? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            return text[(text.LastIndexOf(')') + 2)..].Split(' '); // fields after "pid (comm) "
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static int ParentOf(int pid) => Stat(pid) is { } f ? int.Parse(f[1], CultureInfo.InvariantCulture) : 0;

    private static double Seconds(int pid) => Stat(pid) is { } f ? (long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)) / TicksPerSecond : 0;

    public static long ResidentBytes(int pid) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024).FirstOrDefault();
}
