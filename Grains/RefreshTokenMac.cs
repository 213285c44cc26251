using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Sessions.Grains;

/// <summary>
/// Issues and verifies refresh tokens. The MAC key of a session is HMAC(pepper, session secret):
/// the database holds only the session secret, the configuration only the pepper, and neither
/// alone can mint a token. No token is ever stored.
/// </summary>
public sealed class RefreshTokenMac(IOptions<SessionOptions> options)
{
    public const int SessionSecretLength = 32;

    private readonly byte[] _pepper = DecodePepper(options.Value.RefreshTokenPepper)
        ?? throw new InvalidOperationException("Sessions:RefreshTokenPepper is missing or shorter than 32 bytes.");

    // Mailed tokens have a key of their own, derived from the pepper: no refresh-token MAC can pass for one.
    private readonly byte[] _emailKey = HMACSHA256.HashData(DecodePepper(options.Value.RefreshTokenPepper) ?? [], "email tokens"u8);

    public static byte[]? DecodePepper(string? base64) => ConfiguredSecret.Decode(base64, minBytes: 32);

    public static byte[] NewSessionSecret() => RandomNumberGenerator.GetBytes(SessionSecretLength);

    public byte[] DeriveKey(byte[] sessionSecret) => HMACSHA256.HashData(_pepper, sessionSecret);

    public static string Issue(byte[] key, Guid sessionId, long counter)
    {
        Span<byte> signed = stackalloc byte[RefreshToken.SignedLength];
        RefreshToken.WriteSignedPart(signed, sessionId, counter);
        Span<byte> mac = stackalloc byte[RefreshToken.MacLength];
        HMACSHA256.HashData(key, signed, mac);
        return RefreshToken.Format(signed, mac);
    }

    /// <summary>A new token to mail: only its SHA-256 is stored, by the user grain.</summary>
    public string IssueEmailToken(EmailTokenKind kind, Guid userId)
    {
        Span<byte> signed = stackalloc byte[EmailToken.SignedLength];
        EmailToken.WriteSignedPart(signed, kind, userId, RandomNumberGenerator.GetBytes(EmailToken.NonceLength));
        Span<byte> mac = stackalloc byte[EmailToken.MacLength];
        HMACSHA256.HashData(_emailKey, signed, mac);
        return EmailToken.Format(signed, mac);
    }

    /// <summary>Constant-time check that a mailed token was made here (it still has to be the one the user grain holds).</summary>
    public bool Verify(in EmailToken token)
    {
        Span<byte> signed = stackalloc byte[EmailToken.SignedLength];
        EmailToken.WriteSignedPart(signed, token.Kind, token.UserId, token.Nonce.Span);
        Span<byte> expected = stackalloc byte[EmailToken.MacLength];
        HMACSHA256.HashData(_emailKey, signed, expected);
        return CryptographicOperations.FixedTimeEquals(expected, token.Mac.Span);
    }

    /// <summary>Constant-time check that the token was issued under this key.</summary>
    public static bool Verify(byte[] key, in RefreshToken token)
    {
        Span<byte> signed = stackalloc byte[RefreshToken.SignedLength];
        RefreshToken.WriteSignedPart(signed, token.SessionId, token.Counter);
        Span<byte> expected = stackalloc byte[RefreshToken.MacLength];
        HMACSHA256.HashData(key, signed, expected);
        return CryptographicOperations.FixedTimeEquals(expected, token.Mac.Span);
    }
}
