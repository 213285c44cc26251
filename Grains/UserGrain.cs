using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sessions.Grains;

[GrainType("user")]
public sealed class UserGrain(
    [PersistentState(stateName: "user", storageName: StorageNames.Grains)] IPersistentState<UserState> state,
    SessionsInstruments instruments,
    PasswordHashing passwords,
    RefreshTokenMac mac,
    IOptions<SessionOptions> options,
    [FromKeyedServices(SessionClock.Key)] TimeProvider time,
    ILogger<UserGrain> logger) : Grain, IUserGrain
{
    private static readonly ImmutableArray<string> DefaultRoles = ["user"];
    /// <summary>How often an activation owing work to its sessions (a password change's or an admin change's) tries it again (storage trouble is usually brief).</summary>
    private static readonly TimeSpan PendingRevocationsRetry = TimeSpan.FromSeconds(5);
    private readonly SessionOptions _options = options.Value;
    private readonly StoredState<UserState> _state = new(state, instruments, "user");
    private IGrainTimer? _owedWork;

    private Guid UserId => this.GetPrimaryKey();
    private UserState User => _state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Owed since before this activation (a silo died in the middle, say): nobody may call soon, so start at once.
        if (User.PasswordChange is { HasPendingRevocations: true } || User.Owed is not null)
            KeepFinishingOwedWork(TimeSpan.Zero);
        return Task.CompletedTask;
    }

    public async Task<bool> CreateAsync(NewUser user)
    {
        if (!Credentials.IsValidEmail(user.Email) || string.IsNullOrEmpty(user.PasswordHash))
            throw new ArgumentException("The email breaks the registration rules, or the password hash is missing.");
        await _state.RereadIfStaleAsync();
        if (_state.RecordExists)
            return false;
        // Past the deadline the registration was answered 503: storing the user now would register the email after all.
        if (time.GetUtcNow() > user.Deadline)
            throw new OverloadedException("The registration's deadline passed; the user was not stored.");
        await _state.WriteOrRollBackAsync(new UserState { Email = user.Email, PasswordHash = user.PasswordHash, Roles = DefaultRoles, CreatedAt = time.GetUtcNow() });
        return true;
    }

    public Task<bool> ExistsAsync() => ExistsNowAsync();

    /// <summary>
    /// Reads storage again if needed and finishes what is owed; whether the account exists after that. A deletion cut
    /// short is finished here by whoever calls next, so a deleted account never answers as one.
    /// </summary>
    private async Task<bool> ExistsNowAsync()
    {
        await _state.RereadIfStaleAsync();
        if (!_state.RecordExists)
            return false;
        await FinishOwedWorkAsync();
        return _state.RecordExists;
    }

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

    public async Task<ImmutableArray<SessionInfo>> GetSessionsAsync() => await ExistsNowAsync() ? await LiveSessionsAsync() : [];

    private async Task<ImmutableArray<SessionInfo>> LiveSessionsAsync()
    {
        // A list must not show a session the last password change or admin change owes a revocation.
        await FinishOwedWorkAsync();
        var ids = User.Sessions.Keys.ToArray();
        var infos = await Task.WhenAll(ids.Select(id => GrainFactory.GetGrain<ISessionGrain>(id).GetInfoAsync()));
        var dead = ids.Where((_, i) => infos[i] is null).ToArray();
        if (dead.Length > 0)
            await TryForgetAsync(dead);
        return [.. infos.OfType<SessionInfo>().OrderByDescending(s => s.LastRefreshedAt)];
    }

    public Task<bool> RevokeSessionAsync(Guid sessionId) => RevokeSessionAsync(sessionId, RevocationReason.RevokedByUser);

    public async Task<bool> RevokeSessionAsync(Guid sessionId, RevocationReason reason)
    {
        if (!await ExistsNowAsync() || !User.Sessions.ContainsKey(sessionId))
            return false;
        await GrainFactory.GetGrain<ISessionGrain>(sessionId).RevokeAsync(reason);
        await TryForgetAsync([sessionId]);
        return true;
    }

    public Task<int> RevokeAllSessionsAsync() => RevokeAllSessionsAsync(RevocationReason.LogoutAll);

    public async Task<int> RevokeAllSessionsAsync(RevocationReason reason)
    {
        if (!await ExistsNowAsync())
            return 0;
        var ids = User.Sessions.Keys.ToArray();
        // Each revocation is durable in its session grain; the index is emptied only after all of them.
        await Task.WhenAll(ids.Select(id => GrainFactory.GetGrain<ISessionGrain>(id).RevokeAsync(reason)));
        await TryForgetAsync(ids);
        SecurityEvents.LogoutAll(logger, UserId, ids.Length);
        return ids.Length;
    }

    public async Task<UserAccount?> GetAccountAsync() => await ExistsNowAsync() ? await AccountAsync() : null;

    public async Task<bool> VerifyPasswordAsync(string password, DateTimeOffset deadline) =>
        await ExistsNowAsync()
        && await passwords.VerifyAsync(User, User.PasswordHash, password, deadline, HashingLane.Priority) != PasswordVerificationResult.Failed;

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
            Owed = new OwedSessionWork { Revocations = [.. sessions.Keys], Reason = RevocationReason.UserDeleted },
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
        await _state.WriteOrRollBackAsync(User with { Roles = roles, Sessions = sessions, Owed = new OwedSessionWork { UserUpdates = [.. sessions.Keys] } });
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
                Owed = disabled ? new OwedSessionWork { Revocations = [.. sessions.Keys], Reason = RevocationReason.UserDisabled } : null,
            });
            await FinishOwedWorkAsync();
        }
        return await AccountAsync();
    }

    public async Task<EmailTokenIssue> IssueEmailTokenAsync(EmailTokenKind kind)
    {
        if (!await ExistsNowAsync())
            return new EmailTokenIssue(EmailTokenStatus.NotAllowed);
        if (kind == EmailTokenKind.Verification && User.EmailVerified)
            return new EmailTokenIssue(EmailTokenStatus.AlreadyVerified);
        // No mail at all to a disabled account: a reset would let nobody in, and a flood of them would only annoy its owner.
        if (User.Disabled)
            return new EmailTokenIssue(EmailTokenStatus.NotAllowed);
        var now = time.GetUtcNow();
        var recent = User.MailsSent.Where(at => now - at < _options.MailWindow).ToImmutableArray();
        if (recent.Length >= _options.MaxMailsPerAccount)
            return new EmailTokenIssue(EmailTokenStatus.TooManyMails, RetryAfter: recent.Min() + _options.MailWindow - now);

        var token = mac.IssueEmailToken(kind, UserId);
        var mailed = new MailedToken
        {
            Hash = SHA256.HashData(Encoding.ASCII.GetBytes(token)),
            ExpiresAt = now + (kind == EmailTokenKind.Verification ? _options.EmailVerificationLifetime : _options.PasswordResetLifetime),
        };
        // The one valid token of its kind from now on: an earlier one no longer matches the stored hash.
        await _state.WriteOrRollBackAsync(kind == EmailTokenKind.Verification
            ? User with { Verification = mailed, MailsSent = recent.Add(now) }
            : User with { PasswordReset = mailed, MailsSent = recent.Add(now) });
        if (kind == EmailTokenKind.PasswordReset)
            SecurityEvents.PasswordResetRequested(logger, UserId);
        return new EmailTokenIssue(EmailTokenStatus.Issued, token, User.Email);
    }

    public async Task<bool> VerifyEmailAsync(string token)
    {
        if (!await ExistsNowAsync() || !Matches(token, EmailTokenKind.Verification, User.Verification))
            return false;
        var sessions = LiveEntries(time.GetUtcNow());
        // Every session learns it as it learns new roles: owed in the same write.
        await _state.WriteOrRollBackAsync(User with
        {
            EmailVerified = true,
            Verification = null,
            Sessions = sessions,
            Owed = new OwedSessionWork { UserUpdates = [.. sessions.Keys] },
        });
        SecurityEvents.EmailVerified(logger, UserId);
        await FinishOwedWorkAsync();
        return true;
    }

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
            Owed = new OwedSessionWork { Revocations = [.. sessions.Keys], Reason = RevocationReason.PasswordReset },
        });
        SecurityEvents.PasswordResetDone(logger, UserId, sessions.Count);
        await FinishOwedWorkAsync();
        // The owner is back in: a lock strangers' guesses put on the account goes too. Counts live in memory, so a lost
        // call loses nothing that storage would have kept.
        await GrainFactory.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(User.Email)).ClearFailedLoginsAsync();
        return true;
    }

    /// <summary>Whether <paramref name="token"/> is genuine, of <paramref name="kind"/>, for this user, and the one last mailed, unexpired.</summary>
    private bool Matches(string token, EmailTokenKind kind, MailedToken? mailed) =>
        mailed is not null && time.GetUtcNow() < mailed.ExpiresAt
        && EmailToken.TryParse(token, out var parsed) && parsed.Kind == kind && parsed.UserId == UserId && mac.Verify(parsed)
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.ASCII.GetBytes(token)), mailed.Hash);

    private async Task<UserAccount> AccountAsync() =>
        new(UserId, User.Email, User.EmailVerified, User.Roles, User.Disabled, User.CreatedAt, (await LiveSessionsAsync()).Length);

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
            PasswordChange = new PasswordChangeState { At = now, SessionId = change.SessionId, PendingRevocations = others },
            PasswordReset = null,
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

    /// <summary>
    /// Does what the last password change and the last admin change still owe the sessions, then stores that nothing
    /// is owed. While any of it cannot be stored this throws (503) and the work stays owed: a session grain whose
    /// revocation failed to store holds it in memory meanwhile (fail closed), and a timer here tries again until
    /// storage takes it, so no session opened before a change outlives a partial failure of it.
    /// </summary>
    private async Task FinishOwedWorkAsync()
    {
        try
        {
            await FinishPasswordChangeAsync();
            await FinishAdminChangeAsync();
        }
        catch (Exception)
        {
            KeepFinishingOwedWork(PendingRevocationsRetry);
            throw;
        }
        StopFinishingOwedWork(); // or finished by a write whose acknowledgement was lost, say
    }

    private async Task FinishPasswordChangeAsync()
    {
        if (User.PasswordChange is not { HasPendingRevocations: true } change)
            return;
        var pending = change.PendingRevocations;
        // Revoking is idempotent: a session already revoked (or never started) writes nothing.
        await Task.WhenAll(pending.Select(id => GrainFactory.GetGrain<ISessionGrain>(id).RevokeAsync(RevocationReason.PasswordChanged)));
        await _state.WriteOrRollBackAsync(User with
        {
            Sessions = User.Sessions.RemoveRange(pending),
            PasswordChange = change with { PendingRevocations = [] },
        });
    }

    private async Task FinishAdminChangeAsync()
    {
        if (User.Owed is not { } owed)
            return;
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
        _owedWork ??= this.RegisterGrainTimer(RetryOwedWorkAsync,
            new GrainTimerCreationOptions(dueTime, PendingRevocationsRetry) { KeepAlive = true });

    private void StopFinishingOwedWork()
    {
        _owedWork?.Dispose();
        _owedWork = null;
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

    private ImmutableDictionary<Guid, DateTimeOffset> LiveEntries(DateTimeOffset now) =>
        User.Sessions.Where(s => s.Value > now).ToImmutableDictionary();

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
