using Orleans.Runtime.Hosting;
using Sessions.Grains;
using Sessions.Tests.Infrastructure;

namespace Sessions.Tests;

public sealed class FaultyStorageClusterFixture : ClusterFixture
{
    public FaultyStorage Storage { get; } = new();

    protected override void ConfigureStorage(ISiloBuilder silo) =>
        silo.Services.AddGrainStorage(StorageNames.Grains, (_, _) => Storage);
}

[CollectionDefinition(Name)]
public sealed class FaultyStorageCluster : ICollectionFixture<FaultyStorageClusterFixture>
{
    public const string Name = "faulty storage cluster";
}

/// <summary>API.md rule 4 and DESIGN.md invariants 1-2 when the database fails underneath a session.</summary>
[Collection(FaultyStorageCluster.Name)]
public sealed class StorageFailureTests(FaultyStorageClusterFixture fixture) : IDisposable
{
    private readonly IGrainFactory _grains = fixture.Grains;

    public void Dispose()
    {
        fixture.Storage.Mode = FaultyStorage.Fault.None;
        fixture.Storage.WriteDelay = TimeSpan.Zero;
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
}
