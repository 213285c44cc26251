namespace Sessions;

public static class SessionClock
{
    /// <summary>
    /// DI key of the TimeProvider that session rules and tokens run on. Keyed so a test can move
    /// session time without moving Orleans' own timers, which use the unkeyed TimeProvider.
    /// </summary>
    public const string Key = "Sessions.Clock";
}
