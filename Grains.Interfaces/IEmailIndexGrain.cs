namespace Sessions;

/// <summary>Maps one normalized email to its user and makes registration of that email atomic.</summary>
[Alias("Sessions.IEmailIndexGrain")]
public interface IEmailIndexGrain : IGrainWithStringKey
{
    /// <summary>
    /// Registers a new user under this email, or reports that the email is taken. Past the attempt's deadline nothing
    /// is hashed or stored (OverloadedException), and a user is stored only once this email's entry names it.
    /// </summary>
    [Alias("RegistrationAttempt")]
    Task<RegistrationResult> RegisterAsync(RegistrationAttempt attempt);

    /// <summary>
    /// Logs in the user registered under this email, under the failed-login limits of this email (per client
    /// address, and for all addresses together; a login with a valid device token of the account by that device's
    /// failures only). An unknown email answers exactly like a wrong password, after the same hashing work, and is
    /// limited the same way.
    /// </summary>
    [Alias("LoginAttempt")]
    Task<LoginResult> LoginAsync(LoginAttempt attempt);

    /// <summary>
    /// Changes the password of the user registered under this email (POST /auth/password): a wrong current password
    /// counts as a failed attempt of the calling session, which alone is held back (TooManyAttempts) after too many.
    /// </summary>
    [Alias("ChangePassword")]
    Task<PasswordChangeResult> ChangePasswordAsync(PasswordChange change);

    /// <summary>
    /// Checks the password of the user registered under this email before a deletion of the account by its owner
    /// (DELETE /me), under the same limits as a password change: a wrong one counts against the calling session and address.
    /// </summary>
    [Alias("CheckPassword")]
    Task<PasswordCheckResult> CheckPasswordAsync(PasswordCheck check);

    /// <summary>
    /// Frees this email of a user being deleted (the entry is deleted, so no row keeps the email), if it still names
    /// that user. Interleaves with a call of this grain waiting on that user, which is how it comes to be called.
    /// </summary>
    [Alias("Release"), Orleans.Concurrency.AlwaysInterleave]
    Task ReleaseAsync(Guid userId);

    /// <summary>A password reset clears this email's failed-login counts; interleaves, as <see cref="ReleaseAsync"/> does.</summary>
    [Alias("ClearFailedLogins"), Orleans.Concurrency.AlwaysInterleave]
    Task ClearFailedLoginsAsync();

    /// <summary>The admin API's lookup by email: the id of the user registered under it, or null.</summary>
    [Alias("FindUser")]
    Task<Guid?> FindUserAsync();
}

public static class EmailIndex
{
    // The prefix keeps keys from looking hexadecimal: AdoNet storage would alias them (dotnet/orleans#9706).
    private const string KeyPrefix = "e:";

    public static string KeyFor(string email) => KeyPrefix + Credentials.NormalizeEmail(email);

    public static string EmailOf(string key) => key[KeyPrefix.Length..];
}

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
    /// <summary>The right password of a disabled account; no session was opened.</summary>
    AccountDisabled,
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

[GenerateSerializer, Immutable, Alias("Sessions.RegistrationResult")]
public sealed record RegistrationResult([property: Id(0)] bool Registered, [property: Id(1)] Guid UserId);

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

/// <summary>The owner's password, checked before the account is deleted (DELETE /me).</summary>
[GenerateSerializer, Immutable, Alias("Sessions.PasswordCheck")]
public sealed record PasswordCheck(
    [property: Id(0)] string Password,
    [property: Id(1)] Guid UserId,
    [property: Id(2)] Guid SessionId,
    [property: Id(3)] ClientInfo Client,
    [property: Id(4)] DateTimeOffset Deadline)
{
    public override string ToString() => $"PasswordCheck {{ UserId = {UserId}, SessionId = {SessionId}, Client = {Client}, Deadline = {Deadline:O} }}";
}

[GenerateSerializer, Alias("Sessions.PasswordCheckStatus")]
public enum PasswordCheckStatus { Verified, InvalidCredentials, TooManyAttempts }

[GenerateSerializer, Immutable, Alias("Sessions.PasswordCheckResult")]
public sealed record PasswordCheckResult([property: Id(0)] PasswordCheckStatus Status, [property: Id(1)] TimeSpan? RetryAfter = null);
