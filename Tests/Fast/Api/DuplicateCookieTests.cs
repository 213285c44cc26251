using System.Buffers.Text;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Primitives;
using Sessions.Api.Tokens;

namespace Sessions.Tests.Api;

/// <summary>
/// Several refresh_token cookies in one request, as a browser sends when a sibling subdomain plants one
/// (Domain=) next to ours: each is tried, the one that works answers, and a bad one never clears the good one.
/// </summary>
[Layer(Layer.Api)]
[Collection(ApiCluster.Name)]
public sealed class DuplicateCookieTests(ApiFixture fixture)
{
    private readonly HttpClient _client = fixture.Client();

    /// <summary>A token of the same session with its MAC changed: it does not verify.</summary>
    private static string Forged(string token)
    {
        var bytes = Base64Url.DecodeFromChars(token);
        bytes[^1] ^= 0x5A;
        return Base64Url.EncodeToString(bytes);
    }

    private Task<HttpResponseMessage> PostWithCookiesAsync(string path, object? body, params string[] tokens)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (body is not null)
            request.Content = JsonContent.Create(body);
        request.Headers.TryAddWithoutValidation("Cookie", string.Join("; ", tokens.Select(t => $"refresh_token={t}")));
        return _client.SendAsync(request);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_good_and_a_forged_cookie_in_either_order_rotate_the_good_session_and_keep_its_cookie(bool goodFirst)
    {
        var login = await _client.LoginAsync("cookie");
        var forged = Forged(login.RefreshToken);

        var response = await PostWithCookiesAsync("/auth/refresh", null, goodFirst ? [login.RefreshToken, forged] : [forged, login.RefreshToken]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(login.SessionId, (await response.JsonAsync()).GetProperty("sessionId").GetGuid());
        var rotated = Http.RefreshCookie(response)!;
        Assert.NotEqual("", rotated.Value);
        Assert.NotEqual(login.RefreshToken, rotated.Value);
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(HttpMethod.Post, "/auth/refresh", cookie: rotated.Value)).StatusCode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_planted_cookie_of_a_revoked_session_does_not_sign_the_user_out(bool goodFirst)
    {
        var login = await _client.LoginAsync("cookie");
        // Someone else's token that verifies but whose session is over: the attacker's own, logged out.
        var planted = await _client.LoginAsync("cookie");
        Assert.Equal(HttpStatusCode.NoContent, (await _client.SendAsync(HttpMethod.Post, "/auth/logout", cookie: planted.RefreshToken)).StatusCode);

        var response = await PostWithCookiesAsync("/auth/refresh", null, goodFirst ? [login.RefreshToken, planted.RefreshToken] : [planted.RefreshToken, login.RefreshToken]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(login.SessionId, (await response.JsonAsync()).GetProperty("sessionId").GetGuid());
        Assert.NotEqual("", Http.RefreshCookie(response)!.Value);
    }

    [Fact]
    public async Task Two_forged_cookies_are_403_and_the_cookie_is_cleared()
    {
        var login = await _client.LoginAsync("cookie");

        var response = await PostWithCookiesAsync("/auth/refresh", null, Forged(login.RefreshToken), "garbage");

        await response.AssertProblemAsync(403, "invalid_grant");
        Assert.Equal("", Http.RefreshCookie(response)!.Value);
        // Trying them revoked nothing (rule 5).
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(HttpMethod.Post, "/auth/refresh", cookie: login.RefreshToken)).StatusCode);
    }

    [Fact]
    public async Task Only_the_first_three_cookies_are_tried()
    {
        var login = await _client.LoginAsync("cookie");
        var forged = Forged(login.RefreshToken);

        // docs/http-api.md#known-devices-and-tighter-limits: at most 3 are tried, so the fourth, good one is never reached.
        var response = await PostWithCookiesAsync("/auth/refresh", null, forged, forged, forged, login.RefreshToken);

        await response.AssertProblemAsync(403, "invalid_grant");
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(HttpMethod.Post, "/auth/refresh", cookie: login.RefreshToken)).StatusCode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Logout_with_a_good_and_a_forged_cookie_revokes_the_good_session(bool goodFirst)
    {
        var login = await _client.LoginAsync("cookie");
        var forged = Forged(login.RefreshToken);

        var response = await PostWithCookiesAsync("/auth/logout", null, goodFirst ? [login.RefreshToken, forged] : [forged, login.RefreshToken]);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("", Http.RefreshCookie(response)!.Value);
        await (await _client.SendAsync(HttpMethod.Post, "/auth/refresh", cookie: login.RefreshToken)).AssertProblemAsync(403, "invalid_grant");
        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.SendAsync(HttpMethod.Get, "/me", login.AccessToken)).StatusCode);
    }

    [Fact]
    public void Cookies_are_read_from_every_cookie_header_in_order_unquoted_and_bounded()
    {
        Assert.Equal("x", RefreshTokenTransport.CookieTokens(new StringValues("theme=dark; refresh_token=x;lang=en")).ToString());
        Assert.Equal("x,y,z", RefreshTokenTransport.CookieTokens(
            new StringValues(["refresh_token=x; refresh_token=", "a=1;\trefresh_token=\"y\" ; my_refresh_token=no; refresh_token=z"])).ToString());
        Assert.Equal(3, RefreshTokenTransport.CookieTokens(
            new StringValues(string.Join("; ", Enumerable.Range(0, 9).Select(i => $"refresh_token={i}")))).Count);
        Assert.True(StringValues.IsNullOrEmpty(RefreshTokenTransport.CookieTokens(new StringValues("refresh_token=; other=1"))));
    }

    [Fact]
    public async Task A_body_token_still_wins_over_several_cookies()
    {
        var byBody = await _client.LoginAsync("body");
        var byCookie = await _client.LoginAsync("cookie");

        var response = await PostWithCookiesAsync("/auth/refresh", new { refreshToken = byBody.RefreshToken }, Forged(byCookie.RefreshToken), byCookie.RefreshToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.JsonAsync();
        Assert.Equal(byBody.SessionId, json.GetProperty("sessionId").GetGuid());
        Assert.True(json.TryGetProperty("refreshToken", out _));
        Assert.Null(Http.RefreshCookie(response));
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(HttpMethod.Post, "/auth/refresh", cookie: byCookie.RefreshToken)).StatusCode);
    }
}
