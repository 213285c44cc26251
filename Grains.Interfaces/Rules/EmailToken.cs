using System.Buffers.Text;

namespace Sessions;

/// <summary>The two kinds of token sent by mail; the byte is part of the token, so one kind never passes for the other.</summary>
[GenerateSerializer, Alias("Sessions.EmailTokenKind")]
public enum EmailTokenKind : byte { Verification = 1, PasswordReset = 2 }

/// <summary>
/// The wire form of a token sent by mail: base64url(version ‖ kind ‖ userId ‖ nonce ‖ mac). Like a refresh token, it
/// routes to its user grain without a lookup, and only that grain can tell it is genuine: it checks the MAC and the
/// hash of the one token of that kind it last mailed.
/// </summary>
public readonly record struct EmailToken(EmailTokenKind Kind, Guid UserId, ReadOnlyMemory<byte> Nonce, ReadOnlyMemory<byte> Mac)
{
    public const byte FormatVersion = 1;
    public const int NonceLength = 16, MacLength = 32;
    public const int SignedLength = 1 + 1 + 16 + NonceLength;
    public const int ByteLength = SignedLength + MacLength;
    public static readonly int TextLength = Base64Url.GetEncodedLength(ByteLength);

    public static bool TryParse(string? text, out EmailToken token)
    {
        token = default;
        if (text is null || text.Length != TextLength)
            return false;
        Span<byte> bytes = stackalloc byte[ByteLength];
        if (Base64Url.DecodeFromChars(text, bytes, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != ByteLength || bytes[0] != FormatVersion || bytes[1] is not ((byte)EmailTokenKind.Verification or (byte)EmailTokenKind.PasswordReset))
            return false;
        token = new EmailToken((EmailTokenKind)bytes[1], new Guid(bytes[2..18], bigEndian: true), bytes[18..SignedLength].ToArray(), bytes[SignedLength..].ToArray());
        return true;
    }

    public static void WriteSignedPart(Span<byte> destination, EmailTokenKind kind, Guid userId, ReadOnlySpan<byte> nonce)
    {
        destination[0] = FormatVersion;
        destination[1] = (byte)kind;
        userId.TryWriteBytes(destination[2..18], bigEndian: true, out _);
        nonce.CopyTo(destination[18..SignedLength]);
    }

    public static string Format(ReadOnlySpan<byte> signedPart, ReadOnlySpan<byte> mac)
    {
        Span<byte> bytes = stackalloc byte[ByteLength];
        signedPart.CopyTo(bytes);
        mac.CopyTo(bytes[SignedLength..]);
        return Base64Url.EncodeToString(bytes);
    }
}
