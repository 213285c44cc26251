using System.Net;
using System.Net.Http.Json;
using Sessions.Tests.Api;
using Sessions.Tests.Infrastructure;

namespace Sessions.Tests.EndToEnd;

/// <summary>
/// The real Silo and Api processes on loopback, clustered through PostgreSQL as in production,
/// driven over HTTP by a client written from API.md.
/// </summary>
public sealed class EndToEndTests : IAsyncLifetime
{
    private PostgresDatabase _database = null!;
    private readonly List<ServiceProcess> _processes = [];

    public async Task InitializeAsync() => _database = await PostgresDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
            process.Dispose();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Login_refresh_reuse_and_the_family_is_dead()
    {
        using var http = await StartServiceAsync();

        var email = Http.NewEmail();
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/auth/register", new { email, password = TestSteps.Password })).StatusCode);
        var login = await (await http.PostAsJsonAsync("/auth/login", new { email, password = TestSteps.Password, refreshTokenIn = "body" })).JsonAsync();
        var first = login.GetProperty("refreshToken").GetString();

        var refreshed = await http.PostAsJsonAsync("/auth/refresh", new { refreshToken = first });
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        var rotated = await refreshed.JsonAsync();
        var me = new HttpRequestMessage(HttpMethod.Get, "/me") { Headers = { Authorization = new("Bearer", rotated.GetProperty("accessToken").GetString()) } };
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(me)).StatusCode);

        await Task.Delay(TimeSpan.FromSeconds(1.5)); // past the 1 s grace window configured below
        await (await http.PostAsJsonAsync("/auth/refresh", new { refreshToken = first })).AssertProblemAsync(403, "invalid_grant");

        await (await http.PostAsJsonAsync("/auth/refresh", new { refreshToken = rotated.GetProperty("refreshToken").GetString() }))
            .AssertProblemAsync(403, "invalid_grant");
        var meAfter = new HttpRequestMessage(HttpMethod.Get, "/me") { Headers = { Authorization = new("Bearer", rotated.GetProperty("accessToken").GetString()) } };
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(meAfter)).StatusCode);
    }

    [Fact]
    public async Task An_api_without_a_silo_starts_answers_503_at_once_and_serves_when_a_silo_joins()
    {
        var api = StartApi();
        using var http = new HttpClient { BaseAddress = new Uri(_apiUrl), Timeout = TimeSpan.FromSeconds(30) };
        await WaitAsync(api, async () => await TryGetAsync(http, "/health/live") == HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await TryGetAsync(http, "/health/ready"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await (await http.PostAsJsonAsync("/auth/register", new { email = Http.NewEmail(), password = TestSteps.Password }))
            .AssertProblemAsync(503, "unavailable");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"503 took {clock.Elapsed}");

        var silo = await StartSiloAsync();
        await WaitAsync(api, async () => await TryGetAsync(http, "/health/ready") == HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/auth/register", new { email = Http.NewEmail(), password = TestSteps.Password })).StatusCode);

        // A silo that dies: answers are 503 at once, not a hang.
        silo.Dispose();
        await WaitAsync(api, async () => await TryGetAsync(http, "/health/ready") == HttpStatusCode.ServiceUnavailable);
        clock.Restart();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.PostAsJsonAsync("/auth/register", new { email = Http.NewEmail(), password = TestSteps.Password })).StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"503 took {clock.Elapsed}");
    }

    private readonly int _ports = FreePorts.Consecutive(3);
    private readonly string _clusterId = "e2e-" + Guid.NewGuid().ToString("N")[..8];
    private string _apiUrl => $"http://127.0.0.1:{_ports + 2}";

    private static async Task<HttpStatusCode?> TryGetAsync(HttpClient http, string path)
    {
        try
        {
            return (await http.GetAsync(path)).StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>One silo, then one Api, each waited for; returns a client of the Api.</summary>
    private async Task<HttpClient> StartServiceAsync()
    {
        await StartSiloAsync();
        var api = StartApi();
        var http = new HttpClient { BaseAddress = new Uri(_apiUrl), Timeout = TimeSpan.FromSeconds(30) };
        await WaitAsync(api, async () => await TryGetAsync(http, "/health/ready") == HttpStatusCode.OK);
        return http;
    }

    private Dictionary<string, string> Shared() => new()
    {
        ["DOTNET_ENVIRONMENT"] = "Production",
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["ConnectionStrings__Sessions"] = _database.ConnectionString,
        ["Cluster__Clustering"] = "AdoNet",
        ["Cluster__ClusterId"] = _clusterId,
        ["Cluster__ServiceId"] = _clusterId,
        ["Cluster__SiloPort"] = _ports.ToString(),
        ["Cluster__GatewayPort"] = (_ports + 1).ToString(),
    };

    private async Task<ServiceProcess> StartSiloAsync()
    {
        var silo = Start("Silo", new(Shared())
        {
            ["Sessions__RefreshTokenPepper"] = Convert.ToBase64String(new byte[32]),
            ["Sessions__ReuseGraceWindow"] = "00:00:01",
        });
        await WaitAsync(silo, async () => await _database.ScalarAsync<long>(
            "SELECT count(*) FROM membership WHERE deploymentid = $1 AND status = 3", _clusterId) == 1);
        return silo;
    }

    private ServiceProcess StartApi() => Start("Api", new(Shared())
    {
        ["ASPNETCORE_URLS"] = _apiUrl,
        ["Api__KeyEncryptionKey"] = ApiFixture.KeyEncryptionKey,
    });

    private ServiceProcess Start(string project, Dictionary<string, string> environment)
    {
        var process = ServiceProcess.Start(project, environment);
        _processes.Add(process);
        return process;
    }

    private static async Task WaitAsync(ServiceProcess process, Func<Task<bool>> ready)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!await ready())
        {
            Assert.False(process.HasExited, "The process exited:\n" + process.Output);
            Assert.True(DateTime.UtcNow < deadline, "Not ready within 90 s:\n" + process.Output);
            await Task.Delay(250);
        }
    }
}
