using Orleans.Runtime.Hosting;
using Sessions.Grains;

namespace Sessions.Tests.Fixtures;

/// <summary>A one-silo cluster whose storage fails when a test tells it to.</summary>
public sealed class FaultyStorageClusterFixture : ClusterFixture
{
    public FaultyStorage Storage { get; } = new();

    protected override void ConfigureStorage(ISiloBuilder silo) =>
        silo.Services.AddGrainStorage(StorageNames.Grains, (_, _) => Storage);
}
