using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sessions.Grains;

/// <summary>
/// One per normalized email (key "e:" + email). Non-reentrant, so two registrations of one email
/// are serialized and only the first creates a user; every login of the email passes here, known or
/// not, which makes it the place of the failed-login limits.
/// </summary>
[GrainType("email")]
public sealed class EmailIndexGrain(
    [PersistentState(stateName: "email", storageName: StorageNames.Grains)] IPersistentState<EmailIndexState> state,
    SessionsInstruments instruments,
    PasswordHashing passwords,
    IOptions<SessionOptions> options,
    [FromKeyedServices(SessionClock.Key)] TimeProvider time,
    ILogger<EmailIndexGrain> logger) : Grain, IEmailIndexGrain
{
    // Unknown emails are checked against this so they cost the same time as a wrong password.
    private static string? s_dummyHash;

    private readonly StoredState<EmailIndexState> _state = new(state, instruments, "email");
    private readonly FailedLogins _failedLogins = new(options.Value);
    private RecentProofs? _loginProofs;

    private string Email => EmailIndex.EmailOf(this.GetPrimaryKeyString());

    public async Task<RegistrationResult> RegisterAsync(string password)
    {
        // A retry of a registration whose entry landed unacknowledged finds it here and gets "taken" (409), like any
        // registration of a registered email. Answering "registered" would need telling the first registrant from anyone
        // else, and only the password could: registration would become a password oracle outside the failed-login limit.
        // The registrant logs in instead.
        await _state.RereadIfStaleAsync();
        if (_state.RecordExists)
        {
            instruments.Registered(false);
            return new RegistrationResult(Registered: false, _state.State.UserId);
        }

        // The user first, then the index entry: a failure in between leaves an unreachable user, never an
        // email that points at nobody and can then never be registered.
        var userId = Guid.NewGuid();
        await GrainFactory.GetGrain<IUserGrain>(userId).CreateAsync(Email, password);
        await _state.WriteOrRollBackAsync(new EmailIndexState { UserId = userId });
        instruments.Registered(true);
        return new RegistrationResult(Registered: true, userId);
    }

    public async Task<LoginResult> LoginAsync(LoginAttempt attempt)
    {
        var now = time.GetUtcNow();
        var address = ClientAddress.Key(attempt.Client.IpAddress);
        if (HeldBack(address, now) is { } retryAfter)
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

        await _state.RereadIfStaleAsync();
        LoginResult result;
        try
        {
            result = _state.RecordExists
                ? await GrainFactory.GetGrain<IUserGrain>(_state.State.UserId).LoginAsync(attempt)
                : await UnknownEmailAsync(attempt.Password, attempt.Deadline);
        }
        catch (OverloadedException)
        {
            instruments.LoginOverloaded();
            throw;
        }
        instruments.LoggedIn(result.Status);
        if (result.Status != LoginStatus.TooManyAttempts)
            Count(verified: result.Status == LoginStatus.Succeeded, address, now, attempt.Client);
        return result;
    }

    public async Task<PasswordChangeResult> ChangePasswordAsync(PasswordChange change)
    {
        // The same limits as a login, on the same count: otherwise the password change of a stolen access token
        // would be a password oracle outside the failed-login limit.
        var now = time.GetUtcNow();
        var address = ClientAddress.Key(change.Client.IpAddress);
        if (HeldBack(address, now) is { } retryAfter)
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
        Count(verified: status == PasswordChangeStatus.Changed, address, now, change.Client);
        return new PasswordChangeResult(status);
    }

    /// <summary>How long <paramref name="address"/> must wait before its password is checked again for this email, or null.</summary>
    private TimeSpan? HeldBack(string address, DateTimeOffset now)
    {
        var retryAfter = _failedLogins.RetryAfter(address, now);
        if (retryAfter is { } wait)
            SecurityEvents.LoginThrottled(logger, address, wait);
        return retryAfter;
    }

    /// <summary>A checked password, of a login or a password change: a failure counts against the address, a success clears it.</summary>
    private void Count(bool verified, string address, DateTimeOffset now, ClientInfo client)
    {
        if (verified)
        {
            _failedLogins.Clear(address);
            return;
        }
        SecurityEvents.LoginFailed(logger, _state.RecordExists ? _state.State.UserId : null, client.IpAddress, client.UserAgent);
        _failedLogins.Add(address, now);
        // The count lives in memory: keep it for as long as it can matter.
        DelayDeactivation(options.Value.FailedLoginWindow);
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
