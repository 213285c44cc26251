using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Storage;
using Orleans.TestingHost;
using Sessions.Grains;
using Sessions.Storage;

namespace Sessions.Tests;

/// <summary>
/// <see cref="BatchingGrainStorage"/> against PostgreSQL: the rows Orleans' ADO.NET provider writes and reads, each
/// write's own ETag answer inside a shared commit, and a batch whose connection dies. A batch is held in flight by
/// locking one of its rows from a transaction of the test's own.
/// </summary>
[Layer(Layer.Grains)]
[Collection(PostgresCluster.Name)]
public sealed class BatchingGrainStorageTests(PostgresClusterFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private IServiceProvider Silo => ((InProcessSiloHandle)fixture.Cluster.Primary!).SiloHost.Services;

    private IGrainStorage Batching => Silo.GetRequiredKeyedService<IGrainStorage>(StorageNames.Grains);

    private IGrainStorage AdoNet => Silo.GetRequiredKeyedService<IGrainStorage>(StorageNames.Grains + "-adonet");

    private static readonly string[] KeyKinds = ["guid", "guid+extension", "integer", "integer+extension", "string"];

    public static TheoryData<string> Keys => new(KeyKinds);

    private static GrainId Id(string kind) => kind switch
    {
        "guid" => GrainId.Create(GrainType.Create("test"), GrainIdKeyExtensions.CreateGuidKey(Guid.NewGuid())),
        "guid+extension" => GrainId.Create(GrainType.Create("test"), GrainIdKeyExtensions.CreateGuidKey(Guid.NewGuid(), "ext-é")),
        "integer" => GrainId.Create(GrainType.Create("test"), GrainIdKeyExtensions.CreateIntegerKey(Random.Shared.NextInt64())),
        "integer+extension" => GrainId.Create(GrainType.Create("test"), GrainIdKeyExtensions.CreateIntegerKey(-Random.Shared.NextInt64(), "ext")),
        _ => GrainId.Create("test", $"user-{Guid.NewGuid():N}@example.com"),
    };

    private static GrainState<EmailIndexState> State(Guid userId, string? etag = null) => new(new EmailIndexState { UserId = userId }, etag);

    private static string NewStateName() => "test-" + Guid.NewGuid().ToString("N")[..8];

    [Theory]
    [MemberData(nameof(Keys))]
    public async Task Its_rows_are_the_ADO_NET_providers_rows_both_ways(string kind)
    {
        var (stateName, grain) = (NewStateName(), Id(kind));

        var first = State(Guid.NewGuid());
        await Batching.WriteStateAsync(stateName, grain, first);
        var read = State(Guid.Empty);
        await AdoNet.ReadStateAsync(stateName, grain, read);
        Assert.Equal((first.State, first.ETag, true), (read.State, read.ETag, read.RecordExists));

        var second = State(Guid.NewGuid(), read.ETag);
        await AdoNet.WriteStateAsync(stateName, grain, second);
        var third = State(Guid.NewGuid(), second.ETag);
        await Batching.WriteStateAsync(stateName, grain, third);
        await AdoNet.ReadStateAsync(stateName, grain, read);
        Assert.Equal((third.State, third.ETag), (read.State, read.ETag));

        // Reads: a row the ADO.NET provider wrote, and no row, read as it reads them.
        var fromBatching = State(Guid.Empty);
        await Batching.ReadStateAsync(stateName, grain, fromBatching);
        Assert.Equal((third.State, third.ETag, true), (fromBatching.State, fromBatching.ETag, fromBatching.RecordExists));
        var missing = State(Guid.NewGuid(), "3");
        await Batching.ReadStateAsync(NewStateName(), grain, missing);
        Assert.Equal((Guid.Empty, null, false), (missing.State!.UserId, missing.ETag, missing.RecordExists));

        Assert.Equal(1L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM grainstate WHERE graintypestring = $1", stateName));
    }

    [Fact]
    public async Task A_write_from_a_stale_ETag_or_a_first_write_over_an_existing_row_is_a_conflict()
    {
        var (stateName, grain) = (NewStateName(), Id("guid"));
        var stored = State(Guid.NewGuid());
        await AdoNet.WriteStateAsync(stateName, grain, stored);

        await Assert.ThrowsAsync<InconsistentStateException>(() => Batching.WriteStateAsync(stateName, grain, State(Guid.NewGuid())));
        await Assert.ThrowsAsync<InconsistentStateException>(() => Batching.WriteStateAsync(stateName, grain, State(Guid.NewGuid(), "7")));

        var read = State(Guid.Empty);
        await Batching.ReadStateAsync(stateName, grain, read);
        Assert.Equal((stored.State, stored.ETag), (read.State, read.ETag));
    }

    [Fact]
    public async Task Writes_queued_behind_a_commit_share_the_next_one_and_a_conflict_fails_only_its_own_write()
    {
        var stateName = NewStateName();
        var (held, stale, existing) = (Id("guid"), Id("guid"), Id("string"));
        foreach (var grain in new[] { held, stale, existing })
            await Batching.WriteStateAsync(stateName, grain, State(Guid.NewGuid()));
        var heldETag = await ETagAsync(stateName, held);

        Task blocked;
        List<(GrainId Grain, GrainState<EmailIndexState> State, Task Write)> queued;
        await using (await RowLock.TakeAsync(fixture, stateName, held))
        {
            blocked = Batching.WriteStateAsync(stateName, held, State(Guid.NewGuid(), heldETag));
            await WaitForLockWaitAsync();
            queued = Enumerable.Range(0, 50).Select(_ => Id("guid"))
                .Append(stale).Append(existing)
                .Select(grain =>
                {
                    var state = State(Guid.NewGuid(), grain == stale ? "7" : null);
                    return (grain, state, Batching.WriteStateAsync(stateName, grain, state));
                })
                .ToList();
            await Task.Delay(200);
            Assert.All(queued, q => Assert.False(q.Write.IsCompleted)); // nothing is answered before its commit
        }
        await blocked.WaitAsync(Patience);

        foreach (var (grain, state, write) in queued)
        {
            if (grain == stale || grain == existing)
                await Assert.ThrowsAsync<InconsistentStateException>(() => write.WaitAsync(Patience));
            else
            {
                await write.WaitAsync(Patience);
                Assert.Equal("1", state.ETag);
            }
        }
        // The 50 new rows were written by one transaction.
        Assert.Equal(1L, await fixture.Database.ScalarAsync<long>(
            "SELECT count(DISTINCT xmin::text) FROM grainstate WHERE graintypestring = $1 AND version = 1 AND grainidn0 <> 0 AND grainidn0 <> $2",
            stateName, GrainRow.Of(fixture.ServiceId, stateName, stale).N0));
        Assert.Equal(52L, await fixture.Database.ScalarAsync<long>(
            "SELECT count(*) FROM grainstate WHERE graintypestring = $1 AND version = 1", stateName));
    }

    [Fact]
    public async Task Many_concurrent_reads_each_get_their_own_row()
    {
        var stateName = NewStateName();
        var grains = Enumerable.Range(0, 300).Select(i => Id(KeyKinds[i % KeyKinds.Length])).ToList();
        var written = new Dictionary<GrainId, Guid>();
        await Task.WhenAll(grains.Select(async grain =>
        {
            var state = State(Guid.NewGuid());
            await Batching.WriteStateAsync(stateName, grain, state);
            lock (written)
                written[grain] = state.State!.UserId;
        }));
        var absent = Id("guid");

        var reads = grains.Append(absent).Select(grain => (grain, state: State(Guid.NewGuid(), "9"))).ToList();
        await Task.WhenAll(reads.Select(r => Batching.ReadStateAsync(stateName, r.grain, r.state)));

        foreach (var (grain, state) in reads)
        {
            if (grain == absent)
                Assert.Equal((Guid.Empty, null, false), (state.State!.UserId, state.ETag, state.RecordExists));
            else
                Assert.Equal((written[grain], "1", true), (state.State!.UserId, state.ETag, state.RecordExists));
        }
    }

    [Fact]
    public async Task A_batch_whose_backend_is_killed_fails_every_write_in_it_stores_none_and_the_next_writes_succeed()
    {
        var stateName = NewStateName();
        var (held, lastHeld) = (Id("guid"), Id("guid"));
        await Batching.WriteStateAsync(stateName, held, State(Guid.NewGuid()));
        await Batching.WriteStateAsync(stateName, lastHeld, State(Guid.NewGuid()));
        var (heldETag, lastETag) = (await ETagAsync(stateName, held), await ETagAsync(stateName, lastHeld));
        var fresh = new[] { Id("guid"), Id("integer"), Id("string") };

        await using var secondLock = await RowLock.TakeAsync(fixture, stateName, lastHeld);
        Task first;
        Task[] killed;
        await using (await RowLock.TakeAsync(fixture, stateName, held))
        {
            first = Batching.WriteStateAsync(stateName, held, State(Guid.NewGuid(), heldETag));
            await WaitForLockWaitAsync();
            killed = [.. fresh.Select(grain => Batching.WriteStateAsync(stateName, grain, State(Guid.NewGuid()))),
                Batching.WriteStateAsync(stateName, lastHeld, State(Guid.NewGuid(), lastETag))];
        }
        await first.WaitAsync(Patience);
        // The second batch now waits on lastHeld's row, the statements before it run and uncommitted.
        var backend = await WaitForLockWaitAsync();
        Assert.True(await fixture.Database.ScalarAsync<bool>("SELECT pg_terminate_backend($1)", backend));

        foreach (var write in killed)
        {
            var failure = await Assert.ThrowsAnyAsync<Exception>(() => write.WaitAsync(Patience));
            Assert.IsNotType<InconsistentStateException>(failure);
        }
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>(
            "SELECT count(*) FROM grainstate WHERE graintypestring = $1 AND version = 1 AND NOT (grainidn0 = ANY($2))",
            stateName, new[] { held, lastHeld }.Select(g => GrainRow.Of(fixture.ServiceId, stateName, g).N0).ToArray()));

        await secondLock.DisposeAsync();
        foreach (var grain in fresh)
            await Batching.WriteStateAsync(stateName, grain, State(Guid.NewGuid())).WaitAsync(Patience);
        var last = State(Guid.NewGuid(), lastETag);
        await Batching.WriteStateAsync(stateName, lastHeld, last).WaitAsync(Patience);
        Assert.Equal("2", last.ETag);
    }

    [Fact]
    public async Task Refreshes_whose_batch_is_killed_answer_unavailable_and_the_same_tokens_then_rotate()
    {
        var held = await fixture.Grains.NewSessionAsync();
        var lastHeld = await fixture.Grains.NewSessionAsync();
        var others = new[] { await fixture.Grains.NewSessionAsync(), await fixture.Grains.NewSessionAsync() };

        await using var secondLock = await RowLock.TakeAsync(fixture, "session", SessionGrain(lastHeld));
        Task<RefreshResult> first;
        Task<RefreshResult>[] killed;
        await using (await RowLock.TakeAsync(fixture, "session", SessionGrain(held)))
        {
            first = fixture.Grains.RefreshAsync(held.RefreshToken);
            await WaitForLockWaitAsync();
            killed = [.. others.Append(lastHeld).Select(s => fixture.Grains.RefreshAsync(s.RefreshToken))];
            await Task.Delay(200); // the grain calls reach their writes, queued behind the held one
        }
        Assert.Equal(RefreshStatus.Rotated, (await first.WaitAsync(Patience)).Status);
        var backend = await WaitForLockWaitAsync();
        Assert.True(await fixture.Database.ScalarAsync<bool>("SELECT pg_terminate_backend($1)", backend));

        foreach (var refresh in killed)
            Assert.Equal(RefreshStatus.Unavailable, (await refresh.WaitAsync(Patience)).Status);
        await secondLock.DisposeAsync();
        foreach (var session in others.Append(lastHeld))
            Assert.Equal(RefreshStatus.Rotated, (await fixture.Grains.RefreshAsync(session.RefreshToken)).Status);
    }

    private GrainId SessionGrain(SessionGrant session) => fixture.Grains.GetGrain<ISessionGrain>(session.SessionId).GetGrainId();

    private async Task<string> ETagAsync(string stateName, GrainId grain)
    {
        var read = State(Guid.Empty);
        await AdoNet.ReadStateAsync(stateName, grain, read);
        return read.ETag!;
    }

    /// <summary>Waits until a backend of the test database waits on a row lock; returns its process id.</summary>
    private async Task<int> WaitForLockWaitAsync()
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            await using var command = fixture.Database.DataSource.CreateCommand(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' LIMIT 1");
            if (await command.ExecuteScalarAsync() is int pid)
                return pid;
            Assert.True(DateTime.UtcNow < deadline, "no write came to wait on the locked row");
            await Task.Delay(20);
        }
    }

    /// <summary>A grain's row locked by an open transaction of the test's own; disposing it rolls back and frees the row.</summary>
    private sealed class RowLock : IAsyncDisposable
    {
        private readonly NpgsqlConnection _connection;
        private readonly NpgsqlTransaction _transaction;
        private bool _disposed;

        private RowLock(NpgsqlConnection connection, NpgsqlTransaction transaction) => (_connection, _transaction) = (connection, transaction);

        public static async Task<RowLock> TakeAsync(PostgresClusterFixture fixture, string stateName, GrainId grain)
        {
            var row = GrainRow.Of(fixture.ServiceId, stateName, grain);
            var connection = await fixture.Database.DataSource.OpenConnectionAsync();
            var transaction = await connection.BeginTransactionAsync();
            await using var command = new NpgsqlCommand(
                "SELECT count(*) FROM (SELECT 1 FROM grainstate WHERE serviceid = $1 AND graintypestring = $2 AND grainidhash = $3 " +
                "AND grainidn0 = $4 AND grainidn1 = $5 AND grainidextensionstring IS NOT DISTINCT FROM $6 FOR UPDATE) AS locked",
                connection, transaction)
            {
                Parameters =
                {
                    new() { Value = row.ServiceId }, new() { Value = row.StateName }, new() { Value = row.IdHash },
                    new() { Value = row.N0 }, new() { Value = row.N1 }, new() { Value = (object?)row.Extension ?? DBNull.Value, DataTypeName = "text" },
                },
            };
            Assert.Equal(1L, (long)(await command.ExecuteScalarAsync())!);
            return new RowLock(connection, transaction);
        }

        public async ValueTask DisposeAsync()
        {
            if (_disposed)
                return;
            _disposed = true;
            await _transaction.RollbackAsync();
            await _connection.DisposeAsync();
        }
    }
}
