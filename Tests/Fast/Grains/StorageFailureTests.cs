using Sessions.Grains;

namespace Sessions.Tests;

/// <summary>Rule 4 of docs/http-api.md#rotation-and-reuse-detection and docs/design.md#concurrency-and-failure when the database fails underneath a session.</summary>
[Layer(Layer.Grains)]
[Collection(FaultyStorageCluster.Name)]
public sealed class StorageFailureTests(FaultyStorageClusterFixture fixture) : IDisposable
{
    private readonly IGrainFactory _grains = fixture.Grains;

    public void Dispose()
    {
        fixture.Storage.Mode = FaultyStorage.Fault.None;
        fixture.Storage.FaultOnly = null;
        fixture.Storage.WriteDelay = TimeSpan.Zero;
    }

    /// <summary>From now on writes of <paramref name="stateName"/> are stored, but their acknowledgement is lost.</summary>
    private void LoseAcknowledgementsOf(string stateName)
    {
        fixture.Storage.FaultOnly = stateName;
        fixture.Storage.Mode = FaultyStorage.Fault.LoseAcknowledgements;
    }

    private SessionState? StoredSession(Guid sessionId) =>
        (SessionState?)fixture.Storage.Stored("session", GrainId.Create("session", sessionId.ToString("N")));

    [Fact]
    public async Task When_the_write_fails_the_answer_is_unavailable_and_the_presented_token_stays_valid()
    {
        var login = await _grains.NewSessionAsync();
        var current = await _grains.RotateAsync(login.RefreshToken);
        fixture.Storage.Mode = FaultyStorage.Fault.RefuseWrites;

        var failed = await _grains.RefreshAsync(current);
        Assert.Equal(RefreshStatus.Unavailable, failed.Status);
        Assert.Null(failed.Grant);
        Assert.Equal(1, StoredSession(login.SessionId)!.Counter);

        fixture.Storage.Mode = FaultyStorage.Fault.None;
        // Nothing was rotated: the same token rotates now, and it is a rotation, not a replay.
        var retried = await _grains.RefreshAsync(current);
        Assert.Equal(RefreshStatus.Rotated, retried.Status);
        Assert.Equal(2, StoredSession(login.SessionId)!.Counter);
        Assert.Equal(RefreshStatus.Rotated, (await _grains.RefreshAsync(retried.Grant!.RefreshToken)).Status);
    }

    [Fact]
    public async Task Concurrent_refreshes_during_a_failing_write_are_never_acknowledged()
    {
        var login = await _grains.NewSessionAsync();
        fixture.Storage.Mode = FaultyStorage.Fault.RefuseWrites;
        fixture.Storage.WriteDelay = TimeSpan.FromMilliseconds(50);

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => _grains.RefreshAsync(login.RefreshToken)));

        // Rules 3 and 4 together: no caller may receive a successor whose rotation was never stored.
        Assert.All(results, r => Assert.Equal(RefreshStatus.Unavailable, r.Status));
        fixture.Storage.Mode = FaultyStorage.Fault.None;
        Assert.Equal(RefreshStatus.Rotated, (await _grains.RefreshAsync(login.RefreshToken)).Status);
    }

    [Fact]
    public async Task A_write_that_landed_but_reported_failure_is_recovered_by_the_retry()
    {
        var login = await _grains.NewSessionAsync();
        fixture.Storage.Mode = FaultyStorage.Fault.LoseAcknowledgements;

        Assert.Equal(RefreshStatus.Unavailable, (await _grains.RefreshAsync(login.RefreshToken)).Status);

        fixture.Storage.Mode = FaultyStorage.Fault.None;
        // Storage holds the rotation the client never saw; its retry is inside the grace window and
        // receives that successor instead of being taken for reuse.
        var retried = await _grains.RefreshAsync(login.RefreshToken);
        Assert.Equal(RefreshStatus.Replayed, retried.Status);
        Assert.Equal(RefreshStatus.Rotated, (await _grains.RefreshAsync(retried.Grant!.RefreshToken)).Status);
    }

    [Fact]
    public async Task Reuse_while_storage_is_down_keeps_the_family_dead_and_stores_the_revocation_later()
    {
        var login = await _grains.NewSessionAsync();
        var current = await _grains.RotateAsync(login.RefreshToken);
        fixture.Clock.Advance(ClusterFixture.GraceWindow + TimeSpan.FromSeconds(1));
        fixture.Storage.Mode = FaultyStorage.Fault.RefuseWrites;

        // Reuse cannot be stored, so it is not acknowledged; but the current token is refused too (fail closed).
        Assert.Equal(RefreshStatus.Unavailable, (await _grains.RefreshAsync(login.RefreshToken)).Status);
        Assert.False((await _grains.RefreshAsync(current)).Succeeded);
        Assert.Null(StoredSession(login.SessionId)!.RevokedAt);

        fixture.Storage.Mode = FaultyStorage.Fault.None;
        Assert.Equal(RefreshStatus.Revoked, (await _grains.RefreshAsync(current)).Status);
        Assert.Equal(RevocationReason.RefreshTokenReuse, StoredSession(login.SessionId)!.RevocationReason);
    }

    [Fact]
    public async Task A_login_whose_session_cannot_be_stored_fails_without_issuing_a_token()
    {
        var index = await _grains.NewAccountAsync();
        fixture.Storage.Mode = FaultyStorage.Fault.RefuseWrites;

        await Assert.ThrowsAsync<StorageUnavailableException>(() => index.LoginAsync(TestSteps.Password, new ClientInfo(null, null)));

        fixture.Storage.Mode = FaultyStorage.Fault.None;
        Assert.Equal(LoginStatus.Succeeded, (await index.LoginAsync(TestSteps.Password, new ClientInfo(null, null))).Status);
    }

    [Fact]
    public async Task A_wrong_password_writes_nothing_so_it_costs_what_an_unknown_email_costs()
    {
        var index = await _grains.NewAccountAsync();
        fixture.Storage.Mode = FaultyStorage.Fault.RefuseWrites;

        // With every write refused, a wrong password is still answered: no write was attempted.
        for (var i = 0; i < ClusterFixture.MaxFailedLogins; i++)
            Assert.Equal(LoginStatus.InvalidCredentials, (await index.LoginAsync("wrong password", new ClientInfo(null, null))).Status);
        Assert.Equal(LoginStatus.TooManyAttempts, (await index.LoginAsync(TestSteps.Password, new ClientInfo(null, null))).Status);

        fixture.Storage.Mode = FaultyStorage.Fault.None;
    }

    [Fact]
    public async Task A_login_whose_index_write_lost_its_acknowledgement_does_not_wedge_the_next_login_of_that_user()
    {
        var index = await _grains.NewAccountAsync();
        LoseAcknowledgementsOf("user");

        await Assert.ThrowsAsync<StorageUnavailableException>(() => index.LoginAsync(TestSteps.Password, TestSteps.Client));

        fixture.Storage.Mode = FaultyStorage.Fault.None;
        var login = await index.LoginAsync(TestSteps.Password, TestSteps.Client);
        Assert.Equal(LoginStatus.Succeeded, login.Status);
        // Written on top of the index that landed, so neither entry was lost; the first one's session never started.
        var userGrain = _grains.GetGrain<IUserGrain>(login.Grant!.UserId);
        var user = (UserState)fixture.Storage.Stored("user", userGrain.GetGrainId())!;
        Assert.Equal(2, user.Sessions.Count);
        Assert.Contains(login.Grant.SessionId, user.Sessions.Keys);
        var listed = await userGrain.GetSessionsAsync();
        Assert.Equal([login.Grant.SessionId], listed.Select(s => s.SessionId));
    }

    [Fact]
    public async Task A_registration_whose_index_write_lost_its_acknowledgement_stored_no_user_and_the_retry_registers()
    {
        var email = $"user-{Guid.NewGuid():N}@example.com";
        var index = _grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(email));
        LoseAcknowledgementsOf("email");

        await Assert.ThrowsAsync<StorageUnavailableException>(() => index.RegisterAsync(TestSteps.Registration()));

        // The entry landed, naming a user that was never stored: nothing is unreachable, and the email is not lost.
        Assert.DoesNotContain(fixture.Storage.StoredStates("user").OfType<UserState>(), u => u.Email == email);
        fixture.Storage.Mode = FaultyStorage.Fault.None;
        var retried = await index.RegisterAsync(TestSteps.Registration());
        var stored = (EmailIndexState)fixture.Storage.Stored("email", index.GetGrainId())!;
        Assert.True(retried.Registered);
        Assert.Equal(stored.UserId, retried.UserId);
        Assert.Single(fixture.Storage.StoredStates("user").OfType<UserState>(), u => u.Email == email);
        Assert.Equal(LoginStatus.Succeeded, (await index.LoginAsync(TestSteps.Password, TestSteps.Client)).Status);
    }

    [Theory]
    [InlineData(FaultyStorage.Fault.RefuseWrites, true)]
    [InlineData(FaultyStorage.Fault.LoseAcknowledgements, false)]
    public async Task A_registration_whose_user_write_failed_leaves_every_user_reachable_from_its_email(FaultyStorage.Fault fault, bool retryRegisters)
    {
        var email = $"user-{Guid.NewGuid():N}@example.com";
        var index = _grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(email));
        fixture.Storage.FaultOnly = "user";
        fixture.Storage.Mode = fault;

        await Assert.ThrowsAsync<StorageUnavailableException>(() => index.RegisterAsync(TestSteps.Registration()));

        fixture.Storage.Mode = FaultyStorage.Fault.None;
        var retried = await index.RegisterAsync(TestSteps.Registration());
        // Refused: no user, and the email registers again. Landed unacknowledged: the user is there, its email reaches
        // it, and the retry is "taken" (the registrant logs in).
        Assert.Equal(retryRegisters, retried.Registered);
        var stored = (EmailIndexState)fixture.Storage.Stored("email", index.GetGrainId())!;
        var user = Assert.Single(fixture.Storage.StoredStates("user").OfType<UserState>(), u => u.Email == email);
        Assert.Equal(stored.UserId, retried.UserId);
        Assert.Same(user, fixture.Storage.Stored("user", _grains.GetGrain<IUserGrain>(stored.UserId).GetGrainId()));
        Assert.Equal(LoginStatus.Succeeded, (await index.LoginAsync(TestSteps.Password, TestSteps.Client)).Status);
    }

    [Fact]
    public async Task A_key_ring_proposal_whose_write_lost_its_acknowledgement_is_seen_and_the_next_rotation_lands()
    {
        var ring = _grains.GetGrain<ISigningKeyRingGrain>(0);
        var before = await ring.GetAsync();
        LoseAcknowledgementsOf("keyring");

        await Assert.ThrowsAsync<StorageUnavailableException>(() => ring.CompareAndSetAsync(before.Version, [.. before.Keys, Key("landed")]));

        fixture.Storage.Mode = FaultyStorage.Fault.None;
        var landed = await ring.GetAsync();
        Assert.Equal(before.Version + 1, landed.Version);
        Assert.Contains(landed.Keys, k => k.KeyId == "landed");
        // Another node that proposed on top of the old version adopts the stored ring rather than failing.
        Assert.Equal(landed.Version, (await ring.CompareAndSetAsync(before.Version, [.. before.Keys, Key("late")])).Version);
        var next = await ring.CompareAndSetAsync(landed.Version, [.. landed.Keys, Key("next")]);
        Assert.Equal(before.Version + 2, next.Version);
        Assert.Equal(next.Version, ((SigningKeyRingState)fixture.Storage.Stored("keyring", ring.GetGrainId())!).Version);
    }

    private static SigningKey Key(string keyId) =>
        new(keyId, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, new byte[32], new byte[32], new byte[48]);
}
