using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Sessions.Api.Keys;

namespace Sessions.Tests.Api;

/// <summary>Access tokens as issued, and every forgery docs/http-api.md#access-token says must be a 401 at a protected endpoint.</summary>
[Layer(Layer.Api)]
[Collection(ApiCluster.Name)]
public sealed class AccessTokenTests(ApiFixture fixture)
{
    private readonly HttpClient _client = fixture.Client();

    [Fact]
    public async Task An_access_token_is_an_es256_at_jwt_with_every_claim_of_the_contract()
    {
        var login = await _client.LoginAsync();

        var header = Http.JwtPart(login.AccessToken, 0);
        var claims = Http.JwtPart(login.AccessToken, 1);
        Assert.Equal("ES256", header.GetProperty("alg").GetString());
        Assert.Equal("at+jwt", header.GetProperty("typ").GetString());
        var jwks = await (await _client.GetAsync("/.well-known/jwks.json")).JsonAsync();
        Assert.Contains(jwks.GetProperty("keys").EnumerateArray(), k => k.GetProperty("kid").GetString() == header.GetProperty("kid").GetString());
        Assert.Equal(ApiFixture.Issuer, claims.GetProperty("iss").GetString());
        Assert.Equal("sessions", claims.GetProperty("client_id").GetString());
        Assert.False(claims.GetProperty("email_verified").GetBoolean());
        Assert.Equal("sessions-api", claims.GetProperty("aud").GetString());
        Assert.Equal(login.SessionId.ToString(), claims.GetProperty("sid").GetString());
        Assert.True(Guid.TryParse(claims.GetProperty("sub").GetString(), out _));
        Assert.Equal(login.Email, claims.GetProperty("email").GetString());
        Assert.Equal(["user"], claims.GetProperty("role").EnumerateArray().Select(r => r.GetString()));
        Assert.False(string.IsNullOrEmpty(claims.GetProperty("jti").GetString()));
        var iat = claims.GetProperty("iat").GetInt64();
        Assert.Equal(iat, claims.GetProperty("nbf").GetInt64());
        Assert.Equal(iat + 900, claims.GetProperty("exp").GetInt64());
    }

    [Fact]
    public async Task Me_answers_who_the_token_says()
    {
        var login = await _client.LoginAsync();

        var me = await (await _client.SendAsync(HttpMethod.Get, "/me", login.AccessToken)).JsonAsync();

        Assert.Equal(login.Email, me.GetProperty("email").GetString());
        Assert.False(me.GetProperty("emailVerified").GetBoolean());
        Assert.Equal(login.SessionId, me.GetProperty("sessionId").GetGuid());
        Assert.Equal(["user"], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(Http.JwtPart(login.AccessToken, 1).GetProperty("sub").GetString(), me.GetProperty("userId").GetGuid().ToString());
    }

    public static TheoryData<string> Forgeries() => ["none", "hs256-public-key", "es384-real-key", "payload-changed", "unknown-kid", "wrong-audience",
        "wrong-issuer", "wrong-typ", "no-exp", "garbage", "empty"];

    [Theory]
    [MemberData(nameof(Forgeries))]
    public async Task A_forged_or_foreign_token_is_401_with_www_authenticate(string forgery)
    {
        var login = await _client.LoginAsync();
        var token = Forge(fixture, forgery, login.AccessToken);

        var response = await _client.SendAsync(HttpMethod.Get, "/me", token);

        await response.AssertProblemAsync(401, "invalid_token");
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task No_token_is_401_with_www_authenticate_bearer()
    {
        foreach (var (method, path) in new[] { (HttpMethod.Get, "/me"), (HttpMethod.Get, "/auth/sessions"), (HttpMethod.Delete, $"/auth/sessions/{Guid.NewGuid()}"), (HttpMethod.Post, "/auth/logout-all") })
        {
            var response = await _client.SendAsync(method, path);
            await response.AssertProblemAsync(401, "invalid_token");
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        }
    }

    [Fact]
    public async Task An_expired_token_is_401()
    {
        var login = await _client.LoginAsync();
        fixture.Clock.Advance(TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(31));

        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.SendAsync(HttpMethod.Get, "/me", login.AccessToken)).StatusCode);
    }

    [Fact]
    public async Task A_token_of_a_revoked_session_is_401_at_once()
    {
        var login = await _client.LoginAsync();
        await _client.PostJsonAsync("/auth/logout", new { refreshToken = login.RefreshToken });

        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.SendAsync(HttpMethod.Get, "/me", login.AccessToken)).StatusCode);
    }

    [Fact]
    public async Task The_session_list_marks_the_current_session_and_one_can_be_revoked()
    {
        var login = await _client.LoginAsync();
        var other = await (await _client.PostJsonAsync("/auth/login", new { login.Email, password = TestSteps.Password, refreshTokenIn = "body" })).JsonAsync();
        var otherId = other.GetProperty("sessionId").GetGuid();

        var list = await (await _client.SendAsync(HttpMethod.Get, "/auth/sessions", login.AccessToken)).JsonAsync();

        Assert.Equal(2, list.GetArrayLength());
        var current = Assert.Single(list.EnumerateArray(), s => s.GetProperty("current").GetBoolean());
        Assert.Equal(login.SessionId, current.GetProperty("sessionId").GetGuid());
        foreach (var field in new[] { "createdAt", "lastRefreshedAt", "expiresAt", "userAgent", "ipAddress" })
            Assert.True(current.TryGetProperty(field, out _), field);

        Assert.Equal(HttpStatusCode.NoContent, (await _client.SendAsync(HttpMethod.Delete, $"/auth/sessions/{otherId}", login.AccessToken)).StatusCode);
        Assert.Equal(1, (await (await _client.SendAsync(HttpMethod.Get, "/auth/sessions", login.AccessToken)).JsonAsync()).GetArrayLength());
        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.SendAsync(HttpMethod.Get, "/me", other.GetProperty("accessToken").GetString())).StatusCode);
    }

    [Fact]
    public async Task Revoking_a_session_that_is_not_the_callers_is_404_not_found()
    {
        var mine = await _client.LoginAsync();
        var theirs = await _client.LoginAsync();

        await (await _client.SendAsync(HttpMethod.Delete, $"/auth/sessions/{theirs.SessionId}", mine.AccessToken)).AssertProblemAsync(404, "not_found");
        await (await _client.SendAsync(HttpMethod.Delete, "/auth/sessions/not-a-guid", mine.AccessToken)).AssertProblemAsync(404, "not_found");
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(HttpMethod.Get, "/me", theirs.AccessToken)).StatusCode);
    }

    [Fact]
    public async Task Jwks_has_public_ec_keys_only()
    {
        var body = await (await _client.GetAsync("/.well-known/jwks.json")).Content.ReadAsStringAsync();

        var keys = JsonDocument.Parse(body).RootElement.GetProperty("keys").EnumerateArray().ToList();
        Assert.NotEmpty(keys);
        Assert.All(keys, k =>
        {
            Assert.Equal(["alg", "crv", "kid", "kty", "use", "x", "y"], k.EnumerateObject().Select(p => p.Name).Order());
            Assert.Equal("EC", k.GetProperty("kty").GetString());
        });
    }

    [Fact]
    public async Task Health_and_openapi_answer()
    {
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/health/live")).StatusCode);
        var ready = await _client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(["cluster", "database", "signing-keys"], (await ready.JsonAsync()).GetProperty("checks").EnumerateObject().Select(c => c.Name).Order());
        var openApi = await (await _client.GetAsync("/openapi/v1.json")).JsonAsync();
        Assert.Equal("Sessions HTTP API", openApi.GetProperty("info").GetProperty("title").GetString());
        var paths = openApi.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        foreach (var path in new[] { "/auth/register", "/auth/login", "/auth/refresh", "/auth/logout", "/auth/logout-all", "/auth/sessions", "/auth/sessions/{sessionId}", "/me", "/.well-known/jwks.json", "/health/live", "/health/ready" })
            Assert.Contains(path, paths);
    }

    [Fact]
    public async Task In_development_the_api_reference_page_is_titled_for_the_service()
    {
        await using var factory = fixture.CreateFactory(configure: web => web.UseEnvironment("Development"));
        using var client = factory.CreateClient();

        var page = await (await client.GetAsync("/scalar")).Content.ReadAsStringAsync();

        Assert.Contains("<title>Sessions HTTP API</title>", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_openapi_document_names_the_public_base_url_as_its_server_never_the_host_a_client_sends()
    {
        static async Task<string[]> ServersAsync(HttpClient client)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json") { Headers = { Host = "evil.example" } };
            var document = await (await client.SendAsync(request)).JsonAsync();
            return document.TryGetProperty("servers", out var servers) ? [.. servers.EnumerateArray().Select(s => s.GetProperty("url").GetString()!)] : [];
        }
        await using var configured = fixture.CreateFactory(s => s["Api:PublicBaseUrl"] = "https://auth.example.com/sessions/");
        using var configuredClient = configured.CreateClient();

        Assert.Empty(await ServersAsync(_client));
        Assert.Equal(["https://auth.example.com/sessions"], await ServersAsync(configuredClient));
    }

    [Fact]
    public async Task Readiness_is_503_and_names_what_is_missing_when_the_database_is_unreachable()
    {
        await using var factory = fixture.CreateFactory(s => s["ConnectionStrings:Sessions"] = "Host=127.0.0.1;Port=1;Username=nobody;Database=none;Timeout=1");
        using var client = factory.CreateClient();

        var ready = await client.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("PostgreSQL did not answer.", (await ready.JsonAsync()).GetProperty("checks").GetProperty("database").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
    }

    /// <summary>A token made from <paramref name="genuine"/> that no verifier of ours may accept.</summary>
    internal static string Forge(ApiFixture fixture, string forgery, string genuine)
    {
        var parts = genuine.Split('.');
        var claims = Http.JwtPart(genuine, 1);
        var keys = fixture.Factory.Services.GetRequiredService<SigningKeys>();
        string Sign(Action<Dictionary<string, object>> change, string typ = "at+jwt", SigningCredentials? credentials = null)
        {
            var payload = JsonSerializer.Deserialize<Dictionary<string, object>>(claims.GetRawText())!;
            change(payload);
            return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(
                JsonSerializer.Serialize(payload), credentials ?? keys.Current()!, new Dictionary<string, object> { ["typ"] = typ });
        }
        static string B64(string json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));

        switch (forgery)
        {
            case "none":
                return $"{B64("""{"alg":"none","typ":"at+jwt"}""")}.{parts[1]}.";
            case "hs256-public-key":
            {
                // Algorithm confusion: an HMAC "signed" with the public key the server publishes.
                var header = Http.JwtPart(genuine, 0);
                var jwk = JsonDocument.Parse(keys.Jwks).RootElement.GetProperty("keys").EnumerateArray()
                    .First(k => k.GetProperty("kid").GetString() == header.GetProperty("kid").GetString());
                var signingInput = $"{B64($$"""{"alg":"HS256","typ":"at+jwt","kid":"{{header.GetProperty("kid").GetString()}}"}""")}.{parts[1]}";
                var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(jwk.GetRawText()), Encoding.ASCII.GetBytes(signingInput));
                return $"{signingInput}.{Base64Url.EncodeToString(mac)}";
            }
            case "es384-real-key":
                // Signed with the genuine key but another algorithm: only the ES256 pin refuses it.
                return Sign(_ => { }, credentials: new SigningCredentials(keys.Current()!.Key, SecurityAlgorithms.EcdsaSha384));
            case "payload-changed":
                return $"{parts[0]}.{B64(claims.GetRawText().Replace("\"user\"", "\"admin\""))}.{parts[2]}";
            case "unknown-kid":
                return Sign(_ => { }, credentials: new SigningCredentials(
                    new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "made-up" }, SecurityAlgorithms.EcdsaSha256));
            case "wrong-audience":
                return Sign(p => p["aud"] = "someone-else");
            case "wrong-issuer":
                return Sign(p => p["iss"] = "https://evil.example");
            case "wrong-typ":
                return Sign(_ => { }, typ: "JWT");
            case "no-exp":
                return Sign(p => p.Remove("exp"));
            case "garbage":
                return "not.a.jwt";
            default:
                return "";
        }
    }
}
