namespace Sessions;

/// <summary>
/// What readiness pings to learn that this client reaches a silo that runs grains. A stateless worker, activated on
/// the silo that receives the call (for a client, its gateway), so the answer never depends on one silo hosting it.
/// </summary>
[Alias("Sessions.IClusterProbeGrain")]
public interface IClusterProbeGrain : IGrainWithIntegerKey
{
    [Alias("Ping")]
    Task PingAsync();
}
