using System.Collections.Immutable;

namespace Sessions;

/// <summary>Who the session belongs to and where it was opened from.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.SessionStart")]
public sealed record SessionStart(
    [property: Id(0)] Guid UserId,
    [property: Id(1)] string Email,
    [property: Id(2)] ImmutableArray<string> Roles,
    [property: Id(3)] string? UserAgent,
    [property: Id(4)] string? IpAddress);

/// <summary>What the Api needs to answer a login or refresh: the refresh token and the claims of the access token.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.SessionGrant")]
public sealed record SessionGrant(
    [property: Id(0)] Guid SessionId,
    [property: Id(1)] Guid UserId,
    [property: Id(2)] string Email,
    [property: Id(3)] ImmutableArray<string> Roles,
    [property: Id(4)] string RefreshToken,
    [property: Id(5)] DateTimeOffset RefreshTokenExpiresAt);

/// <summary>The outcomes of presenting a refresh token (API.md, "Rotation and reuse detection").</summary>
[GenerateSerializer, Alias("Sessions.RefreshStatus")]
public enum RefreshStatus
{
    /// <summary>Rule 1: the current token was consumed and a successor issued.</summary>
    Rotated,
    /// <summary>Rule 2: a token rotated away less than the grace window ago; answered with the current token.</summary>
    Replayed,
    /// <summary>Rule 5: malformed, bad MAC or unknown session; nothing was revoked.</summary>
    Invalid,
    Expired,
    Revoked,
    /// <summary>Rule 2: an old token of the family; the session is now revoked.</summary>
    ReuseDetected,
    /// <summary>Rule 4: storage failed; nothing changed and the presented token stays valid.</summary>
    Unavailable,
}

[GenerateSerializer, Immutable, Alias("Sessions.RefreshResult")]
public sealed record RefreshResult([property: Id(0)] RefreshStatus Status, [property: Id(1)] SessionGrant? Grant = null)
{
    public bool Succeeded => Status is RefreshStatus.Rotated or RefreshStatus.Replayed;
}

/// <summary>Why a session was revoked; kept on the session for the audit trail.</summary>
[GenerateSerializer, Alias("Sessions.RevocationReason")]
public enum RevocationReason { Logout, RevokedByUser, LogoutAll, RefreshTokenReuse, SessionLimit }

/// <summary>One active session as the session list shows it.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.SessionInfo")]
public sealed record SessionInfo(
    [property: Id(0)] Guid SessionId,
    [property: Id(1)] DateTimeOffset CreatedAt,
    [property: Id(2)] DateTimeOffset LastRefreshedAt,
    [property: Id(3)] DateTimeOffset ExpiresAt,
    [property: Id(4)] string? UserAgent,
    [property: Id(5)] string? IpAddress);

/// <summary>One login attempt as the Api passes it on. Past <see cref="Deadline"/> the Api has answered 503, so the attempt is dropped.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.LoginAttempt")]
public sealed record LoginAttempt(
    [property: Id(0)] string Password,
    [property: Id(1)] ClientInfo Client,
    [property: Id(2)] DateTimeOffset Deadline);

[GenerateSerializer, Alias("Sessions.LoginStatus")]
public enum LoginStatus { Succeeded, InvalidCredentials, TooManyAttempts }

[GenerateSerializer, Immutable, Alias("Sessions.LoginResult")]
public sealed record LoginResult(
    [property: Id(0)] LoginStatus Status,
    [property: Id(1)] SessionGrant? Grant = null,
    [property: Id(2)] TimeSpan? RetryAfter = null);

[GenerateSerializer, Immutable, Alias("Sessions.RegistrationResult")]
public sealed record RegistrationResult([property: Id(0)] bool Registered, [property: Id(1)] Guid UserId);

/// <summary>Where a login comes from; recorded on the session for the session list.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.ClientInfo")]
public sealed record ClientInfo([property: Id(0)] string? UserAgent, [property: Id(1)] string? IpAddress);
