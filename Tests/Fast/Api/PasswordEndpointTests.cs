using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;

namespace Sessions.Tests.Api;

/// <summary>POST /auth/password as docs/http-api.md#change-password says, on the wire: every answer it names, and a storage failure in the middle.</summary>
[Layer(Layer.Api)]
[Collection(AccountApiCluster.Name)]
public sealed class PasswordEndpointTests(ApiFixture fixture)
{
    private const string NewPassword = "a brand new passphrase";
    private readonly HttpClient _client = fixture.Client();

    private static HttpRequestMessage Change(string? accessToken, HttpContent? content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/auth/password") { Content = content };
        if (accessToken is not null)
            request.Headers.Authorization = new("Bearer", accessToken);
        return request;
    }

    private Task<HttpResponseMessage> ChangeAsync(string? accessToken, string currentPassword = TestSteps.Password, string newPassword = NewPassword) =>
        _client.SendAsync(Change(accessToken, JsonContent.Create(new { currentPassword, newPassword })));

    /// <summary>Another device's login to an existing account, refresh token in the body.</summary>
    private async Task<Http.Login> LoginAsync(string email, string password = TestSteps.Password)
    {
        var response = await _client.PostJsonAsync("/auth/login", new { email, password, refreshTokenIn = "body" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.JsonAsync();
        return new Http.Login(email, json.GetProperty("accessToken").GetString()!, json.GetProperty("sessionId").GetGuid(),
            json.GetProperty("refreshToken").GetString()!);
    }

    private async Task<HttpStatusCode> LoginStatusAsync(string email, string password) =>
        (await _client.PostJsonAsync("/auth/login", new { email, password })).StatusCode;

    private async Task<HttpStatusCode> MeAsync(Http.Login login) => (await _client.SendAsync(HttpMethod.Get, "/me", login.AccessToken)).StatusCode;

    private async Task<HttpStatusCode> RefreshAsync(Http.Login login) =>
        (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken })).StatusCode;

    [Fact]
    public async Task A_change_is_204_keeps_the_callers_session_and_ends_every_other_one_at_once()
    {
        var laptop = await _client.LoginAsync("body");
        var phone = await LoginAsync(laptop.Email);
        var tablet = await LoginAsync(laptop.Email);
        Assert.Equal(HttpStatusCode.OK, await MeAsync(phone));

        var response = await ChangeAsync(laptop.AccessToken);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        // The others: access tokens 401 at once, refresh tokens 403.
        foreach (var other in new[] { phone, tablet })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await MeAsync(other));
            await (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = other.RefreshToken })).AssertProblemAsync(403, "invalid_grant");
        }
        // The caller's session and tokens stay valid.
        Assert.Equal(HttpStatusCode.OK, await MeAsync(laptop));
        Assert.Equal(HttpStatusCode.OK, await RefreshAsync(laptop));
        var sessions = await (await _client.SendAsync(HttpMethod.Get, "/auth/sessions", laptop.AccessToken)).JsonAsync();
        Assert.Equal([laptop.SessionId], sessions.EnumerateArray().Select(s => s.GetProperty("sessionId").GetGuid()));
        // The old password no longer logs in; the new one does.
        await (await _client.PostJsonAsync("/auth/login", new { laptop.Email, password = TestSteps.Password })).AssertProblemAsync(401, "invalid_credentials");
        Assert.Equal(HttpStatusCode.OK, await LoginStatusAsync(laptop.Email, NewPassword));
    }

    [Theory]
    [InlineData("""{"currentPassword":"correct horse battery","newPassword":"short"}""")]
    [InlineData("""{"currentPassword":"correct horse battery","newPassword":""}""")]
    [InlineData("""{"currentPassword":"correct horse battery"}""")]
    [InlineData("""{"currentPassword":"correct horse battery","newPassword":12345678}""")]
    [InlineData("""{"newPassword":"a brand new passphrase"}""")]
    [InlineData("""{"currentPassword":"","newPassword":"a brand new passphrase"}""")]
    [InlineData("""{"currentPassword":"correct horse battery","newPassword":"a brand new passphrase" """)]
    [InlineData("""[1,2]""")]
    [InlineData("""null""")]
    [InlineData("")]
    public async Task A_bad_body_or_a_new_password_that_breaks_the_registration_rules_is_400_and_changes_nothing(string body)
    {
        var laptop = await _client.LoginAsync("body");
        var phone = await LoginAsync(laptop.Email);

        var response = await _client.SendAsync(Change(laptop.AccessToken, new StringContent(body, Encoding.UTF8, "application/json")));

        await response.AssertProblemAsync(400, "invalid_request");
        Assert.Equal(HttpStatusCode.OK, await MeAsync(phone));
        Assert.Equal(HttpStatusCode.OK, await LoginStatusAsync(laptop.Email, TestSteps.Password));
    }

    [Fact]
    public async Task A_new_password_of_129_characters_is_400_and_one_of_128_is_taken()
    {
        var login = await _client.LoginAsync("body");

        var tooLong = await ChangeAsync(login.AccessToken, newPassword: new string('p', 129));
        var longest = await ChangeAsync(login.AccessToken, newPassword: new string('p', 128));

        await tooLong.AssertProblemAsync(400, "invalid_request");
        Assert.Equal(HttpStatusCode.NoContent, longest.StatusCode);
        Assert.Equal(HttpStatusCode.OK, await LoginStatusAsync(login.Email, new string('p', 128)));
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_refused_with_a_problem()
    {
        var login = await _client.LoginAsync("body");

        var response = await _client.SendAsync(Change(login.AccessToken,
            new StringContent("currentPassword=x&newPassword=y", Encoding.UTF8, "application/x-www-form-urlencoded")));

        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnsupportedMediaType, $"got {(int)response.StatusCode}");
        await response.AssertProblemAsync((int)response.StatusCode, "invalid_request");
    }

    [Fact]
    public async Task Without_a_valid_access_token_it_is_401_and_changes_nothing()
    {
        var login = await _client.LoginAsync("body");
        var other = await LoginAsync(login.Email);
        var ended = await LoginAsync(login.Email);
        Assert.Equal(HttpStatusCode.NoContent,
            (await _client.PostJsonAsync("/auth/logout", new { refreshToken = ended.RefreshToken })).StatusCode);

        var missing = await ChangeAsync(null);
        var forged = await ChangeAsync(login.AccessToken[..^4] + "AAAA");
        var revoked = await ChangeAsync(ended.AccessToken);

        foreach (var response in new[] { missing, forged, revoked })
        {
            await response.AssertProblemAsync(401, "invalid_token");
            Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString());
        }
        Assert.Equal(HttpStatusCode.OK, await MeAsync(other));
        Assert.Equal(HttpStatusCode.OK, await LoginStatusAsync(login.Email, TestSteps.Password));
    }

    [Fact]
    public async Task A_wrong_current_password_is_403_invalid_credentials_and_counts_as_a_failed_login()
    {
        var laptop = await _client.LoginAsync("body");
        var phone = await LoginAsync(laptop.Email);

        for (var i = 0; i < ClusterFixture.MaxFailedLogins; i++)
            await (await ChangeAsync(laptop.AccessToken, currentPassword: "wrong password")).AssertProblemAsync(403, "invalid_credentials");

        // The access token is fine (403, not 401), and the failures count: the account now holds this address back.
        Assert.Equal(HttpStatusCode.OK, await MeAsync(laptop));
        Assert.Equal(HttpStatusCode.OK, await MeAsync(phone));
        var login = await _client.PostJsonAsync("/auth/login", new { laptop.Email, password = TestSteps.Password });
        await login.AssertProblemAsync(429, "too_many_attempts");
        Assert.True(login.Headers.Contains("Retry-After"));
    }

    [Fact]
    public async Task A_session_held_back_by_its_own_failures_is_429_with_retry_after_and_strangers_never_hold_it_back()
    {
        var laptop = await _client.LoginAsync("body");
        // Failed logins from this address and the account-wide ceiling do not hold a signed-in session back.
        for (var i = 0; i < ClusterFixture.MaxFailedLoginsPerAccount; i++)
            await _client.PostJsonAsync("/auth/login", new { laptop.Email, password = "wrong password" });
        await (await _client.PostJsonAsync("/auth/login", new { laptop.Email, password = TestSteps.Password })).AssertProblemAsync(429, "too_many_attempts");
        Assert.Equal(HttpStatusCode.NoContent, (await ChangeAsync(laptop.AccessToken, newPassword: "a new password 1")).StatusCode);
        // Its own wrong current passwords do.
        for (var i = 0; i < ClusterFixture.MaxFailedLogins; i++)
            await (await ChangeAsync(laptop.AccessToken, currentPassword: "wrong password")).AssertProblemAsync(403, "invalid_credentials");

        var response = await ChangeAsync(laptop.AccessToken, currentPassword: "a new password 1");

        await response.AssertProblemAsync(429, "too_many_attempts");
        Assert.InRange(int.Parse(response.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture),
            1, (int)ClusterFixture.FailedLoginWindow.TotalSeconds);
        fixture.Clock.Advance(ClusterFixture.FailedLoginWindow);
        Assert.Equal(HttpStatusCode.OK, await LoginStatusAsync(laptop.Email, "a new password 1"));
    }

    [Fact]
    public async Task A_revocation_that_cannot_be_stored_is_503_and_the_same_request_again_finishes_the_change()
    {
        var laptop = await _client.LoginAsync("body");
        var phone = await LoginAsync(laptop.Email);
        fixture.Storage.FaultOnly = "session";
        fixture.Storage.Mode = FaultyStorage.Fault.RefuseWrites;
        try
        {
            var failed = await ChangeAsync(laptop.AccessToken);

            await failed.AssertProblemAsync(503, "unavailable");
            Assert.True(failed.Headers.Contains("Retry-After"));
            // Already dead where it lives, though not yet stored.
            Assert.Equal(HttpStatusCode.Unauthorized, await MeAsync(phone));
            await (await ChangeAsync(laptop.AccessToken)).AssertProblemAsync(503, "unavailable");
        }
        finally
        {
            fixture.Storage.Mode = FaultyStorage.Fault.None;
            fixture.Storage.FaultOnly = null;
        }

        // The client sends the same body again: its currentPassword is the old one.
        Assert.Equal(HttpStatusCode.NoContent, (await ChangeAsync(laptop.AccessToken)).StatusCode);

        Assert.Equal(HttpStatusCode.Forbidden, await RefreshAsync(phone));
        Assert.Equal(HttpStatusCode.Unauthorized, await MeAsync(phone));
        Assert.Equal(HttpStatusCode.OK, await MeAsync(laptop));
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginStatusAsync(laptop.Email, TestSteps.Password));
        Assert.Equal(HttpStatusCode.OK, await LoginStatusAsync(laptop.Email, NewPassword));
    }

    [Fact]
    public async Task Logins_on_another_device_racing_the_change_end_up_revoked_or_refused()
    {
        var laptop = await _client.LoginAsync("body");

        var logins = Enumerable.Range(0, 2).Select(_ => _client.PostJsonAsync("/auth/login",
            new { laptop.Email, password = TestSteps.Password, refreshTokenIn = "body" })).ToList();
        var change = ChangeAsync(laptop.AccessToken);
        logins.Add(_client.PostJsonAsync("/auth/login", new { laptop.Email, password = TestSteps.Password, refreshTokenIn = "body" }));

        Assert.Equal(HttpStatusCode.NoContent, (await change).StatusCode);
        foreach (var response in await Task.WhenAll(logins))
        {
            if (response.StatusCode != HttpStatusCode.OK)
            {
                await response.AssertProblemAsync(401, "invalid_credentials");
                continue;
            }
            var json = await response.JsonAsync();
            var login = new Http.Login(laptop.Email, json.GetProperty("accessToken").GetString()!, json.GetProperty("sessionId").GetGuid(),
                json.GetProperty("refreshToken").GetString()!);
            Assert.Equal(HttpStatusCode.Unauthorized, await MeAsync(login));
            Assert.Equal(HttpStatusCode.Forbidden, await RefreshAsync(login));
        }
        Assert.Equal(HttpStatusCode.OK, await MeAsync(laptop));
    }

    [Fact]
    public async Task Password_changes_share_the_per_address_login_limit()
    {
        await using var factory = await fixture.CreateServingFactoryAsync(s => s["Api:LoginsPerMinutePerAddress"] = "2");
        using var client = factory.CreateClient();
        var email = Http.NewEmail();
        await client.PostJsonAsync("/auth/register", new { email, password = TestSteps.Password });
        var token = (await (await client.PostJsonAsync("/auth/login", new { email, password = TestSteps.Password, refreshTokenIn = "body" }))
            .JsonAsync()).GetProperty("accessToken").GetString();

        var first = await client.SendAsync(Change(token, JsonContent.Create(new { currentPassword = "wrong password", newPassword = NewPassword })));
        var limited = await client.SendAsync(Change(token, JsonContent.Create(new { currentPassword = TestSteps.Password, newPassword = NewPassword })));

        // One failure only, far from the failed-login limit: this 429 is the per-address rate limit.
        await first.AssertProblemAsync(403, "invalid_credentials");
        await limited.AssertProblemAsync(429, "too_many_attempts");
        Assert.True(limited.Headers.Contains("Retry-After"));
    }
}
