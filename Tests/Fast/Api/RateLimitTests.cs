using System.Net;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Sessions.Api.Keys;

namespace Sessions.Tests.Api;

/// <summary>docs/http-api.md#rate-limits: per-address limits, trusted proxies and IPv6 prefixes.</summary>
[Layer(Layer.Api)]
[Collection(AccountApiCluster.Name)]
public sealed class RateLimitTests(ApiFixture fixture)
{
    private const string PeerHeader = PeerFromHeader.Header;

    private WebApplicationFactory<Program> Factory(Action<Dictionary<string, string?>> settings) =>
        fixture.CreateFactory(settings).WithWebHostBuilder(web => web.ConfigureTestServices(services =>
            services.AddSingleton<IStartupFilter, PeerFromHeader>()));

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string peer, string? forwardedFor = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("{", System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add(PeerHeader, peer);
        if (forwardedFor is not null)
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        return client.SendAsync(request);
    }

    /// <summary>The statuses of <paramref name="count"/> requests in a row, as "400 400 429".</summary>
    private static async Task<string> StatusesAsync(HttpClient client, string path, string peer, int count, string? forwardedFor = null)
    {
        var statuses = new List<int>();
        for (var i = 0; i < count; i++)
            statuses.Add((int)(await PostAsync(client, path, peer, forwardedFor)).StatusCode);
        return string.Join(' ', statuses);
    }

    [Fact]
    public async Task Refresh_and_logout_share_one_per_address_limit()
    {
        await using var factory = Factory(s => s["Api:RefreshesPerMinutePerAddress"] = "3");
        var client = factory.CreateClient();

        Assert.Equal("400 400", await StatusesAsync(client, "/auth/refresh", "192.0.2.1", 2));
        Assert.NotEqual(429, (int)(await PostAsync(client, "/auth/logout", "192.0.2.1")).StatusCode);
        var limited = await PostAsync(client, "/auth/logout", "192.0.2.1");

        await limited.AssertProblemAsync(429, "too_many_attempts");
        Assert.True(limited.Headers.RetryAfter is not null);
    }

    [Fact]
    public async Task Access_token_requests_have_a_per_address_limit_counted_before_any_token_is_checked()
    {
        var checkedTokens = 0;
        await using var factory = Factory(s => s["Api:AccessTokenRequestsPerMinutePerAddress"] = "3").WithWebHostBuilder(web =>
            web.ConfigureTestServices(services => services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, bearer =>
            {
                var inner = bearer.Events.OnMessageReceived;
                bearer.Events.OnMessageReceived = context =>
                {
                    Interlocked.Increment(ref checkedTokens);
                    return inner(context);
                };
            })));
        var client = factory.CreateClient();
        await factory.Services.GetRequiredService<SigningKeys>().RefreshAsync();
        var login = await client.LoginAsync();
        HttpRequestMessage Me(string token, string peer = "192.0.2.20")
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/me") { Headers = { Authorization = new("Bearer", token) } };
            request.Headers.Add(PeerHeader, peer);
            return request;
        }

        // A token sent where none is asked for is not looked at.
        var jwks = new HttpRequestMessage(HttpMethod.Get, "/.well-known/jwks.json") { Headers = { Authorization = new("Bearer", "forged") } };
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(jwks)).StatusCode);
        Assert.Equal(0, checkedTokens);

        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(Me(login.AccessToken + "x"))).StatusCode);
        Assert.Equal(3, checkedTokens);
        // The fourth, with a good token, is refused before its token is checked; another address is not held back.
        var limited = await client.SendAsync(Me(login.AccessToken));
        await limited.AssertProblemAsync(429, "too_many_attempts");
        Assert.True(limited.Headers.RetryAfter is not null);
        Assert.Equal(3, checkedTokens);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Me(login.AccessToken, peer: "192.0.2.21"))).StatusCode);
        // The admin API takes access tokens too: forged ones there count against the same limit, introspection's do not.
        var admin = new HttpRequestMessage(HttpMethod.Get, "/admin/users?email=a%40example.com") { Headers = { Authorization = new("Bearer", "forged") } };
        admin.Headers.Add(PeerHeader, "192.0.2.20");
        await (await client.SendAsync(admin)).AssertProblemAsync(429, "too_many_attempts");
        var introspect = new HttpRequestMessage(HttpMethod.Post, "/oauth/introspect")
        {
            Content = new FormUrlEncodedContent([KeyValuePair.Create("token", login.AccessToken)]),
            Headers = { Authorization = ApiFixture.ResourceServer.Basic },
        };
        introspect.Headers.Add(PeerHeader, "192.0.2.20");
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(introspect)).StatusCode);
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_each_client_has_its_own_limit_and_others_cannot_spoof_one()
    {
        await using var factory = Factory(s =>
        {
            s["Api:LoginsPerMinutePerAddress"] = "2";
            s["Api:TrustedProxies:0"] = "10.0.0.0/8";
        });
        var client = factory.CreateClient();

        // Through the proxy: each forwarded client is limited on its own.
        Assert.Equal("400 400 429", await StatusesAsync(client, "/auth/login", "10.1.2.3", 3, forwardedFor: "203.0.113.5"));
        Assert.Equal("400 400", await StatusesAsync(client, "/auth/login", "10.1.2.3", 2, forwardedFor: "203.0.113.6"));
        // Straight from the internet, a made-up X-Forwarded-For changes nothing: the socket address is the client.
        Assert.Equal("400 400", await StatusesAsync(client, "/auth/login", "198.51.100.7", 2, forwardedFor: "203.0.113.7"));
        Assert.Equal("429", await StatusesAsync(client, "/auth/login", "198.51.100.7", 1, forwardedFor: "203.0.113.8"));
    }

    [Fact]
    public async Task Without_trusted_proxies_x_forwarded_for_is_ignored()
    {
        await using var factory = Factory(s => s["Api:LoginsPerMinutePerAddress"] = "2");
        var client = factory.CreateClient();

        Assert.Equal("400 400", await StatusesAsync(client, "/auth/login", "127.0.0.1", 2, forwardedFor: "203.0.113.5"));
        Assert.Equal("429", await StatusesAsync(client, "/auth/login", "127.0.0.1", 1, forwardedFor: "203.0.113.9"));
    }

    [Fact]
    public async Task Ipv6_clients_are_limited_by_their_slash_64()
    {
        await using var factory = Factory(s => s["Api:RegistrationsPerMinutePerAddress"] = "2");
        var client = factory.CreateClient();

        Assert.Equal("400 400", await StatusesAsync(client, "/auth/register", "2001:db8:1:2::1", 2));
        Assert.Equal("429", await StatusesAsync(client, "/auth/register", "2001:db8:1:2:ffff:ffff:ffff:fffe", 1));
        Assert.Equal("400", await StatusesAsync(client, "/auth/register", "2001:db8:1:3::1", 1));
    }

    [Theory]
    [InlineData("192.0.2.10", "192.0.2.10")]
    [InlineData("::ffff:192.0.2.10", "192.0.2.10")]
    [InlineData("2001:db8:aa:bb:1:2:3:4", "2001:db8:aa:bb::/64")]
    public void The_limiting_key_of_an_address_is_ipv4_or_the_ipv6_slash_64(string address, string key) =>
        Assert.Equal(key, ClientAddress.Key(IPAddress.Parse(address)));
}
