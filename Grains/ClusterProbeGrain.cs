using Orleans.Concurrency;

namespace Sessions.Grains;

[StatelessWorker, GrainType("clusterprobe")]
public sealed class ClusterProbeGrain : Grain, IClusterProbeGrain
{
    public Task PingAsync() => Task.CompletedTask;
}
