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

    public bool IsActiveAt(DateTimeOffset now) => RevokedAt is null && now < ExpiresAt;

    public DateTimeOffset? PurgeAfter => RevokedAt ?? ExpiresAt;
}

[GenerateSerializer, Immutable, Alias("Sessions.UserState")]
public sealed record UserState
{
    [Id(0)] public string Email { get; init; } = "";
    [Id(1)] public string PasswordHash { get; init; } = "";
    [Id(2)] public ImmutableArray<string> Roles { get; init; } = [];
    [Id(3)] public DateTimeOffset CreatedAt { get; init; }
    /// <summary>Failed logins inside the current window, oldest first.</summary>
    [Id(4)] public ImmutableArray<DateTimeOffset> FailedLogins { get; init; } = [];
    /// <summary>The user's sessions and their absolute deadlines; the session grains are the truth.</summary>
    [Id(5)] public ImmutableDictionary<Guid, DateTimeOffset> Sessions { get; init; } = ImmutableDictionary<Guid, DateTimeOffset>.Empty;
}

[GenerateSerializer, Immutable, Alias("Sessions.EmailIndexState")]
public sealed record EmailIndexState
{
    [Id(0)] public Guid UserId { get; init; }
}
