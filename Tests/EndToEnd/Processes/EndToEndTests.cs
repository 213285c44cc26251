using System.Net;
using System.Net.Http.Json;

namespace Sessions.Tests.EndToEnd;

/// <summary>
/// The real Silo and Api processes on loopback, clustered through PostgreSQL as in production,
/// driven over HTTP by a client written from docs/http-api.md.
/// </summary>
[Layer(Layer.EndToEnd)]
public sealed class EndToEndTests() : ProcessClusterTest(silos: 1, apis: 1)
{
    protected override Dictionary<string, string> Environment() =>
        new(base.Environment())
        {
            // A short window to reach reuse detection quickly; the response timeout must stay under it (a silo checks).
            ["Sessions__ReuseGraceWindow"] = "00:00:03",
            ["Cluster__ResponseTimeout"] = "00:00:02.500",
        };

    [Fact]
    public async Task Login_refresh_reuse_and_the_family_is_dead()
    {
        var silo = await StartSiloAsync();
        var api = StartApi(0);
        using var http = new HttpClient { BaseAddress = new Uri(ApiUrl(0)), Timeout = TimeSpan.FromSeconds(30) };
        await WaitAsync(async () => await TryGetAsync(http, "/health/ready") == HttpStatusCode.OK, "ready");
        // A normal start, probed for readiness until ready, logs no error and no stack trace.
        foreach (var process in new[] { silo, api })
        {
            Assert.DoesNotContain("fail:", process.Output, StringComparison.Ordinal);
            Assert.DoesNotMatch(@"\n\s+at \S+\(", process.Output);
        }

        var email = Http.NewEmail();
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/auth/register", new { email, password = TestSteps.Password })).StatusCode);
        var login = await (await http.PostAsJsonAsync("/auth/login", new { email, password = TestSteps.Password, refreshTokenIn = "body" })).JsonAsync();
        var first = login.GetProperty("refreshToken").GetString();

        var refreshed = await http.PostAsJsonAsync("/auth/refresh", new { refreshToken = first });
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        var rotated = await refreshed.JsonAsync();
        var me = new HttpRequestMessage(HttpMethod.Get, "/me") { Headers = { Authorization = new("Bearer", rotated.GetProperty("accessToken").GetString()) } };
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(me)).StatusCode);

        await Task.Delay(TimeSpan.FromSeconds(3.5)); // past the 3 s grace window configured above
        await (await http.PostAsJsonAsync("/auth/refresh", new { refreshToken = first })).AssertProblemAsync(403, "invalid_grant");

        await (await http.PostAsJsonAsync("/auth/refresh", new { refreshToken = rotated.GetProperty("refreshToken").GetString() }))
            .AssertProblemAsync(403, "invalid_grant");
        var meAfter = new HttpRequestMessage(HttpMethod.Get, "/me") { Headers = { Authorization = new("Bearer", rotated.GetProperty("accessToken").GetString()) } };
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(meAfter)).StatusCode);
    }

    [Fact]
    public async Task An_api_without_a_silo_starts_answers_503_at_once_and_serves_when_a_silo_joins()
    {
        StartApi(0);
        using var http = new HttpClient { BaseAddress = new Uri(ApiUrl(0)), Timeout = TimeSpan.FromSeconds(30) };
        await WaitAsync(async () => await TryGetAsync(http, "/health/live") == HttpStatusCode.OK, "live");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await TryGetAsync(http, "/health/ready"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await (await http.PostAsJsonAsync("/auth/register", new { email = Http.NewEmail(), password = TestSteps.Password }))
            .AssertProblemAsync(503, "unavailable");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"503 took {clock.Elapsed}");

        var silo = await StartSiloAsync();
        await WaitAsync(async () => await TryGetAsync(http, "/health/ready") == HttpStatusCode.OK, "ready once a silo joined");
        var email = Http.NewEmail();
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/auth/register", new { email, password = TestSteps.Password })).StatusCode);
        var login = await (await http.PostAsJsonAsync("/auth/login", new { email, password = TestSteps.Password, refreshTokenIn = "body" })).JsonAsync();
        HttpRequestMessage Me() => new(HttpMethod.Get, "/me") { Headers = { Authorization = new("Bearer", login.GetProperty("accessToken").GetString()) } };
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(Me())).StatusCode);

        // A silo that dies: answers are 503 at once, not a hang; a valid access token is not called invalid (401).
        silo.Dispose();
        await WaitAsync(async () => await TryGetAsync(http, "/health/ready") == HttpStatusCode.ServiceUnavailable, "not ready after the silo died");
        clock.Restart();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.PostAsJsonAsync("/auth/register", new { email = Http.NewEmail(), password = TestSteps.Password })).StatusCode);
        await (await http.SendAsync(Me())).AssertProblemAsync(503, "unavailable");
        await (await http.PostAsJsonAsync("/auth/refresh", new { refreshToken = login.GetProperty("refreshToken").GetString() }))
            .AssertProblemAsync(503, "unavailable");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"503s took {clock.Elapsed}");
    }

    private async Task<ServiceProcess> StartSiloAsync()
    {
        var silo = StartSilo(0);
        await WaitAsync(async () => await ActiveSilosAsync() == 1, "silo joined");
        return silo;
    }
}
