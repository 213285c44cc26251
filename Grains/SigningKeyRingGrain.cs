using System.Collections.Immutable;

namespace Sessions.Grains;

[GenerateSerializer, Immutable, Alias("Sessions.SigningKeyRingState")]
public sealed record SigningKeyRingState
{
    [Id(0)] public int Version { get; init; }
    [Id(1)] public ImmutableArray<SigningKey> Keys { get; init; } = [];
}

/// <summary>
/// Holds the key ring; the rotation policy lives in the Api. Non-reentrant, so of two nodes that
/// add a key at once exactly one wins and the other adopts its ring.
/// </summary>
[GrainType("keyring")]
public sealed class SigningKeyRingGrain(
    [PersistentState(stateName: "keyring", storageName: StorageNames.Grains)] IPersistentState<SigningKeyRingState> state,
    SessionsInstruments instruments) : Grain, ISigningKeyRingGrain
{
    private readonly StoredState<SigningKeyRingState> _state = new(state, instruments, "keyring");

    public async Task<SigningKeyRing> GetAsync()
    {
        await _state.RereadIfStaleAsync();
        return Ring();
    }

    public async Task<SigningKeyRing> CompareAndSetAsync(int expectedVersion, ImmutableArray<SigningKey> keys)
    {
        // Stale, the version would be compared with one that storage may already have moved past.
        await _state.RereadIfStaleAsync();
        if (expectedVersion == _state.State.Version)
            await _state.WriteOrRollBackAsync(new SigningKeyRingState { Version = expectedVersion + 1, Keys = keys });
        return Ring();
    }

    private SigningKeyRing Ring() => new(_state.State.Version, _state.State.Keys);
}
