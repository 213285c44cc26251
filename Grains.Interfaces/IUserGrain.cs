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

    /// <summary>The previous email index's call, which left a user unreachable when its entry then failed to store.</summary>
    [Alias("Create"), Obsolete("The previous version's registration; goes once every silo runs this version or later.")]
    Task<bool> CreateAsync(string email, string password);

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

    /// <summary>Revokes one of the user's sessions; false when it is not one of theirs.</summary>
    [Alias("RevokeSession")]
    Task<bool> RevokeSessionAsync(Guid sessionId);

    /// <summary>Revokes every session of the user; returns how many were indexed.</summary>
    [Alias("RevokeAllSessions")]
    Task<int> RevokeAllSessionsAsync();

    /// <summary>
    /// Checks the current password, stores the new one, then revokes every other session of the user durably
    /// (reason PasswordChanged) before it answers Changed; the caller's session stays. When a revocation cannot be
    /// stored it throws <see cref="StorageUnavailableException"/>, and the same request again finishes the job.
    /// Called by the email index, which applies the failed-login limits.
    /// </summary>
    [Alias("ChangePassword")]
    Task<PasswordChangeStatus> ChangePasswordAsync(PasswordChange change);
}

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

    /// <summary>The previous Api's call, without a deadline: given the response timeout as one.</summary>
    [Alias("Register"), Obsolete("The previous version's registration; goes once every Api node runs this version or later.")]
    Task<RegistrationResult> RegisterAsync(string password);

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
}

public static class EmailIndex
{
    // The prefix keeps keys from looking hexadecimal: AdoNet storage would alias them (dotnet/orleans#9706).
    private const string KeyPrefix = "e:";

    public static string KeyFor(string email) => KeyPrefix + Credentials.NormalizeEmail(email);

    public static string EmailOf(string key) => key[KeyPrefix.Length..];
}
