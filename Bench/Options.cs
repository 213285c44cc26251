using System.Globalization;

namespace Sessions.Bench;

/// <summary>A token response; <see cref="DeviceToken"/> is what the client sends back at its next login (a known device).</summary>
public sealed record TokenResponse(string AccessToken, string RefreshToken, string? DeviceToken = null);

/// <summary>One measured window.</summary>
/// <param name="Recorder">Latencies and statuses.</param>
/// <param name="Seconds">Its length.</param>
/// <param name="Cpu">CPU seconds of each measured process kind (api, silo, postgres).</param>
/// <param name="BenchCpu">The load generator's own CPU seconds: it shares the machine, so it is reported, not counted.</param>
public sealed record Result(Recorder Recorder, double Seconds, Dictionary<string, double> Cpu, double BenchCpu);

public sealed record Options(string Scenario, string[] Urls, int Users, int Seconds, int WarmupSeconds, int Sessions, string? Tokens,
    IReadOnlyDictionary<string, int[]> Pids, string? Database, int Flood, string? Seed, Uri SiloMetrics)
{
    public static Options Parse(string[] args)
    {
        string Value(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;
        var pids = Value("--pids", "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1].Split('+').Select(pid => int.Parse(pid, CultureInfo.InvariantCulture)).ToArray());
        return new Options(args.FirstOrDefault() ?? "refresh", Value("--url", "http://127.0.0.1:5080").Split(','), int.Parse(Value("--users", "64"), CultureInfo.InvariantCulture),
            int.Parse(Value("--seconds", "20"), CultureInfo.InvariantCulture), int.Parse(Value("--warmup", "10"), CultureInfo.InvariantCulture), int.Parse(Value("--sessions", "1000"), CultureInfo.InvariantCulture),
            Value("--tokens", "") is { Length: > 0 } t ? t : null, pids, Value("--database", "") is { Length: > 0 } d ? d : null,
            int.Parse(Value("--flood", "600"), CultureInfo.InvariantCulture), Value("--seed", "") is { Length: > 0 } s ? s : null,
            new Uri(Value("--silo-metrics", "http://127.0.0.1:8100/metrics")));
    }
}
