using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Sessions.Api.Keys;

namespace Sessions.Tests.Api;

/// <summary>
/// docs/http-api.md#known-devices on the wire: a stranger spreading wrong passwords over many addresses reaches the
/// account-wide ceiling, which then holds back every address without a device token, and never the owner's devices,
/// whether the device token travels in a cookie or in the body.
/// </summary>
[Layer(Layer.Api)]
[Collection(AccountApiCluster.Name)]
public sealed class KnownDeviceApiTests(ApiFixture fixture) : IAsyncLifetime
{
    private WebApplicationFactory<Program> _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _factory = fixture.CreateFactory(configure: web => web.ConfigureTestServices(services =>
            services.AddSingleton<IStartupFilter, PeerFromHeader>()));
        await _factory.Services.GetRequiredService<SigningKeys>().RefreshAsync();
        _client = _factory.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    private Task<HttpResponseMessage> LoginAsync(string peer, object body, string? deviceCookie = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/auth/login") { Content = JsonContent.Create(body) };
        request.Headers.Add(PeerFromHeader.Header, peer);
        if (deviceCookie is not null)
            request.Headers.Add("Cookie", $"device_token={deviceCookie}");
        return _client.SendAsync(request);
    }

    /// <summary>Wrong passwords from enough addresses, each under its own limit, to reach the account-wide ceiling.</summary>
    private async Task StrangersGuessAsync(string email)
    {
        var guesses = 0;
        for (var address = 1; guesses < ClusterFixture.MaxFailedLoginsPerAccount; address++)
        {
            for (var i = 0; i < ClusterFixture.MaxFailedLogins && guesses < ClusterFixture.MaxFailedLoginsPerAccount; i++, guesses++)
                Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync($"198.51.100.{address}", new { email, password = "a wrong guess" })).StatusCode);
        }
    }

    [Fact]
    public async Task The_owners_devices_sign_in_past_the_ceiling_a_stranger_reached_and_a_fresh_address_does_not()
    {
        var email = Http.NewEmail();
        Assert.Equal(HttpStatusCode.Created, (await _client.PostJsonAsync("/auth/register", new { email, password = TestSteps.Password })).StatusCode);
        // A browser (cookie) and a native app (body) each sign in once and keep their device token.
        var browser = await LoginAsync("203.0.113.1", new { email, password = TestSteps.Password });
        var app = await LoginAsync("203.0.113.2", new { email, password = TestSteps.Password, refreshTokenIn = "body" });
        var cookie = Http.Cookie(browser, "device_token");
        Assert.NotNull(cookie);
        Assert.Contains("httponly", cookie.Attributes, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie.Attributes, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/auth", cookie.Attributes, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("secure", cookie.Attributes, StringComparison.OrdinalIgnoreCase);
        var appDevice = (await app.JsonAsync()).GetProperty("deviceToken").GetString()!;
        Assert.Null(Http.Cookie(app, "device_token"));

        await StrangersGuessAsync(email);

        // Past the ceiling: the right password from a new address is held back, a forged device token too.
        await (await LoginAsync("203.0.113.9", new { email, password = TestSteps.Password })).AssertProblemAsync(429, "too_many_attempts");
        await (await LoginAsync("203.0.113.9", new { email, password = TestSteps.Password, refreshTokenIn = "body", deviceToken = appDevice[..^2] + "AA" }))
            .AssertProblemAsync(429, "too_many_attempts");
        // The owner's devices are not, from wherever they are now.
        var browserAgain = await LoginAsync("203.0.113.10", new { email, password = TestSteps.Password }, cookie.Value);
        var appAgain = await LoginAsync("203.0.113.11", new { email, password = TestSteps.Password, refreshTokenIn = "body", deviceToken = appDevice });
        Assert.Equal(HttpStatusCode.OK, browserAgain.StatusCode);
        Assert.Equal(HttpStatusCode.OK, appAgain.StatusCode);
        Assert.Equal(appDevice, (await appAgain.JsonAsync()).GetProperty("deviceToken").GetString());
    }

    [Fact]
    public async Task A_device_token_of_another_account_counts_as_none()
    {
        var owner = Http.NewEmail();
        var other = Http.NewEmail();
        foreach (var email in new[] { owner, other })
            Assert.Equal(HttpStatusCode.Created, (await _client.PostJsonAsync("/auth/register", new { email, password = TestSteps.Password })).StatusCode);
        var otherDevice = (await (await LoginAsync("203.0.113.20", new { email = other, password = TestSteps.Password, refreshTokenIn = "body" })).JsonAsync())
            .GetProperty("deviceToken").GetString()!;

        await StrangersGuessAsync(owner);

        await (await LoginAsync("203.0.113.21", new { email = owner, password = TestSteps.Password, refreshTokenIn = "body", deviceToken = otherDevice }))
            .AssertProblemAsync(429, "too_many_attempts");
    }
}
