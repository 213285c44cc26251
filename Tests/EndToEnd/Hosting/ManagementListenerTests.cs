using System.Net;

namespace Sessions.Tests;

/// <summary>
/// The built Api as a process, on real Kestrel ports, with no cluster to reach (it starts anyway): which listener a
/// request came in on decides what it may reach, never its Host header, and the host's own listener configuration
/// (ASPNETCORE_HTTP_PORTS, Kestrel:Endpoints) is kept beside the management listener.
/// </summary>
[Layer(Layer.EndToEnd)]
public sealed class ManagementListenerTests : IDisposable
{
    private readonly List<ServiceProcess> _processes = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public void Dispose()
    {
        _processes.ForEach(p => p.Dispose());
        _http.Dispose();
    }

    [Fact]
    public async Task With_aspnetcore_http_ports_the_public_port_is_kept_and_serves_no_management_endpoint_whatever_the_host_header()
    {
        var (publicPort, management) = await StartApiAsync(port => new() { ["ASPNETCORE_HTTP_PORTS"] = port });

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(publicPort, "/health/live")).StatusCode);
        foreach (var path in new[] { "/metrics", "/dashboard/", "/Metrics" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(publicPort, path, host: $"x:{management}")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(publicPort, path, host: $"127.0.0.1:{management}")).StatusCode);
        }
    }

    [Fact]
    public async Task The_management_port_serves_none_of_the_public_api()
    {
        var (_, management) = await StartApiAsync(port => new() { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}" });

        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(management, "/.well-known/jwks.json")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(management, "/openapi/v1.json")).StatusCode);
        var login = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{management}/auth/login")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { email = "a@example.com", password = TestSteps.Password }),
        });
        Assert.Equal(HttpStatusCode.NotFound, login.StatusCode);
    }

    [Fact]
    public async Task The_management_port_answers_only_host_values_naming_its_own_address()
    {
        var (_, management) = await StartApiAsync(port => new() { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}" });

        foreach (var host in new[] { $"evil.example:{management}", "evil.example", $"localhost.evil.example:{management}", "127.0.0.1:1" })
        {
            var refused = await GetAsync(management, "/metrics", host);
            Assert.Equal(HttpStatusCode.MisdirectedRequest, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.DoesNotContain("sessions_", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        foreach (var host in new[] { $"127.0.0.1:{management}", "127.0.0.1", $"localhost:{management}", "LOCALHOST", $"[::1]:{management}" })
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(management, "/metrics", host)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(management, "/health/live")).StatusCode);
    }

    [Fact]
    public async Task With_kestrel_endpoints_both_the_configured_and_the_management_listener_answer()
    {
        var (publicPort, management) = await StartApiAsync(port => new() { ["Kestrel__Endpoints__Public__Url"] = $"http://127.0.0.1:{port}" });

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(publicPort, "/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(management, "/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(publicPort, "/metrics")).StatusCode);
    }

    [Theory]
    [InlineData("ASPNETCORE_HTTP_PORTS", "{0}")]
    [InlineData("ASPNETCORE_URLS", "http://*:{0}")]
    public async Task In_development_the_default_issuer_is_the_public_listener_never_the_management_one(string variable, string value)
    {
        var (publicPort, _) = await StartApiAsync(port => new()
        {
            [variable] = string.Format(CultureInfo.InvariantCulture, value, port),
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Api__Issuer"] = "",
        });

        var discovery = await (await GetAsync(publicPort, "/.well-known/openid-configuration")).JsonAsync();

        Assert.Equal($"http://localhost:{publicPort}", discovery.GetProperty("issuer").GetString());
    }

    private async Task<HttpResponseMessage> GetAsync(int port, string path, string? host = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}{path}");
        if (host is not null)
            request.Headers.Host = host;
        return await _http.SendAsync(request);
    }

    /// <summary>Starts the Api with its public listener configured by <paramref name="listener"/> and waits until both ports answer.</summary>
    private async Task<(int Public, int Management)> StartApiAsync(Func<string, Dictionary<string, string>> listener)
    {
        var ports = FreePorts.Consecutive(3);
        var (publicPort, management) = (ports, ports + 1);
        var environment = new Dictionary<string, string>
        {
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            // Nothing answers on either: the Api starts without them and says so on /health/ready.
            ["ConnectionStrings__Sessions"] = "Host=127.0.0.1;Port=1;Database=none",
            ["Cluster__GatewayPort"] = (ports + 2).ToString(CultureInfo.InvariantCulture),
            ["Api__KeyEncryptionKey"] = ApiFixture.KeyEncryptionKey,
            ["Api__Issuer"] = "https://sessions.example",
            ["Management__Port"] = management.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in listener(publicPort.ToString(CultureInfo.InvariantCulture)))
            environment[key] = value;
        var api = ServiceProcess.Start("Api", environment);
        _processes.Add(api);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await AnswersAsync(publicPort, "/health/live") || !await AnswersAsync(management, "/health/live"))
        {
            Assert.True(DateTime.UtcNow < deadline && !api.HasExited, $"the Api did not answer on both ports:\n{api.Output}");
            await Task.Delay(250);
        }
        return (publicPort, management);
    }

    private async Task<bool> AnswersAsync(int port, string path)
    {
        try
        {
            return (await GetAsync(port, path)).StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
