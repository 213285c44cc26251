namespace Sessions.Grains;

/// <summary>
/// One per normalized email (key "e:" + email). Non-reentrant, so two registrations of one email
/// are serialized and only the first creates a user.
/// </summary>
[GrainType("email")]
public sealed class EmailIndexGrain(
    [PersistentState(stateName: "email", storageName: StorageNames.Grains)] IPersistentState<EmailIndexState> state,
    PasswordHashing passwords) : Grain, IEmailIndexGrain
{
    // Unknown emails are checked against this so they cost the same time as a wrong password.
    private static string? s_dummyHash;

    private readonly StoredState<EmailIndexState> _state = new(state);

    private string Email => EmailIndex.EmailOf(this.GetPrimaryKeyString());

    public async Task<RegistrationResult> RegisterAsync(string password)
    {
        // A retry of a registration whose entry landed unacknowledged finds it here and gets "taken" (409), like any
        // registration of a registered email. Answering "registered" would need telling the first registrant from anyone
        // else, and only the password could: registration would become a password oracle outside the failed-login limit.
        // The registrant logs in instead.
        await _state.RereadIfStaleAsync();
        if (_state.RecordExists)
            return new RegistrationResult(Registered: false, _state.State.UserId);

        // The user first, then the index entry: a failure in between leaves an unreachable user, never an
        // email that points at nobody and can then never be registered.
        var userId = Guid.NewGuid();
        await GrainFactory.GetGrain<IUserGrain>(userId).CreateAsync(Email, password);
        await _state.WriteOrRollBackAsync(new EmailIndexState { UserId = userId });
        return new RegistrationResult(Registered: true, userId);
    }

    public async Task<LoginResult> LoginAsync(string password, ClientInfo client)
    {
        await _state.RereadIfStaleAsync();
        if (_state.RecordExists)
            return await GrainFactory.GetGrain<IUserGrain>(_state.State.UserId).LoginAsync(password, client);

        var dummy = new UserState();
        s_dummyHash ??= await passwords.HashAsync(dummy, Guid.NewGuid().ToString());
        await passwords.VerifyAsync(dummy, s_dummyHash, password);
        return new LoginResult(LoginStatus.InvalidCredentials);
    }
}
