using System.Collections.Immutable;

namespace Sessions.Grains;

/// <summary>The admin's changes: the account as shown, roles, disabling, and deletion (also the owner's).</summary>
public sealed partial class UserGrain
{
    public async Task<UserAccount?> GetAccountAsync() => await ExistsNowAsync() ? await AccountAsync() : null;

    public async Task<bool> DeleteAsync()
    {
        if (!await ExistsNowAsync())
            return false;
        // Non-reentrant, like the password change: a login either ran before this write, and its session is indexed
        // and revoked below, or runs after it and meets a deleted account. Everything after this write is owed.
        var sessions = User.Sessions;
        await _state.WriteOrRollBackAsync(User with
        {
            Deleted = true,
            Owed = OwedSessionWork.Revoke(sessions.Keys, RevocationReason.UserDeleted),
        });
        SecurityEvents.AccountDeleted(logger, UserId, sessions.Count);
        await FinishOwedWorkAsync();
        return true;
    }

    public async Task<UserAccount?> SetRolesAsync(ImmutableArray<string> roles)
    {
        if (!Roles.TryNormalize(roles, out var normalized) || !normalized.SequenceEqual(roles))
            throw new ArgumentException("The roles break the rules of role names.");
        if (!await ExistsNowAsync())
            return null;
        // Non-reentrant like the password change: a login after this write starts its session with the new roles, and
        // every session indexed before it is told them before the answer, or owes it durably.
        var sessions = LiveEntries(time.GetUtcNow());
        await _state.WriteOrRollBackAsync(User with { Roles = roles, Sessions = sessions, Owed = OwedSessionWork.UpdateUser(sessions.Keys) });
        await FinishOwedWorkAsync();
        return await AccountAsync();
    }

    public async Task<UserAccount?> SetDisabledAsync(bool disabled)
    {
        if (!await ExistsNowAsync())
            return null;
        if (User.Disabled != disabled)
        {
            // "None opened before the answer survives it": every indexed session is owed its revocation in the same
            // write that refuses all later logins.
            var sessions = LiveEntries(time.GetUtcNow());
            await _state.WriteOrRollBackAsync(User with
            {
                Disabled = disabled,
                Sessions = sessions,
                Owed = disabled ? OwedSessionWork.Revoke(sessions.Keys, RevocationReason.UserDisabled) : null,
            });
            await FinishOwedWorkAsync();
        }
        return await AccountAsync();
    }

    private async Task<UserAccount> AccountAsync() =>
        new(UserId, User.Email, User.EmailVerified, User.Roles, User.Disabled, User.CreatedAt, (await LiveSessionsAsync()).Length);
}
