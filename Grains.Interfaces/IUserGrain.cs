using System.Collections.Immutable;

namespace Sessions;

/// <summary>A user account: credentials, roles and the index of its sessions. Keyed by the user id.</summary>
[Alias("Sessions.IUserGrain")]
public interface IUserGrain : IGrainWithGuidKey
{
    /// <summary>
    /// Creates the account with its hashed password; false when it already exists. Called by the email index only,
    /// after it stored its entry for this user: so no user exists that its email does not reach.
    /// </summary>
    [Alias("CreateUser")]
    Task<bool> CreateAsync(NewUser user);

    /// <summary>Whether the account exists (is stored).</summary>
    [Alias("Exists")]
    Task<bool> ExistsAsync();

    /// <summary>
    /// Checks the password and, on success, opens a session (revoking the least recently refreshed one first
    /// when the user is at MaxActiveSessions). Called by the email index, which applies the failed-login limits.
    /// </summary>
    [Alias("LoginAttempt")]
    Task<LoginResult> LoginAsync(LoginAttempt attempt);

    /// <summary>The user's active sessions; dead ones are dropped from the index.</summary>
    [Alias("GetSessions")]
    Task<ImmutableArray<SessionInfo>> GetSessionsAsync();

    /// <summary>Revokes one of the user's sessions, for its owner or an admin; false when it is not one of theirs.</summary>
    [Alias("SessionRevocation")]
    Task<bool> RevokeSessionAsync(SessionRevocation revocation);

    /// <summary>Revokes every session of the user (logout-all, or an admin's); returns how many were indexed.</summary>
    [Alias("AllSessionsRevocation")]
    Task<int> RevokeAllSessionsAsync(AllSessionsRevocation revocation);

    /// <summary>
    /// Checks the current password, stores the new one, then revokes every other session of the user durably
    /// (reason PasswordChanged) before it answers Changed; the caller's session stays. When a revocation cannot be
    /// stored it throws <see cref="StorageUnavailableException"/>, and the same request again finishes the job.
    /// Called by the email index, which applies the failed-login limits.
    /// </summary>
    [Alias("ChangePassword")]
    Task<PasswordChangeStatus> ChangePasswordAsync(PasswordChange change);

    /// <summary>Admin: the account, or null when there is none.</summary>
    [Alias("GetAccount")]
    Task<UserAccount?> GetAccountAsync();

    /// <summary>
    /// Admin: replaces the user's roles (already normalized by <see cref="Roles.TryNormalize"/>). Every live session
    /// holds them before this returns; when one cannot be told, this throws <see cref="StorageUnavailableException"/>
    /// and the update stays owed durably, finished by the next call or a timer. Null when there is no account.
    /// </summary>
    [Alias("SetRoles")]
    Task<UserAccount?> SetRolesAsync(ImmutableArray<string> roles);

    /// <summary>
    /// Admin: disables the account (every session revoked, reason UserDisabled, owed durably like the roles) or enables
    /// it again (revoked sessions stay revoked). Null when there is no account.
    /// </summary>
    [Alias("SetDisabled")]
    Task<UserAccount?> SetDisabledAsync(bool disabled);

    /// <summary>
    /// Deletes the account (by an admin, or the user after <see cref="IEmailIndexGrain.CheckPasswordAsync"/>): every session
    /// revoked (reason UserDeleted, their personal data erased), then the email freed, then this state deleted. The first
    /// write records all of it as owed, so a failure or crash halfway is finished by the retry, the next call or a timer.
    /// False when there is no account. Throws <see cref="StorageUnavailableException"/> while it cannot finish.
    /// </summary>
    [Alias("Delete")]
    Task<bool> DeleteAsync();

    /// <summary>Whether the password is the account's, on the throttled hashing path (false for no account).</summary>
    [Alias("PasswordVerification")]
    Task<bool> VerifyPasswordAsync(PasswordVerification verification);

    /// <summary>
    /// A new token of <paramref name="kind"/> to mail to the account, which makes any earlier one of that kind invalid; none
    /// for a verified address (Verification), a disabled account (PasswordReset), or beyond the per-account mail cap.
    /// </summary>
    [Alias("IssueEmailToken")]
    Task<EmailTokenIssue> IssueEmailTokenAsync(EmailTokenKind kind);

    /// <summary>Marks the address verified when <paramref name="token"/> is the verification token last mailed and still valid; spends it.</summary>
    [Alias("VerifyEmail")]
    Task<bool> VerifyEmailAsync(string token);

    /// <summary>
    /// Sets a new password when the reset token is the one last mailed and still valid: the new hash, the spent token, the
    /// verified address and the revocation of EVERY session (reason PasswordReset) go into one write, and the revocations
    /// are then finished like a password change's. Also clears the account's failed-login lock.
    /// </summary>
    [Alias("ResetPassword")]
    Task<bool> ResetPasswordAsync(PasswordReset reset);

    // The 0.3 calls with plain arguments, answered for a 0.3 Api or email index during a rolling upgrade.

    /// <summary><see cref="RevokeSessionAsync(SessionRevocation)"/> by its owner.</summary>
    [Alias("RevokeSession"), Obsolete("The 0.3 Api's call, for a rolling upgrade from it; removed in 0.5.")]
    Task<bool> RevokeSessionAsync(Guid sessionId);

    /// <summary><see cref="RevokeAllSessionsAsync(AllSessionsRevocation)"/> as logout-all.</summary>
    [Alias("RevokeAllSessions"), Obsolete("The 0.3 Api's call, for a rolling upgrade from it; removed in 0.5.")]
    Task<int> RevokeAllSessionsAsync();

    [Alias("RevokeAllSessionsFor"), Obsolete("The 0.3 Api's call, for a rolling upgrade from it; removed in 0.5.")]
    Task<int> RevokeAllSessionsAsync(RevocationReason reason);

    [Alias("RevokeSessionFor"), Obsolete("The 0.3 Api's call, for a rolling upgrade from it; removed in 0.5.")]
    Task<bool> RevokeSessionAsync(Guid sessionId, RevocationReason reason);

    [Alias("VerifyPassword"), Obsolete("The 0.3 email index's call, for a rolling upgrade from it; removed in 0.5.")]
    Task<bool> VerifyPasswordAsync(string password, DateTimeOffset deadline);
}

/// <summary>An account as the admin API shows it.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.UserAccount")]
public sealed record UserAccount(
    [property: Id(0)] Guid UserId,
    [property: Id(1)] string Email,
    [property: Id(2)] bool EmailVerified,
    [property: Id(3)] ImmutableArray<string> Roles,
    [property: Id(4)] bool Disabled,
    [property: Id(5)] DateTimeOffset CreatedAt,
    [property: Id(6)] int ActiveSessions);

/// <summary>A new account as the email index creates it, its password already hashed.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.NewUser")]
public sealed record NewUser([property: Id(0)] string Email, [property: Id(1)] string PasswordHash, [property: Id(2)] DateTimeOffset Deadline)
{
    public override string ToString() => $"NewUser {{ Deadline = {Deadline:O} }}";
}

[GenerateSerializer, Alias("Sessions.EmailTokenStatus")]
public enum EmailTokenStatus { Issued, AlreadyVerified, TooManyMails, NotAllowed }

/// <summary>A token to mail, and the address it goes to; <see cref="Token"/> is null unless Issued, <see cref="RetryAfter"/> set for TooManyMails.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.EmailTokenIssue")]
public sealed record EmailTokenIssue(
    [property: Id(0)] EmailTokenStatus Status, [property: Id(1)] string? Token = null, [property: Id(2)] string? Email = null,
    [property: Id(3)] TimeSpan? RetryAfter = null)
{
    public override string ToString() => $"EmailTokenIssue {{ Status = {Status} }}";
}

/// <summary>One session of the user to revoke, and why: RevokedByUser from its owner, RevokedByAdmin from the admin API.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.SessionRevocation")]
public sealed record SessionRevocation([property: Id(0)] Guid SessionId, [property: Id(1)] RevocationReason Reason);

/// <summary>Every session of the user to revoke, and why: LogoutAll from the user, RevokedByAdmin from the admin API.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.AllSessionsRevocation")]
public sealed record AllSessionsRevocation([property: Id(0)] RevocationReason Reason);

/// <summary>A password to check against the account's (before a deletion by its owner), hashed by <see cref="Deadline"/> or not at all.</summary>
[GenerateSerializer, Immutable, Alias("Sessions.PasswordVerification")]
public sealed record PasswordVerification([property: Id(0)] string Password, [property: Id(1)] DateTimeOffset Deadline)
{
    public override string ToString() => $"PasswordVerification {{ Deadline = {Deadline:O} }}";
}

[GenerateSerializer, Immutable, Alias("Sessions.PasswordReset")]
public sealed record PasswordReset([property: Id(0)] string Token, [property: Id(1)] string NewPassword, [property: Id(2)] DateTimeOffset Deadline)
{
    public override string ToString() => $"PasswordReset {{ Deadline = {Deadline:O} }}";
}
