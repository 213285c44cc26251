using System.Buffers.Binary;
using System.Buffers.Text;

namespace Sessions;

/// <summary>
/// The wire form of a refresh token: base64url(version ‖ sessionId ‖ counter ‖ mac).
/// The session id makes a token routable to its session grain without a lookup; only the
/// grain can check the MAC, so parsing proves nothing about authenticity.
/// </summary>
public readonly record struct RefreshToken(Guid SessionId, long Counter, ReadOnlyMemory<byte> Mac)
{
    public const byte FormatVersion = 1;
    public const int MacLength = 32;
    public const int SignedLength = 1 + 16 + 8;
    public const int ByteLength = SignedLength + MacLength;
    public static readonly int TextLength = Base64Url.GetEncodedLength(ByteLength);

    /// <summary>Parses the shape of a token; false for anything that is not one.</summary>
    public static bool TryParse(string? text, out RefreshToken token)
    {
        token = default;
        if (text is null || text.Length != TextLength)
            return false;
        Span<byte> bytes = stackalloc byte[ByteLength];
        // The OperationStatus overload: TryDecodeFromChars throws on characters outside the alphabet.
        if (Base64Url.DecodeFromChars(text, bytes, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != ByteLength || bytes[0] != FormatVersion)
            return false;
        var counter = BinaryPrimitives.ReadInt64BigEndian(bytes[17..SignedLength]);
        if (counter < 0)
            return false;
        token = new RefreshToken(new Guid(bytes[1..17], bigEndian: true), counter, bytes[SignedLength..].ToArray());
        return true;
    }

    /// <summary>Writes the signed prefix (version ‖ sessionId ‖ counter) that the MAC covers.</summary>
    public static void WriteSignedPart(Span<byte> destination, Guid sessionId, long counter)
    {
        destination[0] = FormatVersion;
        sessionId.TryWriteBytes(destination[1..17], bigEndian: true, out _);
        BinaryPrimitives.WriteInt64BigEndian(destination[17..SignedLength], counter);
    }

    public static string Format(ReadOnlySpan<byte> signedPart, ReadOnlySpan<byte> mac)
    {
        Span<byte> bytes = stackalloc byte[ByteLength];
        signedPart.CopyTo(bytes);
        mac.CopyTo(bytes[SignedLength..]);
        return Base64Url.EncodeToString(bytes);
    }
}
