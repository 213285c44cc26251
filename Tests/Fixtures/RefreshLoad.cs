using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;

namespace Sessions.Tests.Fixtures;

/// <summary>
/// The fault suite's load: clients that each log in once, then refresh in a closed loop with the latest token they
/// received, alternating Api nodes. Anything but 200 or 403 is retried with the same token after 200 ms, as a
/// client retries a 503; a 403 means the client's session is lost, and that client stops.
/// </summary>
public sealed class RefreshLoad : IDisposable
{
    private readonly ConcurrentDictionary<int, int> _statuses = new();
    private readonly DateTime[] _lastSuccess;
    private readonly TimeSpan[] _longestGap;
    private readonly ConcurrentBag<int> _lost = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _clients;

    private RefreshLoad(IReadOnlyList<HttpClient> apis, string[] tokens)
    {
        _lastSuccess = new DateTime[tokens.Length];
        _longestGap = new TimeSpan[tokens.Length];
        _clients = Task.WhenAll(tokens.Select((token, i) => Task.Run(() => RefreshLoopAsync(apis, i, token))));
    }

    public static async Task<RefreshLoad> StartAsync(IReadOnlyList<HttpClient> apis, int clients)
    {
        var tokens = await Task.WhenAll(Enumerable.Range(0, clients).Select(i => LoginAsync(apis[i % apis.Count])));
        return new RefreshLoad(apis, tokens);
    }

    /// <summary>Stops every client and returns what they saw.</summary>
    public async Task<RefreshFigures> StopAsync()
    {
        _stop.Cancel();
        await _clients;
        return new RefreshFigures(
            Requests: _statuses.Values.Sum(),
            Refreshed: _statuses.GetValueOrDefault(200),
            Unavailable: _statuses.GetValueOrDefault(503),
            ServerErrors: _statuses.Where(s => s.Key >= 500 && s.Key != 503).Sum(s => s.Value),
            NoAnswer: _statuses.GetValueOrDefault(0),
            LostSessions: _lost.Count,
            LongestGap: _longestGap.Max(),
            LastSuccess: _lastSuccess.Min());
    }

    public void Dispose() => _stop.Dispose();

    private async Task RefreshLoopAsync(IReadOnlyList<HttpClient> apis, int client, string token)
    {
        _lastSuccess[client] = DateTime.UtcNow;
        for (var n = client; !_stop.IsCancellationRequested; n++)
        {
            HttpStatusCode status;
            try
            {
                using var response = await apis[n % apis.Count].PostAsJsonAsync("/auth/refresh", new { refreshToken = token });
                status = response.StatusCode;
                if (response.IsSuccessStatusCode)
                    token = (await response.JsonAsync()).GetProperty("refreshToken").GetString()!;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                status = 0;
            }
            _statuses.AddOrUpdate((int)status, 1, (_, count) => count + 1);
            if (status == HttpStatusCode.OK)
            {
                var now = DateTime.UtcNow;
                if (now - _lastSuccess[client] > _longestGap[client])
                    _longestGap[client] = now - _lastSuccess[client];
                _lastSuccess[client] = now;
            }
            else if (status == HttpStatusCode.Forbidden)
            {
                _lost.Add(client);
                return;
            }
            else
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>Registers and logs in as a client would: a 503 is retried (a retried registration that had landed answers 409).</summary>
    private static async Task<string> LoginAsync(HttpClient api)
    {
        var email = Http.NewEmail();
        var registered = await RetryOn503Async(() => api.PostAsJsonAsync("/auth/register", new { email, password = TestSteps.Password }));
        Assert.Contains(registered.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.Conflict });
        var login = await RetryOn503Async(() => api.PostAsJsonAsync("/auth/login", new { email, password = TestSteps.Password, refreshTokenIn = "body" }));
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        return (await login.JsonAsync()).GetProperty("refreshToken").GetString()!;
    }

    private static async Task<HttpResponseMessage> RetryOn503Async(Func<Task<HttpResponseMessage>> send)
    {
        for (var attempt = 1; ; attempt++)
        {
            var response = await send();
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || attempt == 10)
                return response;
            await Task.Delay(500);
        }
    }
}

/// <summary>What one run of the load saw.</summary>
/// <param name="Requests">Refresh requests sent.</param>
/// <param name="Refreshed">Answered 200.</param>
/// <param name="Unavailable">Answered 503.</param>
/// <param name="ServerErrors">Answered with another 5xx.</param>
/// <param name="NoAnswer">Requests that got no answer at all.</param>
/// <param name="LostSessions">Clients whose latest token was refused (403).</param>
/// <param name="LongestGap">The longest any client went without a successful refresh: the recovery time.</param>
/// <param name="LastSuccess">The earliest of the clients' last successful refreshes.</param>
public sealed record RefreshFigures(
    int Requests, int Refreshed, int Unavailable, int ServerErrors, int NoAnswer, int LostSessions, TimeSpan LongestGap, DateTime LastSuccess)
{
    public override string ToString() =>
        $"requests {Requests}, refreshed {Refreshed}, 503 {Unavailable}, 5xx other {ServerErrors}, no answer {NoAnswer}, " +
        $"lost sessions {LostSessions}, recovery {LongestGap.TotalSeconds:F1} s";
}
