using Sessions.Grains;

namespace Sessions.Tests;

/// <summary>
/// A password change whose storage fails in the middle: the new hash is stored, a revocation is not. The answer
/// is 503 (StorageUnavailableException), and no session that should be dead stays alive: the revocations are owed
/// durably and finished by the client's retry of the same request, or by the user grain on its own.
/// </summary>
[Layer(Layer.Grains)]
[Collection(FaultyStorageCluster.Name)]
public sealed class PasswordChangeStorageTests(FaultyStorageClusterFixture fixture) : IDisposable
{
    private const string NewPassword = "a brand new passphrase";
    private static readonly ClientInfo Phone = new("phone", "192.0.2.20");

    public void Dispose()
    {
        fixture.Storage.Mode = FaultyStorage.Fault.None;
        fixture.Storage.FaultOnly = null;
    }

    private IGrainFactory Grains => fixture.Grains;

    private void Fail(string stateName, FaultyStorage.Fault fault)
    {
        fixture.Storage.FaultOnly = stateName;
        fixture.Storage.Mode = fault;
    }

    private void Heal() => fixture.Storage.Mode = FaultyStorage.Fault.None;

    private SessionState StoredSession(SessionGrant grant) =>
        (SessionState)fixture.Storage.Stored("session", Grains.Session(grant).GetGrainId())!;

    private UserState StoredUser(SessionGrant grant) =>
        (UserState)fixture.Storage.Stored("user", Grains.GetGrain<IUserGrain>(grant.UserId).GetGrainId())!;

    /// <summary>An account with the caller's session (laptop) and two others.</summary>
    private async Task<(IEmailIndexGrain Index, SessionGrant Laptop, SessionGrant[] Others)> AccountAsync()
    {
        var index = await Grains.NewAccountAsync();
        var laptop = (await index.LoginAsync(TestSteps.Password, TestSteps.Client)).Grant!;
        var phone = (await index.LoginAsync(TestSteps.Password, Phone)).Grant!;
        var tablet = (await index.LoginAsync(TestSteps.Password, Phone)).Grant!;
        return (index, laptop, [phone, tablet]);
    }

    private static Task<PasswordChangeResult> ChangeAsync(IEmailIndexGrain index, SessionGrant caller) =>
        index.ChangePasswordAsync(new PasswordChange(TestSteps.Password, NewPassword, caller.UserId, caller.SessionId, TestSteps.Client, TestSteps.NoDeadline));

    private void AssertRevokedInStorage(SessionGrant grant)
    {
        var stored = StoredSession(grant);
        Assert.NotNull(stored.RevokedAt);
        Assert.Equal(RevocationReason.PasswordChanged, stored.RevocationReason);
    }

    [Fact]
    public async Task Revocations_that_cannot_be_stored_are_503_and_the_retry_of_the_same_request_finishes_them()
    {
        var (index, laptop, others) = await AccountAsync();
        Fail("session", FaultyStorage.Fault.RefuseWrites);

        await Assert.ThrowsAsync<StorageUnavailableException>(() => ChangeAsync(index, laptop));

        // The hash is stored, and with it the revocations it owes.
        var user = StoredUser(laptop);
        Assert.Equal(others.Select(o => o.SessionId).Order(), user.Owed!.Revocations.Order());
        Assert.Equal(RevocationReason.PasswordChanged, user.Owed.Reason);
        Assert.Empty(user.PasswordChange!.PendingRevocations); // 0.3's own list, which a 0.3 silo would finish a second time
        // Meanwhile the other sessions are dead where they live (fail closed), though storage has not taken it yet.
        foreach (var other in others)
        {
            Assert.Null(StoredSession(other).RevokedAt);
            Assert.False(await Grains.Session(other).IsActiveAsync());
            Assert.False((await Grains.RefreshAsync(other.RefreshToken)).Succeeded);
        }
        // Still down: the retry is 503 again, not a wrong password.
        await Assert.ThrowsAsync<StorageUnavailableException>(() => ChangeAsync(index, laptop));

        Heal();
        // The client resends the same body; its current password is the old one, which no longer verifies.
        Assert.Equal(PasswordChangeStatus.Changed, (await ChangeAsync(index, laptop)).Status);

        foreach (var other in others)
        {
            AssertRevokedInStorage(other);
            Assert.Equal(RefreshStatus.Revoked, (await Grains.RefreshAsync(other.RefreshToken)).Status);
        }
        Assert.Null(StoredUser(laptop).Owed);
        Assert.Equal(RefreshStatus.Rotated, (await Grains.RefreshAsync(laptop.RefreshToken)).Status);
        Assert.Equal(LoginStatus.InvalidCredentials, (await index.LoginAsync(TestSteps.Password, Phone)).Status);
        Assert.Equal(LoginStatus.Succeeded, (await index.LoginAsync(NewPassword, Phone)).Status);
    }

    [Fact]
    public async Task Owed_revocations_survive_a_restart_of_the_cluster_and_the_retry_finishes_them()
    {
        var (index, laptop, others) = await AccountAsync();
        Fail("session", FaultyStorage.Fault.RefuseWrites);
        await Assert.ThrowsAsync<StorageUnavailableException>(() => ChangeAsync(index, laptop));

        // Every revocation held in memory is lost: only what storage holds counts now.
        await fixture.RestartClusterAsync();
        Heal();
        index = Grains.GetGrain<IEmailIndexGrain>(index.GetPrimaryKeyString());

        Assert.Equal(PasswordChangeStatus.Changed, (await ChangeAsync(index, laptop)).Status);

        foreach (var other in others)
            AssertRevokedInStorage(other);
        Assert.True(await Grains.Session(laptop).IsActiveAsync());
    }

    [Fact]
    public async Task Owed_revocations_are_finished_by_the_user_grain_itself_when_nobody_retries()
    {
        var (index, laptop, others) = await AccountAsync();
        Fail("session", FaultyStorage.Fault.RefuseWrites);
        await Assert.ThrowsAsync<StorageUnavailableException>(() => ChangeAsync(index, laptop));

        Heal();

        // The user grain's timer tries again every few seconds (real time) while revocations are owed.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (others.Any(o => StoredSession(o).RevokedAt is null) && DateTime.UtcNow < deadline)
            await Task.Delay(200);
        foreach (var other in others)
            AssertRevokedInStorage(other);
        Assert.Null(StoredUser(laptop).Owed);
    }

    [Fact]
    public async Task A_list_of_sessions_finishes_owed_revocations_first()
    {
        var (index, laptop, others) = await AccountAsync();
        Fail("session", FaultyStorage.Fault.RefuseWrites);
        await Assert.ThrowsAsync<StorageUnavailableException>(() => ChangeAsync(index, laptop));
        var user = Grains.GetGrain<IUserGrain>(laptop.UserId);
        await Assert.ThrowsAsync<StorageUnavailableException>(() => user.GetSessionsAsync());

        await fixture.RestartClusterAsync();
        Heal();
        user = Grains.GetGrain<IUserGrain>(laptop.UserId);

        Assert.Equal([laptop.SessionId], (await user.GetSessionsAsync()).Select(s => s.SessionId));
        foreach (var other in others)
            AssertRevokedInStorage(other);
    }

    [Fact]
    public async Task A_new_hash_whose_acknowledgement_was_lost_is_503_and_the_retry_is_answered_as_done()
    {
        var (index, laptop, others) = await AccountAsync();
        Fail("user", FaultyStorage.Fault.LoseAcknowledgements);

        await Assert.ThrowsAsync<StorageUnavailableException>(() => ChangeAsync(index, laptop));

        Heal();
        Assert.Equal(PasswordChangeStatus.Changed, (await ChangeAsync(index, laptop)).Status);
        foreach (var other in others)
            AssertRevokedInStorage(other);
        Assert.Equal(LoginStatus.Succeeded, (await index.LoginAsync(NewPassword, Phone)).Status);
        Assert.Equal(LoginStatus.InvalidCredentials, (await index.LoginAsync(TestSteps.Password, Phone)).Status);
    }

    [Fact]
    public async Task A_new_hash_that_cannot_be_stored_changes_nothing_and_revokes_nothing()
    {
        var (index, laptop, others) = await AccountAsync();
        Fail("user", FaultyStorage.Fault.RefuseWrites);

        await Assert.ThrowsAsync<StorageUnavailableException>(() => ChangeAsync(index, laptop));

        Heal();
        foreach (var other in others)
            Assert.True(await Grains.Session(other).IsActiveAsync());
        Assert.Null(StoredUser(laptop).PasswordChange);
        // The retry is an ordinary change: the old password still verifies.
        Assert.Equal(PasswordChangeStatus.Changed, (await ChangeAsync(index, laptop)).Status);
        foreach (var other in others)
            AssertRevokedInStorage(other);
    }
}
