using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Sessions.Tests.EndToEnd;

/// <summary>
/// Api nodes that host their silo in-process (Api:HostsSilo), as real processes on PostgreSQL: alone, and in one
/// cluster with a plain silo and a plain Api node. Ports are kept for two silos: the plain silo is instance 0, the
/// co-hosted node's silo instance 1.
/// </summary>
[Layer(Layer.EndToEnd)]
public sealed class CoHostingTests() : ProcessClusterTest(silos: 2, apis: 2)
{
    private const int CoHosted = 1;

    protected override Dictionary<string, string> Environment() =>
        new(base.Environment())
        {
            // A short window to reach reuse detection quickly; the response timeout must stay under it (a silo checks).
            ["Sessions__ReuseGraceWindow"] = "00:00:03",
            ["Cluster__ResponseTimeout"] = "00:00:02.500",
        };

    private ServiceProcess StartCoHostedApi() => StartApi(CoHosted, new()
    {
        ["Api__HostsSilo"] = "true",
        ["Cluster__Instance"] = CoHosted.ToString(CultureInfo.InvariantCulture),
    });

    [Fact]
    public async Task An_api_node_hosting_its_silo_serves_login_rotation_and_reuse_detection_alone()
    {
        StartCoHostedApi();
        using var http = Client(CoHosted);
        await WaitAsync(async () => await TryGetAsync(http, "/health/ready") == HttpStatusCode.OK, "co-hosted node ready");
        Assert.Equal(1, await ActiveSilosAsync());

        var first = await LoginAsync(http);
        var rotated = await RefreshAsync(http, first);
        Assert.NotEqual(first.Refresh, rotated.Refresh);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(Me(rotated))).StatusCode);

        await Task.Delay(TimeSpan.FromSeconds(3.5)); // past the grace window: the old token is reuse
        await (await http.PostAsJsonAsync("/auth/refresh", new { refreshToken = first.Refresh })).AssertProblemAsync(403, "invalid_grant");
        await (await http.PostAsJsonAsync("/auth/refresh", new { refreshToken = rotated.Refresh })).AssertProblemAsync(403, "invalid_grant");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(Me(rotated))).StatusCode);
    }

    [Fact]
    public async Task Co_hosted_and_plain_nodes_form_one_cluster_that_serves_a_session_from_either()
    {
        StartSilo(0);
        StartCoHostedApi();
        await WaitAsync(async () => await ActiveSilosAsync() == 2, "the plain silo and the co-hosted silo joined");
        StartApi(0);
        using var plain = Client(0);
        using var coHosted = Client(CoHosted);
        foreach (var node in new[] { plain, coHosted })
            await WaitAsync(async () => await TryGetAsync(node, "/health/ready") == HttpStatusCode.OK, "Api ready");

        // Sessions opened on each node rotate through the other, whichever silo their grains live on.
        for (var i = 0; i < 10; i++)
        {
            var (from, to) = i % 2 == 0 ? (plain, coHosted) : (coHosted, plain);
            var tokens = await LoginAsync(from);
            tokens = await RefreshAsync(to, tokens);
            tokens = await RefreshAsync(from, tokens);
            Assert.Equal(HttpStatusCode.OK, (await to.SendAsync(Me(tokens))).StatusCode);
        }
        // Both sign with the cluster's one key ring.
        Assert.Equal(await plain.GetStringAsync("/.well-known/jwks.json"), await coHosted.GetStringAsync("/.well-known/jwks.json"));
    }

    private HttpClient Client(int node) => new() { BaseAddress = new Uri(ApiUrl(node)), Timeout = TimeSpan.FromSeconds(30) };

    private sealed record Tokens(string Access, string Refresh);

    private static async Task<Tokens> LoginAsync(HttpClient http)
    {
        var email = Http.NewEmail();
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/auth/register", new { email, password = TestSteps.Password })).StatusCode);
        using var login = await http.PostAsJsonAsync("/auth/login", new { email, password = TestSteps.Password, refreshTokenIn = "body" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        return Read(await login.JsonAsync());
    }

    private static async Task<Tokens> RefreshAsync(HttpClient http, Tokens tokens)
    {
        using var refreshed = await http.PostAsJsonAsync("/auth/refresh", new { refreshToken = tokens.Refresh });
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        return Read(await refreshed.JsonAsync());
    }

    private static Tokens Read(JsonElement body) =>
        new(body.GetProperty("accessToken").GetString()!, body.GetProperty("refreshToken").GetString()!);

    private static HttpRequestMessage Me(Tokens tokens) =>
        new(HttpMethod.Get, "/me") { Headers = { Authorization = new("Bearer", tokens.Access) } };
}
