using System.Collections.Immutable;
using Microsoft.AspNetCore.Identity;

namespace Sessions.Grains;

/// <summary>The password: checked before a deletion, changed by its owner, or reset with a mailed token.</summary>
public sealed partial class UserGrain
{
    public async Task<bool> VerifyPasswordAsync(PasswordVerification verification) =>
        await ExistsNowAsync()
        && await passwords.VerifyAsync(User, User.PasswordHash, verification.Password, verification.Deadline, HashingLane.Priority) != PasswordVerificationResult.Failed;

    public async Task<PasswordChangeStatus> ChangePasswordAsync(PasswordChange change)
    {
        if (!Credentials.IsValidPassword(change.NewPassword))
            throw new ArgumentException("The new password breaks the registration rules.");
        // What an earlier change owes comes first: so a retry of a change answered 503 finishes it here, or is 503 again.
        if (!await ExistsNowAsync())
            return PasswordChangeStatus.InvalidCredentials;

        // The throttled hashing path of login (PasswordHashing): a full queue or a passed deadline is 503, nothing changed.
        // A signed-in session's change is hashed ahead of logins without a known device.
        var verdict = await passwords.VerifyAsync(User, User.PasswordHash, change.CurrentPassword, change.Deadline, HashingLane.Priority);
        if (verdict == PasswordVerificationResult.Failed)
            return await RepeatsLastChangeAsync(change) ? PasswordChangeStatus.Changed : PasswordChangeStatus.InvalidCredentials;

        // This grain is non-reentrant and every login passes through it, so the index holds every session opened
        // with the old password (a login is indexed before its session starts): revoking the index revokes them all,
        // and any login after this call meets the new hash.
        var now = time.GetUtcNow();
        var sessions = LiveEntries(now);
        var others = sessions.Keys.Where(id => id != change.SessionId).ToImmutableArray();
        // The new hash and the list of sessions to revoke in one write: from here on the revocations are owed
        // durably, whatever fails next, and are finished by the next call, by a retry of this request, or by a timer.
        await _state.WriteOrRollBackAsync(User with
        {
            PasswordHash = await passwords.HashAsync(User, change.NewPassword, change.Deadline, HashingLane.Priority),
            Sessions = sessions,
            PasswordChange = new PasswordChangeState { At = now, SessionId = change.SessionId },
            PasswordReset = null,
            Owed = OwedSessionWork.Revoke(others, RevocationReason.PasswordChanged),
        });
        SecurityEvents.PasswordChanged(logger, UserId, change.SessionId, change.Client.IpAddress, change.Client.UserAgent, others.Length);
        await FinishOwedWorkAsync();
        return PasswordChangeStatus.Changed;
    }

    /// <summary>
    /// Whether <paramref name="change"/> is a retry of the last change, whose answer was lost or 503: the client
    /// resends the same body, so its current password is the old one and no longer verifies. It is the same
    /// change when the same session asks, recently, for the password that is now stored. This costs a second
    /// verification only for the session that made the change, and only within the failed-login window.
    /// </summary>
    private async Task<bool> RepeatsLastChangeAsync(PasswordChange change) =>
        User.PasswordChange is { } last
        && last.SessionId == change.SessionId
        && time.GetUtcNow() - last.At < _options.FailedLoginWindow
        && await passwords.VerifyAsync(User, User.PasswordHash, change.NewPassword, change.Deadline, HashingLane.Priority) != PasswordVerificationResult.Failed;

    public async Task<bool> ResetPasswordAsync(PasswordReset reset)
    {
        if (!Credentials.IsValidPassword(reset.NewPassword))
            throw new ArgumentException("The new password breaks the registration rules.");
        if (!await ExistsNowAsync() || User.Disabled || !Matches(reset.Token, EmailTokenKind.PasswordReset, User.PasswordReset))
            return false;
        // A reset is what an owner does after a theft: every session goes, with the password change's durability.
        var sessions = User.Sessions;
        await _state.WriteOrRollBackAsync(User with
        {
            PasswordHash = await passwords.HashAsync(User, reset.NewPassword, reset.Deadline, HashingLane.Priority),
            PasswordReset = null,
            EmailVerified = true,
            Owed = OwedSessionWork.Revoke(sessions.Keys, RevocationReason.PasswordReset),
        });
        SecurityEvents.PasswordResetDone(logger, UserId, sessions.Count);
        await FinishOwedWorkAsync();
        // The owner is back in: a lock strangers' guesses put on the account goes too. Counts live in memory, so a lost
        // call loses nothing that storage would have kept.
        await GrainFactory.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(User.Email)).ClearFailedLoginsAsync();
        return true;
    }
}
