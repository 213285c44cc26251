using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sessions.Grains;

/// <summary>
/// One per normalized email (key "e:" + email). Non-reentrant, so two registrations of one email are serialized and
/// only the first creates a user; every login of the email passes here, known or not, which makes it the place of the
/// failed-login limits. It stays in memory only while those limits need its counts (or a login proof's jti): a flood of
/// attempts answered at once leaves nothing loaded.
/// </summary>
[GrainType("email")]
public sealed class EmailIndexGrain(
    [PersistentState(stateName: "email", storageName: StorageNames.Grains)] IPersistentState<EmailIndexState> state,
    SessionsInstruments instruments,
    PasswordHashing passwords,
    DeviceTokens devices,
    IOptions<SessionOptions> options,
    [FromKeyedServices(SessionClock.Key)] TimeProvider time,
    ILogger<EmailIndexGrain> logger) : Grain, IEmailIndexGrain
{
    // Unknown emails are checked against this so they cost the same time as a wrong password.
    private static string? s_dummyHash;

    private readonly StoredState<EmailIndexState> _state = new(state, instruments, "email");
    /// <summary>How soon an activation that holds nothing for the limits goes.</summary>
    private static readonly TimeSpan IdleCheckPeriod = TimeSpan.FromSeconds(5);

    private readonly FailedLogins _failedLogins = new(options.Value);
    private RecentProofs? _loginProofs;
    private IGrainTimer? _idleCheck;

    private string Email => EmailIndex.EmailOf(this.GetPrimaryKeyString());

    public async Task<RegistrationResult> RegisterAsync(RegistrationAttempt attempt)
    {
        if (!Credentials.IsValidPassword(attempt.Password))
            throw new ArgumentException("The password breaks the registration rules.");
        try
        {
            return await RegisterOnceAsync(attempt);
        }
        finally
        {
            ForgetUnlessCounting();
        }
    }

    private async Task<RegistrationResult> RegisterOnceAsync(RegistrationAttempt attempt)
    {
        // A retry of a registration whose entry landed unacknowledged finds it here and gets "taken" (409), like any
        // registration of a registered email. Answering "registered" would need telling the first registrant from anyone
        // else, and only the password could: registration would become a password oracle outside the failed-login limit.
        // The registrant logs in instead.
        await _state.RereadIfStaleAsync();
        if (_state.RecordExists && await GrainFactory.GetGrain<IUserGrain>(_state.State.UserId).ExistsAsync())
        {
            instruments.Registered(false);
            return new RegistrationResult(Registered: false, _state.State.UserId);
        }

        // The entry first, then the user: no user is ever stored that its email does not reach. A failure in between
        // leaves an entry naming a user that does not exist, which the next registration of this email writes over.
        // Past the deadline the caller has its 503: nothing more is hashed or stored for it.
        var hash = await passwords.HashAsync(new UserState(), attempt.Password, attempt.Deadline);
        var userId = Guid.NewGuid();
        ThrowIfPast(attempt.Deadline);
        await _state.WriteOrRollBackAsync(new EmailIndexState { UserId = userId });
        await GrainFactory.GetGrain<IUserGrain>(userId).CreateAsync(new NewUser(Email, hash, attempt.Deadline));
        instruments.Registered(true);
        return new RegistrationResult(Registered: true, userId);
    }

    public async Task<LoginResult> LoginAsync(LoginAttempt attempt)
    {
        try
        {
            return await LoginOnceAsync(attempt);
        }
        catch (OverloadedException)
        {
            instruments.LoginOverloaded();
            throw;
        }
        finally
        {
            ForgetUnlessCounting();
        }
    }

    private async Task<LoginResult> LoginOnceAsync(LoginAttempt attempt)
    {
        var now = time.GetUtcNow();
        await _state.RereadIfStaleAsync();
        // A valid device token of this account: the login is judged by that device's own failures, and hashed first.
        var device = _state.RecordExists ? devices.DeviceOf(attempt.DeviceToken, _state.State.UserId) : null;
        var source = device is { } known ? FailedLogins.Device(known) : FailedLogins.Address(attempt.Client.IpAddress);
        if (HeldBack(source, now) is { } retryAfter)
        {
            instruments.LoggedIn(LoginStatus.TooManyAttempts);
            return new LoginResult(LoginStatus.TooManyAttempts, RetryAfter: retryAfter);
        }

        // DPoP: a login's proof is accepted once per email (known or not, alike); a replay opens no session.
        if (attempt.Proof is { } proof && !(_loginProofs ??= new RecentProofs()).TryAccept(proof, now))
        {
            instruments.LoggedIn(LoginStatus.InvalidProof);
            return new LoginResult(LoginStatus.InvalidProof);
        }

        var result = _state.RecordExists
            ? await GrainFactory.GetGrain<IUserGrain>(_state.State.UserId).LoginAsync(attempt with { KnownDevice = device is not null })
            : await UnknownEmailAsync(attempt.Password, attempt.Deadline);
        instruments.LoggedIn(result.Status);
        if (result.Status == LoginStatus.TooManyAttempts)
            return result;
        // A disabled account's right password is no failure to count, and opens nothing.
        Count(verified: result.Status is LoginStatus.Succeeded or LoginStatus.AccountDisabled, source, now, attempt.Client);
        return result.Status == LoginStatus.Succeeded
            ? result with { DeviceToken = devices.Issue(_state.State.UserId, device ?? Guid.NewGuid()) }
            : result;
    }

    public async Task<PasswordChangeResult> ChangePasswordAsync(PasswordChange change)
    {
        // A wrong current password counts like a failed login of its address, so that the password change of a stolen
        // access token is no password oracle; but only the calling session's own failures hold a change back, so that
        // strangers' guesses elsewhere never hold the signed-in owner back.
        var now = time.GetUtcNow();
        var source = FailedLogins.Session(change.SessionId);
        if (HeldBack(source, now) is { } retryAfter)
        {
            instruments.PasswordChangeAnswered(PasswordChangeStatus.TooManyAttempts);
            return new PasswordChangeResult(PasswordChangeStatus.TooManyAttempts, retryAfter);
        }

        await _state.RereadIfStaleAsync();
        // The access token names the email and the user; they agree, since an email never moves to another user.
        // Should they not, the request is answered like a wrong password, after the same work.
        PasswordChangeStatus status;
        if (_state.RecordExists && _state.State.UserId == change.UserId)
        {
            status = await GrainFactory.GetGrain<IUserGrain>(change.UserId).ChangePasswordAsync(change);
        }
        else
        {
            await VerifyAgainstDummyAsync(change.CurrentPassword, change.Deadline);
            status = PasswordChangeStatus.InvalidCredentials;
        }
        instruments.PasswordChangeAnswered(status);
        Count(verified: status == PasswordChangeStatus.Changed, source, now, change.Client);
        Count(verified: status == PasswordChangeStatus.Changed, FailedLogins.Address(change.Client.IpAddress), now, client: null);
        return new PasswordChangeResult(status);
    }

    public async Task<PasswordCheckResult> CheckPasswordAsync(PasswordCheck check)
    {
        // As a password change: a stolen access token must be no password oracle, and strangers never hold the owner back.
        var now = time.GetUtcNow();
        var source = FailedLogins.Session(check.SessionId);
        if (HeldBack(source, now) is { } retryAfter)
            return new PasswordCheckResult(PasswordCheckStatus.TooManyAttempts, retryAfter);
        await _state.RereadIfStaleAsync();
        bool verified;
        if (_state.RecordExists && _state.State.UserId == check.UserId)
            verified = await GrainFactory.GetGrain<IUserGrain>(check.UserId).VerifyPasswordAsync(new PasswordVerification(check.Password, check.Deadline));
        else
        {
            await VerifyAgainstDummyAsync(check.Password, check.Deadline);
            verified = false;
        }
        Count(verified, source, now, check.Client);
        Count(verified, FailedLogins.Address(check.Client.IpAddress), now, client: null);
        return new PasswordCheckResult(verified ? PasswordCheckStatus.Verified : PasswordCheckStatus.InvalidCredentials);
    }

    public async Task ReleaseAsync(Guid userId)
    {
        await _state.RereadIfStaleAsync();
        if (_state.RecordExists && _state.State.UserId == userId)
            await _state.ClearOrThrowAsync();
    }

    public Task ClearFailedLoginsAsync()
    {
        _failedLogins.ClearAll();
        return Task.CompletedTask;
    }

    public async Task<Guid?> FindUserAsync()
    {
        try
        {
            await _state.RereadIfStaleAsync();
            // An entry whose user was never stored (a registration that failed in between) names nobody.
            return _state.RecordExists && await GrainFactory.GetGrain<IUserGrain>(_state.State.UserId).ExistsAsync() ? _state.State.UserId : null;
        }
        finally
        {
            ForgetUnlessCounting();
        }
    }

    /// <summary>How long <paramref name="source"/> must wait before its password is checked again for this email, or null.</summary>
    private TimeSpan? HeldBack(string source, DateTimeOffset now)
    {
        var retryAfter = _failedLogins.RetryAfter(source, now);
        if (retryAfter is { } wait)
            SecurityEvents.LoginThrottled(logger, source, wait);
        return retryAfter;
    }

    /// <summary>
    /// A checked password, of a login or a password change: a failure counts against its source, a success clears it.
    /// <paramref name="client"/> is null for a second source of one attempt, whose event is already logged.
    /// </summary>
    private void Count(bool verified, string source, DateTimeOffset now, ClientInfo? client)
    {
        if (verified)
        {
            _failedLogins.Clear(source);
            return;
        }
        if (client is not null)
            SecurityEvents.LoginFailed(logger, _state.RecordExists ? _state.State.UserId : null, client.IpAddress, client.UserAgent);
        _failedLogins.Add(source, now);
        // The count lives in memory: keep it for as long as it can matter.
        DelayDeactivation(options.Value.FailedLoginWindow);
    }

    /// <summary>
    /// Nothing counted and no login proof to remember: this activation holds nothing the limits need, so it goes once
    /// idle. A flood of unknown emails answered at once (429, 503) leaves no grain behind; one with counted failures
    /// stays for the failed-login window, which the lockout rule needs.
    /// </summary>
    private void ForgetUnlessCounting()
    {
        // Not at once: a burst of calls queued behind this one would be forwarded from one fresh activation to the
        // next until Orleans gives up on them. A timer that does not keep the activation alive looks again shortly.
        if (HoldsNothing())
            _idleCheck ??= this.RegisterGrainTimer(() =>
            {
                if (HoldsNothing())
                    DeactivateOnIdle();
                return Task.CompletedTask;
            }, new GrainTimerCreationOptions(IdleCheckPeriod, IdleCheckPeriod) { KeepAlive = false, Interleave = false });
    }

    private bool HoldsNothing()
    {
        var now = time.GetUtcNow();
        return _failedLogins.IsEmptyAt(now) && (_loginProofs is null || _loginProofs.IsEmptyAt(now));
    }

    private void ThrowIfPast(DateTimeOffset deadline)
    {
        if (time.GetUtcNow() > deadline)
            throw new OverloadedException("The registration's deadline passed; nothing was stored.");
    }

    private async Task<LoginResult> UnknownEmailAsync(string password, DateTimeOffset deadline)
    {
        await VerifyAgainstDummyAsync(password, deadline);
        return new LoginResult(LoginStatus.InvalidCredentials);
    }

    private async Task VerifyAgainstDummyAsync(string password, DateTimeOffset deadline)
    {
        var dummy = new UserState();
        s_dummyHash ??= await passwords.HashAsync(dummy, Guid.NewGuid().ToString(), DateTimeOffset.MaxValue);
        await passwords.VerifyAsync(dummy, s_dummyHash, password, deadline);
    }
}
