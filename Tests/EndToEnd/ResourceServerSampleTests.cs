using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Sessions.Tests.Api;
using Sessions.Tests.Infrastructure;

namespace Sessions.Tests.EndToEnd;

/// <summary>
/// The resource-server samples (samples/aspnet-api, samples/node-api) as a team would run them, against a real silo and
/// Api nodes: node 0 issues ordinary tokens, node 1 tokens that live a second, node 2 tokens for another audience.
/// The samples are told nothing but the issuer (and, for instant revocation, a backend client).
/// </summary>
public sealed class SampleCluster() : ProcessClusterTest(silos: 1, apis: 3)
{
    public static readonly BackendClient Introspector = new("sample-api", "sample-api-secret-0123456789-abcdefgh");
    /// <summary>Another backend, one that signs users out (a support tool, say).</summary>
    public static readonly BackendClient Revoker = new("support-tool", "support-tool-secret-0123456789-abcdef");
    private readonly int _samplePorts = FreePorts.Consecutive(3);

    public string AspNetUrl => $"http://127.0.0.1:{_samplePorts}";
    public string InstantAspNetUrl => $"http://127.0.0.1:{_samplePorts + 1}";
    public string NodeUrl => $"http://127.0.0.1:{_samplePorts + 2}";
    public HttpClient Sessions { get; private set; } = null!;
    public HttpClient ShortLived { get; private set; } = null!;
    public HttpClient OtherAudience { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        StartSilo(0);
        await WaitAsync(async () => await ActiveSilosAsync() == 1, "silo joined");
        var clients = new Dictionary<string, string>
        {
            ["Api__Clients__0__ClientId"] = Introspector.ClientId,
            ["Api__Clients__0__SecretHash"] = Introspector.SecretHash,
            ["Api__Clients__0__Scopes__0"] = "introspect",
            ["Api__Clients__1__ClientId"] = Revoker.ClientId,
            ["Api__Clients__1__SecretHash"] = Revoker.SecretHash,
            ["Api__Clients__1__Scopes__0"] = "revoke",
        };
        StartApi(0, clients);
        StartApi(1, new(clients) { ["Api__AccessTokenLifetime"] = "00:00:01" });
        StartApi(2, new(clients) { ["Api__Audience"] = "another-api" });
        (Sessions, ShortLived, OtherAudience) = (Client(ApiUrl(0)), Client(ApiUrl(1)), Client(ApiUrl(2)));
        foreach (var api in new[] { Sessions, ShortLived, OtherAudience })
            await WaitAsync(async () => await TryGetAsync(api, "/health/ready") == HttpStatusCode.OK, "Api ready");

        // A second of clock skew, so that a token of node 1 is expired for them two seconds after it was issued.
        var aspNet = new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Development", ["Sessions__Issuer"] = ApiUrl(0), ["Sessions__ClockSkew"] = "00:00:01" };
        var (folder, dll) = ServiceProcess.Built("samples/aspnet-api", "AspNetApi");
        Track(ServiceProcess.Start("dotnet", [dll, "--urls", AspNetUrl], folder, aspNet));
        Track(ServiceProcess.Start("dotnet", [dll, "--urls", InstantAspNetUrl], folder, new Dictionary<string, string>(aspNet)
        {
            ["Sessions__Introspection__ClientId"] = Introspector.ClientId,
            ["Sessions__Introspection__ClientSecret"] = Introspector.Secret,
        }));
        var node = Path.Combine(Repository.Root, "samples", "node-api");
        Track(ServiceProcess.Start("node", ["server.js"], node, new Dictionary<string, string>
        {
            ["SESSIONS_ISSUER"] = ApiUrl(0), ["CLOCK_TOLERANCE"] = "1", ["PORT"] = (_samplePorts + 2).ToString(CultureInfo.InvariantCulture),
        }));
        foreach (var sample in new[] { AspNetUrl, InstantAspNetUrl, NodeUrl })
        {
            using var client = Client(sample);
            await WaitAsync(async () => await TryGetAsync(client, "/hello") == HttpStatusCode.Unauthorized, $"{sample} answering");
        }
    }

    private static HttpClient Client(string url) => new() { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
}

[Layer(Layer.EndToEnd)]
public sealed class ResourceServerSampleTests(SampleCluster cluster) : IClassFixture<SampleCluster>
{
    private static async Task<HttpStatusCode> CallAsync(string sample, string path, string? accessToken)
    {
        using var http = new HttpClient { BaseAddress = new Uri(sample) };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accessToken is not null)
            request.Headers.Authorization = new("Bearer", accessToken);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private string Sample(string kind) => kind switch { "aspnet" => cluster.AspNetUrl, "aspnet-instant" => cluster.InstantAspNetUrl, _ => cluster.NodeUrl };

    [Theory]
    [InlineData("aspnet")]
    [InlineData("aspnet-instant")]
    [InlineData("node")]
    public async Task A_sample_configured_with_the_issuer_only_takes_sessions_tokens_and_refuses_every_other(string kind)
    {
        var sample = Sample(kind);
        var login = await cluster.Sessions.LoginAsync();
        var expiring = await cluster.ShortLived.LoginAsync();
        var foreignAudience = await cluster.OtherAudience.LoginAsync();

        using (var http = new HttpClient { BaseAddress = new Uri(sample) })
        {
            var hello = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/hello") { Headers = { Authorization = new("Bearer", login.AccessToken) } });
            Assert.Equal(HttpStatusCode.OK, hello.StatusCode);
            var body = await hello.JsonAsync();
            Assert.Equal(login.SessionId.ToString(), body.GetProperty("sessionId").GetString());
            Assert.Equal(["user"], body.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        }
        Assert.Equal(HttpStatusCode.Forbidden, await CallAsync(sample, "/admin", login.AccessToken));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(sample, "/hello", null));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(sample, "/hello", Tampered(login.AccessToken)));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(sample, "/hello", ForeignSigned(login.AccessToken)));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(sample, "/hello", foreignAudience.AccessToken));
        // One second of lifetime and one of skew: refused once both have passed.
        var exp = DateTimeOffset.FromUnixTimeSeconds(Claims(expiring.AccessToken).GetProperty("exp").GetInt64());
        var wait = exp + TimeSpan.FromSeconds(2.5) - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
            await Task.Delay(wait);
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(sample, "/hello", expiring.AccessToken));
    }

    [Theory]
    [InlineData("logout")]
    [InlineData("password-change")]
    [InlineData("revocation")]
    public async Task In_instant_revocation_mode_an_ended_session_is_refused_within_two_seconds(string ending)
    {
        var email = Http.NewEmail();
        var victim = await cluster.Sessions.LoginAsync(email: email);
        Assert.Equal(HttpStatusCode.OK, await CallAsync(cluster.InstantAspNetUrl, "/hello", victim.AccessToken));

        var ended = Stopwatch.StartNew();
        switch (ending)
        {
            case "logout":
                Assert.Equal(HttpStatusCode.NoContent, (await cluster.Sessions.PostJsonAsync("/auth/logout", new { refreshToken = victim.RefreshToken })).StatusCode);
                break;
            case "password-change":
            {
                var other = await cluster.Sessions.PostJsonAsync("/auth/login", new { email, password = TestSteps.Password, refreshTokenIn = "body" });
                var otherToken = (await other.JsonAsync()).GetProperty("accessToken").GetString()!;
                ended.Restart();
                var change = new HttpRequestMessage(HttpMethod.Post, "/auth/password")
                {
                    Content = System.Net.Http.Json.JsonContent.Create(new { currentPassword = TestSteps.Password, newPassword = "a new password 2" }),
                    Headers = { Authorization = new("Bearer", otherToken) },
                };
                Assert.Equal(HttpStatusCode.NoContent, (await cluster.Sessions.SendAsync(change)).StatusCode);
                break;
            }
            default:
            {
                var revoke = new HttpRequestMessage(HttpMethod.Post, "/oauth/revoke")
                {
                    Content = new FormUrlEncodedContent([KeyValuePair.Create("token", victim.RefreshToken)]),
                    Headers = { Authorization = SampleCluster.Revoker.Basic },
                };
                Assert.Equal(HttpStatusCode.OK, (await cluster.Sessions.SendAsync(revoke)).StatusCode);
                break;
            }
        }

        while (await CallAsync(cluster.InstantAspNetUrl, "/hello", victim.AccessToken) != HttpStatusCode.Unauthorized)
        {
            Assert.True(ended.Elapsed < TimeSpan.FromSeconds(2), "the sample still took the token 2 s after its session ended");
            await Task.Delay(100);
        }
        // Without introspection the signature alone decides, until the token expires.
        Assert.Equal(HttpStatusCode.OK, await CallAsync(cluster.AspNetUrl, "/hello", victim.AccessToken));
    }

    private static JsonElement Claims(string jwt) => JsonDocument.Parse(Base64Url.DecodeFromChars(jwt.Split('.')[1])).RootElement;

    private static string Tampered(string jwt)
    {
        var parts = jwt.Split('.');
        var payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1])).Replace("\"user\"", "\"admin\"", StringComparison.Ordinal);
        return $"{parts[0]}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload))}.{parts[2]}";
    }

    /// <summary>The same header and claims, signed by a key that is not Sessions' but named as if it were.</summary>
    private static string ForeignSigned(string jwt)
    {
        var kid = JsonDocument.Parse(Base64Url.DecodeFromChars(jwt.Split('.')[0])).RootElement.GetProperty("kid").GetString();
        var key = new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = kid };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(Claims(jwt).GetRawText(),
            new SigningCredentials(key, SecurityAlgorithms.EcdsaSha256), new Dictionary<string, object> { ["typ"] = "at+jwt" });
    }
}
