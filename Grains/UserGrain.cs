using System.Collections.Immutable;
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
    IOptions<SessionOptions> options,
    [FromKeyedServices(SessionClock.Key)] TimeProvider time,
    ILogger<UserGrain> logger) : Grain, IUserGrain
{
    private static readonly ImmutableArray<string> DefaultRoles = ["user"];
    private readonly SessionOptions _options = options.Value;
    private readonly StoredState<UserState> _state = new(state, instruments, "user");

    private Guid UserId => this.GetPrimaryKey();
    private UserState User => _state.State;

    public async Task<bool> CreateAsync(string email, string password)
    {
        if (!Credentials.IsValidEmail(email) || !Credentials.IsValidPassword(password))
            throw new ArgumentException("The email or password breaks the registration rules.");
        await _state.RereadIfStaleAsync();
        if (_state.RecordExists)
            return false;
        var user = new UserState { Email = email, Roles = DefaultRoles, CreatedAt = time.GetUtcNow() };
        await _state.WriteOrRollBackAsync(user with { PasswordHash = await passwords.HashAsync(user, password, DateTimeOffset.MaxValue) });
        return true;
    }

    public async Task<LoginResult> LoginAsync(LoginAttempt attempt)
    {
        await _state.RereadIfStaleAsync();
        if (!_state.RecordExists)
            return new LoginResult(LoginStatus.InvalidCredentials);

        // A wrong password writes nothing: the email index counts failures in memory, and an unknown email,
        // which has nothing to write, must not be told apart by time.
        var verdict = await passwords.VerifyAsync(User, User.PasswordHash, attempt.Password, attempt.Deadline);
        if (verdict == PasswordVerificationResult.Failed)
        {
            return new LoginResult(LoginStatus.InvalidCredentials);
        }

        var now = time.GetUtcNow();
        var sessions = await WithRoomForOneMoreAsync(LiveEntries(now));
        // Index the session before it exists, so logout-all can never miss one; a session that then
        // fails to start is a dead entry, dropped when the index is next read.
        var sessionId = Guid.NewGuid();
        var next = User with
        {
            Sessions = sessions.Add(sessionId, now + _options.SessionAbsoluteLifetime),
            PasswordHash = verdict == PasswordVerificationResult.SuccessRehashNeeded
                ? await passwords.HashAsync(User, attempt.Password, attempt.Deadline)
                : User.PasswordHash,
        };
        await _state.WriteOrRollBackAsync(next);

        var client = attempt.Client;
        var grant = await GrainFactory.GetGrain<ISessionGrain>(sessionId)
            .StartAsync(new SessionStart(UserId, User.Email, User.Roles, client.UserAgent, client.IpAddress, attempt.Proof?.Jkt));
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

    public async Task<ImmutableArray<SessionInfo>> GetSessionsAsync()
    {
        await _state.RereadIfStaleAsync();
        var ids = User.Sessions.Keys.ToArray();
        var infos = await Task.WhenAll(ids.Select(id => GrainFactory.GetGrain<ISessionGrain>(id).GetInfoAsync()));
        var dead = ids.Where((_, i) => infos[i] is null).ToArray();
        if (dead.Length > 0)
            await TryForgetAsync(dead);
        return [.. infos.OfType<SessionInfo>().OrderByDescending(s => s.LastRefreshedAt)];
    }

    public async Task<bool> RevokeSessionAsync(Guid sessionId)
    {
        await _state.RereadIfStaleAsync();
        if (!User.Sessions.ContainsKey(sessionId))
            return false;
        await GrainFactory.GetGrain<ISessionGrain>(sessionId).RevokeAsync(RevocationReason.RevokedByUser);
        await TryForgetAsync([sessionId]);
        return true;
    }

    public async Task<int> RevokeAllSessionsAsync()
    {
        await _state.RereadIfStaleAsync();
        var ids = User.Sessions.Keys.ToArray();
        // Each revocation is durable in its session grain; the index is emptied only after all of them.
        await Task.WhenAll(ids.Select(id => GrainFactory.GetGrain<ISessionGrain>(id).RevokeAsync(RevocationReason.LogoutAll)));
        await TryForgetAsync(ids);
        SecurityEvents.LogoutAll(logger, UserId, ids.Length);
        return ids.Length;
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
