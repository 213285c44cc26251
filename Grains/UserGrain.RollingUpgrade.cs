namespace Sessions.Grains;

/// <summary>
/// The 0.3 calls with plain arguments, answered for a 0.3 Api or email index while a cluster upgrades
/// (docs/operations.md#upgrading-a-running-cluster); this file goes in 0.5.
/// </summary>
public sealed partial class UserGrain
{
    [Obsolete("The 0.3 Api's call; removed in 0.5.")]
    public Task<bool> RevokeSessionAsync(Guid sessionId) => RevokeSessionAsync(new SessionRevocation(sessionId, RevocationReason.RevokedByUser));

    [Obsolete("The 0.3 Api's call; removed in 0.5.")]
    public Task<bool> RevokeSessionAsync(Guid sessionId, RevocationReason reason) => RevokeSessionAsync(new SessionRevocation(sessionId, reason));

    [Obsolete("The 0.3 Api's call; removed in 0.5.")]
    public Task<int> RevokeAllSessionsAsync() => RevokeAllSessionsAsync(new AllSessionsRevocation(RevocationReason.LogoutAll));

    [Obsolete("The 0.3 Api's call; removed in 0.5.")]
    public Task<int> RevokeAllSessionsAsync(RevocationReason reason) => RevokeAllSessionsAsync(new AllSessionsRevocation(reason));

    [Obsolete("The 0.3 email index's call; removed in 0.5.")]
    public Task<bool> VerifyPasswordAsync(string password, DateTimeOffset deadline) => VerifyPasswordAsync(new PasswordVerification(password, deadline));
}
