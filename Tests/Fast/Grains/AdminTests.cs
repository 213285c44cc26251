using System.Collections.Immutable;
using Sessions.Grains;

namespace Sessions.Tests;

/// <summary>
/// Disabling, new roles and deletion (docs/http-api.md#admin-api) when storage fails halfway, when the cluster restarts
/// in the middle, and when logins and refreshes race them: none leaves a session alive that should be dead, and a
/// deletion never frees the email while a session lives, nor leaves the email naming a deleted user.
/// </summary>
[Layer(Layer.Grains)]
[Collection(FaultyStorageCluster.Name)]
public sealed class AdminTests(FaultyStorageClusterFixture fixture) : IDisposable
{
    private static readonly ClientInfo Phone = new("phone", "192.0.2.30");
    private static readonly ImmutableArray<string> AdminRoles = ["user", "admin"];

    public void Dispose()
    {
        fixture.Storage.Mode = FaultyStorage.Fault.None;
        fixture.Storage.FaultOnly = null;
    }

    private IGrainFactory Grains => fixture.Grains;

    private void Fail(string stateName)
    {
        fixture.Storage.FaultOnly = stateName;
        fixture.Storage.Mode = FaultyStorage.Fault.RefuseWrites;
    }

    private void Heal() => fixture.Storage.Mode = FaultyStorage.Fault.None;

    private SessionState StoredSession(SessionGrant grant) => (SessionState)fixture.Storage.Stored("session", Grains.Session(grant).GetGrainId())!;

    private object? StoredUser(Guid userId) => fixture.Storage.Stored("user", Grains.GetGrain<IUserGrain>(userId).GetGrainId());

    private object? StoredEmail(string email) => fixture.Storage.Stored("email", Grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(email)).GetGrainId());

    private async Task<(string Email, IUserGrain User, SessionGrant[] Sessions)> AccountAsync()
    {
        var email = $"admin-{Guid.NewGuid():N}@example.com";
        var index = await Grains.NewAccountAsync(email);
        var laptop = (await index.LoginAsync(TestSteps.Password, TestSteps.Client)).Grant!;
        var phone = (await index.LoginAsync(TestSteps.Password, Phone)).Grant!;
        return (email, Grains.GetGrain<IUserGrain>(laptop.UserId), [laptop, phone]);
    }

    private static async Task WaitUntilAsync(Func<bool> done, string what)
    {
        // The user grain's timer tries owed work again every few seconds (real time).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not {what} within 30 s");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task A_disable_whose_revocations_cannot_be_stored_is_503_fails_closed_and_is_finished_by_the_grain()
    {
        var (email, user, sessions) = await AccountAsync();
        Fail("session");

        await Assert.ThrowsAsync<StorageUnavailableException>(() => user.SetDisabledAsync(true));

        // Stored as owed with the disable itself; meanwhile every session is dead where it lives.
        var stored = (UserState)StoredUser(sessions[0].UserId)!;
        Assert.True(stored.Disabled);
        Assert.Equal(sessions.Select(s => s.SessionId).Order(), stored.Owed!.Revocations.Order());
        foreach (var session in sessions)
            Assert.False((await Grains.RefreshAsync(session.RefreshToken)).Succeeded);
        Assert.Equal(LoginStatus.AccountDisabled, (await Grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(email)).LoginAsync(TestSteps.Password, Phone)).Status);

        Heal();
        await WaitUntilAsync(() => sessions.All(s => StoredSession(s).RevokedAt is not null), "revoked in storage");
        Assert.All(sessions, s => Assert.Equal(RevocationReason.UserDisabled, StoredSession(s).RevocationReason));
        await WaitUntilAsync(() => ((UserState)StoredUser(sessions[0].UserId)!).Owed is null, "finished");
    }

    [Fact]
    public async Task New_roles_that_cannot_be_stored_in_a_session_are_owed_and_reach_it_once_storage_is_back()
    {
        var (_, user, sessions) = await AccountAsync();
        Fail("session");

        await Assert.ThrowsAsync<StorageUnavailableException>(() => user.SetRolesAsync(AdminRoles));

        Assert.Equal<string>(AdminRoles, ((UserState)StoredUser(sessions[0].UserId)!).Roles);
        Heal();
        await WaitUntilAsync(() => sessions.All(s => StoredSession(s).Roles.SequenceEqual(AdminRoles)), "the roles in every session");
        foreach (var session in sessions)
            Assert.Equal<string>(AdminRoles, (await Grains.Session(session).IntrospectAsync(null))!.Roles);
        Assert.Equal<string>(AdminRoles, (await Grains.RefreshAsync(sessions[0].RefreshToken)).Grant!.Roles);
    }

    [Fact]
    public async Task A_deletion_revokes_and_erases_every_session_then_frees_the_email_and_leaves_no_row_of_the_account()
    {
        var (email, user, sessions) = await AccountAsync();

        Assert.True(await user.DeleteAsync());

        Assert.Null(StoredUser(sessions[0].UserId));
        Assert.Null(StoredEmail(email));
        foreach (var session in sessions)
        {
            var stored = StoredSession(session);
            Assert.Equal(RevocationReason.UserDeleted, stored.RevocationReason);
            Assert.False(stored.HoldsPersonalData);
            Assert.Equal(RefreshStatus.Revoked, (await Grains.RefreshAsync(session.RefreshToken)).Status);
        }
        Assert.False(await user.DeleteAsync());
        Assert.Null(await user.GetAccountAsync());
        var index = Grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(email));
        Assert.Equal(LoginStatus.InvalidCredentials, (await index.LoginAsync(TestSteps.Password, Phone)).Status);
        var again = await index.RegisterAsync(TestSteps.Registration());
        Assert.True(again.Registered);
        Assert.NotEqual(sessions[0].UserId, again.UserId);
    }

    [Theory]
    [InlineData("session")]
    [InlineData("email")]
    public async Task A_deletion_cut_short_by_storage_keeps_the_email_until_every_session_is_revoked_and_is_finished_by_the_next_call(string failing)
    {
        var (email, user, sessions) = await AccountAsync();
        // "session": the revocations fail; "email": they are stored, and freeing the email fails.
        Fail(failing);

        await Assert.ThrowsAsync<StorageUnavailableException>(() => user.DeleteAsync());

        var index = Grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(email));
        Assert.True(((UserState)StoredUser(sessions[0].UserId)!).Deleted);
        // Not freed while a session may be live in storage; never answering as an account meanwhile.
        if (failing == "session")
            Assert.NotNull(StoredEmail(email));
        foreach (var session in sessions)
            Assert.False((await Grains.RefreshAsync(session.RefreshToken)).Succeeded);
        Heal();

        // The next call of anyone (here: a registration of the same email) finishes it first.
        var again = await index.RegisterAsync(TestSteps.Registration());
        Assert.True(again.Registered);
        Assert.Null(StoredUser(sessions[0].UserId));
        Assert.All(sessions, s => Assert.Equal(RevocationReason.UserDeleted, StoredSession(s).RevocationReason));
    }

    [Fact]
    public async Task A_deletion_cut_short_by_a_restart_is_finished_by_the_next_login_of_its_email()
    {
        var (email, user, sessions) = await AccountAsync();
        Fail("session");
        await Assert.ThrowsAsync<StorageUnavailableException>(() => user.DeleteAsync());

        // Every revocation held in memory is gone: only the stored tombstone remembers the deletion.
        await fixture.RestartClusterAsync();
        Heal();
        Assert.True(((UserState)StoredUser(sessions[0].UserId)!).Deleted);

        var index = Grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(email));
        Assert.Equal(LoginStatus.InvalidCredentials, (await index.LoginAsync(TestSteps.Password, Phone)).Status);

        Assert.Null(StoredUser(sessions[0].UserId));
        Assert.Null(StoredEmail(email));
        Assert.All(sessions, s => Assert.Equal(RevocationReason.UserDeleted, StoredSession(s).RevocationReason));
    }

    [Theory]
    [InlineData("disable")]
    [InlineData("delete")]
    public async Task Logins_and_refreshes_racing_a_disable_or_deletion_leave_no_live_session(string change)
    {
        for (var round = 0; round < 8; round++)
        {
            var (email, user, sessions) = await AccountAsync();
            var index = Grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(email));
            var logins = new List<Task<LoginResult>>();
            Task? changed = null;
            var refresh = Grains.RefreshAsync(sessions[1].RefreshToken);
            for (var i = 0; i <= 3; i++)
            {
                if (i == round % 4)
                    changed = change == "disable" ? user.SetDisabledAsync(true) : user.DeleteAsync();
                if (i == 3)
                    break;
                var device = new ClientInfo($"device {i}", $"203.0.113.{i + 10}");
                logins.Add((i + round) % 2 == 0
                    ? index.LoginAsync(TestSteps.Password, device)
                    : user.LoginAsync(new LoginAttempt(TestSteps.Password, device, TestSteps.NoDeadline)));
            }
            await changed!;
            var refreshed = await refresh;
            var results = await Task.WhenAll(logins);

            foreach (var grant in results.Select(r => r.Grant).OfType<SessionGrant>().Concat(sessions).Append(refreshed.Grant).OfType<SessionGrant>())
                Assert.False(await Grains.Session(grant).IsActiveAsync(), $"round {round}: a session is alive after the {change}");
            Assert.All(results, r => Assert.True(r.Status is LoginStatus.Succeeded or LoginStatus.AccountDisabled or LoginStatus.InvalidCredentials, $"round {round}: {r.Status}"));
            if (change == "delete")
                Assert.Null(StoredEmail(email));
        }
    }
}
