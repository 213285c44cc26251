using System.Collections.Immutable;
using Microsoft.Extensions.Logging;

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
    ILogger<SigningKeyRingGrain> logger) : Grain, ISigningKeyRingGrain
{
    public Task<SigningKeyRing> GetAsync() => Task.FromResult(Ring());

    public async Task<SigningKeyRing> CompareAndSetAsync(int expectedVersion, ImmutableArray<SigningKey> keys)
    {
        if (expectedVersion == state.State.Version)
            await state.WriteOrRollBackAsync(new SigningKeyRingState { Version = expectedVersion + 1, Keys = keys }, logger);
        return Ring();
    }

    private SigningKeyRing Ring() => new(state.State.Version, state.State.Keys);
}
