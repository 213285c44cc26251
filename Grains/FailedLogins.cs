namespace Sessions.Grains;

/// <summary>
/// The failed logins of one email inside the window (a wrong current password of a password change is one too), in
/// memory, for known and unknown emails alike, so neither answers nor timing tell whether an account exists
/// (docs/http-api.md#failed-login-limit). A source is a client address, a known device or a signed-in
/// session. A source is held back after MaxFailedLogins of its own failures. Every address is held back after
/// MaxFailedLoginsPerAccount failures from all addresses together, so a guess spread over many addresses is still
/// capped; known devices and sessions are not (docs/http-api.md#known-devices-and-tighter-limits): their failures are
/// their own, and strangers cannot make them wait.
/// </summary>
public sealed class FailedLogins(SessionOptions options)
{
    // From addresses, oldest first, at most MaxFailedLoginsPerAccount: nothing older can matter.
    private readonly List<(DateTimeOffset At, string Source)> _fromAddresses = [];
    // From known devices and sessions, oldest first; each holds itself back after MaxFailedLogins, which bounds it.
    private readonly List<(DateTimeOffset At, string Source)> _fromTrusted = [];

    /// <summary>A client address, by its limiting key (IPv6: its /64).</summary>
    public static string Address(string? ipAddress) => "a:" + ClientAddress.Key(ipAddress);

    /// <summary>A device that presented a valid device token of this account.</summary>
    public static string Device(Guid deviceId) => "d:" + deviceId.ToString("N");

    /// <summary>A signed-in session of the account (a password change).</summary>
    public static string Session(Guid sessionId) => "s:" + sessionId.ToString("N");

    /// <summary>Whether nothing is counted any more: the grain holding this need not stay in memory for it.</summary>
    public bool IsEmptyAt(DateTimeOffset now)
    {
        Prune(now);
        return _fromAddresses.Count == 0 && _fromTrusted.Count == 0;
    }

    /// <summary>How long <paramref name="source"/> must wait before it may try again, or null when it may try now.</summary>
    public TimeSpan? RetryAfter(string source, DateTimeOffset now)
    {
        Prune(now);
        var failures = IsTrusted(source) ? _fromTrusted : _fromAddresses;
        // Free again once the failure that made the limit leaves the window.
        if (!IsTrusted(source) && failures.Count >= options.MaxFailedLoginsPerAccount)
            return failures[^options.MaxFailedLoginsPerAccount].At + options.FailedLoginWindow - now;
        var own = failures.Where(f => f.Source == source).ToList();
        return own.Count >= options.MaxFailedLogins
            ? own[^options.MaxFailedLogins].At + options.FailedLoginWindow - now
            : null;
    }

    public void Add(string source, DateTimeOffset now)
    {
        var failures = IsTrusted(source) ? _fromTrusted : _fromAddresses;
        failures.Add((now, source));
        if (!IsTrusted(source) && failures.Count > options.MaxFailedLoginsPerAccount)
            failures.RemoveAt(0);
    }

    /// <summary>A right password from this source: its earlier failures no longer count.</summary>
    /// <summary>Forgets every failure of the account: its owner has just proved it holds the address (a password reset).</summary>
    public void ClearAll()
    {
        _fromTrusted.Clear();
        _fromAddresses.Clear();
    }

    public void Clear(string source) => (IsTrusted(source) ? _fromTrusted : _fromAddresses).RemoveAll(f => f.Source == source);

    private static bool IsTrusted(string source) => !source.StartsWith("a:", StringComparison.Ordinal);

    private void Prune(DateTimeOffset now)
    {
        _fromAddresses.RemoveAll(f => f.At <= now - options.FailedLoginWindow);
        _fromTrusted.RemoveAll(f => f.At <= now - options.FailedLoginWindow);
    }
}
