namespace Sessions;

/// <summary>Secrets given in configuration as base64 (a refresh-token pepper, a key-encryption key).</summary>
public static class ConfiguredSecret
{
    /// <summary>The bytes, or null when the text is missing, not base64, or outside the allowed length.</summary>
    public static byte[]? Decode(string? base64, int minBytes, int maxBytes = int.MaxValue)
    {
        if (string.IsNullOrWhiteSpace(base64))
            return null;
        try
        {
            var bytes = Convert.FromBase64String(base64);
            return bytes.Length >= minBytes && bytes.Length <= maxBytes ? bytes : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
