using System.Text;

namespace Sessions;

/// <summary>
/// The Unicode script of letters, for the mixed-script rule of UTS #39 ("Highly Restrictive"): one part of an email
/// (the local part, or one label of the domain) is written in a single script, or in one of the combinations that
/// Japanese, Chinese and Korean text needs beside Latin. That refuses "pаypal" with a Cyrillic "а"; it does not catch a
/// whole word in another script that merely looks Latin ("рау", all Cyrillic), which needs UTS #39's confusable data.
/// Only letters carry a script here: digits, punctuation and combining marks are Common or Inherited.
/// </summary>
public static class UnicodeScripts
{
    private enum Script : byte
    {
        Latin = 1, Greek, Coptic, Cyrillic, Armenian, Hebrew, Arabic, Syriac, Thaana, Nko, Devanagari, Bengali, Gurmukhi,
        Gujarati, Oriya, Tamil, Telugu, Kannada, Malayalam, Sinhala, Thai, Lao, Tibetan, Myanmar, Georgian, Hangul,
        Ethiopic, Cherokee, CanadianAboriginal, Ogham, Runic, Khmer, Mongolian, Hiragana, Katakana, Bopomofo, Han, Yi,
        Vai, Tifinagh, Javanese, Balinese, Sundanese,
    }

    // Sorted, non-overlapping ranges of the scripts above (the Scripts.txt ranges of their letters, in blocks).
    private static readonly (int First, int Last, Script Script)[] Ranges =
    [
        (0x0041, 0x005A, Script.Latin), (0x0061, 0x007A, Script.Latin), (0x00AA, 0x00AA, Script.Latin), (0x00BA, 0x00BA, Script.Latin),
        (0x00C0, 0x00D6, Script.Latin), (0x00D8, 0x00F6, Script.Latin), (0x00F8, 0x02AF, Script.Latin),
        (0x0370, 0x03E1, Script.Greek), (0x03E2, 0x03EF, Script.Coptic), (0x03F0, 0x03FF, Script.Greek),
        (0x0400, 0x052F, Script.Cyrillic), (0x0531, 0x058F, Script.Armenian), (0x0591, 0x05FF, Script.Hebrew),
        (0x0600, 0x06FF, Script.Arabic), (0x0700, 0x074F, Script.Syriac), (0x0750, 0x077F, Script.Arabic),
        (0x0780, 0x07BF, Script.Thaana), (0x07C0, 0x07FF, Script.Nko), (0x0870, 0x08FF, Script.Arabic),
        (0x0900, 0x097F, Script.Devanagari), (0x0980, 0x09FF, Script.Bengali), (0x0A00, 0x0A7F, Script.Gurmukhi),
        (0x0A80, 0x0AFF, Script.Gujarati), (0x0B00, 0x0B7F, Script.Oriya), (0x0B80, 0x0BFF, Script.Tamil),
        (0x0C00, 0x0C7F, Script.Telugu), (0x0C80, 0x0CFF, Script.Kannada), (0x0D00, 0x0D7F, Script.Malayalam),
        (0x0D80, 0x0DFF, Script.Sinhala), (0x0E00, 0x0E7F, Script.Thai), (0x0E80, 0x0EFF, Script.Lao),
        (0x0F00, 0x0FFF, Script.Tibetan), (0x1000, 0x109F, Script.Myanmar), (0x10A0, 0x10FF, Script.Georgian),
        (0x1100, 0x11FF, Script.Hangul), (0x1200, 0x139F, Script.Ethiopic), (0x13A0, 0x13FF, Script.Cherokee),
        (0x1400, 0x167F, Script.CanadianAboriginal), (0x1680, 0x169F, Script.Ogham), (0x16A0, 0x16FF, Script.Runic),
        (0x1780, 0x17FF, Script.Khmer), (0x1800, 0x18AF, Script.Mongolian), (0x18B0, 0x18FF, Script.CanadianAboriginal),
        (0x19E0, 0x19FF, Script.Khmer), (0x1B00, 0x1B7F, Script.Balinese), (0x1B80, 0x1BBF, Script.Sundanese),
        (0x1C80, 0x1C8F, Script.Cyrillic), (0x1C90, 0x1CBF, Script.Georgian),
        (0x1D00, 0x1D25, Script.Latin), (0x1D26, 0x1D2A, Script.Greek), (0x1D2B, 0x1D2B, Script.Cyrillic),
        (0x1D2C, 0x1D5C, Script.Latin), (0x1D5D, 0x1D61, Script.Greek), (0x1D62, 0x1D65, Script.Latin),
        (0x1D66, 0x1D6A, Script.Greek), (0x1D6B, 0x1D77, Script.Latin), (0x1D78, 0x1D78, Script.Cyrillic),
        (0x1D79, 0x1DBE, Script.Latin), (0x1DBF, 0x1DBF, Script.Greek), (0x1E00, 0x1EFF, Script.Latin),
        (0x1F00, 0x1FFF, Script.Greek), (0x2071, 0x2071, Script.Latin), (0x207F, 0x207F, Script.Latin),
        (0x2090, 0x209C, Script.Latin), (0x2126, 0x2126, Script.Greek), (0x212A, 0x212B, Script.Latin),
        (0x2132, 0x2132, Script.Latin), (0x214E, 0x214E, Script.Latin), (0x2160, 0x2188, Script.Latin),
        (0x2C60, 0x2C7F, Script.Latin), (0x2C80, 0x2CFF, Script.Coptic), (0x2D00, 0x2D2F, Script.Georgian),
        (0x2D30, 0x2D7F, Script.Tifinagh), (0x2D80, 0x2DDF, Script.Ethiopic), (0x2DE0, 0x2DFF, Script.Cyrillic),
        (0x2E80, 0x2FDF, Script.Han), (0x3005, 0x3005, Script.Han), (0x3007, 0x3007, Script.Han),
        (0x3021, 0x3029, Script.Han), (0x3038, 0x303B, Script.Han), (0x3041, 0x309F, Script.Hiragana),
        // 30FB and 30FC (middle dot, prolonged sound mark) are Common: Hiragana and Katakana text share them.
        (0x30A0, 0x30FA, Script.Katakana), (0x30FD, 0x30FF, Script.Katakana), (0x3100, 0x312F, Script.Bopomofo),
        (0x3130, 0x318F, Script.Hangul), (0x31A0, 0x31BF, Script.Bopomofo), (0x31F0, 0x31FF, Script.Katakana),
        (0x32D0, 0x32FE, Script.Katakana), (0x3400, 0x4DBF, Script.Han), (0x4E00, 0x9FFF, Script.Han),
        (0xA000, 0xA4CF, Script.Yi), (0xA500, 0xA63F, Script.Vai), (0xA640, 0xA69F, Script.Cyrillic),
        (0xA722, 0xA7FF, Script.Latin), (0xA8E0, 0xA8FF, Script.Devanagari), (0xA960, 0xA97F, Script.Hangul),
        (0xA980, 0xA9DF, Script.Javanese), (0xA9E0, 0xA9FF, Script.Myanmar), (0xAA60, 0xAA7F, Script.Myanmar),
        (0xAB00, 0xAB2F, Script.Ethiopic), (0xAB30, 0xAB64, Script.Latin), (0xAB65, 0xAB65, Script.Greek),
        (0xAB70, 0xABBF, Script.Cherokee), (0xAC00, 0xD7FF, Script.Hangul), (0xF900, 0xFAFF, Script.Han),
        (0xFB00, 0xFB06, Script.Latin), (0xFB13, 0xFB17, Script.Armenian), (0xFB1D, 0xFB4F, Script.Hebrew),
        (0xFB50, 0xFDFF, Script.Arabic), (0xFE2E, 0xFE2F, Script.Cyrillic), (0xFE70, 0xFEFF, Script.Arabic),
        (0xFF21, 0xFF3A, Script.Latin), (0xFF41, 0xFF5A, Script.Latin), (0xFF66, 0xFF9D, Script.Katakana),
        (0xFFA0, 0xFFDC, Script.Hangul), (0x1E030, 0x1E08F, Script.Cyrillic), (0x1EE00, 0x1EEFF, Script.Arabic),
        (0x20000, 0x3134F, Script.Han),
    ];

    // The combinations UTS #39 "Highly Restrictive" allows beside a single script.
    private static readonly Script[][] AllowedMixes =
    [
        [Script.Latin, Script.Han, Script.Hiragana, Script.Katakana],
        [Script.Latin, Script.Han, Script.Bopomofo],
        [Script.Latin, Script.Han, Script.Hangul],
    ];

    /// <summary>
    /// Whether <paramref name="text"/> mixes scripts beyond what UTS #39 "Highly Restrictive" allows. A letter of a
    /// script this table does not name counts as a script of its own per 128-code-point block, so it mixes with nothing.
    /// </summary>
    public static bool IsMixedScript(ReadOnlySpan<char> text)
    {
        Span<int> seen = stackalloc int[8];
        var count = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (!Rune.IsLetter(rune))
                continue;
            var script = ScriptOf(rune.Value);
            if (seen[..count].Contains(script))
                continue;
            if (count == seen.Length)
                return true;
            seen[count++] = script;
        }
        if (count <= 1)
            return false;
        foreach (var mix in AllowedMixes)
        {
            if (AllIn(seen[..count], mix))
                return false;
        }
        return true;
    }

    private static bool AllIn(ReadOnlySpan<int> scripts, Script[] mix)
    {
        foreach (var script in scripts)
        {
            if (script > byte.MaxValue || Array.IndexOf(mix, (Script)script) < 0)
                return false;
        }
        return true;
    }

    /// <summary>The script of a letter, or, outside the table, a number above every named script for its block.</summary>
    private static int ScriptOf(int codePoint)
    {
        int low = 0, high = Ranges.Length - 1;
        while (low <= high)
        {
            var middle = (low + high) / 2;
            var (first, last, script) = Ranges[middle];
            if (codePoint < first)
                high = middle - 1;
            else if (codePoint > last)
                low = middle + 1;
            else
                return (int)script;
        }
        return 0x100 + (codePoint >> 7);
    }
}
