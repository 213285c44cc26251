using System.Collections.Concurrent;
using System.Diagnostics;

namespace Sessions.Bench;

/// <summary>Latencies and outcomes of one measured window.</summary>
public sealed class Recorder : IDisposable
{
    private readonly ConcurrentBag<List<double>> _latencies = [];
    private readonly ConcurrentDictionary<int, long> _statuses = new();
    private readonly ThreadLocal<List<double>> _local;

    public Recorder() => _local = new(() => { var list = new List<double>(1 << 16); _latencies.Add(list); return list; });

    public void Record(long startTimestamp, int status)
    {
        _local.Value!.Add(Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds);
        _statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
    }

    public IReadOnlyDictionary<int, long> Statuses => _statuses;

    public double[] Sorted()
    {
        var all = _latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        return all;
    }

    public void Dispose() => _local.Dispose();

    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100 * sorted.Length) - 1)];
}
