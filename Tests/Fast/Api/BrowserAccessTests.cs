using System.Net;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sessions.Api.Keys;

namespace Sessions.Tests.Api;

/// <summary>docs/http-api.md#browsers-on-other-origins-cors, and the headers every browser-facing answer carries.</summary>
[Layer(Layer.Api)]
[Collection(ApiCluster.Name)]
public sealed class BrowserAccessTests(ApiFixture fixture)
{
    private const string Foreign = "https://evil.example";
    private readonly HttpClient _client = fixture.Client();

    private Task<HttpResponseMessage> PreflightAsync(string path, string method, string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        request.Headers.Add("Access-Control-Request-Headers", "content-type, authorization, dpop");
        return _client.SendAsync(request);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : null;

    private static string[] List(HttpResponseMessage response, string name) =>
        (Header(response, name) ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    [Theory]
    [InlineData("/auth/register", "POST")]
    [InlineData("/auth/login", "POST")]
    [InlineData("/auth/refresh", "POST")]
    [InlineData("/auth/logout", "POST")]
    [InlineData("/auth/logout-all", "POST")]
    [InlineData("/auth/sessions", "GET")]
    [InlineData("/auth/sessions/3f2c1a7e-0000-0000-0000-000000000000", "DELETE")]
    [InlineData("/me", "GET")]
    [InlineData("/auth/password", "POST")]
    [InlineData("/.well-known/jwks.json", "GET")]
    public async Task A_preflight_from_an_allowed_origin_is_answered_204_with_credentials_methods_headers_and_max_age(string path, string method)
    {
        var response = await PreflightAsync(path, method, ApiFixture.AllowedOrigin);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(ApiFixture.AllowedOrigin, Header(response, "Access-Control-Allow-Origin"));
        Assert.Equal("true", Header(response, "Access-Control-Allow-Credentials"));
        Assert.Contains(method, List(response, "Access-Control-Allow-Methods"));
        var headers = List(response, "Access-Control-Allow-Headers").Select(h => h.ToLowerInvariant()).ToArray();
        Assert.Contains("content-type", headers);
        Assert.Contains("authorization", headers);
        Assert.Contains("dpop", headers);
        Assert.True(int.Parse(Header(response, "Access-Control-Max-Age")!, CultureInfo.InvariantCulture) >= 600);
        Assert.Contains("Origin", List(response, "Vary"));
    }

    [Fact]
    public async Task Answers_to_an_allowed_origin_name_it_allow_credentials_vary_and_expose_the_headers_a_client_reads()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/me");
        request.Headers.Add("Origin", ApiFixture.AllowedOrigin);

        var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(ApiFixture.AllowedOrigin, Header(response, "Access-Control-Allow-Origin"));
        Assert.Equal("true", Header(response, "Access-Control-Allow-Credentials"));
        Assert.Contains("Origin", List(response, "Vary"));
        var exposed = List(response, "Access-Control-Expose-Headers").Select(h => h.ToLowerInvariant()).ToArray();
        Assert.Contains("retry-after", exposed);
        Assert.Contains("www-authenticate", exposed);
        Assert.Contains("dpop-nonce", exposed);
    }

    [Fact]
    public async Task Another_origin_gets_no_access_control_header_on_preflights_or_answers_and_its_cookie_refresh_is_refused()
    {
        var login = await _client.LoginAsync("cookie");

        var preflight = await PreflightAsync("/auth/refresh", "POST", Foreign);
        var refresh = await _client.PostJsonAsync("/auth/refresh", new { }, cookie: login.RefreshToken, origin: Foreign);

        foreach (var response in new[] { preflight, refresh })
            Assert.DoesNotContain(response.Headers, h => h.Key.StartsWith("Access-Control-Allow-", StringComparison.OrdinalIgnoreCase));
        await refresh.AssertProblemAsync(403, "origin_not_allowed");
        // Refused before the session saw it: the cookie's token still rotates.
        Assert.Equal(HttpStatusCode.OK, (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken })).StatusCode);
    }

    [Fact]
    public async Task Token_answers_and_personal_data_are_not_stored_by_caches()
    {
        var login = await _client.LoginAsync("body");
        var loginAgain = await _client.PostJsonAsync("/auth/login", new { email = login.Email, password = TestSteps.Password });
        var refresh = await _client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken });
        var me = await _client.SendAsync(HttpMethod.Get, "/me", login.AccessToken);
        var sessions = await _client.SendAsync(HttpMethod.Get, "/auth/sessions", login.AccessToken);

        foreach (var response in new[] { loginAgain, refresh, me, sessions })
        {
            Assert.True(response.IsSuccessStatusCode, $"{response.RequestMessage!.RequestUri}: {(int)response.StatusCode}");
            Assert.True(response.Headers.CacheControl?.NoStore, $"{response.RequestMessage!.RequestUri} has Cache-Control {response.Headers.CacheControl}");
        }
    }

    [Theory]
    [InlineData("GET", "/.well-known/jwks.json")]
    [InlineData("GET", "/me")]
    [InlineData("GET", "/no-such-path")]
    [InlineData("POST", "/auth/refresh")]
    public async Task Every_answer_says_nosniff_and_names_no_server(string method, string path)
    {
        var response = await _client.SendAsync(new HttpMethod(method), path);

        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Null(Header(response, "Server"));
    }

    [Fact]
    public async Task A_trailing_slash_on_the_origin_or_the_allowed_entry_is_ignored()
    {
        await using var factory = await fixture.CreateServingFactoryAsync(s => s["Api:AllowedOrigins:1"] = "https://other.example/");
        using var client = factory.CreateClient(new() { HandleCookies = false });

        foreach (var origin in new[] { ApiFixture.AllowedOrigin + "/", "https://other.example", "https://Other.Example/" })
        {
            var login = await client.LoginAsync("cookie");
            var refresh = await client.PostJsonAsync("/auth/refresh", new { }, cookie: login.RefreshToken, origin: origin);
            Assert.True(refresh.StatusCode == HttpStatusCode.OK, $"{origin}: {(int)refresh.StatusCode}");
            Assert.NotNull(Header(refresh, "Access-Control-Allow-Origin"));
        }
        // Only one: two slashes, or a path, are another origin.
        var other = await client.LoginAsync("cookie");
        await (await client.PostJsonAsync("/auth/refresh", new { }, cookie: other.RefreshToken, origin: ApiFixture.AllowedOrigin + "//"))
            .AssertProblemAsync(403, "origin_not_allowed");
    }

    [Fact]
    public async Task A_refused_origin_is_logged_without_control_characters()
    {
        var logs = new CapturedLogs();
        await using var factory = fixture.CreateFactory(configure: web => web.ConfigureTestServices(s => s.AddSingleton<ILoggerProvider>(logs)));
        await factory.Services.GetRequiredService<SigningKeys>().RefreshAsync();
        using var client = factory.CreateClient(new() { HandleCookies = false });
        var login = await client.LoginAsync("cookie");
        var refresh = new HttpRequestMessage(HttpMethod.Post, "/auth/refresh") { Content = System.Net.Http.Json.JsonContent.Create(new { }) };
        refresh.Headers.TryAddWithoutValidation("Cookie", $"refresh_token={login.RefreshToken}");
        refresh.Headers.TryAddWithoutValidation("Origin", "https://evil.example\u001b]0;owned\u0007\u001b[2J");

        await (await client.SendAsync(refresh)).AssertProblemAsync(403, "origin_not_allowed");

        var logged = Assert.Single(logs.Named("origin_refused"));
        Assert.Equal("https://evil.example]0;owned[2J", (string)logged.Values.Single(v => v.Key == "Origin").Value!);
        Assert.DoesNotContain(logged.Message, c => char.IsControl(c));
    }
}
