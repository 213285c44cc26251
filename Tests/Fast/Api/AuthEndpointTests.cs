using System.Net;
using System.Text;
using Microsoft.AspNetCore.Mvc.Testing;
using Sessions.Api.Auth;

namespace Sessions.Tests.Api;

/// <summary>Register, login, refresh, logout and logout-all, as docs/http-api.md#endpoints specifies them on the wire.</summary>
[Layer(Layer.Api)]
[Collection(ApiCluster.Name)]
public sealed class AuthEndpointTests(ApiFixture fixture)
{
    private readonly HttpClient _client = fixture.Client();

    [Fact]
    public async Task Register_answers_201_with_the_user_id_and_409_for_a_taken_email()
    {
        var email = Http.NewEmail();

        var created = await _client.PostJsonAsync("/auth/register", new { email, password = TestSteps.Password });
        var again = await _client.PostJsonAsync("/auth/register", new { email = email.ToUpperInvariant(), password = "another password" });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.True((await created.JsonAsync()).GetProperty("userId").TryGetGuid(out _));
        await again.AssertProblemAsync(409, "email_taken");
    }

    [Theory]
    [InlineData("""{"email":"not-an-email","password":"long enough"}""")]
    [InlineData("""{"email":"a@example.com","password":"short"}""")]
    [InlineData("""{"email":"a@example.com"}""")]
    [InlineData("""{"email":5,"password":"long enough"}""")]
    [InlineData("""{"email":"a@example.com","password":"long enough" """)]
    [InlineData("""[1,2]""")]
    [InlineData("""null""")]
    [InlineData("")]
    public async Task Register_refuses_a_bad_body_with_400_invalid_request(string body)
    {
        var response = await _client.PostAsync("/auth/register", new StringContent(body, Encoding.UTF8, "application/json"));

        await response.AssertProblemAsync(400, "invalid_request");
    }

    [Fact]
    public async Task A_password_of_129_characters_is_refused_and_one_of_128_accepted()
    {
        var tooLong = await _client.PostJsonAsync("/auth/register", new { email = Http.NewEmail(), password = new string('p', 129) });
        var longest = await _client.PostJsonAsync("/auth/register", new { email = Http.NewEmail(), password = new string('p', 128) });

        await tooLong.AssertProblemAsync(400, "invalid_request");
        Assert.Equal(HttpStatusCode.Created, longest.StatusCode);
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_refused_with_a_problem()
    {
        var response = await _client.PostAsync("/auth/login", new StringContent("email=a@example.com", Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnsupportedMediaType, $"got {(int)response.StatusCode}");
        await response.AssertProblemAsync((int)response.StatusCode, "invalid_request");
    }

    [Fact]
    public async Task A_body_over_one_megabyte_is_refused_with_413()
    {
        var huge = "{\"email\":\"" + new string('a', 1024 * 1024) + "@example.com\",\"password\":\"long enough\"}";

        var response = await _client.PostAsync("/auth/register", new StringContent(huge, Encoding.UTF8, "application/json"));

        await response.AssertProblemAsync(413, "invalid_request");
    }

    [Fact]
    public async Task A_chunked_body_over_one_megabyte_is_refused_with_413_too()
    {
        var huge = Encoding.UTF8.GetBytes("{\"email\":\"" + new string('a', 1024 * 1024) + "@example.com\",\"password\":\"long enough\"}");
        var content = new UnknownLengthContent(huge);
        content.Headers.ContentType = new("application/json");

        var response = await _client.PostAsync("/auth/register", content);

        Assert.Null(response.RequestMessage!.Content!.Headers.ContentLength);
        await response.AssertProblemAsync(413, "invalid_request");
    }

    [Fact]
    public async Task Login_with_body_transport_returns_the_refresh_token_in_the_body_and_sets_no_cookie()
    {
        var email = Http.NewEmail();
        await _client.PostJsonAsync("/auth/register", new { email, password = TestSteps.Password });

        var response = await _client.PostJsonAsync("/auth/login", new { email, password = TestSteps.Password, refreshTokenIn = "body" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(Http.RefreshCookie(response));
        var json = await response.JsonAsync();
        Assert.Equal("Bearer", json.GetProperty("tokenType").GetString());
        Assert.Equal(900, json.GetProperty("expiresIn").GetInt32());
        Assert.True(json.GetProperty("sessionId").TryGetGuid(out _));
        Assert.True(json.GetProperty("refreshTokenExpiresAt").TryGetDateTimeOffset(out _));
        Assert.Equal(76, json.GetProperty("refreshToken").GetString()!.Length);
        Assert.Equal(fixture.Clock.GetUtcNow() + ClusterFixture.IdleTimeout, json.GetProperty("refreshTokenExpiresAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task Login_by_default_sets_a_strict_host_only_cookie_and_keeps_the_token_out_of_the_body()
    {
        var email = Http.NewEmail();
        await _client.PostJsonAsync("/auth/register", new { email, password = TestSteps.Password });

        var response = await _client.PostJsonAsync("/auth/login", new { email, password = TestSteps.Password });

        var cookie = Http.RefreshCookie(response)!;
        var attributes = cookie.Attributes.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(a => a.ToLowerInvariant()).ToArray();
        Assert.Contains("httponly", attributes);
        Assert.Contains("secure", attributes);
        Assert.Contains("samesite=strict", attributes);
        Assert.Contains("path=/auth", attributes);
        Assert.DoesNotContain(attributes, a => a.StartsWith("domain", StringComparison.Ordinal));
        Assert.Equal(76, cookie.Value.Length);
        Assert.False((await response.JsonAsync()).TryGetProperty("refreshToken", out _));
    }

    [Fact]
    public async Task Wrong_password_and_unknown_email_get_the_same_401()
    {
        var email = Http.NewEmail();
        await _client.PostJsonAsync("/auth/register", new { email, password = TestSteps.Password });

        var wrong = await _client.PostJsonAsync("/auth/login", new { email, password = "wrong password" });
        var unknown = await _client.PostJsonAsync("/auth/login", new { email = Http.NewEmail(), password = "wrong password" });

        var a = await wrong.AssertProblemAsync(401, "invalid_credentials");
        var b = await unknown.AssertProblemAsync(401, "invalid_credentials");
        Assert.Equal(a.GetProperty("title").GetString(), b.GetProperty("title").GetString());
        Assert.Equal(a.GetProperty("detail").GetString(), b.GetProperty("detail").GetString());
        Assert.Equal(a.GetProperty("type").GetString(), b.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Login_refuses_an_unknown_transport()
    {
        var response = await _client.PostJsonAsync("/auth/login", new { email = Http.NewEmail(), password = TestSteps.Password, refreshTokenIn = "header" });

        await response.AssertProblemAsync(400, "invalid_request");
    }

    [Fact]
    public async Task Too_many_failed_logins_answer_429_with_retry_after_even_for_the_right_password()
    {
        var email = Http.NewEmail();
        await _client.PostJsonAsync("/auth/register", new { email, password = TestSteps.Password });
        for (var i = 0; i < ClusterFixture.MaxFailedLogins; i++)
            await _client.PostJsonAsync("/auth/login", new { email, password = "wrong password" });

        var response = await _client.PostJsonAsync("/auth/login", new { email, password = TestSteps.Password });

        await response.AssertProblemAsync(429, "too_many_attempts");
        Assert.InRange(int.Parse(response.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture), 1, (int)ClusterFixture.FailedLoginWindow.TotalSeconds);
    }

    [Fact]
    public async Task An_unknown_email_gets_the_same_answers_as_a_known_one_and_429_at_the_same_count()
    {
        var known = Http.NewEmail();
        await _client.PostJsonAsync("/auth/register", new { email = known, password = TestSteps.Password });
        var unknown = Http.NewEmail();

        for (var i = 0; i <= ClusterFixture.MaxFailedLogins; i++)
        {
            var knownAnswer = await _client.PostJsonAsync("/auth/login", new { email = known, password = "wrong password" });
            var unknownAnswer = await _client.PostJsonAsync("/auth/login", new { email = unknown, password = "wrong password" });

            Assert.Equal(knownAnswer.StatusCode, unknownAnswer.StatusCode);
            var (knownBody, unknownBody) = (await knownAnswer.JsonAsync(), await unknownAnswer.JsonAsync());
            foreach (var member in new[] { "type", "title", "detail", "status", "error" })
                Assert.Equal(knownBody.GetProperty(member).ToString(), unknownBody.GetProperty(member).ToString());
            Assert.Equal(knownAnswer.Headers.RetryAfter?.ToString(), unknownAnswer.Headers.RetryAfter?.ToString());
            Assert.Equal(i < ClusterFixture.MaxFailedLogins ? 401 : 429, (int)unknownAnswer.StatusCode);
        }
    }

    [Fact]
    public async Task A_login_past_the_session_limit_revokes_the_least_recently_refreshed_session()
    {
        var first = await _client.LoginAsync("body");
        var logins = new List<Http.Login> { first };
        for (var i = 1; i < ClusterFixture.MaxActiveSessions; i++)
        {
            fixture.Clock.Advance(TimeSpan.FromSeconds(1));
            var response = await _client.PostJsonAsync("/auth/login", new { email = first.Email, password = TestSteps.Password, refreshTokenIn = "body" });
            var json = await response.JsonAsync();
            logins.Add(new Http.Login(first.Email, json.GetProperty("accessToken").GetString()!, json.GetProperty("sessionId").GetGuid(),
                json.GetProperty("refreshToken").GetString()!));
        }

        var newest = await (await _client.PostJsonAsync("/auth/login", new { email = first.Email, password = TestSteps.Password, refreshTokenIn = "body" })).JsonAsync();

        var sessions = await (await _client.SendAsync(HttpMethod.Get, "/auth/sessions", newest.GetProperty("accessToken").GetString())).JsonAsync();
        Assert.Equal(ClusterFixture.MaxActiveSessions, sessions.GetArrayLength());
        await (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = first.RefreshToken })).AssertProblemAsync(403, "invalid_grant");
        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.SendAsync(HttpMethod.Get, "/me", first.AccessToken)).StatusCode);
    }

    [Fact]
    public async Task Refresh_by_body_rotates_and_answers_in_the_body()
    {
        var login = await _client.LoginAsync("body");

        var response = await _client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(Http.RefreshCookie(response));
        var json = await response.JsonAsync();
        Assert.NotEqual(login.RefreshToken, json.GetProperty("refreshToken").GetString());
        Assert.Equal(login.SessionId, json.GetProperty("sessionId").GetGuid());
        Assert.NotEqual(login.AccessToken, json.GetProperty("accessToken").GetString());
    }

    [Fact]
    public async Task Refresh_by_cookie_rotates_and_answers_with_a_new_cookie()
    {
        var login = await _client.LoginAsync("cookie");

        var response = await _client.SendAsync(HttpMethod.Post, "/auth/refresh", cookie: login.RefreshToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var rotated = Http.RefreshCookie(response)!;
        Assert.NotEqual(login.RefreshToken, rotated.Value);
        Assert.False((await response.JsonAsync()).TryGetProperty("refreshToken", out _));
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(HttpMethod.Post, "/auth/refresh", cookie: rotated.Value)).StatusCode);
    }

    [Fact]
    public async Task The_body_token_wins_over_the_cookie_and_the_answer_goes_back_in_the_body()
    {
        var byBody = await _client.LoginAsync("body");
        var byCookie = await _client.LoginAsync("cookie");

        var response = await _client.PostJsonAsync("/auth/refresh", new { refreshToken = byBody.RefreshToken }, cookie: byCookie.RefreshToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.JsonAsync();
        Assert.Equal(byBody.SessionId, json.GetProperty("sessionId").GetGuid());
        Assert.True(json.TryGetProperty("refreshToken", out _));
        Assert.Null(Http.RefreshCookie(response));
        // The cookie's token was not touched.
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(HttpMethod.Post, "/auth/refresh", cookie: byCookie.RefreshToken)).StatusCode);
    }

    [Fact]
    public async Task Refresh_without_a_token_is_401_missing_token()
    {
        await (await _client.SendAsync(HttpMethod.Post, "/auth/refresh")).AssertProblemAsync(401, "missing_token");
        await (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = "" })).AssertProblemAsync(401, "missing_token");
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task An_unknown_or_malformed_token_is_403_invalid_grant(string token)
    {
        var response = await _client.PostJsonAsync("/auth/refresh", new { refreshToken = token });

        await response.AssertProblemAsync(403, "invalid_grant");
    }

    [Fact]
    public async Task An_invalid_token_is_answered_no_sooner_than_the_floor_whether_or_not_its_session_exists()
    {
        var login = await _client.LoginAsync("body");
        Assert.True(RefreshToken.TryParse(login.RefreshToken, out var real));
        var signed = new byte[RefreshToken.SignedLength];
        RefreshToken.WriteSignedPart(signed, real.SessionId, real.Counter);
        var wrongMac = RefreshToken.Format(signed, new byte[RefreshToken.MacLength]);
        RefreshToken.WriteSignedPart(signed, Guid.NewGuid(), 0);
        var noSession = RefreshToken.Format(signed, new byte[RefreshToken.MacLength]);

        foreach (var token in new[] { wrongMac, noSession, wrongMac, "garbage" })
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var response = await _client.PostJsonAsync("/auth/refresh", new { refreshToken = token });
            var elapsed = clock.Elapsed;

            await response.AssertProblemAsync(403, "invalid_grant");
            Assert.True(elapsed >= AuthApi.InvalidRefreshTokenFloor, $"answered after {elapsed.TotalMilliseconds:F1} ms");
        }
        // The real token was not touched by its forgeries.
        Assert.Equal(HttpStatusCode.OK, (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken })).StatusCode);
    }

    [Fact]
    public async Task Reuse_is_403_and_kills_the_current_token_and_the_access_token()
    {
        var login = await _client.LoginAsync("body");
        var rotated = (await (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken })).JsonAsync());
        fixture.Clock.Advance(ClusterFixture.GraceWindow + TimeSpan.FromSeconds(1));

        await (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken })).AssertProblemAsync(403, "invalid_grant");

        await (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = rotated.GetProperty("refreshToken").GetString() }))
            .AssertProblemAsync(403, "invalid_grant");
        var me = await _client.SendAsync(HttpMethod.Get, "/me", rotated.GetProperty("accessToken").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
    }

    [Fact]
    public async Task A_retry_inside_the_grace_window_gets_the_same_refresh_token()
    {
        var login = await _client.LoginAsync("body");

        var first = await (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken })).JsonAsync();
        var retry = await (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken })).JsonAsync();

        Assert.Equal(first.GetProperty("refreshToken").GetString(), retry.GetProperty("refreshToken").GetString());
    }

    [Fact]
    public async Task A_cookie_from_a_foreign_origin_is_403_origin_not_allowed()
    {
        var login = await _client.LoginAsync("cookie");

        var foreign = await _client.SendAsync(HttpMethod.Post, "/auth/refresh", cookie: login.RefreshToken, origin: "https://evil.example");
        var logoutForeign = await _client.SendAsync(HttpMethod.Post, "/auth/logout", cookie: login.RefreshToken, origin: "https://evil.example");
        var allowed = await _client.SendAsync(HttpMethod.Post, "/auth/refresh", cookie: login.RefreshToken, origin: ApiFixture.AllowedOrigin);

        await foreign.AssertProblemAsync(403, "origin_not_allowed");
        await logoutForeign.AssertProblemAsync(403, "origin_not_allowed");
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode); // the refused requests consumed nothing
    }

    [Fact]
    public async Task The_origin_rule_does_not_apply_to_a_token_in_the_body()
    {
        var login = await _client.LoginAsync("body");

        var response = await _client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken }, origin: "https://native.example");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Logout_is_204_clears_the_cookie_and_revokes_the_session_and_again_is_204()
    {
        var login = await _client.LoginAsync("cookie");

        var response = await _client.SendAsync(HttpMethod.Post, "/auth/logout", cookie: login.RefreshToken);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var cleared = Http.RefreshCookie(response)!;
        Assert.Equal("", cleared.Value);
        Assert.Contains("path=/auth", cleared.Attributes.ToLowerInvariant());
        Assert.Contains("expires=thu, 01 jan 1970", cleared.Attributes.ToLowerInvariant());
        await (await _client.SendAsync(HttpMethod.Post, "/auth/refresh", cookie: login.RefreshToken)).AssertProblemAsync(403, "invalid_grant");
        Assert.Equal(HttpStatusCode.NoContent, (await _client.SendAsync(HttpMethod.Post, "/auth/logout", cookie: login.RefreshToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.SendAsync(HttpMethod.Get, "/me", login.AccessToken)).StatusCode);
    }

    [Fact]
    public async Task Logout_with_a_foreign_token_is_204_and_revokes_nothing_and_without_one_is_401()
    {
        var login = await _client.LoginAsync("body");

        Assert.Equal(HttpStatusCode.NoContent, (await _client.PostJsonAsync("/auth/logout", new { refreshToken = "not-a-token" })).StatusCode);
        await (await _client.SendAsync(HttpMethod.Post, "/auth/logout")).AssertProblemAsync(401, "missing_token");

        Assert.Equal(HttpStatusCode.OK, (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken })).StatusCode);
    }

    [Fact]
    public async Task Logout_all_revokes_every_session_of_the_user()
    {
        var first = await _client.LoginAsync("body");
        var second = await _client.PostJsonAsync("/auth/login", new { first.Email, password = TestSteps.Password, refreshTokenIn = "body" });
        var secondToken = (await second.JsonAsync()).GetProperty("refreshToken").GetString();

        var response = await _client.SendAsync(HttpMethod.Post, "/auth/logout-all", first.AccessToken);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        await (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = first.RefreshToken })).AssertProblemAsync(403, "invalid_grant");
        await (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = secondToken })).AssertProblemAsync(403, "invalid_grant");
        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.SendAsync(HttpMethod.Post, "/auth/logout-all", first.AccessToken)).StatusCode);
    }

    [Fact]
    public async Task Storage_trouble_is_503_unavailable_with_retry_after_and_the_token_survives()
    {
        var login = await _client.LoginAsync("body");
        fixture.Storage.Mode = FaultyStorage.Fault.RefuseWrites;
        try
        {
            var refresh = await _client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken });
            var newLogin = await _client.PostJsonAsync("/auth/login", new { login.Email, password = TestSteps.Password });

            await refresh.AssertProblemAsync(503, "unavailable");
            Assert.True(refresh.Headers.Contains("Retry-After"));
            await newLogin.AssertProblemAsync(503, "unavailable");
        }
        finally
        {
            fixture.Storage.Mode = FaultyStorage.Fault.None;
        }
        Assert.Equal(HttpStatusCode.OK, (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken })).StatusCode);
    }

    [Fact]
    public async Task A_refresh_whose_answer_is_lost_is_sent_once_more_and_answered_as_a_replay()
    {
        await using var factory = await fixture.CreateServingFactoryAsync(s => s["Cluster:ResponseTimeout"] = "00:00:02");
        using var client = factory.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });
        var login = await client.LoginAsync();
        // The first call rotates only after the Api stopped waiting for it, as when a stopping silo drops its
        // answer; the Api's second call queues behind it in the session grain.
        fixture.Held.DelayNextCallTo(fixture.Grains.GetGrain<ISessionGrain>(login.SessionId).GetGrainId(), TimeSpan.FromSeconds(3));

        var refreshed = await client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken });

        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        // The lost rotation stands and nothing was revoked: the token answered is the family's current one.
        var current = (await refreshed.JsonAsync()).GetProperty("refreshToken").GetString();
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/auth/refresh", new { refreshToken = current })).StatusCode);
    }

    [Fact]
    public async Task An_api_whose_resend_would_fall_outside_the_grace_window_rotates_nothing()
    {
        // The silos' window is ClusterFixture.GraceWindow (10 s); this node would resend a lost refresh after 10 s.
        await using var factory = await fixture.CreateServingFactoryAsync(s => s["Cluster:ResponseTimeout"] = ClusterFixture.GraceWindow.ToString());
        using var client = factory.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });
        var login = await _client.LoginAsync();

        await (await client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken })).AssertProblemAsync(503, "unavailable");

        // Past the grace window the token is still the current one: had the refused refresh rotated, this would be reuse.
        fixture.Clock.Advance(ClusterFixture.GraceWindow + TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken })).StatusCode);
    }

    [Fact]
    public async Task Logins_beyond_the_per_address_limit_are_429()
    {
        await using var factory = await fixture.CreateServingFactoryAsync(s => s["Api:LoginsPerMinutePerAddress"] = "2");
        using var client = factory.CreateClient();
        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostJsonAsync("/auth/login", new { email = Http.NewEmail(), password = "whatever1" })).StatusCode);

        var limited = await client.PostJsonAsync("/auth/login", new { email = Http.NewEmail(), password = "whatever1" });

        await limited.AssertProblemAsync(429, "too_many_attempts");
        Assert.True(limited.Headers.Contains("Retry-After"));
    }

    /// <summary>A body whose length is not announced, as a chunked upload.</summary>
    private sealed class UnknownLengthContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
