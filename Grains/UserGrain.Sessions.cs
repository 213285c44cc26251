using System.Collections.Immutable;

namespace Sessions.Grains;

/// <summary>The session index: the user's own list and revocations, and the admin's.</summary>
public sealed partial class UserGrain
{
    public async Task<ImmutableArray<SessionInfo>> GetSessionsAsync() => await ExistsNowAsync() ? await LiveSessionsAsync() : [];

    private async Task<ImmutableArray<SessionInfo>> LiveSessionsAsync()
    {
        // A list must not show a session that a change still owes its revocation.
        await FinishOwedWorkAsync();
        var ids = User.Sessions.Keys.ToArray();
        var infos = await Task.WhenAll(ids.Select(id => GrainFactory.GetGrain<ISessionGrain>(id).GetInfoAsync()));
        var dead = ids.Where((_, i) => infos[i] is null).ToArray();
        if (dead.Length > 0)
            await TryForgetAsync(dead);
        return [.. infos.OfType<SessionInfo>().OrderByDescending(s => s.LastRefreshedAt)];
    }

    public async Task<bool> RevokeSessionAsync(SessionRevocation revocation)
    {
        if (!await ExistsNowAsync() || !User.Sessions.ContainsKey(revocation.SessionId))
            return false;
        await GrainFactory.GetGrain<ISessionGrain>(revocation.SessionId).RevokeAsync(revocation.Reason);
        await TryForgetAsync([revocation.SessionId]);
        return true;
    }

    public async Task<int> RevokeAllSessionsAsync(AllSessionsRevocation revocation)
    {
        if (!await ExistsNowAsync())
            return 0;
        var ids = User.Sessions.Keys.ToArray();
        // Each revocation is durable in its session grain; the index is emptied only after all of them.
        await Task.WhenAll(ids.Select(id => GrainFactory.GetGrain<ISessionGrain>(id).RevokeAsync(revocation.Reason)));
        await TryForgetAsync(ids);
        SecurityEvents.LogoutAll(logger, UserId, ids.Length);
        return ids.Length;
    }

    /// <summary>Drops dead sessions from the index. Best effort: the session grains are the truth.</summary>
    private async Task TryForgetAsync(IReadOnlyCollection<Guid> sessionIds)
    {
        try
        {
            await _state.WriteOrRollBackAsync(User with { Sessions = User.Sessions.RemoveRange(sessionIds) });
        }
        catch (StorageUnavailableException)
        {
            // Left in the index; pruned on a later read.
        }
    }
}
