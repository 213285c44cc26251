using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sessions.Api;
using Sessions.Api.Keys;

namespace Sessions.Tests.Api;

[Layer(Layer.Api)]
[Collection(ApiCluster.Name)]
public sealed class SigningKeyRotationTests(ApiFixture fixture)
{
    private readonly HttpClient _client = fixture.Client();

    private SigningKeys Keys => fixture.Factory.Services.GetRequiredService<SigningKeys>();
    private ApiOptions Options => fixture.Factory.Services.GetRequiredService<IOptions<ApiOptions>>().Value;

    private static string KeyIdOf(string jwt) =>
        JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(jwt.Split('.')[0])).RootElement.GetProperty("kid").GetString()!;

    private async Task<string[]> PublishedKeyIdsAsync() =>
        [.. (await (await _client.GetAsync("/.well-known/jwks.json")).JsonAsync()).GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()!)];

    [Fact]
    public async Task A_new_key_is_published_before_it_signs_and_the_old_one_stays_until_its_tokens_expire()
    {
        await Keys.RefreshAsync();
        var ring = await fixture.Grains.GetGrain<ISigningKeyRingGrain>(0).GetAsync();
        var signing = ring.Keys.MaxBy(k => k.NotBefore)!;
        // Move to when the successor is due to be published.
        fixture.Clock.Advance(signing.NotBefore + Options.SigningKeyLifetime - Options.SigningKeyPublishLead - fixture.Clock.GetUtcNow() + TimeSpan.FromSeconds(1));
        await Keys.RefreshAsync();

        var published = await PublishedKeyIdsAsync();
        var next = (await fixture.Grains.GetGrain<ISigningKeyRingGrain>(0).GetAsync()).Keys.MaxBy(k => k.NotBefore)!;
        Assert.NotEqual(signing.KeyId, next.KeyId);
        Assert.Contains(next.KeyId, published);
        Assert.Equal(signing.KeyId, KeyIdOf((await _client.LoginAsync()).AccessToken)); // published, not yet signing

        fixture.Clock.Advance(next.NotBefore - fixture.Clock.GetUtcNow() - TimeSpan.FromMinutes(1));
        var beforeSwitch = await _client.LoginAsync();
        Assert.Equal(signing.KeyId, KeyIdOf(beforeSwitch.AccessToken));
        fixture.Clock.Advance(TimeSpan.FromMinutes(1));
        await Keys.RefreshAsync();
        var afterSwitch = await _client.LoginAsync();
        Assert.Equal(next.KeyId, KeyIdOf(afterSwitch.AccessToken));
        // A token signed before the rotation still works until it expires, with the old key still published.
        fixture.Clock.Advance(TimeSpan.FromMinutes(5));
        await Keys.RefreshAsync();
        Assert.Contains(signing.KeyId, await PublishedKeyIdsAsync());
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(HttpMethod.Get, "/me", beforeSwitch.AccessToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(HttpMethod.Get, "/me", afterSwitch.AccessToken)).StatusCode);

        // Once every token of the old key has expired, the old key leaves the ring.
        fixture.Clock.Advance(Options.AccessTokenLifetime + Options.ClockSkew + TimeSpan.FromSeconds(1));
        await Keys.RefreshAsync();
        Assert.Equal([next.KeyId], await PublishedKeyIdsAsync());
    }

    [Fact]
    public async Task A_node_that_cannot_sign_refuses_before_rotating_so_the_retry_after_the_grace_window_is_not_reuse()
    {
        await Keys.RefreshAsync(); // nothing falls due while the keyless node reads the ring
        var login = await _client.LoginAsync();
        // A node whose key-encryption key does not open the ring: it reads the ring and never holds a signing key.
        await using var keyless = fixture.CreateFactory(settings => settings["Api:KeyEncryptionKey"] = Convert.ToBase64String(new byte[32]));
        using var keylessClient = keyless.CreateClient(new() { HandleCookies = false });
        await Assert.ThrowsAnyAsync<CryptographicException>(() => keyless.Services.GetRequiredService<SigningKeys>().RefreshAsync());

        await (await keylessClient.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken })).AssertProblemAsync(503, "unavailable");
        await (await keylessClient.PostJsonAsync("/auth/login", new { email = login.Email, password = TestSteps.Password })).AssertProblemAsync(503, "unavailable");

        // The client retries after the grace window: its token was never rotated, so this is rule 1, not reuse.
        fixture.Clock.Advance(ClusterFixture.GraceWindow + TimeSpan.FromSeconds(1));
        var retried = await _client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken });
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.NotEqual(login.RefreshToken, (await retried.JsonAsync()).GetProperty("refreshToken").GetString());
    }

    [Fact]
    public async Task Private_keys_are_stored_encrypted_under_the_key_encryption_key()
    {
        await Keys.RefreshAsync();
        var stored = (await fixture.Grains.GetGrain<ISigningKeyRingGrain>(0).GetAsync()).Keys;
        var credentials = Keys.Current()!;
        var key = stored.Single(k => k.KeyId == credentials.Key.KeyId);
        var d = ((Microsoft.IdentityModel.Tokens.ECDsaSecurityKey)credentials.Key).ECDsa.ExportParameters(includePrivateParameters: true).D!;

        Assert.Equal(-1, key.EncryptedPrivateKey.AsSpan().IndexOf(d));
        var otherKek = new KeyEncryption(Microsoft.Extensions.Options.Options.Create(new ApiOptions { KeyEncryptionKey = Convert.ToBase64String(new byte[32]) }));
        Assert.ThrowsAny<CryptographicException>(() => otherKek.Decrypt(key.EncryptedPrivateKey, key.KeyId));
        var rightKek = new KeyEncryption(Microsoft.Extensions.Options.Options.Create(new ApiOptions { KeyEncryptionKey = ApiFixture.KeyEncryptionKey }));
        Assert.Equal(d, rightKek.Decrypt(key.EncryptedPrivateKey, key.KeyId));
        Assert.ThrowsAny<CryptographicException>(() => rightKek.Decrypt(key.EncryptedPrivateKey, "another-key-id"));
    }

    [Fact]
    public void Outside_development_the_api_refuses_to_start_without_a_key_encryption_key()
    {
        using var factory = fixture.CreateFactory(s => s["Api:KeyEncryptionKey"] = null);

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("Api:KeyEncryptionKey must be 32 random bytes", error.ToString());
    }
}
