using System.Collections.Immutable;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sessions.Grains;

/// <summary>
/// A user account: its state, activation, creation and the existence check every call makes first. Each concern
/// is a partial file of its own (UserGrain.Login.cs, .Sessions, .Password, .MailedTokens, .Admin, .OwedWork).
/// </summary>
[GrainType("user")]
public sealed partial class UserGrain(
    [PersistentState(stateName: "user", storageName: StorageNames.Grains)] IPersistentState<UserState> state,
    SessionsInstruments instruments,
    PasswordHashing passwords,
    RefreshTokenMac mac,
    IOptions<SessionOptions> options,
    [FromKeyedServices(SessionClock.Key)] TimeProvider time,
    ILogger<UserGrain> logger) : Grain, IUserGrain
{
    private static readonly ImmutableArray<string> DefaultRoles = ["user"];
    private readonly SessionOptions _options = options.Value;
    private readonly StoredState<UserState> _state = new(state, instruments, "user", upgrade: stored => stored.Upgraded());

    private Guid UserId => this.GetPrimaryKey();
    private UserState User => _state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        ResumeOwedWork();
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

    private ImmutableDictionary<Guid, DateTimeOffset> LiveEntries(DateTimeOffset now) =>
        User.Sessions.Where(s => s.Value > now).ToImmutableDictionary();
}
