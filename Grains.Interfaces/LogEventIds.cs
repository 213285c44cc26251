namespace Sessions;

/// <summary>
/// The EventId ranges of the service's log messages, one per category as Duende IdentityServer numbers its events, so
/// that a collector can filter by number: each message is its range plus a number of its own (docs/operations.md#log-event-ids).
/// </summary>
public static class LogEventIds
{
    /// <summary><see cref="SecurityEvents"/>: the audit trail (docs/design.md#security-events).</summary>
    public const int Security = 1000;
    /// <summary>The Api's requests: aborted, unreadable bodies, refused DPoP proofs, retried refreshes, 500 and 503 answers.</summary>
    public const int Requests = 2000;
    /// <summary>The signing-key ring as each Api node reads it.</summary>
    public const int SigningKeys = 3000;
    /// <summary>The mail outbox and its SMTP server.</summary>
    public const int Mail = 4000;
    /// <summary>Grain calls inside the silo.</summary>
    public const int Grains = 5000;
    /// <summary>Grain state in PostgreSQL: batched reads and writes, the purge of expired rows.</summary>
    public const int Storage = 6000;
    /// <summary>What every process shares (Hosting, which references no project of the app, writes these ids out): readiness.</summary>
    public const int Hosting = 7000;

    /// <summary>Every range; a range holds ids from its start to start + 999.</summary>
    public static IReadOnlyList<int> Ranges { get; } = [Security, Requests, SigningKeys, Mail, Grains, Storage, Hosting];
}
