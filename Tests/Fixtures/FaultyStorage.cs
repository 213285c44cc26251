using System.Collections.Concurrent;
using Orleans.Storage;

namespace Sessions.Tests.Fixtures;

/// <summary>In-memory grain storage with ETags that fails on command, the way a database does.</summary>
public sealed class FaultyStorage : IGrainStorage
{
    public enum Fault
    {
        None,
        /// <summary>The write is refused and nothing is stored.</summary>
        RefuseWrites,
        /// <summary>The write is stored, but the caller is told it failed (a lost acknowledgement).</summary>
        LoseAcknowledgements,
    }

    private readonly ConcurrentDictionary<(string, GrainId), (object State, string ETag)> _rows = new();
    private int _version;

    public Fault Mode { get; set; }

    /// <summary>When set, <see cref="Mode"/> applies to writes of this state name only ("user", "email", ...).</summary>
    public string? FaultOnly { get; set; }

    /// <summary>How long each write takes, so concurrent calls can overlap a write in flight.</summary>
    public TimeSpan WriteDelay { get; set; }

    public object? Stored(string stateName, GrainId grainId) => _rows.TryGetValue((stateName, grainId), out var row) ? row.State : null;

    public IEnumerable<object> StoredStates(string stateName) =>
        _rows.Where(row => row.Key.Item1 == stateName).Select(row => row.Value.State);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_rows.TryGetValue((stateName, grainId), out var row))
        {
            grainState.State = (T)row.State;
            grainState.ETag = row.ETag;
            grainState.RecordExists = true;
        }
        return Task.CompletedTask;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (WriteDelay > TimeSpan.Zero)
            await Task.Delay(WriteDelay);
        var mode = FaultOnly is null || FaultOnly == stateName ? Mode : Fault.None;
        if (mode == Fault.RefuseWrites)
            throw new IOException("Injected storage failure: write refused.");
        var key = (stateName, grainId);
        var stored = _rows.TryGetValue(key, out var row) ? row.ETag : null;
        if (stored != grainState.ETag)
            throw new InconsistentStateException("ETag mismatch", stored, grainState.ETag);
        var etag = Interlocked.Increment(ref _version).ToString(CultureInfo.InvariantCulture);
        _rows[key] = (grainState.State!, etag);
        if (mode == Fault.LoseAcknowledgements)
            throw new IOException("Injected storage failure: acknowledgement lost after the write.");
        grainState.ETag = etag;
        grainState.RecordExists = true;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var mode = FaultOnly is null || FaultOnly == stateName ? Mode : Fault.None;
        if (mode == Fault.RefuseWrites)
            throw new IOException("Injected storage failure: delete refused.");
        _rows.TryRemove((stateName, grainId), out _);
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }
}
