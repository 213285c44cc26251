using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Sessions.Grains;

namespace Sessions.Tests;

/// <summary>The token format and its MAC, without a cluster.</summary>
[Layer(Layer.Unit)]
public sealed class RefreshTokenTests
{
    private static readonly byte[] SessionSecret = RefreshTokenMac.NewSessionSecret();

    private static RefreshTokenMac Mac(byte fill) =>
        new(Options.Create(new SessionOptions { RefreshTokenPepper = Convert.ToBase64String(Enumerable.Repeat(fill, 32).ToArray()) }));

    [Fact]
    public void A_token_carries_its_session_and_counter_and_verifies_under_its_key()
    {
        var sessionId = Guid.NewGuid();
        var key = Mac(1).DeriveKey(SessionSecret);

        var text = RefreshTokenMac.Issue(key, sessionId, 42);

        Assert.True(RefreshToken.TryParse(text, out var token));
        Assert.Equal(sessionId, token.SessionId);
        Assert.Equal(42, token.Counter);
        Assert.True(RefreshTokenMac.Verify(key, token));
        Assert.DoesNotContain('=', text);
        Assert.True(text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'), "base64url, safe in cookies and JSON");
    }

    [Fact]
    public void The_database_secret_alone_cannot_mint_a_token_without_the_server_pepper()
    {
        var sessionId = Guid.NewGuid();
        var genuine = RefreshTokenMac.Issue(Mac(1).DeriveKey(SessionSecret), sessionId, 0);
        var forged = RefreshTokenMac.Issue(Mac(2).DeriveKey(SessionSecret), sessionId, 0);

        Assert.NotEqual(genuine, forged);
        Assert.True(RefreshToken.TryParse(forged, out var token));
        Assert.False(RefreshTokenMac.Verify(Mac(1).DeriveKey(SessionSecret), token));
    }

    [Fact]
    public void The_mac_has_256_bits_from_a_fresh_256_bit_secret_per_session()
    {
        Assert.Equal(32, RefreshToken.MacLength);
        Assert.Equal(32, SessionSecret.Length);
        Assert.NotEqual(SessionSecret, RefreshTokenMac.NewSessionSecret());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not a token")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // right length, version 0
    [InlineData("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!")] // right length, not base64url
    [InlineData("AQAAAAAAAAAAAAAAAAAAAAD__________wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // version 1, counter -1
    public void Malformed_text_is_not_a_token(string? text) => Assert.False(RefreshToken.TryParse(text, out _));

    [Fact]
    public void A_pepper_shorter_than_32_bytes_is_refused_with_a_message_that_says_what_to_do()
    {
        var result = new SessionOptionsValidator().Validate(null, new SessionOptions { RefreshTokenPepper = Convert.ToBase64String(new byte[16]) });

        Assert.True(result.Failed);
        Assert.Contains("RefreshTokenPepper", result.FailureMessage);
        Assert.Contains("openssl rand -base64 32", result.FailureMessage);
    }

    [Fact]
    public void The_session_collection_age_reaches_orleans_and_must_be_longer_than_its_collection_round()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sessions:SessionCollectionAge"] = "00:25:00",
            ["Sessions:RefreshTokenPepper"] = Convert.ToBase64String(new byte[32]),
        }).Build();
        using var services = new ServiceCollection().AddSessionGrains(configuration).BuildServiceProvider();

        var ages = services.GetRequiredService<IOptions<GrainCollectionOptions>>().Value.ClassSpecificCollectionAge;
        Assert.Equal(TimeSpan.FromMinutes(25), ages[typeof(SessionGrain).FullName!]);

        var result = new SessionOptionsValidator().Validate(null, new SessionOptions
        {
            RefreshTokenPepper = Convert.ToBase64String(new byte[32]),
            SessionCollectionAge = TimeSpan.FromMinutes(1),
        });
        Assert.True(result.Failed);
        Assert.Contains("SessionCollectionAge", result.FailureMessage);
    }
}
