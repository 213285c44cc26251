using System.Collections.Immutable;

namespace Sessions;

/// <summary>One login on one device; owns its refresh-token family. Keyed by the session id.</summary>
[Alias("Sessions.ISessionGrain")]
public interface ISessionGrain : IGrainWithGuidKey
{
    /// <summary>Opens the session and issues its first refresh token; durable before it returns.</summary>
    [Alias("Start")]
    Task<SessionGrant> StartAsync(SessionStart start);

    /// <summary>
    /// Presents a refresh token: for a DPoP-bound session first the proof's key and jti, then rotation, grace replay
    /// or reuse detection (docs/http-api.md#rotation-and-reuse-detection, rules 1-5). Past the attempt's deadline the caller has given up (and answered 503),
    /// so the request is dropped unjudged.
    /// </summary>
    [Alias("RefreshAttempt")]
    Task<RefreshResult> RefreshAsync(RefreshAttempt attempt);

    /// <summary>Revokes the session if the token belongs to its family and, when the session is bound, the proof is by its key.</summary>
    [Alias("LogoutAttempt")]
    Task<LogoutStatus> LogoutAsync(LogoutAttempt attempt);

    /// <summary>
    /// Revokes the session durably; a no-op when it is already revoked, expired or unknown. With reason UserDeleted it
    /// also erases the email, user agent and address from the stored session, ended or not.
    /// </summary>
    [Alias("Revoke")]
    Task RevokeAsync(RevocationReason reason);

    /// <summary>
    /// Revokes the session (with <paramref name="reason"/>) if <paramref name="refreshToken"/> is a token of its family,
    /// current or rotated away, with no DPoP proof: for an authenticated backend (RFC 7009). False when it is not one.
    /// </summary>
    [Alias("RevokeFamily")]
    Task<bool> RevokeFamilyAsync(string refreshToken, RevocationReason reason);

    /// <summary>
    /// Introspection (RFC 7662): the session while it is live, and, when <paramref name="refreshToken"/> is given, only
    /// if that is its current token. Answered from memory once loaded; it never rotates, revokes or counts as a use.
    /// </summary>
    [Alias("Introspect"), Orleans.Concurrency.ReadOnly]
    Task<SessionIntrospection?> IntrospectAsync(string? refreshToken);

    /// <summary>
    /// Stores the user's roles and email verification of now in the session, so its liveness answer and its next access
    /// token carry them; a no-op for a session that has ended. Throws <see cref="StorageUnavailableException"/> when it
    /// cannot be stored.
    /// </summary>
    [Alias("UpdateUser")]
    Task UpdateUserAsync(SessionUserUpdate update);

    /// <summary>Whether access tokens of this session are still honoured; answered from memory, no I/O once active.</summary>
    [Alias("IsActive"), Orleans.Concurrency.ReadOnly]
    Task<bool> IsActiveAsync();

    /// <summary>
    /// The liveness check of a DPoP-bound access token: whether the session is active, and the proof by its key and not
    /// seen before (its jti is then remembered in memory). Answered from memory with no await, so it is read-only for
    /// Orleans' scheduling even though it records the jti: no other call can run in the middle of it.
    /// </summary>
    [Alias("CheckAccess"), Orleans.Concurrency.ReadOnly]
    Task<AccessStatus> CheckAccessAsync(AccessCheck check);

    /// <summary>The session as listed, or null when it is not active.</summary>
    [Alias("GetInfo")]
    Task<SessionInfo?> GetInfoAsync();
}

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
    [property: Id(6)] string? DpopJkt = null,
    [property: Id(7)] bool EmailVerified = false);

/// <summary>What a session holds of its user that can change during its life.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.SessionUserUpdate")]
public sealed record SessionUserUpdate([property: Id(0)] ImmutableArray<string> Roles, [property: Id(1)] bool EmailVerified);

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
    [property: Id(3)] DpopProof? Proof = null,
    [property: Id(4)] TimeSpan ResendAfter = default);

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
    [property: Id(6)] string? DpopJkt = null,
    [property: Id(7)] bool EmailVerified = false);

/// <summary>
/// A live session as introspection reports it: whose it is, the user's roles and email verification as the session
/// knows them now, and when it ends unless refreshed.
/// </summary>
[GenerateSerializer, Immutable, Alias("Sessions.SessionIntrospection")]
public sealed record SessionIntrospection(
    [property: Id(0)] Guid UserId,
    [property: Id(1)] string Email,
    [property: Id(2)] ImmutableArray<string> Roles,
    [property: Id(3)] bool EmailVerified,
    [property: Id(4)] DateTimeOffset ExpiresAt,
    [property: Id(5)] string? DpopJkt);

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
public enum RevocationReason { Logout, RevokedByUser, LogoutAll, RefreshTokenReuse, SessionLimit, PasswordChanged, RevokedByClient, RevokedByAdmin, UserDisabled, UserDeleted, PasswordReset }

/// <summary>One active session as the session list shows it.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.SessionInfo")]
public sealed record SessionInfo(
    [property: Id(0)] Guid SessionId,
    [property: Id(1)] DateTimeOffset CreatedAt,
    [property: Id(2)] DateTimeOffset LastRefreshedAt,
    [property: Id(3)] DateTimeOffset ExpiresAt,
    [property: Id(4)] string? UserAgent,
    [property: Id(5)] string? IpAddress);

/// <summary>Where a login comes from; recorded on the session for the session list.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.ClientInfo")]
public sealed record ClientInfo([property: Id(0)] string? UserAgent, [property: Id(1)] string? IpAddress);
