using System.Buffers;
using System.Globalization;
using System.Text;

namespace Sessions;

/// <summary>Text from clients that people will read: in a session list, in a log, on a terminal.</summary>
public static class UnicodeText
{
    /// <summary>
    /// Characters a reader does not see but that change what is shown: controls (terminal escapes, NUL),
    /// format characters (zero-width, bidirectional overrides, tags), line and paragraph separators.
    /// </summary>
    public static bool IsHidden(Rune rune) => Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control
        or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    /// <summary>
    /// <paramref name="text"/> cut to <paramref name="maxLength"/> with its hidden characters and broken
    /// surrogates removed, or null when nothing is left. Text with nothing to remove comes back as it is.
    /// </summary>
    public static string? WithoutHidden(string? text, int maxLength)
    {
        if (string.IsNullOrEmpty(text))
            return null;
        var rest = text.AsSpan(0, Math.Min(text.Length, maxLength));
        Span<char> kept = rest.Length <= 1024 ? stackalloc char[rest.Length] : new char[rest.Length];
        var length = 0;
        while (!rest.IsEmpty)
        {
            var whole = Rune.DecodeFromUtf16(rest, out var rune, out var consumed) == OperationStatus.Done;
            if (whole && !IsHidden(rune))
            {
                rest[..consumed].CopyTo(kept[length..]);
                length += consumed;
            }
            rest = rest[consumed..];
        }
        return length == text.Length ? text : length == 0 ? null : new string(kept[..length]);
    }
}
