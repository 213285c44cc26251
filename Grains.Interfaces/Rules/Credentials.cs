using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net.Mail;
using System.Text;

namespace Sessions;

/// <summary>The registration rules (docs/http-api.md#endpoints), shared by the Api (to answer 400) and the grains (to refuse).</summary>
public static class Credentials
{
    public const int MinPasswordLength = 8;
    public const int MaxPasswordLength = 128;
    public const int MaxEmailLength = 254;

    /// <summary>
    /// Whether this process can bring text to NFKC. Under invariant globalization string.Normalize
    /// silently leaves non-ASCII text as it is; it needs ICU.
    /// </summary>
    public static bool CanNormalizeEmails { get; } = "e\u0301".Normalize(NormalizationForm.FormKC) == "\u00e9";

    public static bool IsValidPassword([NotNullWhen(true)] string? password) =>
        password is { Length: >= MinPasswordLength and <= MaxPasswordLength };

    public static bool IsValidEmail([NotNullWhen(true)] string? email) =>
        IsPlainEmailText(email)
        && MailAddress.TryCreate(email, out var address)
        && address.Address == email
        && address.Host.Contains('.');

    /// <summary>
    /// The one form in which an email is compared, keyed and stored (docs/http-api.md#register:
    /// NFKC and case folding): trimmed, NFKC, lower-cased (invariant culture, with the capital dotted I folded to
    /// "i" + combining dot as Unicode's case folding does: .NET leaves it upper-case), and NFKC again, since
    /// lower-casing can leave a string that is not in NFKC. The email must be well-formed UTF-16
    /// (<see cref="TryNormalizeEmail"/> checks).
    /// </summary>
    public static string NormalizeEmail(string email)
    {
        var trimmed = email.Trim();
        // ASCII is its own NFKC form: the usual case costs no normalization.
        if (Ascii.IsValid(trimmed))
            return trimmed.ToLowerInvariant();
        if (!CanNormalizeEmails)
            throw new PlatformNotSupportedException("Normalizing a non-ASCII email needs ICU; this process runs with invariant globalization.");
        return trimmed.Normalize(NormalizationForm.FormKC).ToLowerInvariant().Replace("\u0130", "i\u0307", StringComparison.Ordinal)
            .Normalize(NormalizationForm.FormKC);
    }

    /// <summary>
    /// Whether a normalized email mixes scripts in its local part or in one label of its domain (UTS #39 "Highly
    /// Restrictive", per part as browsers judge domain labels): a look-alike of another address, refused at registration.
    /// </summary>
    public static bool MixesScripts(string email)
    {
        var at = email.LastIndexOf('@');
        if (UnicodeScripts.IsMixedScript(email.AsSpan(0, Math.Max(at, 0))))
            return true;
        var domain = email.AsSpan(at + 1);
        foreach (var label in domain.Split('.'))
        {
            if (UnicodeScripts.IsMixedScript(domain[label]))
                return true;
        }
        return false;
    }

    /// <summary>
    /// The normal form of an email a client sent, or false when the email is not valid: malformed, with
    /// hidden or unassigned characters, or one whose normal form is not a valid address (NFKC turns a
    /// fullwidth ＠ into @).
    /// </summary>
    public static bool TryNormalizeEmail(string? email, [NotNullWhen(true)] out string? normalized)
    {
        normalized = null;
        // The address's shape is judged on the normal form: MailAddress does not take every form as it is (a decomposed é).
        if (!IsPlainEmailText(email))
            return false;
        var candidate = NormalizeEmail(email);
        if (!IsValidEmail(candidate))
            return false;
        normalized = candidate;
        return true;
    }

    private static bool IsPlainEmailText([NotNullWhen(true)] string? email) =>
        !string.IsNullOrWhiteSpace(email) && email.Length <= MaxEmailLength && email.Trim() == email && IsPlainText(email);

    /// <summary>
    /// No hidden characters (zero-width, bidi overrides, controls), no broken surrogates, and no
    /// unassigned code points, whose normal form a later Unicode version may change.
    /// </summary>
    private static bool IsPlainText(ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(text, out var rune, out var consumed) != OperationStatus.Done
                || UnicodeText.IsHidden(rune) || Rune.GetUnicodeCategory(rune) == UnicodeCategory.OtherNotAssigned)
                return false;
            text = text[consumed..];
        }
        return true;
    }
}
