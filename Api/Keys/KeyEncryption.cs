using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Sessions.Api.Keys;

/// <summary>AES-256-GCM under the key-encryption key: how signing keys' private parts are kept in the key ring.</summary>
public sealed class KeyEncryption(IOptions<ApiOptions> options)
{
    private const int NonceLength = 12, TagLength = 16;
    private readonly byte[] _key = TryDecode(options.Value.KeyEncryptionKey)
        ?? throw new InvalidOperationException("Api:KeyEncryptionKey is missing or not 32 bytes of base64.");

    public static byte[]? TryDecode(string? base64) => ConfiguredSecret.Decode(base64, minBytes: 32, maxBytes: 32);

    /// <summary>nonce ‖ ciphertext ‖ tag; the key id is authenticated, so a blob cannot be moved to another key.</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> secret, string keyId)
    {
        var blob = new byte[NonceLength + secret.Length + TagLength];
        var nonce = blob.AsSpan(0, NonceLength);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagLength);
        aes.Encrypt(nonce, secret, blob.AsSpan(NonceLength, secret.Length), blob.AsSpan(NonceLength + secret.Length), Encoding.UTF8.GetBytes(keyId));
        return blob;
    }

    public byte[] Decrypt(byte[] blob, string keyId)
    {
        var secret = new byte[blob.Length - NonceLength - TagLength];
        using var aes = new AesGcm(_key, TagLength);
        aes.Decrypt(blob.AsSpan(0, NonceLength), blob.AsSpan(NonceLength, secret.Length), blob.AsSpan(NonceLength + secret.Length), secret, Encoding.UTF8.GetBytes(keyId));
        return secret;
    }

    /// <summary>Development only: a key generated once and kept in the user's local data folder.</summary>
    public static string DevelopmentKey()
    {
        var path = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create),
            "sessions", "development-key-encryption-key");
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return File.ReadAllText(path).Trim();
    }
}
