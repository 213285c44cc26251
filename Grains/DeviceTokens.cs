using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Sessions.Grains;

/// <summary>
/// Device tokens (docs/http-api.md#known-devices-and-tighter-limits): base64url(version ‖ user id ‖ device id ‖
/// HMAC-SHA256), MAC'd like refresh tokens under a key derived from the refresh-token pepper. Nothing is stored: the
/// MAC proves the token was issued by a successful login of that user, and its device id names the failure count
/// the device is judged by.
/// </summary>
public sealed class DeviceTokens(IOptions<SessionOptions> options)
{
    private const byte FormatVersion = 1;
    private const int SignedLength = 1 + 16 + 16;
    private const int MacLength = 32;
    private const int ByteLength = SignedLength + MacLength;
    private static readonly int TextLength = Base64Url.GetEncodedLength(ByteLength);

    // Its own key, so that no device token can pass for anything else signed under the pepper.
    private readonly byte[] _key = HMACSHA256.HashData(
        RefreshTokenMac.DecodePepper(options.Value.RefreshTokenPepper)
            ?? throw new InvalidOperationException("Sessions:RefreshTokenPepper is missing or shorter than 32 bytes."),
        Encoding.ASCII.GetBytes("sessions device token v1"));

    public string Issue(Guid userId, Guid deviceId)
    {
        Span<byte> bytes = stackalloc byte[ByteLength];
        WriteSignedPart(bytes, userId, deviceId);
        HMACSHA256.HashData(_key, bytes[..SignedLength], bytes[SignedLength..]);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>The device a token names when it is a valid device token of <paramref name="userId"/>; null for anything else.</summary>
    public Guid? DeviceOf(string? token, Guid userId)
    {
        if (token is null || token.Length != TextLength)
            return null;
        Span<byte> bytes = stackalloc byte[ByteLength];
        if (Base64Url.DecodeFromChars(token, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != ByteLength
            || bytes[0] != FormatVersion)
            return null;
        var deviceId = new Guid(bytes[17..SignedLength], bigEndian: true);
        Span<byte> expected = stackalloc byte[ByteLength];
        WriteSignedPart(expected, userId, deviceId);
        HMACSHA256.HashData(_key, expected[..SignedLength], expected[SignedLength..]);
        return CryptographicOperations.FixedTimeEquals(expected, bytes) ? deviceId : null;
    }

    private static void WriteSignedPart(Span<byte> destination, Guid userId, Guid deviceId)
    {
        destination[0] = FormatVersion;
        userId.TryWriteBytes(destination[1..17], bigEndian: true, out _);
        deviceId.TryWriteBytes(destination[17..SignedLength], bigEndian: true, out _);
    }
}
