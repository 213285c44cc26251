using System.Collections.Immutable;

namespace Sessions;

/// <summary>
/// Who the session belongs to and where it was opened from. Past <see cref="Deadline"/> (the login's) the user
/// grain has stopped waiting for the start, so a start delivered that late is refused rather than opening a
/// session its login no longer accounts for (one a password change meanwhile could not have revoked).
/// <see cref="DpopJkt"/> binds it for its whole life to the key of the login's DPoP proof (RFC 7638 SHA-256
/// thumbprint), null for an unbound session.
/// </summary>
[GenerateSerializer, Immutable, Alias("Sessions.SessionStart")]
public sealed record SessionStart(
    [property: Id(0)] Guid UserId,
    [property: Id(1)] string Email,
    [property: Id(2)] ImmutableArray<string> Roles,
    [property: Id(3)] string? UserAgent,
    [property: Id(4)] string? IpAddress,
    [property: Id(5)] DateTimeOffset? Deadline = null,
    [property: Id(6)] string? DpopJkt = null);

/// <summary>
/// What the Api learnt from a DPoP proof that passed its stateless checks (docs/http-api.md#dpop-sender-constrained-tokens): the key's RFC 7638
/// thumbprint, and the proof's jti and iat. <see cref="ReplayableUntil"/> is when the Api's own checks stop passing
/// the proof (iat + Api:DpopProofLifetime + Api:ClockSkew): the grain that accepts the jti remembers it that long.
/// </summary>
[GenerateSerializer, Immutable, Alias("Sessions.DpopProof")]
public sealed record DpopProof(
    [property: Id(0)] string Jkt,
    [property: Id(1)] string Jti,
    [property: Id(2)] DateTimeOffset IssuedAt,
    [property: Id(3)] DateTimeOffset ReplayableUntil);

/// <summary>
/// A refresh as the Api passes it on. Past <see cref="Deadline"/> the Api has answered 503, so it is dropped.
/// <see cref="Proof"/> is the request's DPoP proof when it passed the Api's checks, null when there was none or it
/// failed them: a bound session then refuses the refresh, an unbound one ignores it.
/// </summary>
[GenerateSerializer, Immutable, Alias("Sessions.RefreshAttempt")]
public sealed record RefreshAttempt(
    [property: Id(0)] string RefreshToken,
    [property: Id(1)] ClientInfo Client,
    [property: Id(2)] DateTimeOffset Deadline,
    [property: Id(3)] DpopProof? Proof = null);

/// <summary>A logout with a refresh token; <see cref="Proof"/> as in <see cref="RefreshAttempt"/>.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.LogoutAttempt")]
public sealed record LogoutAttempt(
    [property: Id(0)] string RefreshToken,
    [property: Id(1)] ClientInfo Client,
    [property: Id(2)] DpopProof? Proof = null);

[GenerateSerializer, Alias("Sessions.LogoutStatus")]
public enum LogoutStatus
{
    /// <summary>The token belongs to the session, which is revoked now (or had already ended).</summary>
    LoggedOut,
    /// <summary>The token does not verify here; nothing was revoked.</summary>
    Invalid,
    /// <summary>A bound session and no acceptable proof (none, failing, or replayed); nothing was revoked.</summary>
    InvalidProof,
    /// <summary>A bound session and a valid proof by another key; nothing was revoked.</summary>
    KeyMismatch,
}

/// <summary>The liveness check of a DPoP-bound access token: the proof that came with it (its key already matched the token's cnf.jkt).</summary>
[GenerateSerializer, Immutable, Alias("Sessions.AccessCheck")]
public sealed record AccessCheck([property: Id(0)] DpopProof Proof);

[GenerateSerializer, Alias("Sessions.AccessStatus")]
public enum AccessStatus
{
    Active,
    /// <summary>Revoked, expired or unknown: the access token is refused (invalid_token).</summary>
    Ended,
    /// <summary>The proof is replayed, or not by the session's key: refused (invalid_dpop_proof).</summary>
    ProofRefused,
}

/// <summary>
/// What the Api needs to answer a login or refresh: the refresh token and the claims of the access token;
/// <see cref="DpopJkt"/> (the bound key's thumbprint, null when unbound) becomes the access token's cnf.jkt.
/// </summary>
[GenerateSerializer, Immutable, Alias("Sessions.SessionGrant")]
public sealed record SessionGrant(
    [property: Id(0)] Guid SessionId,
    [property: Id(1)] Guid UserId,
    [property: Id(2)] string Email,
    [property: Id(3)] ImmutableArray<string> Roles,
    [property: Id(4)] string RefreshToken,
    [property: Id(5)] DateTimeOffset RefreshTokenExpiresAt,
    [property: Id(6)] string? DpopJkt = null);

/// <summary>The outcomes of presenting a refresh token (docs/http-api.md#rotation-and-reuse-detection).</summary>
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
    /// <summary>DPoP: a bound session and no acceptable proof (none, failing, or replayed); nothing rotated or revoked.</summary>
    InvalidProof,
    /// <summary>DPoP: a bound session and a valid proof by another key; nothing rotated or revoked.</summary>
    KeyMismatch,
}

[GenerateSerializer, Immutable, Alias("Sessions.RefreshResult")]
public sealed record RefreshResult([property: Id(0)] RefreshStatus Status, [property: Id(1)] SessionGrant? Grant = null)
{
    public bool Succeeded => Status is RefreshStatus.Rotated or RefreshStatus.Replayed;
}

/// <summary>Why a session was revoked; kept on the session for the audit trail. New reasons go at the end: stored rows hold the numbers.</summary>
[GenerateSerializer, Alias("Sessions.RevocationReason")]
public enum RevocationReason { Logout, RevokedByUser, LogoutAll, RefreshTokenReuse, SessionLimit, PasswordChanged }

/// <summary>One active session as the session list shows it.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.SessionInfo")]
public sealed record SessionInfo(
    [property: Id(0)] Guid SessionId,
    [property: Id(1)] DateTimeOffset CreatedAt,
    [property: Id(2)] DateTimeOffset LastRefreshedAt,
    [property: Id(3)] DateTimeOffset ExpiresAt,
    [property: Id(4)] string? UserAgent,
    [property: Id(5)] string? IpAddress);

/// <summary>
/// One login attempt as the Api passes it on. Past <see cref="Deadline"/> the Api has answered 503, so the attempt is dropped.
/// A valid DPoP <see cref="Proof"/> binds the new session to its key; its jti is accepted once per email.
/// <see cref="DeviceToken"/> is the device token the client holds from an earlier login of this account, if any; a
/// valid one judges the login by that device's own failures only. <see cref="KnownDevice"/> is set by the email index
/// once it has verified that token, for the user grain (hashing ahead of logins without one); the Api never sets it.
/// </summary>
[GenerateSerializer, Immutable, Alias("Sessions.LoginAttempt")]
public sealed record LoginAttempt(
    [property: Id(0)] string Password,
    [property: Id(1)] ClientInfo Client,
    [property: Id(2)] DateTimeOffset Deadline,
    [property: Id(3)] DpopProof? Proof = null,
    [property: Id(4)] string? DeviceToken = null,
    [property: Id(5)] bool KnownDevice = false)
{
    /// <summary>Without the password or the device token: a record prints every member, and grain calls may be logged.</summary>
    public override string ToString() => $"LoginAttempt {{ Client = {Client}, Deadline = {Deadline:O}, Proof = {Proof}, KnownDevice = {KnownDevice} }}";
}

[GenerateSerializer, Alias("Sessions.LoginStatus")]
public enum LoginStatus
{
    Succeeded,
    InvalidCredentials,
    TooManyAttempts,
    /// <summary>The login's DPoP proof was already accepted for this email (a replay); no session was opened.</summary>
    InvalidProof,
}

/// <summary>A login's answer; a successful one carries the device token the client keeps for its next logins.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.LoginResult")]
public sealed record LoginResult(
    [property: Id(0)] LoginStatus Status,
    [property: Id(1)] SessionGrant? Grant = null,
    [property: Id(2)] TimeSpan? RetryAfter = null,
    [property: Id(3)] string? DeviceToken = null)
{
    public override string ToString() => $"LoginResult {{ Status = {Status}, Session = {Grant?.SessionId}, RetryAfter = {RetryAfter} }}";
}

/// <summary>A registration as the Api passes it on. Past <see cref="Deadline"/> the Api has answered 503: nothing is hashed or stored for it.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.RegistrationAttempt")]
public sealed record RegistrationAttempt([property: Id(0)] string Password, [property: Id(1)] DateTimeOffset Deadline)
{
    public override string ToString() => $"RegistrationAttempt {{ Deadline = {Deadline:O} }}";
}

/// <summary>A new account as the email index creates it, its password already hashed.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.NewUser")]
public sealed record NewUser([property: Id(0)] string Email, [property: Id(1)] string PasswordHash, [property: Id(2)] DateTimeOffset Deadline)
{
    public override string ToString() => $"NewUser {{ Deadline = {Deadline:O} }}";
}

[GenerateSerializer, Immutable, Alias("Sessions.RegistrationResult")]
public sealed record RegistrationResult([property: Id(0)] bool Registered, [property: Id(1)] Guid UserId);

/// <summary>Where a login comes from; recorded on the session for the session list.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.ClientInfo")]
public sealed record ClientInfo([property: Id(0)] string? UserAgent, [property: Id(1)] string? IpAddress);

/// <summary>
/// POST /auth/password as the Api passes it on: the caller proves the current password and names the session
/// that stays signed in. Past <see cref="Deadline"/> the Api has answered 503, so no hash is started for it.
/// </summary>
[GenerateSerializer, Immutable, Alias("Sessions.PasswordChange")]
public sealed record PasswordChange(
    [property: Id(0)] string CurrentPassword,
    [property: Id(1)] string NewPassword,
    [property: Id(2)] Guid UserId,
    [property: Id(3)] Guid SessionId,
    [property: Id(4)] ClientInfo Client,
    [property: Id(5)] DateTimeOffset Deadline)
{
    // A record prints every member; this one must never put a password in a log line or an exception.
    public override string ToString() => $"PasswordChange {{ UserId = {UserId}, SessionId = {SessionId}, Client = {Client}, Deadline = {Deadline:O} }}";
}

[GenerateSerializer, Alias("Sessions.PasswordChangeStatus")]
public enum PasswordChangeStatus
{
    /// <summary>The new password is stored and every other session of the user is revoked (durably).</summary>
    Changed,
    /// <summary>The current password is wrong; counted as a failed login of the account.</summary>
    InvalidCredentials,
    /// <summary>The failed-login limit holds this address (or the whole account) back; see RetryAfter.</summary>
    TooManyAttempts,
}

[GenerateSerializer, Immutable, Alias("Sessions.PasswordChangeResult")]
public sealed record PasswordChangeResult(
    [property: Id(0)] PasswordChangeStatus Status,
    [property: Id(1)] TimeSpan? RetryAfter = null);
