using System.Collections.Immutable;

namespace Sessions.Grains;

public static class StorageNames
{
    /// <summary>The grain-storage provider every grain of this service uses.</summary>
    public const string Grains = "grains";
}

/// <summary>
/// Stored state of one session: the family's secret and the counter of its current token, never a token.
/// Immutable, so a failed write is undone by putting the previous value back.
/// </summary>
[GenerateSerializer, Immutable, Alias("Sessions.SessionState")]
public sealed record SessionState : IPurgeable
{
    [Id(0)] public Guid UserId { get; init; }
    [Id(1)] public string Email { get; init; } = "";
    [Id(2)] public ImmutableArray<string> Roles { get; init; } = [];
    [Id(3)] public byte[] Secret { get; init; } = [];
    /// <summary>Counter of the one current refresh token; each rotation adds one.</summary>
    [Id(4)] public long Counter { get; init; }
    [Id(5)] public DateTimeOffset CreatedAt { get; init; }
    /// <summary>Time of the last rotation (of the login while Counter is 0).</summary>
    [Id(6)] public DateTimeOffset LastRefreshedAt { get; init; }
    [Id(7)] public DateTimeOffset AbsoluteExpiresAt { get; init; }
    /// <summary>The earlier of the idle deadline and the absolute deadline.</summary>
    [Id(8)] public DateTimeOffset ExpiresAt { get; init; }
    [Id(9)] public string? UserAgent { get; init; }
    [Id(10)] public string? IpAddress { get; init; }
    [Id(11)] public DateTimeOffset? RevokedAt { get; init; }
    [Id(12)] public RevocationReason? RevocationReason { get; init; }
    /// <summary>Times of the rotations before the last one, newest first: with LastRefreshedAt, when each of the last 8 tokens was rotated away.</summary>
    [Id(13)] public ImmutableArray<DateTimeOffset> EarlierRotations { get; init; } = [];
    /// <summary>DPoP: the RFC 7638 SHA-256 thumbprint (43 characters) of the key the session is bound to for its whole life; null when unbound.</summary>
    [Id(14)] public string? DpopJkt { get; init; }
    [Id(15)] public bool EmailVerified { get; init; }

    /// <summary>How many of the most recent rotations are remembered for the grace rule (rule 2 of docs/http-api.md#rotation-and-reuse-detection).</summary>
    public const int RememberedRotations = 8;

    public bool IsActiveAt(DateTimeOffset now) => RevokedAt is null && now < ExpiresAt;

    /// <summary>When the token with this counter was rotated away, if it is one of the last 8; null otherwise.</summary>
    public DateTimeOffset? RotatedAwayAt(long counter)
    {
        var age = Counter - counter; // 1: the token just before the current one
        if (age < 1 || age > Math.Min(Counter, RememberedRotations))
            return null;
        if (age == 1)
            return LastRefreshedAt;
        var earlier = EarlierRotations.IsDefault ? [] : EarlierRotations;
        return age - 2 < earlier.Length ? earlier[(int)age - 2] : null;
    }

    /// <summary>The state after the current token is consumed at <paramref name="now"/>: a new current token, the idle deadline moved (never past the absolute one).</summary>
    public SessionState Rotated(DateTimeOffset now, TimeSpan idleTimeout)
    {
        var earlier = EarlierRotations.IsDefault ? [] : EarlierRotations;
        return this with
        {
            Counter = Counter + 1,
            // Before the first rotation LastRefreshedAt is the login, not a rotation.
            EarlierRotations = Counter == 0 ? [] : [LastRefreshedAt, .. earlier.Take(RememberedRotations - 2)],
            LastRefreshedAt = now,
            ExpiresAt = now + idleTimeout < AbsoluteExpiresAt ? now + idleTimeout : AbsoluteExpiresAt,
        };
    }

    public DateTimeOffset? PurgeAfter => RevokedAt ?? ExpiresAt;

    public bool HoldsPersonalData => Email.Length > 0 || UserAgent is not null || IpAddress is not null;

    /// <summary>The session of a deleted account: kept until purged, for its family's reuse rule, but naming nobody.</summary>
    public SessionState WithoutPersonalData() => this with { Email = "", UserAgent = null, IpAddress = null };
}

[GenerateSerializer, Immutable, Alias("Sessions.UserState")]
public sealed record UserState
{
    [Id(0)] public string Email { get; init; } = "";
    [Id(1)] public string PasswordHash { get; init; } = "";
    [Id(2)] public ImmutableArray<string> Roles { get; init; } = [];
    [Id(3)] public DateTimeOffset CreatedAt { get; init; }
    // Id 4 held failed logins; they are counted in memory by the email index now, and old rows' values are skipped.
    /// <summary>The user's sessions and their absolute deadlines; the session grains are the truth.</summary>
    [Id(5)] public ImmutableDictionary<Guid, DateTimeOffset> Sessions { get; init; } = ImmutableDictionary<Guid, DateTimeOffset>.Empty;
    /// <summary>The last password change, by which its retry is known; null before the first change.</summary>
    [Id(6)] public PasswordChangeState? PasswordChange { get; init; }
    /// <summary>Disabled by an admin: no login opens a session.</summary>
    [Id(7)] public bool Disabled { get; init; }
    /// <summary>
    /// What the last change still owes the user's sessions; null when nothing is owed. Every change finishes what an
    /// earlier one owes before it is written, so one is never more than one change's work.
    /// </summary>
    [Id(8)] public OwedSessionWork? Owed { get; init; }
    /// <summary>
    /// Being deleted: no login, no change; once the owed revocations are stored the email is freed and this state is
    /// deleted. Set in the same write as those revocations, so a deletion cut short is finished later, never undone.
    /// </summary>
    [Id(9)] public bool Deleted { get; init; }
    /// <summary>Set by following the link of a verification mail, or by a password reset (which proves the address too).</summary>
    [Id(10)] public bool EmailVerified { get; init; }
    /// <summary>The one valid token of each kind last mailed, as a hash; null when none is outstanding.</summary>
    [Id(11)] public MailedToken? Verification { get; init; }
    [Id(12)] public MailedToken? PasswordReset { get; init; }
    /// <summary>When the mails of the last window were sent, for the per-account cap.</summary>
    [Id(13)] public ImmutableArray<DateTimeOffset> MailsSent { get; init; } = [];

    /// <summary>
    /// This release's shape of a row an earlier release wrote: the revocations a 0.3 password change still owed, in
    /// <see cref="PasswordChangeState.PendingRevocations"/>, become owed work like any change's. Unchanged otherwise.
    /// </summary>
    public UserState Upgraded()
    {
        if (PasswordChange is not { PendingRevocations: { IsDefaultOrEmpty: false } pending } change)
            return this;
        // No release wrote both at once (each change finishes what is owed first); merged anyway, so nothing is lost.
        var owed = Owed is { } earlier
            ? earlier with
            {
                Revocations = [.. earlier.Revocations.Union(pending)],
                Reason = earlier.Revocations.IsDefaultOrEmpty ? RevocationReason.PasswordChanged : earlier.Reason,
            }
            : OwedSessionWork.Revoke(pending, RevocationReason.PasswordChanged);
        return this with { PasswordChange = change with { PendingRevocations = [] }, Owed = owed };
    }
}

/// <summary>A mailed token as the user grain keeps it: never the token, only its SHA-256.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.MailedToken")]
public sealed record MailedToken
{
    [Id(0)] public byte[] Hash { get; init; } = [];
    [Id(1)] public DateTimeOffset ExpiresAt { get; init; }
}

/// <summary>
/// What a change owes the user's sessions, stored in the same write as the change: revocations (with their reason),
/// or the user's roles and email verification to tell them. The one way every change reaches the sessions (password
/// change and reset, roles, disabling, deletion, email verification); finished by the next call of the user, a
/// retry, or a timer. A 0.3 silo finishes it too, whichever change wrote it.
/// </summary>
[GenerateSerializer, Immutable, Alias("Sessions.OwedSessionWork")]
public sealed record OwedSessionWork
{
    [Id(0)] public ImmutableArray<Guid> Revocations { get; init; } = [];
    [Id(1)] public RevocationReason Reason { get; init; }
    /// <summary>Sessions to be told the user's current roles and email verification.</summary>
    [Id(2)] public ImmutableArray<Guid> UserUpdates { get; init; } = [];

    public static OwedSessionWork Revoke(IEnumerable<Guid> sessions, RevocationReason reason) => new() { Revocations = [.. sessions], Reason = reason };

    public static OwedSessionWork UpdateUser(IEnumerable<Guid> sessions) => new() { UserUpdates = [.. sessions] };
}

/// <summary>
/// The last password change, stored in the same write as the new hash (and the revocations it owes, in
/// <see cref="UserState.Owed"/>): when and from which session, so a retry of it is known as one.
/// </summary>
[GenerateSerializer, Immutable, Alias("Sessions.PasswordChangeState")]
public sealed record PasswordChangeState
{
    [Id(0)] public DateTimeOffset At { get; init; }
    /// <summary>The session that made the change and stays signed in.</summary>
    [Id(1)] public Guid SessionId { get; init; }
    /// <summary>
    /// Written by 0.3 and earlier, empty since: the revocations the change still owed. Kept so that their rows still
    /// read; <see cref="UserState.Upgraded"/> moves them into <see cref="UserState.Owed"/>.
    /// </summary>
    [Id(2)] public ImmutableArray<Guid> PendingRevocations { get; init; } = [];
}

[GenerateSerializer, Immutable, Alias("Sessions.EmailIndexState")]
public sealed record EmailIndexState
{
    [Id(0)] public Guid UserId { get; init; }
}
