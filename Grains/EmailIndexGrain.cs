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
        if (_failedLogins.RetryAfter(address, now) is { } retryAfter)
        {
            SecurityEvents.LoginThrottled(logger, address, retryAfter);
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
                : await UnknownEmailAsync(attempt);
        }
        catch (OverloadedException)
        {
            instruments.LoginOverloaded();
            throw;
        }
        instruments.LoggedIn(result.Status);
        if (result.Status == LoginStatus.InvalidCredentials)
        {
            SecurityEvents.LoginFailed(logger, _state.RecordExists ? _state.State.UserId : null, attempt.Client.IpAddress, attempt.Client.UserAgent);
            _failedLogins.Add(address, now);
            // The count lives in memory: keep it for as long as it can matter.
            DelayDeactivation(options.Value.FailedLoginWindow);
        }
        else if (result.Status == LoginStatus.Succeeded)
        {
            _failedLogins.Clear(address);
        }
        return result;
    }

    private async Task<LoginResult> UnknownEmailAsync(LoginAttempt attempt)
    {
        var dummy = new UserState();
        s_dummyHash ??= await passwords.HashAsync(dummy, Guid.NewGuid().ToString(), DateTimeOffset.MaxValue);
        await passwords.VerifyAsync(dummy, s_dummyHash, attempt.Password, attempt.Deadline);
        return new LoginResult(LoginStatus.InvalidCredentials);
    }
}
