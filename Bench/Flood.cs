using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;

namespace Sessions.Bench;

/// <summary>
/// --flood clients, each from an address of its own (X-Forwarded-For through a trusted proxy), posting to one path
/// as fast as they are answered, and honouring 429 and 503 a little impatiently (one second). On connections of their
/// own: sharing the measured clients' pool, the measured requests would queue behind the flood in Bench itself.
/// </summary>
public sealed class Flood : IAsyncDisposable
{
    private readonly ConcurrentDictionary<int, long> _answers = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SocketsHttpHandler _handler;
    private readonly Task[] _clients;

    private Flood(Options options, string path, Func<object> body)
    {
        _handler = new SocketsHttpHandler { MaxConnectionsPerServer = options.Flood, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        var apis = options.Urls.Select(url => new HttpClient(_handler, disposeHandler: false) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) }).ToArray();
        _clients = [.. Enumerable.Range(0, options.Flood).Select(client => Task.Run(() => RunAsync(apis[client % apis.Length], client, path, body)))];
    }

    public static Flood Start(Options options, string path, Func<object> body) => new(options, path, body);

    private async Task RunAsync(HttpClient api, int client, string path, Func<object> body)
    {
        var address = $"10.{client / 65536 % 256}.{client / 256 % 256}.{client % 256}";
        while (!_stop.IsCancellationRequested)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body()) };
            request.Headers.Add("X-Forwarded-For", address);
            try
            {
                using var response = await api.SendAsync(request, CancellationToken.None);
                _answers.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
                if (response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests)
                    await Task.Delay(TimeSpan.FromSeconds(1));
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                _answers.AddOrUpdate(0, 1, (_, n) => n + 1);
            }
        }
    }

    /// <summary>Stops every client and says how they were answered: "201×41 503×8434" (0: no answer).</summary>
    public async Task<string> StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients);
        return string.Join(" ", _answers.OrderBy(a => a.Key).Select(a => $"{a.Key}×{a.Value}"));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
            await StopAsync();
        _stop.Dispose();
        _handler.Dispose();
    }
}
