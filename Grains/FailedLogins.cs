namespace Sessions.Grains;

/// <summary>
/// The failed logins of one email inside the window (a wrong current password of a password change is one too),
/// oldest first, by client address (API.md, "Limits"): an
/// address is held back after MaxFailedLogins, every address after MaxFailedLoginsPerAccount. So a stranger
/// cannot lock the owner out from elsewhere, and a guess spread over many addresses is still capped. Kept in
/// memory, for known and unknown emails alike, so neither answers nor timing tell whether an account exists.
/// </summary>
public sealed class FailedLogins(SessionOptions options)
{
    private readonly List<(DateTimeOffset At, string Address)> _failures = [];

    /// <summary>How long <paramref name="address"/> must wait before it may try again, or null when it may try now.</summary>
    public TimeSpan? RetryAfter(string address, DateTimeOffset now)
    {
        _failures.RemoveAll(f => f.At <= now - options.FailedLoginWindow);
        // Free again once the failure that made the limit leaves the window.
        if (_failures.Count >= options.MaxFailedLoginsPerAccount)
            return _failures[^options.MaxFailedLoginsPerAccount].At + options.FailedLoginWindow - now;
        var fromAddress = _failures.Where(f => f.Address == address).ToList();
        return fromAddress.Count >= options.MaxFailedLogins
            ? fromAddress[^options.MaxFailedLogins].At + options.FailedLoginWindow - now
            : null;
    }

    public void Add(string address, DateTimeOffset now)
    {
        _failures.Add((now, address));
        // Nothing older than the account-wide limit can matter: an address past its own limit adds no more.
        if (_failures.Count > options.MaxFailedLoginsPerAccount)
            _failures.RemoveAt(0);
    }

    /// <summary>A right password from this address: its earlier failures no longer count.</summary>
    public void Clear(string address) => _failures.RemoveAll(f => f.Address == address);
}
