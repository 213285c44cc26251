using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Sessions.Tests.Api;

/// <summary>
/// Discovery, backend clients, introspection and revocation as docs/http-api.md#issuer-and-discovery,
/// #backend-clients, #introspection and #revocation state them.
/// </summary>
[Layer(Layer.Api)]
[Collection(ProofApiCluster.Name)]
public sealed class OAuthTests(ApiFixture fixture)
{
    private readonly HttpClient _client = fixture.Client();

    private Task<HttpResponseMessage> PostFormAsync(string path, BackendClient? client, params (string Name, string Value)[] fields) =>
        PostAsync(path, client?.Basic, new FormUrlEncodedContent(fields.Select(f => KeyValuePair.Create(f.Name, f.Value))));

    private Task<HttpResponseMessage> PostAsync(string path, AuthenticationHeaderValue? authorization, HttpContent? content, HttpClient? client = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Authorization = authorization;
        return (client ?? _client).SendAsync(request);
    }

    private async Task<JsonElement> IntrospectAsync(string token, string? hint = null)
    {
        var response = await PostFormAsync("/oauth/introspect", ApiFixture.ResourceServer,
            hint is null ? [("token", token)] : [("token", token), ("token_type_hint", hint)]);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        return await response.JsonAsync();
    }

    private static void AssertInactive(JsonElement answer) =>
        Assert.Equal("""{"active":false}""", answer.GetRawText());

    [Fact]
    public async Task Both_discovery_documents_name_the_issuer_of_the_tokens_and_absolute_endpoints_under_it()
    {
        var login = await _client.LoginAsync();
        var openId = await _client.GetAsync("/.well-known/openid-configuration");
        var oauth = await _client.GetAsync("/.well-known/oauth-authorization-server");

        Assert.Equal(HttpStatusCode.OK, openId.StatusCode);
        Assert.Equal("application/json", openId.Content.Headers.ContentType?.MediaType);
        var document = await openId.JsonAsync();
        Assert.Equal(document.GetRawText(), (await oauth.JsonAsync()).GetRawText());
        var issuer = Http.JwtPart(login.AccessToken, 1).GetProperty("iss").GetString();
        Assert.Equal(ApiFixture.Issuer, issuer);
        Assert.Equal(issuer, document.GetProperty("issuer").GetString());
        Assert.Equal($"{issuer}/.well-known/jwks.json", document.GetProperty("jwks_uri").GetString());
        Assert.Equal($"{issuer}/oauth/introspect", document.GetProperty("introspection_endpoint").GetString());
        Assert.Equal($"{issuer}/oauth/revoke", document.GetProperty("revocation_endpoint").GetString());
        foreach (var (member, value) in new[]
        {
            ("introspection_endpoint_auth_methods_supported", "client_secret_basic"), ("revocation_endpoint_auth_methods_supported", "client_secret_basic"),
            ("id_token_signing_alg_values_supported", "ES256"), ("dpop_signing_alg_values_supported", "ES256"),
            ("subject_types_supported", "public"), ("grant_types_supported", "refresh_token"), ("response_types_supported", "refresh_token"),
        })
            Assert.Equal([value], document.GetProperty(member).EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public async Task A_live_access_token_introspects_active_with_its_claims_and_the_sessions_current_values()
    {
        var login = await _client.LoginAsync();
        var claims = Http.JwtPart(login.AccessToken, 1);

        var answer = await IntrospectAsync(login.AccessToken);

        Assert.True(answer.GetProperty("active").GetBoolean());
        Assert.Equal("access_token", answer.GetProperty("token_type").GetString());
        foreach (var member in new[] { "iss", "sub", "sid", "client_id", "aud", "email" })
            Assert.Equal(claims.GetProperty(member).GetString(), answer.GetProperty(member).GetString());
        Assert.Equal(claims.GetProperty("exp").GetInt64(), answer.GetProperty("exp").GetInt64());
        Assert.Equal(claims.GetProperty("iat").GetInt64(), answer.GetProperty("iat").GetInt64());
        Assert.False(answer.GetProperty("email_verified").GetBoolean());
        Assert.Equal(["user"], answer.GetProperty("role").EnumerateArray().Select(r => r.GetString()));
        Assert.False(answer.TryGetProperty("cnf", out _));
    }

    [Fact]
    public async Task An_access_token_is_inactive_at_once_when_its_session_ends()
    {
        var login = await _client.LoginAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await _client.PostJsonAsync("/auth/logout", new { refreshToken = login.RefreshToken })).StatusCode);

        AssertInactive(await IntrospectAsync(login.AccessToken));
    }

    [Theory]
    [MemberData(nameof(AccessTokenTests.Forgeries), MemberType = typeof(AccessTokenTests))]
    public async Task A_forged_or_foreign_access_token_is_inactive_with_no_other_member(string forgery)
    {
        var login = await _client.LoginAsync();
        var token = AccessTokenTests.Forge(fixture, forgery, login.AccessToken);
        if (token.Length == 0)
            return; // no token at all: the 400 below

        AssertInactive(await IntrospectAsync(token));
    }

    [Fact]
    public async Task An_expired_access_token_is_inactive()
    {
        var login = await _client.LoginAsync();
        // Lifetime validation is on the session clock, with the 30 s skew.
        fixture.Clock.Advance(TimeSpan.FromMinutes(16));

        AssertInactive(await IntrospectAsync(login.AccessToken));
    }

    [Fact]
    public async Task Only_the_current_refresh_token_is_active_and_introspection_never_counts_as_a_use()
    {
        var login = await _client.LoginAsync();
        var rotated = await (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken })).JsonAsync();
        var current = rotated.GetProperty("refreshToken").GetString()!;

        // The hint is wrong on purpose: the answer is the same.
        var answer = await IntrospectAsync(current, hint: "access_token");
        AssertInactive(await IntrospectAsync(login.RefreshToken, hint: "refresh_token"));

        Assert.True(answer.GetProperty("active").GetBoolean());
        Assert.Equal("refresh_token", answer.GetProperty("token_type").GetString());
        Assert.Equal(login.SessionId, answer.GetProperty("sid").GetGuid());
        Assert.Equal(Http.JwtPart(login.AccessToken, 1).GetProperty("sub").GetString(), answer.GetProperty("sub").GetString());
        Assert.Equal("sessions", answer.GetProperty("client_id").GetString());
        Assert.Equal(rotated.GetProperty("refreshTokenExpiresAt").GetDateTimeOffset().ToUnixTimeSeconds(), answer.GetProperty("exp").GetInt64());
        // The rotated-away token is still a grace-window replay, not reuse; the current one still rotates.
        var replay = await _client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken });
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(current, (await replay.JsonAsync()).GetProperty("refreshToken").GetString());
        var next = await _client.PostJsonAsync("/auth/refresh", new { refreshToken = current });
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        AssertInactive(await IntrospectAsync(current));
    }

    [Theory]
    [InlineData("malformed")]
    [InlineData("forged-mac")]
    [InlineData("unknown-session")]
    public async Task A_refresh_token_that_does_not_verify_is_inactive(string kind)
    {
        var login = await _client.LoginAsync();
        var token = kind switch
        {
            "malformed" => "not-a-refresh-token",
            "forged-mac" => login.RefreshToken[..^4] + (login.RefreshToken.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA"),
            _ => TestSteps.ForgedRefreshToken(Guid.NewGuid()),
        };

        AssertInactive(await IntrospectAsync(token));
    }

    [Fact]
    public async Task Revoking_a_refresh_token_current_or_rotated_away_ends_its_session_and_every_answer_is_200()
    {
        var first = await _client.LoginAsync();
        var second = await _client.LoginAsync();
        var rotated = await (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = second.RefreshToken })).JsonAsync();

        var revokeCurrent = await PostFormAsync("/oauth/revoke", ApiFixture.ResourceServer, ("token", first.RefreshToken), ("token_type_hint", "refresh_token"));
        // An old token of the family revokes the family too.
        var revokeOld = await PostFormAsync("/oauth/revoke", ApiFixture.ResourceServer, ("token", second.RefreshToken));

        foreach (var response in new[] { revokeCurrent, revokeOld })
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("", await response.Content.ReadAsStringAsync());
        }
        await (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = first.RefreshToken })).AssertProblemAsync(403, "invalid_grant");
        await (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = rotated.GetProperty("refreshToken").GetString() })).AssertProblemAsync(403, "invalid_grant");
        await (await _client.SendAsync(HttpMethod.Get, "/me", first.AccessToken)).AssertProblemAsync(401, "invalid_token");
        Assert.Contains(fixture.Logs.Named("session_revoked"), e => e.Message.Contains(first.SessionId.ToString()) && e.Message.Contains("RevokedByClient"));
    }

    [Fact]
    public async Task Revoking_an_access_token_ends_its_session()
    {
        var login = await _client.LoginAsync();

        var response = await PostFormAsync("/oauth/revoke", ApiFixture.ResourceServer, ("token", login.AccessToken), ("token_type_hint", "refresh_token"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await (await _client.SendAsync(HttpMethod.Get, "/me", login.AccessToken)).AssertProblemAsync(401, "invalid_token");
        await (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken })).AssertProblemAsync(403, "invalid_grant");
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("forged-refresh-token")]
    [InlineData("forged-access-token")]
    [InlineData("already-revoked")]
    public async Task Revoking_what_is_no_live_token_is_200_and_revokes_nothing_else(string kind)
    {
        var bystander = await _client.LoginAsync();
        var token = kind switch
        {
            "garbage" => "garbage",
            "forged-refresh-token" => TestSteps.ForgedRefreshToken(bystander.SessionId),
            "forged-access-token" => AccessTokenTests.Forge(fixture, "payload-changed", bystander.AccessToken),
            _ => (await _client.LoginAsync()).RefreshToken,
        };
        if (kind == "already-revoked")
            Assert.Equal(HttpStatusCode.OK, (await PostFormAsync("/oauth/revoke", ApiFixture.ResourceServer, ("token", token))).StatusCode);

        var response = await PostFormAsync("/oauth/revoke", ApiFixture.ResourceServer, ("token", token));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(HttpMethod.Get, "/me", bystander.AccessToken)).StatusCode);
    }

    public static TheoryData<string> BadCredentials() => ["none", "bearer", "not-base64", "no-colon", "unknown-client", "wrong-secret", "empty-secret"];

    [Theory]
    [MemberData(nameof(BadCredentials))]
    public async Task Without_valid_client_credentials_both_endpoints_are_401_invalid_client_with_a_basic_challenge(string kind)
    {
        var login = await _client.LoginAsync();
        AuthenticationHeaderValue? authorization = kind switch
        {
            "none" => null,
            "bearer" => new("Bearer", login.AccessToken),
            "not-base64" => new("Basic", "!!!not base64!!!"),
            "no-colon" => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(ApiFixture.ResourceServer.ClientId))),
            "unknown-client" => new BackendClient("nobody", ApiFixture.ResourceServer.Secret).Basic,
            "wrong-secret" => new BackendClient(ApiFixture.ResourceServer.ClientId, ApiFixture.ResourceServer.Secret + "x").Basic,
            _ => new BackendClient(ApiFixture.ResourceServer.ClientId, "").Basic,
        };
        // A client of its own address: these failures must not lock out the other tests' client.
        var client = fixture.Factory.WithWebHostBuilder(web => web.ConfigureTestServices(s => s.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter, PeerFromHeader>()))
            .CreateClient();
        client.DefaultRequestHeaders.Add(PeerFromHeader.Header, $"10.9.{Random.Shared.Next(256)}.{Random.Shared.Next(256)}");

        foreach (var path in new[] { "/oauth/introspect", "/oauth/revoke" })
        {
            var response = await PostAsync(path, authorization, new FormUrlEncodedContent([KeyValuePair.Create("token", login.RefreshToken)]), client);

            await response.AssertProblemAsync(401, "invalid_client");
            Assert.Equal("Basic realm=\"sessions\"", response.Headers.WwwAuthenticate.ToString());
        }
        // And nothing was revoked.
        Assert.Equal(HttpStatusCode.OK, (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken })).StatusCode);
    }

    [Fact]
    public async Task A_form_encoded_secret_as_rfc_6749_has_it_is_accepted()
    {
        var login = await _client.LoginAsync();
        var id = Uri.EscapeDataString(ApiFixture.ResourceServer.ClientId);
        var secret = Uri.EscapeDataString(ApiFixture.ResourceServer.Secret);

        var response = await PostAsync("/oauth/introspect", new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{id}:{secret}"))),
            new FormUrlEncodedContent([KeyValuePair.Create("token", login.AccessToken)]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_client_without_the_scope_is_403_insufficient_scope_and_revokes_nothing()
    {
        var login = await _client.LoginAsync();

        var response = await PostFormAsync("/oauth/revoke", ApiFixture.IntrospectOnly, ("token", login.RefreshToken));

        await response.AssertProblemAsync(403, "insufficient_scope");
        Assert.Equal(HttpStatusCode.OK, (await PostFormAsync("/oauth/introspect", ApiFixture.IntrospectOnly, ("token", login.AccessToken))).StatusCode);
        Assert.True((await IntrospectAsync(login.RefreshToken)).GetProperty("active").GetBoolean());
    }

    public static TheoryData<string> BadBodies() => ["no-token", "empty-token", "two-tokens", "100-kb-token", "json", "multipart", "no-body", "over-1-mb"];

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task A_bad_body_is_a_problem_never_a_500(string kind)
    {
        HttpContent? content = kind switch
        {
            "no-token" => new FormUrlEncodedContent([KeyValuePair.Create("token_type_hint", "access_token")]),
            "empty-token" => new FormUrlEncodedContent([KeyValuePair.Create("token", "")]),
            "two-tokens" => new FormUrlEncodedContent([KeyValuePair.Create("token", "a"), KeyValuePair.Create("token", "b")]),
            "100-kb-token" => new FormUrlEncodedContent([KeyValuePair.Create("token", new string('a', 100_000))]),
            "json" => new StringContent("""{"token":"x"}""", Encoding.UTF8, "application/json"),
            "multipart" => new MultipartFormDataContent { { new StringContent("x"), "token" } },
            "over-1-mb" => new FormUrlEncodedContent([KeyValuePair.Create("token", new string('a', 1_100_000))]),
            _ => null,
        };
        foreach (var path in new[] { "/oauth/introspect", "/oauth/revoke" })
        {
            var response = await PostAsync(path, ApiFixture.ResourceServer.Basic, content is null ? null : await CopyAsync(content));

            var expected = kind switch { "json" or "multipart" or "no-body" => 415, "over-1-mb" => 413, _ => 400 };
            await response.AssertProblemAsync(expected, "invalid_request");
        }
    }

    private static async Task<HttpContent> CopyAsync(HttpContent content)
    {
        var copy = new ByteArrayContent(await content.ReadAsByteArrayAsync());
        foreach (var header in content.Headers)
            copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        return copy;
    }

    [Fact]
    public async Task Failed_client_authentications_from_one_address_are_limited_and_others_are_not()
    {
        using var factory = await fixture.CreateServingFactoryAsync(s => s["Api:MaxFailedClientAuthentications"] = "3");
        using var guesser = factory.WithWebHostBuilder(web => web.ConfigureTestServices(s => s.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter, PeerFromHeader>()))
            .CreateClient();
        var wrong = new BackendClient(ApiFixture.ResourceServer.ClientId, ApiFixture.ResourceServer.Secret + "x").Basic;
        var login = await _client.LoginAsync();
        Task<HttpResponseMessage> Introspect(string peer, AuthenticationHeaderValue authorization)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/introspect")
            {
                Content = new FormUrlEncodedContent([KeyValuePair.Create("token", login.AccessToken)]),
            };
            request.Headers.Authorization = authorization;
            request.Headers.Add(PeerFromHeader.Header, peer);
            return guesser.SendAsync(request);
        }

        for (var i = 0; i < 3; i++)
            await (await Introspect("10.7.0.1", wrong)).AssertProblemAsync(401, "invalid_client");
        var locked = await Introspect("10.7.0.1", ApiFixture.ResourceServer.Basic);
        var elsewhere = await Introspect("10.7.0.2", ApiFixture.ResourceServer.Basic);

        await locked.AssertProblemAsync(429, "too_many_attempts");
        Assert.True(int.Parse(locked.Headers.RetryAfter!.ToString(), CultureInfo.InvariantCulture) > 0);
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
    }

    [Theory]
    [InlineData(null, null, "Api:Issuer or Api:PublicBaseUrl must be set")]
    [InlineData("http://auth.example.com", null, "Issuer must be an https URL")]
    [InlineData("https://auth.example.com/?x=1", null, "Issuer must be an https URL")]
    [InlineData("sessions", null, "Issuer must be an https URL")]
    public void Outside_development_the_api_refuses_to_start_without_an_issuer_url(string? issuer, string? publicBaseUrl, string message)
    {
        using var factory = fixture.CreateFactory(s => (s["Api:Issuer"], s["Api:PublicBaseUrl"]) = (issuer, publicBaseUrl));

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains(message, error.ToString());
    }

    [Theory]
    [InlineData("https://auth.example.com/sessions/", "https://auth.example.com/sessions")]
    [InlineData("http://127.0.0.1:5080", "http://127.0.0.1:5080")]
    public async Task Without_an_issuer_the_public_base_url_is_the_issuer(string publicBaseUrl, string issuer)
    {
        using var factory = await fixture.CreateServingFactoryAsync(s => (s["Api:Issuer"], s["Api:PublicBaseUrl"]) = (null, publicBaseUrl));
        using var client = factory.CreateClient();

        var document = await (await client.GetAsync("/.well-known/openid-configuration")).JsonAsync();
        var login = await client.LoginAsync();

        Assert.Equal(issuer, document.GetProperty("issuer").GetString());
        Assert.Equal($"{issuer}/.well-known/jwks.json", document.GetProperty("jwks_uri").GetString());
        Assert.Equal(issuer, Http.JwtPart(login.AccessToken, 1).GetProperty("iss").GetString());
    }

    [Theory]
    [InlineData("ClientId", "a:b", "is not a client id")]
    [InlineData("SecretHash", "the-secret-itself", "must be the lowercase hex SHA-256")]
    [InlineData("Scopes:0", "everything", "unknown scope \"everything\"")]
    public void A_misconfigured_client_stops_the_start_with_a_message(string key, string value, string message)
    {
        using var factory = fixture.CreateFactory(s => s[$"Api:Clients:0:{key}"] = value);

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains(message, error.ToString());
    }
}
