using System.Collections.Immutable;
using Microsoft.AspNetCore.Identity;

namespace Sessions.Grains;

/// <summary>Login: the password checked, then room made under MaxActiveSessions and the new session indexed before it starts.</summary>
public sealed partial class UserGrain
{
    public async Task<LoginResult> LoginAsync(LoginAttempt attempt)
    {
        await _state.RereadIfStaleAsync();
        if (User.Deleted)
            await FinishOwedWorkAsync();
        if (!_state.RecordExists)
            return new LoginResult(LoginStatus.InvalidCredentials);

        // A wrong password writes nothing: the email index counts failures in memory, and an unknown email,
        // which has nothing to write, must not be told apart by time.
        var lane = attempt.KnownDevice ? HashingLane.Priority : HashingLane.Normal;
        var verdict = await passwords.VerifyAsync(User, User.PasswordHash, attempt.Password, attempt.Deadline, lane);
        if (verdict == PasswordVerificationResult.Failed)
            return new LoginResult(LoginStatus.InvalidCredentials);
        // Checked after the password, so that only the owner learns the account is disabled.
        if (User.Disabled)
            return new LoginResult(LoginStatus.AccountDisabled);

        var now = time.GetUtcNow();
        var sessions = await WithRoomForOneMoreAsync(LiveEntries(now));
        // Index the session before it exists, so logout-all can never miss one; a session that then
        // fails to start is a dead entry, dropped when the index is next read.
        var sessionId = Guid.NewGuid();
        var next = User with
        {
            Sessions = sessions.Add(sessionId, now + _options.SessionAbsoluteLifetime),
            PasswordHash = verdict == PasswordVerificationResult.SuccessRehashNeeded
                ? await passwords.HashAsync(User, attempt.Password, attempt.Deadline, lane)
                : User.PasswordHash,
        };
        await _state.WriteOrRollBackAsync(next);

        var client = attempt.Client;
        var grant = await GrainFactory.GetGrain<ISessionGrain>(sessionId)
            .StartAsync(new SessionStart(UserId, User.Email, User.Roles, client.UserAgent, client.IpAddress, attempt.Deadline, attempt.Proof?.Jkt, User.EmailVerified));
        SecurityEvents.LoginSucceeded(logger, UserId, sessionId, client.IpAddress, client.UserAgent);
        return new LoginResult(LoginStatus.Succeeded, grant);
    }

    /// <summary>
    /// At MaxActiveSessions, drops the index entries of sessions that ended and revokes the least recently
    /// refreshed of the rest (durably, before the login is answered), so the new session fits.
    /// </summary>
    private async Task<ImmutableDictionary<Guid, DateTimeOffset>> WithRoomForOneMoreAsync(ImmutableDictionary<Guid, DateTimeOffset> sessions)
    {
        if (sessions.Count < _options.MaxActiveSessions)
            return sessions;
        var ids = sessions.Keys.ToArray();
        var infos = await Task.WhenAll(ids.Select(id => GrainFactory.GetGrain<ISessionGrain>(id).GetInfoAsync()));
        var active = infos.OfType<SessionInfo>().OrderBy(s => s.LastRefreshedAt).ToList();
        var revoked = active.Take(active.Count - (_options.MaxActiveSessions - 1)).Select(s => s.SessionId).ToList();
        await Task.WhenAll(revoked.Select(id => GrainFactory.GetGrain<ISessionGrain>(id).RevokeAsync(RevocationReason.SessionLimit)));
        if (revoked.Count > 0)
            SecurityEvents.SessionLimit(logger, UserId, revoked.Count);
        return sessions.RemoveRange(ids.Where((_, i) => infos[i] is null).Concat(revoked));
    }
}
