namespace Sessions;

/// <summary>One login on one device; owns its refresh-token family. Keyed by the session id.</summary>
[Alias("Sessions.ISessionGrain")]
public interface ISessionGrain : IGrainWithGuidKey
{
    /// <summary>Opens the session and issues its first refresh token; durable before it returns.</summary>
    [Alias("Start")]
    Task<SessionGrant> StartAsync(SessionStart start);

    /// <summary>
    /// Presents a refresh token: rotation, grace replay or reuse detection (API.md rules 1-5). Past
    /// <paramref name="deadline"/> the caller has given up (and answered 503), so the request is dropped unjudged.
    /// </summary>
    [Alias("Refresh")]
    Task<RefreshResult> RefreshAsync(string refreshToken, ClientInfo client, DateTimeOffset deadline);

    /// <summary>Revokes the session if the token belongs to its family; false (and nothing revoked) otherwise.</summary>
    [Alias("Logout")]
    Task<bool> LogoutAsync(string refreshToken);

    /// <summary>Revokes the session durably; a no-op when it is already revoked, expired or unknown.</summary>
    [Alias("Revoke")]
    Task RevokeAsync(RevocationReason reason);

    /// <summary>Whether access tokens of this session are still honoured; answered from memory, no I/O once active.</summary>
    [Alias("IsActive"), Orleans.Concurrency.ReadOnly]
    Task<bool> IsActiveAsync();

    /// <summary>The session as listed, or null when it is not active.</summary>
    [Alias("GetInfo")]
    Task<SessionInfo?> GetInfoAsync();
}
