using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Sessions.Storage;

/// <summary>
/// Grain storage whose concurrent writes share one PostgreSQL transaction, and whose concurrent reads share one round
/// trip. Each write queues; one flusher sends whatever is queued as one batch of the ADO.NET provider's own
/// WriteToStorageKey statement, in one round trip and one commit, then gives each write its own answer. A lone write
/// goes at once; under load, the writes that arrive while a batch is in flight form the next one. No write is
/// answered before its batch has committed. Reads (activations) go the same way with ReadFromStorageKey.
/// Clears go to Orleans' ADO.NET provider, and the rows are the ones it writes and reads, so silos with and without
/// this provider share one database.
/// </summary>
public sealed partial class BatchingGrainStorage : IGrainStorage, IAsyncDisposable
{
    private readonly string _name;
    private readonly IGrainStorage _adoNet;
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _serviceId;
    private readonly IGrainStorageSerializer _serializer;
    private readonly IActivatorProvider _activators;
    private readonly StorageInstruments _instruments;
    private readonly ILogger<BatchingGrainStorage> _logger;
    private readonly Batcher<PendingWrite> _writes;
    private readonly Batcher<PendingRead> _reads;
    private string? _writeQuery, _readQuery;

    public BatchingGrainStorage(string name, IGrainStorage adoNet, NpgsqlDataSource dataSource, string serviceId,
        IGrainStorageSerializer serializer, IActivatorProvider activators, StorageInstruments instruments,
        ILogger<BatchingGrainStorage> logger)
    {
        (_name, _adoNet, _dataSource, _serviceId, _serializer, _activators, _instruments, _logger) =
            (name, adoNet, dataSource, serviceId, serializer, activators, instruments, logger);
        // One order for every write batch of every silo, so two batches never wait on each other's rows.
        _writes = new(WriteBatchAsync, static (a, b) => GrainRow.Compare(a.Row, b.Row));
        _reads = new(ReadBatchAsync);
    }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var read = new PendingRead(GrainRow.Of(_serviceId, stateName, grainId));
        _reads.Add(read);
        // The ADO.NET provider's answers: no row, or a cleared one, is a new state; the ETag is the row's version.
        var (payload, version) = await read.Found.Task ?? default;
        grainState.State = payload is null ? _activators.GetActivator<T>().Create() : _serializer.Deserialize<T>(new BinaryData(payload))!;
        grainState.ETag = version?.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = payload is not null;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        _adoNet.ClearStateAsync(stateName, grainId, grainState);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        int? version = string.IsNullOrWhiteSpace(grainState.ETag) ? null : int.Parse(grainState.ETag, CultureInfo.InvariantCulture);
        var write = new PendingWrite(GrainRow.Of(_serviceId, stateName, grainId), version, _serializer.Serialize(grainState.State).ToArray());
        _writes.Add(write);

        var stored = await write.Stored.Task;
        // The ADO.NET provider's rule: no new version, or the one sent, means the row was not the one this grain read.
        if (stored is null || stored == version)
            throw new InconsistentStateException(
                $"Version conflict (WriteState): ServiceId={_serviceId} ProviderName={_name} GrainType={stateName} GrainId={grainId} ETag={grainState.ETag}.");
        grainState.ETag = stored.Value.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    private async Task WriteBatchAsync(List<PendingWrite> batch)
    {
        try
        {
            var query = _writeQuery ??= await LoadQueryAsync("WriteToStorageKey");
            // A conflict is no error: its statement returns no row.
            var stored = await RunBatchAsync(batch.Select(write => write.Statement(query)),
                static reader => reader.IsDBNull(0) ? (int?)null : reader.GetInt32(0));
            _instruments.WritesCommittedTogether(batch.Count);
            for (var i = 0; i < batch.Count; i++)
                batch[i].Stored.TrySetResult(stored[i]);
        }
        catch (Exception e)
        {
            // Committed or not is unknown when the connection failed; every grain of the batch reads its row again.
            LogBatchFailed(e, "Writing", batch.Count);
            foreach (var write in batch)
                write.Stored.TrySetException(e);
        }
    }

    private async Task ReadBatchAsync(List<PendingRead> batch)
    {
        try
        {
            var query = _readQuery ??= await LoadQueryAsync("ReadFromStorageKey");
            var found = await RunBatchAsync(batch.Select(read => read.Statement(query)),
                static reader => ((byte[]?, int?)?)(reader.IsDBNull(0) ? null : reader.GetFieldValue<byte[]>(0), reader.IsDBNull(1) ? null : reader.GetInt32(1)));
            for (var i = 0; i < batch.Count; i++)
                batch[i].Found.TrySetResult(found[i]);
        }
        catch (Exception e)
        {
            LogBatchFailed(e, "Reading", batch.Count);
            foreach (var read in batch)
                read.Found.TrySetException(e);
        }
    }

    /// <summary>
    /// The statements in one round trip, each answered by the first row of its own result (default when it has none).
    /// No explicit transaction: one batch runs in PostgreSQL's implicit transaction, which commits at its end, and an
    /// error anywhere rolls all of it back.
    /// </summary>
    private async Task<List<TResult?>> RunBatchAsync<TResult>(IEnumerable<NpgsqlBatchCommand> commands, Func<NpgsqlDataReader, TResult> answer)
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var statements = connection.CreateBatch();
        foreach (var command in commands)
            statements.BatchCommands.Add(command);
        var answers = new List<TResult?>(statements.BatchCommands.Count);
        await using (var reader = await statements.ExecuteReaderAsync())
        {
            do
                answers.Add(await reader.ReadAsync() ? answer(reader) : default);
            while (await reader.NextResultAsync());
        } // closing the reader reads up to the commit's answer: until then the outcome is unknown
        return answers;
    }

    private async Task<string> LoadQueryAsync(string key)
    {
        await using var command = _dataSource.CreateCommand("SELECT querytext FROM orleansquery WHERE querykey = $1");
        command.Parameters.Add(new() { Value = key });
        return await command.ExecuteScalarAsync() as string
            ?? throw new InvalidOperationException($"The database has no {key} query: apply sql/schema.sql.");
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    [LoggerMessage(EventId = LogEventIds.Storage + 1, Level = LogLevel.Warning, Message = "{Operation} {Count} grain states in one batch failed; each of them is answered with the failure.")]
    private partial void LogBatchFailed(Exception exception, string operation, int count);

    private sealed record PendingRead(GrainRow Row)
    {
        public TaskCompletionSource<(byte[]? Payload, int? Version)?> Found { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public NpgsqlBatchCommand Statement(string query) => Row.AddKey(new NpgsqlBatchCommand(query));
    }

    private sealed record PendingWrite(GrainRow Row, int? Version, byte[] Payload)
    {
        public TaskCompletionSource<int?> Stored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public NpgsqlBatchCommand Statement(string query) => Row.AddKey(new NpgsqlBatchCommand(query)
        {
            Parameters =
            {
                new("GrainStateVersion", NpgsqlDbType.Integer) { Value = (object?)Version ?? DBNull.Value },
                new("PayloadBinary", NpgsqlDbType.Bytea) { Value = Payload },
            },
        });
    }
}

/// <summary>
/// A grain's row identity exactly as Orleans' ADO.NET provider computes it (its AdoGrainKey): a Guid key splits into
/// two little-endian halves, an integer key is N1, any other key is the extension; the id hash is over the key's bytes
/// (then the extension's UTF-8), reversed on little-endian machines; both hashes are Orleans' default hasher.
/// </summary>
public readonly record struct GrainRow(int IdHash, int TypeHash, string ServiceId, string StateName, long N0, long N1, string? Extension)
{
    private static readonly OrleansDefaultHasher Hasher = new();

    public static GrainRow Of(string serviceId, string stateName, GrainId grainId)
    {
        // The provider rewrites generic type names; state names here are plain words.
        if (stateName.Contains('`'))
            throw new NotSupportedException($"State name '{stateName}' is a generic type name, which this provider does not rewrite.");
        long n0 = 0, n1 = 0;
        string? extension;
        byte[] keyBytes;
        if (grainId.TryGetGuidKey(out var guid, out extension))
        {
            keyBytes = guid.ToByteArray();
            n0 = BitConverter.ToInt64(keyBytes, 0);
            n1 = BitConverter.ToInt64(keyBytes, 8);
        }
        else if (grainId.TryGetIntegerKey(out var integer, out extension))
        {
            keyBytes = BitConverter.GetBytes(integer);
            n1 = integer;
        }
        else
        {
            extension = grainId.Key.ToString();
            keyBytes = [];
        }

        var hashed = extension is null ? keyBytes : [.. keyBytes, .. Encoding.UTF8.GetBytes(extension)];
        if (BitConverter.IsLittleEndian)
            Array.Reverse(hashed);
        return new GrainRow(Hasher.Hash(hashed), Hasher.Hash(Encoding.UTF8.GetBytes(stateName)), serviceId, stateName, n0, n1, extension);
    }

    /// <summary>The row's key, as the parameters of the provider's queries name them.</summary>
    public NpgsqlBatchCommand AddKey(NpgsqlBatchCommand command)
    {
        command.Parameters.Add(new("GrainIdHash", NpgsqlDbType.Integer) { Value = IdHash });
        command.Parameters.Add(new("GrainTypeHash", NpgsqlDbType.Integer) { Value = TypeHash });
        command.Parameters.Add(new("ServiceId", NpgsqlDbType.Text) { Value = ServiceId });
        command.Parameters.Add(new("GrainTypeString", NpgsqlDbType.Text) { Value = StateName });
        command.Parameters.Add(new("GrainIdN0", NpgsqlDbType.Bigint) { Value = N0 });
        command.Parameters.Add(new("GrainIdN1", NpgsqlDbType.Bigint) { Value = N1 });
        command.Parameters.Add(new("GrainIdExtensionString", NpgsqlDbType.Text) { Value = (object?)Extension ?? DBNull.Value });
        return command;
    }

    /// <summary>A total order of rows, the same in every process.</summary>
    public static int Compare(GrainRow a, GrainRow b)
    {
        var order = a.IdHash.CompareTo(b.IdHash);
        if (order == 0) order = a.TypeHash.CompareTo(b.TypeHash);
        if (order == 0) order = a.N0.CompareTo(b.N0);
        if (order == 0) order = a.N1.CompareTo(b.N1);
        if (order == 0) order = string.CompareOrdinal(a.StateName, b.StateName);
        if (order == 0) order = string.CompareOrdinal(a.ServiceId, b.ServiceId);
        if (order == 0) order = string.CompareOrdinal(a.Extension, b.Extension);
        return order;
    }
}
