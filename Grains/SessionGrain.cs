using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sessions.Grains;

/// <summary>
/// The single writer of one session and its refresh-token family. Orleans runs one call at a
/// time here (non-reentrant), which is what serializes concurrent refreshes (rule 3 of docs/http-api.md#rotation-and-reuse-detection).
/// </summary>
[GrainType("session")]
public sealed partial class SessionGrain(
    [PersistentState(stateName: "session", storageName: StorageNames.Grains)] IPersistentState<SessionState> state,
    RefreshTokenMac mac,
    SessionsInstruments instruments,
    IOptions<SessionOptions> options,
    [FromKeyedServices(SessionClock.Key)] TimeProvider time,
    ILogger<SessionGrain> logger) : Grain, ISessionGrain
{
    private static readonly RefreshResult Invalid = new(RefreshStatus.Invalid);
    private static readonly RefreshResult Unavailable = new(RefreshStatus.Unavailable);
    private static readonly RefreshResult InvalidProof = new(RefreshStatus.InvalidProof);
    private static readonly RefreshResult KeyMismatch = new(RefreshStatus.KeyMismatch);

    private readonly SessionOptions _options = options.Value;
    private readonly StoredState<SessionState> _state = new(state, instruments, "session");
    // A revocation that failed to store stays in force in memory, and is stored again on top of
    // what the next call reads back: the family stays dead (fail closed).
    private (DateTimeOffset At, RevocationReason Reason)? _unsavedRevocation;
    // DPoP: the jtis this activation accepted, for bound sessions only (created on first use).
    private RecentProofs? _proofs;

    private Guid SessionId => this.GetPrimaryKey();
    private SessionState Session => _state.State;
    // Derived on each use, not kept: an HMAC per call costs less than 64 bytes held by every activation.
    private byte[] MacKey => mac.DeriveKey(Session.Secret);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        instruments.SessionActivated();
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        instruments.SessionDeactivated();
        return Task.CompletedTask;
    }

    public async Task<SessionGrant> StartAsync(SessionStart start)
    {
        if (_state.RecordExists)
            throw new InvalidOperationException($"Session {SessionId} has already been started.");

        var now = time.GetUtcNow();
        // Delivered after the login gave up on it (a hung silo's buffers): the user grain may since have served a
        // password change, which found no session here to revoke. Starting now would open a session with the old password.
        if (now > start.Deadline)
            throw new OverloadedException($"The start of session {SessionId} arrived after its login's deadline.");
        var absolute = now + _options.SessionAbsoluteLifetime;
        var session = new SessionState
        {
            UserId = start.UserId,
            Email = start.Email,
            Roles = start.Roles,
            Secret = RefreshTokenMac.NewSessionSecret(),
            Counter = 0,
            CreatedAt = now,
            LastRefreshedAt = now,
            AbsoluteExpiresAt = absolute,
            ExpiresAt = Min(now + _options.SessionIdleTimeout, absolute),
            UserAgent = start.UserAgent,
            IpAddress = start.IpAddress,
            DpopJkt = start.DpopJkt,
            EmailVerified = start.EmailVerified,
        };
        if (!await TryWriteAsync(session))
            throw new StorageUnavailableException($"Session {SessionId} could not be stored.");
        return Grant();
    }

    public async Task<RefreshResult> RefreshAsync(RefreshAttempt attempt)
    {
        // A request delivered after its caller gave up (held in a hung silo's socket buffers, say) may carry a
        // token that was rotated away meanwhile by the client's retry: judging it would call that reuse.
        if (time.GetUtcNow() > attempt.Deadline)
        {
            LogLate(logger, SessionId, attempt.Deadline);
            instruments.RefreshLate();
            return Unavailable;
        }
        // The Api resends a refresh whose answer was lost once ResendAfter (its response timeout) has passed. Had the
        // lost call rotated, the resend must land inside the grace window, or the client's own retry is judged reuse.
        if (attempt.ResendAfter >= _options.ReuseGraceWindow)
        {
            LogResendOutsideGraceWindow(logger, attempt.ResendAfter, _options.ReuseGraceWindow);
            return Unavailable;
        }
        var started = Stopwatch.GetTimestamp();
        var result = await JudgeAsync(attempt);
        instruments.Refreshed(result.Status, started);
        return result;
    }

    private async Task<RefreshResult> JudgeAsync(RefreshAttempt attempt)
    {
        if (!await ResyncAsync())
            return Unavailable;
        var (refreshToken, client) = (attempt.RefreshToken, attempt.Client);
        // DPoP: a bound session checks the proof's key and jti before it judges the token; nothing rotates or is
        // revoked when they fail. An unbound session ignores any proof.
        switch (CheckProof(attempt.Proof, client))
        {
            case ProofVerdict.Missing or ProofVerdict.Replayed:
                return InvalidProof;
            case ProofVerdict.OtherKey:
                return KeyMismatch;
        }
        // Rule 5: a token that does not verify cannot be attributed to the family and revokes nothing.
        if (!Verifies(refreshToken, out var token))
            return Invalid;

        // A verified token ahead of us was issued by a newer activation of this session: during a membership
        // change Orleans may briefly run two, and storage is the tiebreaker. Re-read before judging.
        if (token.Counter > Session.Counter)
        {
            _state.MarkStale();
            if (!await ResyncAsync())
                return Unavailable;
        }

        var now = time.GetUtcNow();
        if (Session.RevokedAt is not null)
            return new RefreshResult(RefreshStatus.Revoked);
        if (now >= Session.ExpiresAt)
            return new RefreshResult(RefreshStatus.Expired);

        // Rule 1: the current token rotates; the idle deadline moves, never past the absolute one.
        if (token.Counter == Session.Counter)
        {
            // Rule 4: acknowledged only once stored; otherwise nothing changed and the token stays valid.
            return await TryWriteAsync(Session.Rotated(now, _options.SessionIdleTimeout))
                ? new RefreshResult(RefreshStatus.Rotated, Grant())
                : Unavailable;
        }

        // Rule 2: a token rotated away less than the grace window ago (a retry, or another tab sharing the
        // cookie whose request arrived late) gets the current token; nothing is revoked.
        if (Session.RotatedAwayAt(token.Counter) is { } rotatedAt && now - rotatedAt < _options.ReuseGraceWindow)
            return new RefreshResult(RefreshStatus.Replayed, Grant());

        // Rule 2: any other token of the family is reuse; the whole family dies before we answer.
        SecurityEvents.RefreshTokenReuse(logger, SessionId, Session.UserId, client.IpAddress, client.UserAgent, token.Counter, Session.Counter);
        return await TryRevokeAsync(now, RevocationReason.RefreshTokenReuse)
            ? new RefreshResult(RefreshStatus.ReuseDetected)
            : Unavailable;
    }

    public async Task<LogoutStatus> LogoutAsync(LogoutAttempt attempt)
    {
        await ResyncOrThrowAsync();
        var status = CheckProof(attempt.Proof, attempt.Client) switch
        {
            ProofVerdict.Missing or ProofVerdict.Replayed => LogoutStatus.InvalidProof,
            ProofVerdict.OtherKey => LogoutStatus.KeyMismatch,
            _ => Verifies(attempt.RefreshToken, out _) ? LogoutStatus.LoggedOut : LogoutStatus.Invalid,
        };
        instruments.LoggedOut(status);
        if (status != LogoutStatus.LoggedOut)
            return status;
        var now = time.GetUtcNow();
        if (Session.IsActiveAt(now) && !await TryRevokeAsync(now, RevocationReason.Logout))
            throw new StorageUnavailableException($"Revocation of session {SessionId} could not be stored.");
        return status;
    }

    public async Task RevokeAsync(RevocationReason reason)
    {
        await ResyncOrThrowAsync();
        var now = time.GetUtcNow();
        if (_state.RecordExists && Session.IsActiveAt(now) && !await TryRevokeAsync(now, reason))
            throw new StorageUnavailableException($"Revocation of session {SessionId} could not be stored.");
        // A deleted account's personal data goes from its ended sessions too (what is already revoked, say).
        if (reason == RevocationReason.UserDeleted && _state.RecordExists && Session.HoldsPersonalData
            && !await TryWriteAsync(Session.WithoutPersonalData()))
            throw new StorageUnavailableException($"Session {SessionId} could not be erased.");
    }

    public async Task<bool> RevokeFamilyAsync(string refreshToken, RevocationReason reason)
    {
        await ResyncOrThrowAsync();
        if (!Verifies(refreshToken, out _))
            return false;
        var now = time.GetUtcNow();
        if (Session.IsActiveAt(now) && !await TryRevokeAsync(now, reason))
            throw new StorageUnavailableException($"Revocation of session {SessionId} could not be stored.");
        return true;
    }

    // Read-only and without a resync, as IsActiveAsync: a stale answer can only say inactive. A token ahead of memory
    // (stored by a write whose answer was lost) is then inactive too, and still refreshes as before.
    public Task<SessionIntrospection?> IntrospectAsync(string? refreshToken)
    {
        if (!_state.RecordExists)
            DeactivateOnIdle();
        var session = Session;
        var live = _state.RecordExists && session.IsActiveAt(time.GetUtcNow())
            && (refreshToken is null || (Verifies(refreshToken, out var token) && token.Counter == session.Counter));
        return Task.FromResult(live
            ? new SessionIntrospection(session.UserId, session.Email, session.Roles, session.EmailVerified, session.ExpiresAt, session.DpopJkt)
            : null);
    }

    public async Task UpdateUserAsync(SessionUserUpdate update)
    {
        await ResyncOrThrowAsync();
        if (!_state.RecordExists || !Session.IsActiveAt(time.GetUtcNow())
            || (Session.Roles.SequenceEqual(update.Roles) && Session.EmailVerified == update.EmailVerified))
            return;
        if (!await TryWriteAsync(Session with { Roles = update.Roles, EmailVerified = update.EmailVerified }))
            throw new StorageUnavailableException($"The user of session {SessionId} could not be updated.");
    }

    // No resync here: after a failed write memory is the stored state or a revocation not yet stored,
    // so a stale answer can only ever refuse a token.
    public Task<bool> IsActiveAsync()
    {
        if (!_state.RecordExists)
            DeactivateOnIdle();
        return Task.FromResult(_state.RecordExists && Session.IsActiveAt(time.GetUtcNow()));
    }

    // Read-only for scheduling: no await, so recording the jti cannot interleave with another call.
    public Task<AccessStatus> CheckAccessAsync(AccessCheck check)
    {
        if (!_state.RecordExists)
            DeactivateOnIdle();
        if (!_state.RecordExists || !Session.IsActiveAt(time.GetUtcNow()))
            return Task.FromResult(AccessStatus.Ended);
        // The Api matched the proof's key with the token's cnf.jkt; a token bound to no key here is not ours to honour.
        return Task.FromResult(Session.DpopJkt is not null && CheckProof(check.Proof, client: null) == ProofVerdict.Accepted
            ? AccessStatus.Active
            : AccessStatus.ProofRefused);
    }

    public async Task<SessionInfo?> GetInfoAsync()
    {
        await ResyncOrThrowAsync();
        var session = Session;
        return _state.RecordExists && session.IsActiveAt(time.GetUtcNow())
            ? new SessionInfo(SessionId, session.CreatedAt, session.LastRefreshedAt, session.ExpiresAt, session.UserAgent, session.IpAddress)
            : null;
    }

    private enum ProofVerdict { Unbound, Accepted, Missing, OtherKey, Replayed }

    /// <summary>
    /// DPoP: whether a request may act on this session. An unbound session (or none) takes any request; a bound one
    /// wants a proof by its key whose jti it has not accepted within the proof's lifetime, and remembers the jti.
    /// </summary>
    private ProofVerdict CheckProof(DpopProof? proof, ClientInfo? client)
    {
        if (!_state.RecordExists || Session.DpopJkt is not { } bound)
            return ProofVerdict.Unbound;
        if (proof is null)
            return ProofVerdict.Missing;
        if (!string.Equals(proof.Jkt, bound, StringComparison.Ordinal))
        {
            SecurityEvents.DpopKeyMismatch(logger, SessionId, Session.UserId, proof.Jkt, client?.IpAddress, client?.UserAgent);
            return ProofVerdict.OtherKey;
        }
        return (_proofs ??= new RecentProofs()).TryAccept(proof, time.GetUtcNow()) ? ProofVerdict.Accepted : ProofVerdict.Replayed;
    }

    private bool Verifies(string refreshToken, out RefreshToken token)
    {
        if (!_state.RecordExists)
        {
            // A token naming no session (forged, or purged) must not keep an activation alive: a flood of
            // them would fill the silo (docs/http-api.md#forged-refresh-tokens).
            DeactivateOnIdle();
            token = default;
            return false;
        }
        return RefreshToken.TryParse(refreshToken, out token)
            && token.SessionId == SessionId
            && RefreshTokenMac.Verify(MacKey, token);
    }

    private SessionGrant Grant() => new(
        SessionId, Session.UserId, Session.Email, Session.Roles,
        RefreshTokenMac.Issue(MacKey, SessionId, Session.Counter), Session.ExpiresAt, Session.DpopJkt, Session.EmailVerified);

    /// <summary>Revokes in memory at once (fail closed), then stores it; false when storing failed.</summary>
    private async Task<bool> TryRevokeAsync(DateTimeOffset now, RevocationReason reason)
    {
        SecurityEvents.SessionRevoked(logger, SessionId, Session.UserId, reason);
        instruments.Revoked(reason);
        var revoked = Session with { RevokedAt = now, RevocationReason = reason };
        if (await _state.TryWriteAndKeepAsync(reason == RevocationReason.UserDeleted ? revoked.WithoutPersonalData() : revoked))
            return true;
        _unsavedRevocation = (now, reason);
        return false;
    }

    private async Task<bool> TryWriteAsync(SessionState next)
    {
        try
        {
            await _state.WriteOrRollBackAsync(next);
            return true;
        }
        catch (StorageUnavailableException)
        {
            return false;
        }
    }

    private async Task ResyncOrThrowAsync()
    {
        if (!await ResyncAsync())
            throw new StorageUnavailableException($"Session {SessionId} could not be read back from storage.");
    }

    /// <summary>Re-reads storage after a failed write, and stores a pending revocation on top of what it finds.</summary>
    private async Task<bool> ResyncAsync()
    {
        if (!_state.IsStale)
            return true;
        if (!await _state.TryRereadIfStaleAsync())
            return false;
        if (_unsavedRevocation is { } revocation && Session.RevokedAt is null
            && !await _state.TryWriteAndKeepAsync(Session with { RevokedAt = revocation.At, RevocationReason = revocation.Reason }))
            return false;
        _unsavedRevocation = null;
        return true;
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    [LoggerMessage(EventId = LogEventIds.Grains + 1, Level = LogLevel.Warning, Message = "A refresh of session {SessionId} arrived after its deadline {Deadline} and was dropped")]
    private static partial void LogLate(ILogger logger, Guid sessionId, DateTimeOffset deadline);

    [LoggerMessage(EventId = LogEventIds.Grains + 2, Level = LogLevel.Error, Message = "Refused a refresh: the Api node resends lost refreshes after {ResendAfter} (its Cluster:ResponseTimeout), " +
        "which is not shorter than Sessions:ReuseGraceWindow ({ReuseGraceWindow}); a resent refresh would be judged reuse. Shorten the Api's timeout or widen the window")]
    private static partial void LogResendOutsideGraceWindow(ILogger logger, TimeSpan resendAfter, TimeSpan reuseGraceWindow);
}
