using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Sessions.Tests.EndToEnd;

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
