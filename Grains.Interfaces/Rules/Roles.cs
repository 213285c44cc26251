using System.Collections.Immutable;

namespace Sessions;

/// <summary>The rules of role names (docs/http-api.md#admin-api): 1 to 32 names of a-z 0-9 _ . : - starting with a letter, at most 64 characters each.</summary>
public static class Roles
{
    public const string User = "user", Admin = "admin";
    public const int MaxCount = 32, MaxLength = 64;

    /// <summary>The roles without duplicates, in their first order; false when the list breaks the rules.</summary>
    public static bool TryNormalize(IEnumerable<string?>? roles, out ImmutableArray<string> normalized)
    {
        normalized = [];
        if (roles is null)
            return false;
        var list = new List<string>();
        foreach (var role in roles)
        {
            if (!IsValid(role))
                return false;
            if (!list.Contains(role!, StringComparer.Ordinal))
                list.Add(role!);
        }
        if (list.Count is 0 or > MaxCount)
            return false;
        normalized = [.. list];
        return true;
    }

    public static bool IsValid(string? role) =>
        role is { Length: > 0 and <= MaxLength } && char.IsAsciiLetterLower(role[0])
        && role.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '.' or ':' or '-');
}
