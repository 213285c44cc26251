namespace Sessions.Grains;

/// <summary>
/// What a change owes the user's sessions (<see cref="OwedSessionWork"/>): stored in the change's own write, done
/// before the answer, and while any of it cannot be stored, owed: finished by the next call or by a timer.
/// </summary>
public sealed partial class UserGrain
{
    /// <summary>How often an activation that owes its sessions work tries it again (storage trouble is usually brief).</summary>
    private static readonly TimeSpan OwedWorkRetryPeriod = TimeSpan.FromSeconds(5);
    private IGrainTimer? _owedWorkRetry;

    /// <summary>Owed since before this activation (a silo died in the middle, say): nobody may call soon, so it starts at once.</summary>
    private void ResumeOwedWork()
    {
        if (User.Owed is not null)
            KeepFinishingOwedWork(TimeSpan.Zero);
    }

    /// <summary>
    /// Does what the last change still owes the sessions, then stores that nothing is owed. While any of it cannot be
    /// stored this throws (503) and the work stays owed: a session grain whose revocation failed to store holds it in
    /// memory meanwhile (fail closed), and a timer here tries again until storage takes it, so no session opened
    /// before a change outlives a partial failure of it.
    /// </summary>
    private async Task FinishOwedWorkAsync()
    {
        try
        {
            await DoOwedWorkAsync();
        }
        catch (Exception)
        {
            KeepFinishingOwedWork(OwedWorkRetryPeriod);
            throw;
        }
        StopFinishingOwedWork(); // or finished by a write whose acknowledgement was lost, say
    }

    private async Task DoOwedWorkAsync()
    {
        if (User.Owed is not { } owed)
            return;
        // Both are idempotent: a session already revoked (or never started) writes nothing.
        await Task.WhenAll(owed.Revocations.Select(id => GrainFactory.GetGrain<ISessionGrain>(id).RevokeAsync(owed.Reason))
            .Concat(owed.UserUpdates.Select(id => GrainFactory.GetGrain<ISessionGrain>(id).UpdateUserAsync(new SessionUserUpdate(User.Roles, User.EmailVerified)))));
        if (!User.Deleted)
        {
            await _state.WriteOrRollBackAsync(User with { Sessions = User.Sessions.RemoveRange(owed.Revocations), Owed = null });
            return;
        }
        // Every session is revoked in storage: only now may the email go to someone else, and only then may this state,
        // which is what remembers the deletion is unfinished, go too.
        await GrainFactory.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(User.Email)).ReleaseAsync(UserId);
        await _state.ClearOrThrowAsync();
        SecurityEvents.AccountErased(logger, UserId);
    }

    /// <summary>Retries the owed work on a timer, which keeps this activation alive until it is stored.</summary>
    private void KeepFinishingOwedWork(TimeSpan dueTime) =>
        _owedWorkRetry ??= this.RegisterGrainTimer(RetryOwedWorkAsync,
            new GrainTimerCreationOptions(dueTime, OwedWorkRetryPeriod) { KeepAlive = true });

    private void StopFinishingOwedWork()
    {
        _owedWorkRetry?.Dispose();
        _owedWorkRetry = null;
    }

    private async Task RetryOwedWorkAsync()
    {
        try
        {
            await _state.RereadIfStaleAsync();
            await FinishOwedWorkAsync();
        }
        catch (Exception exception) when (exception is StorageUnavailableException or OrleansException or TimeoutException)
        {
            // Still owed; the next tick tries again. The failed writes are logged where they failed.
        }
    }
}
