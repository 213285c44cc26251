using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.TestingHost;
using Sessions.Grains;
using Sessions.Hosting;
using Sessions.Storage;

namespace Sessions.Tests.Fixtures;

/// <summary>A TestCluster whose grain state lives in PostgreSQL through our schema and Orleans' ADO.NET provider.</summary>
public sealed class PostgresClusterFixture : ClusterFixture
{
    public PostgresDatabase Database { get; private set; } = null!;

    public StatePurger Purger =>
        ((InProcessSiloHandle)Cluster.Primary!).SiloHost.Services.GetRequiredService<StatePurger>();

    public override async Task InitializeAsync()
    {
        Database = await PostgresDatabase.CreateAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Database.DisposeAsync();
    }

    protected override void ConfigureStorage(ISiloBuilder silo)
    {
        silo.AddSessionsStorage(StorageNames.Grains, Database.ConnectionString);
        silo.Services.AddStorageExceptionSerialization().AddSmallDataSource(Database.ConnectionString).AddStatePurger(SessionSettings());
    }

    /// <summary>The stored payload of a session, or null when its row is gone.</summary>
    public Task<byte[]?> SessionRowAsync(Guid sessionId) => RowAsync("session", sessionId);

    /// <summary>The stored payload of a user, or null when its row is gone.</summary>
    public Task<byte[]?> UserRowAsync(Guid userId) => RowAsync("user", userId);

    /// <summary>Overwrites a user's payload behind the grain's back, as a silo of another release would.</summary>
    public async Task SetUserRowAsync(Guid userId, byte[] payload)
    {
        await using var command = RowCommand("UPDATE grainstate SET payloadbinary = $4", "user", userId);
        command.Parameters.Add(new() { Value = payload });
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    /// <summary>A stored payload read as the silo reads it.</summary>
    public T Read<T>(byte[] payload) =>
        new StateSerializer(((InProcessSiloHandle)Cluster.Primary!).SiloHost.Services.GetRequiredService<Serializer>())
            .Deserialize<T>(new BinaryData(payload))!;

    private async Task<byte[]?> RowAsync(string grainType, Guid id)
    {
        await using var command = RowCommand("SELECT payloadbinary FROM grainstate", grainType, id);
        return (byte[]?)await command.ExecuteScalarAsync();
    }

    /// <summary>Overwrites a session's row behind the grain's back, as another activation of it would.</summary>
    public async Task SetSessionRowAsync(Guid sessionId, byte[] payload, int version)
    {
        await using var command = RowCommand("UPDATE grainstate SET payloadbinary = $4, version = $5", "session", sessionId);
        command.Parameters.Add(new() { Value = payload });
        command.Parameters.Add(new() { Value = version });
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    public async Task<int> SessionRowVersionAsync(Guid sessionId)
    {
        await using var command = RowCommand("SELECT version FROM grainstate", "session", sessionId);
        return (int)(await command.ExecuteScalarAsync())!;
    }

    private Npgsql.NpgsqlCommand RowCommand(string sql, string grainType, Guid id)
    {
        var bytes = id.ToByteArray();
        var command = Database.DataSource.CreateCommand(
            sql + $" WHERE serviceid = $1 AND graintypestring = '{grainType}' AND grainidn0 = $2 AND grainidn1 = $3");
        command.Parameters.Add(new() { Value = ServiceId });
        command.Parameters.Add(new() { Value = BitConverter.ToInt64(bytes, 0) });
        command.Parameters.Add(new() { Value = BitConverter.ToInt64(bytes, 8) });
        return command;
    }
}
