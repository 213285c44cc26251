namespace Sessions.Grains;

/// <summary>
/// A grain's persistent state (<paramref name="name"/> in the storage-failure metric), kept from running ahead of storage or falling behind it. The state record is
/// immutable and replaced by each write. A write that fails may still have landed (its acknowledgement was lost),
/// leaving a newer row and ETag in storage than in memory, so that every later write would fail on the stale ETag
/// and reads would answer from the old record. So after a failed write the state is read again before it is next
/// used; grains call <see cref="RereadIfStaleAsync"/> (or <see cref="TryRereadIfStaleAsync"/>) first in every call.
/// Orleans logs each failed read and write, with the grain and the exception. A row an earlier release wrote is
/// brought to this release's shape by <paramref name="upgrade"/> when it is read (in memory; the next write stores it).
/// </summary>
public sealed class StoredState<T>(IPersistentState<T> storage, SessionsInstruments instruments, string name, Func<T, T>? upgrade = null)
{
    private bool _isStale;
    private bool _isUpgraded;

    public T State
    {
        get
        {
            // Here rather than after each read, because the activation's read is Orleans', before the grain runs.
            if (!_isUpgraded && upgrade is not null)
                storage.State = upgrade(storage.State);
            _isUpgraded = true;
            return storage.State;
        }
    }

    public bool RecordExists => storage.RecordExists;

    /// <summary>Whether storage may hold something other than memory since a write failed (or <see cref="MarkStale"/>).</summary>
    public bool IsStale => _isStale;

    /// <summary>Makes the next re-read go to storage even though no write failed (another activation may have written it).</summary>
    public void MarkStale() => _isStale = true;

    /// <summary>Reads storage again if the state is stale; false when that read failed, leaving memory as it was and still stale.</summary>
    public async Task<bool> TryRereadIfStaleAsync()
    {
        if (!_isStale)
            return true;
        try
        {
            await storage.ReadStateAsync();
            _isStale = false;
            _isUpgraded = false;
            return true;
        }
        catch (Exception)
        {
            instruments.StorageFailed(name);
            return false;
        }
    }

    /// <summary>Reads storage again if the state is stale; throws <see cref="StorageUnavailableException"/> when that read failed.</summary>
    public async Task RereadIfStaleAsync()
    {
        if (!await TryRereadIfStaleAsync())
            throw new StorageUnavailableException($"{typeof(T).Name} could not be read back from storage.");
    }

    /// <summary>
    /// Replaces the state and stores it. If storing fails the previous state is put back, so memory never runs ahead
    /// of storage, the state is stale, and the failure surfaces as a <see cref="StorageUnavailableException"/>.
    /// </summary>
    public async Task WriteOrRollBackAsync(T next)
    {
        var previous = storage.State;
        storage.State = next;
        try
        {
            await storage.WriteStateAsync();
        }
        catch (Exception e)
        {
            instruments.StorageFailed(name);
            storage.State = previous;
            _isStale = true;
            throw new StorageUnavailableException($"Storing {typeof(T).Name} failed: {e.GetType().Name}.");
        }
    }

    /// <summary>Deletes the stored state (the provider deletes the row); throws <see cref="StorageUnavailableException"/> when that failed.</summary>
    public async Task ClearOrThrowAsync()
    {
        try
        {
            await storage.ClearStateAsync();
        }
        catch (Exception e)
        {
            instruments.StorageFailed(name);
            _isStale = true;
            throw new StorageUnavailableException($"Deleting {typeof(T).Name} failed: {e.GetType().Name}.");
        }
    }

    /// <summary>
    /// Replaces the state and stores it; false when storing failed. The new state then stays in force in memory,
    /// for a change that must hold before it is stored (a revocation), until the stale state is read again.
    /// </summary>
    public async Task<bool> TryWriteAndKeepAsync(T next)
    {
        storage.State = next;
        try
        {
            await storage.WriteStateAsync();
            return true;
        }
        catch (Exception)
        {
            instruments.StorageFailed(name);
            _isStale = true;
            return false;
        }
    }
}
