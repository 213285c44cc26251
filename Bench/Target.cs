namespace Sessions.Bench;

/// <summary>
/// What a scenario drives and measures: an HTTP client per Api node of --url, all on one handler, and the CPU of the
/// --pids processes, the seed's on a meter of its own (it is measured on its own rows only).
/// </summary>
public sealed class Target : IDisposable
{
    private readonly SocketsHttpHandler _handler;

    public Target(Options options)
    {
        Options = options;
        _handler = new SocketsHttpHandler { MaxConnectionsPerServer = Math.Max(options.Users, 1) * 2, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        Apis = [.. options.Urls.Select(Client)];
        Meter = new CpuMeter(options.Pids.Where(p => p.Key != "seed").ToDictionary());
        SeedMeter = new CpuMeter(options.Pids.Where(p => p.Key == "seed").ToDictionary());
    }

    public Options Options { get; }

    public IReadOnlyList<HttpClient> Apis { get; }

    /// <summary>The first Api node: where scenarios that use one node send everything.</summary>
    public HttpClient Http => Apis[0];

    public CpuMeter Meter { get; }

    public CpuMeter SeedMeter { get; }

    /// <summary>Several Api nodes (--url A,B): virtual user i talks to node i mod N.</summary>
    public HttpClient Api(int virtualUser) => Apis[virtualUser % Apis.Count];

    /// <summary>A client of URL on the one connection pool: each Api node's, and the seed server's.</summary>
    public HttpClient Client(string url) =>
        new(_handler, disposeHandler: false) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose() => _handler.Dispose();
}
