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

    /// <summary>
    /// The call of the previous Api version, kept for a rolling upgrade: <see cref="RefreshAsync(RefreshAttempt)"/> with
    /// no proof, so a bound session refuses it. Remove once no Api calls it.
    /// </summary>
    [Alias("Refresh")]
    Task<RefreshResult> RefreshAsync(string refreshToken, ClientInfo client, DateTimeOffset deadline);

    /// <summary>Revokes the session if the token belongs to its family and, when the session is bound, the proof is by its key.</summary>
    [Alias("LogoutAttempt")]
    Task<LogoutStatus> LogoutAsync(LogoutAttempt attempt);

    /// <summary>
    /// The call of the previous Api version, kept for a rolling upgrade: <see cref="LogoutAsync(LogoutAttempt)"/> with no
    /// proof; true when that logged out. Remove once no Api calls it.
    /// </summary>
    [Alias("Logout")]
    Task<bool> LogoutAsync(string refreshToken);

    /// <summary>Revokes the session durably; a no-op when it is already revoked, expired or unknown.</summary>
    [Alias("Revoke")]
    Task RevokeAsync(RevocationReason reason);

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
