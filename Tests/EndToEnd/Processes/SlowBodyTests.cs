using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace Sessions.Tests.EndToEnd;

/// <summary>
/// docs/http-api.md#bodies: a body announced large but sent slowly holds only what arrived. The Api process runs
/// under a 192 MB GC heap limit (a ~256 MB container) while 300 connections each announce a 1 MB login body and
/// trickle it in above Kestrel's minimum data rate: had the Api buffered what was announced, that is 300 MB and
/// OutOfMemoryException 500s. Honest clients are served throughout.
/// </summary>
[Layer(Layer.EndToEnd)]
public sealed class SlowBodyTests(ITestOutputHelper output) : ProcessClusterTest(silos: 1, apis: 1)
{
    private const int Connections = 300;
    private const int AnnouncedBytes = 1_048_576;
    private const int BytesPerSecond = 600;

    [Fact]
    public async Task Slow_bodies_announcing_a_megabyte_each_cost_only_what_arrived_and_honest_clients_are_served()
    {
        var (_, apis) = await StartClusterAsync(new() { ["DOTNET_GCHeapHardLimit"] = "0xC000000" });
        var api = apis[0];
        var uri = new Uri(ApiUrl(0));
        var honest = await api.LoginAsync("body");
        // Start-up logs readiness checks failing until the first key is loaded; what counts is what the flood causes.
        var startUp = LogLines("fail:").ToHashSet();

        var slow = new List<Socket>();
        try
        {
            var head = Encoding.ASCII.GetBytes(
                $"POST /auth/login HTTP/1.1\r\nHost: {uri.Authority}\r\nContent-Type: application/json\r\n" +
                $"Content-Length: {AnnouncedBytes}\r\n\r\n{{\"email\":\"");
            for (var i = 0; i < Connections; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(uri.Host, uri.Port);
                await socket.SendAsync(head);
                slow.Add(socket);
            }

            // 600 B/s per connection, over Kestrel's minimum of 240 B/s, for 12 s, kept a second ahead of the clock so that
            // a slow turn of this loop on a loaded machine never drops a connection below the minimum. Honest traffic at
            // 4 s and 8 s runs beside it, never pausing the trickle.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var honestTraffic = HonestTrafficAsync(clock, honest.RefreshToken);
            var sent = 0;
            while (clock.Elapsed < TimeSpan.FromSeconds(12))
            {
                var owed = (int)(BytesPerSecond * (clock.Elapsed.TotalSeconds + 1)) - sent;
                if (owed > 0)
                {
                    var trickle = Encoding.ASCII.GetBytes(new string('a', owed));
                    foreach (var socket in slow)
                        await socket.SendAsync(trickle);
                    sent += owed;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(250));
            }
            await honestTraffic;

            // None of them was answered or dropped: each is still waiting for the rest of its body.
            var answered = slow.Count(socket => socket.Poll(0, SelectMode.SelectRead));
            Assert.Equal(0, answered);
            using var scraper = new HttpClient();
            var heap = (await Metrics.ScrapeAsync(scraper, $"http://127.0.0.1:{ApiManagementPort(0)}/metrics"))
                .Sum("dotnet_gc_last_collection_heap_size_bytes");
            output.WriteLine($"Api GC heap after its last collection, with {Connections} bodies of 1 MB announced: {heap / 1_048_576:F0} MB");
            Assert.InRange(heap, 1, 100 * 1_048_576);
        }
        finally
        {
            foreach (var socket in slow)
                socket.Dispose();
        }

        Assert.Empty(LogLines("OutOfMemory"));
        var failures = LogLines("fail:").Where(line => !startUp.Contains(line)).ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
    /// <summary>At 4 s and 8 s of <paramref name="clock"/>: a registration and login, a refresh and /me, each answered.</summary>
    private async Task HonestTrafficAsync(System.Diagnostics.Stopwatch clock, string refreshToken)
    {
        using var api = new HttpClient { BaseAddress = new Uri(ApiUrl(0)), Timeout = TimeSpan.FromSeconds(30) };
        foreach (var at in new[] { 4, 8 })
        {
            var wait = TimeSpan.FromSeconds(at) - clock.Elapsed;
            if (wait > TimeSpan.Zero)
                await Task.Delay(wait);
            var took = System.Diagnostics.Stopwatch.StartNew();
            var login = await api.LoginAsync("body");
            var refreshed = await api.PostAsJsonAsync("/auth/refresh", new { refreshToken });
            Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
            refreshToken = (await refreshed.JsonAsync()).GetProperty("refreshToken").GetString()!;
            var me = new HttpRequestMessage(HttpMethod.Get, "/me") { Headers = { Authorization = new("Bearer", login.AccessToken) } };
            Assert.Equal(HttpStatusCode.OK, (await api.SendAsync(me)).StatusCode);
            output.WriteLine($"at {at} s: register, login, refresh and /me took {took.ElapsedMilliseconds} ms");
        }
    }
}
