using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;
using Sessions.Grains;
using Sessions.Storage;

namespace Sessions.Tests;

[Layer(Layer.Grains)]
[Collection(PostgresCluster.Name)]
public sealed class PostgresTests(PostgresClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Grains;

    /// <summary>
    /// A user row as 0.3 wrote it (these bytes are from 0.3's code) after a password change from session …01 whose
    /// revocations of …02 and …03 were still owed, in PasswordChangeState.PendingRevocations.
    /// </summary>
    private const string OwedBy03UserRow =
        "AQAAAAAAAAAAIOhAL293ZWQtYnktMC4zQGV4YW1wbGUuY29tQalBUUFBQUFJQUFZYWdBQUFBRUU1UW5UYUJvVngyenZwYUMwU0hwYkJZeUlTQmFXUFRPdkltQ0EwUFdHUm5hOUdMYy9FVTZJNzVEUG9BbU5zL3dRPT0hIAADQQl1c2Vy4OAhgAAA+LTISN4IgQAAAAAAAAAA4CIgAQdBIQAAAAoAAABAgAAAAAAAAAIggAAA25l6PzEJgQAAAAAAAAAA4EAhAAAACgAAAECAAAAAAAAAAyCAAADbmXo/MQmBAAAAAAAAAADgQCEAAAAKAAAAQIAAAAAAAAABIIAAANuZej8xCYEAAAAAAAAAAODgwQHgIegggAAA+LTISN4IgQAAAAAAAAAA4EEhAAAACgAAAECAAAAAAAAAASEgAAVBIQAAAAoAAABAgAAAAAAAAAJAIQAAAAoAAABAgAAAAAAAAAPg4OABAcEBAQEBAcEBwQEhIODg4A==";

    [Fact]
    public async Task The_schema_applies_again_and_holds_every_query_the_providers_need()
    {
        await fixture.Database.ApplySchemaAsync(); // a third time, on a database in use

        var keys = await fixture.Database.ScalarAsync<string[]>("SELECT array_agg(querykey ORDER BY querykey) FROM orleansquery");
        Assert.Equal(
        [
            "CleanupDefunctSiloEntriesKey", "ClearStorageKey", "DeleteMembershipTableEntriesKey", "DeleteStorageKey",
            "GatewaysQueryKey", "InsertMembershipKey", "InsertMembershipVersionKey", "MembershipReadAllKey",
            "MembershipReadRowKey", "ReadFromStorageKey", "UpdateIAmAlivetimeKey", "UpdateMembershipKey", "WriteToStorageKey",
        ], keys);
        Assert.Equal(1, await fixture.Database.ScalarAsync<int>("SELECT max(version) FROM schemaversion"));
    }

    [Fact]
    public async Task A_rotation_survives_a_restart_and_the_token_before_it_is_then_reuse()
    {
        var login = await Grains.NewSessionAsync();
        var second = await Grains.RotateAsync(login.RefreshToken);
        var third = await Grains.RotateAsync(second);

        await fixture.RestartClusterAsync();

        var fourth = await Grains.RotateAsync(third);
        fixture.Clock.Advance(ClusterFixture.GraceWindow + TimeSpan.FromSeconds(1));
        Assert.Equal(RefreshStatus.ReuseDetected, (await Grains.RefreshAsync(third)).Status);

        // The revocation is durable too: after another restart the newest token is dead.
        await fixture.RestartClusterAsync();
        Assert.Equal(RefreshStatus.Revoked, (await Grains.RefreshAsync(fourth)).Status);
    }

    [Fact]
    public async Task An_activation_behind_storage_reads_it_again_instead_of_calling_a_newer_token_reuse()
    {
        // During a membership change a stale activation of a session can live beside the one that moved on.
        var login = await Grains.NewSessionAsync();
        var first = await Grains.RotateAsync(login.RefreshToken);
        var behind = (await fixture.SessionRowAsync(login.SessionId))!;
        var second = await Grains.RotateAsync(first);
        var ahead = (await fixture.SessionRowAsync(login.SessionId))!;
        var version = await fixture.SessionRowVersionAsync(login.SessionId);
        await fixture.SetSessionRowAsync(login.SessionId, behind, version);
        await fixture.RestartClusterAsync();
        Assert.True(await Grains.GetGrain<ISessionGrain>(login.SessionId).IsActiveAsync()); // activated one rotation behind
        await fixture.SetSessionRowAsync(login.SessionId, ahead, version + 1);

        var third = await Grains.RotateAsync(second);

        await Grains.RotateAsync(third);
        Assert.DoesNotContain(fixture.Logs.Named("refresh_token_reuse"),
            e => e.Values.Any(v => v is { Key: "SessionId", Value: Guid id } && id == login.SessionId));
    }

    [Fact]
    public async Task Users_and_their_session_index_survive_a_restart()
    {
        var email = $"user-{Guid.NewGuid():N}@example.com";
        var login = await Grains.NewSessionAsync(email);

        await fixture.RestartClusterAsync();

        var again = await Grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(email)).LoginAsync(TestSteps.Password, new ClientInfo(null, null));
        Assert.Equal(login.UserId, again.Grant!.UserId);
        Assert.Equal(2, (await Grains.GetGrain<IUserGrain>(login.UserId).GetSessionsAsync()).Length);
        Assert.False((await Grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(email)).RegisterAsync(TestSteps.Registration("another password"))).Registered);
    }

    [Fact]
    public async Task A_user_row_of_0_3_whose_password_change_still_owes_revocations_is_finished()
    {
        var userId = Guid.NewGuid();
        Guid[] owed = [Guid.Parse("0a000000-0000-4000-8000-000000000002"), Guid.Parse("0a000000-0000-4000-8000-000000000003")];
        var kept = Guid.Parse("0a000000-0000-4000-8000-000000000001");
        const string email = "owed-by-0.3@example.com";
        Assert.True(await Grains.GetGrain<IUserGrain>(userId).CreateAsync(new NewUser(email, "a hash", TestSteps.NoDeadline)));
        foreach (var id in owed.Append(kept))
            await Grains.GetGrain<ISessionGrain>(id).StartAsync(new SessionStart(userId, email, ["user"], "xunit", "127.0.0.1"));
        await fixture.SetUserRowAsync(userId, Convert.FromBase64String(OwedBy03UserRow));
        await fixture.RestartClusterAsync();

        Assert.Equal([kept], (await Grains.GetGrain<IUserGrain>(userId).GetSessionsAsync()).Select(s => s.SessionId));

        // Stored, not only in memory: the sessions' rows are revoked, and the user's row owes nothing.
        foreach (var id in owed)
            Assert.Equal(RevocationReason.PasswordChanged, fixture.Read<SessionState>((await fixture.SessionRowAsync(id))!).RevocationReason);
        Assert.Null(fixture.Read<SessionState>((await fixture.SessionRowAsync(kept))!).RevokedAt);
        var user = fixture.Read<UserState>((await fixture.UserRowAsync(userId))!);
        Assert.Null(user.Owed);
        Assert.Empty(user.PasswordChange!.PendingRevocations);
        Assert.Equal(kept, user.PasswordChange.SessionId);
        Assert.Equal([kept], user.Sessions.Keys);
    }

    [Fact]
    public async Task Rows_of_expired_and_revoked_sessions_are_purged_and_live_ones_kept()
    {
        var idle = await Grains.NewSessionAsync();
        var revoked = await Grains.NewSessionAsync();
        await Grains.Session(revoked).LogoutAsync(new LogoutAttempt(revoked.RefreshToken, TestSteps.Client));
        var live = await Grains.NewSessionAsync();
        fixture.Clock.Advance(ClusterFixture.IdleTimeout - TimeSpan.FromMinutes(1));
        await Grains.RotateAsync(live.RefreshToken);
        Assert.NotNull(await fixture.SessionRowAsync(idle.SessionId));

        // Past the idle deadline, rounded up to the hour, plus the purge delay (one hour by default).
        fixture.Clock.Advance(TimeSpan.FromHours(3));
        await fixture.Purger.PurgeAsync();

        Assert.Null(await fixture.SessionRowAsync(idle.SessionId));
        Assert.Null(await fixture.SessionRowAsync(revoked.SessionId));
        Assert.NotNull(await fixture.SessionRowAsync(live.SessionId));
        Assert.False((await Grains.Session(idle).RefreshAsync(new RefreshAttempt(idle.RefreshToken, TestSteps.Client, TestSteps.NoDeadline))).Succeeded);
        // Users are never purged.
        Assert.Equal(1, await fixture.Database.ScalarAsync<long>(
            "SELECT count(*) FROM grainstate WHERE serviceid = $1 AND graintypestring = 'user' AND grainidn0 = $2",
            fixture.ServiceId, BitConverter.ToInt64(idle.UserId.ToByteArray(), 0)));
    }

    [Fact]
    public async Task Concurrent_first_writes_and_stale_writes_through_the_provider_are_clean_conflicts()
    {
        var storage = ((InProcessSiloHandle)fixture.Cluster.Primary!).SiloHost.Services
            .GetRequiredKeyedService<IGrainStorage>(StorageNames.Grains);
        var grainId = GrainId.Create("race", Guid.NewGuid().ToString("N"));

        var firstWrites = await Task.WhenAll(Enumerable.Range(0, 6).Select(async _ =>
        {
            try
            {
                await storage.WriteStateAsync("race", grainId, new GrainState<EmailIndexState>(new EmailIndexState { UserId = Guid.NewGuid() }));
                return true;
            }
            catch (InconsistentStateException)
            {
                return false;
            }
        }));

        Assert.Single(firstWrites, won => won);
        var read = new GrainState<EmailIndexState>();
        await storage.ReadStateAsync("race", grainId, read);
        Assert.Equal(("1", true), (read.ETag, read.RecordExists));
        await storage.WriteStateAsync("race", grainId, read);
        Assert.Equal("2", read.ETag);
        var stale = new GrainState<EmailIndexState>(new EmailIndexState(), "1") { RecordExists = true };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("race", grainId, stale));
        Assert.Equal(1, await fixture.Database.ScalarAsync<long>(
            "SELECT count(*) FROM grainstate WHERE serviceid = $1 AND graintypestring = 'race'", fixture.ServiceId));
    }

    [Fact]
    public async Task A_session_row_stays_small_and_holds_no_token()
    {
        // Past the 8 rotations whose times the grace rule remembers: the row stops growing.
        var login = await Grains.NewSessionAsync();
        var tokens = new List<string> { login.RefreshToken };
        for (var i = 0; i < 12; i++)
            tokens.Add(await Grains.RotateAsync(tokens[^1]));

        var payload = (await fixture.SessionRowAsync(login.SessionId))!;

        Assert.InRange(payload.Length, 1, 1024);
        Assert.Equal(StateSerializer.Format, payload[0]);
        // No type or assembly name either: rows stay readable when code moves between projects.
        Assert.DoesNotContain("Grains", System.Text.Encoding.Latin1.GetString(payload), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("SessionState", System.Text.Encoding.Latin1.GetString(payload), StringComparison.OrdinalIgnoreCase);
        foreach (var token in tokens)
        {
            Assert.True(RefreshToken.TryParse(token, out var parsed));
            Assert.Equal(-1, payload.AsSpan().IndexOf(parsed.Mac.Span));
            Assert.DoesNotContain(token, System.Text.Encoding.Latin1.GetString(payload));
        }
    }

    [Fact]
    public async Task A_bound_session_keeps_its_key_across_a_restart_and_its_row_stays_under_1_KB()
    {
        using var key = new DpopKey();
        var index = await Grains.NewAccountAsync();
        var login = (await index.LoginAsync(new LoginAttempt(TestSteps.Password, TestSteps.Client, TestSteps.NoDeadline, key.Accepted(fixture.Clock.GetUtcNow())))).Grant!;
        var current = login.RefreshToken;
        for (var i = 0; i < 12; i++)
            current = (await Grains.Session(login).RefreshAsync(new RefreshAttempt(current, TestSteps.Client, TestSteps.NoDeadline, key.Accepted(fixture.Clock.GetUtcNow())))).Grant!.RefreshToken;

        var payload = (await fixture.SessionRowAsync(login.SessionId))!;
        await fixture.RestartClusterAsync();

        Assert.InRange(payload.Length, 1, 1024);
        Assert.Equal(RefreshStatus.InvalidProof, (await Grains.Session(login).RefreshAsync(new RefreshAttempt(current, TestSteps.Client, TestSteps.NoDeadline))).Status);
        var rotated = await Grains.Session(login).RefreshAsync(new RefreshAttempt(current, TestSteps.Client, TestSteps.NoDeadline, key.Accepted(fixture.Clock.GetUtcNow())));
        Assert.Equal((RefreshStatus.Rotated, key.Jkt), (rotated.Status, rotated.Grant!.DpopJkt));
    }
}
