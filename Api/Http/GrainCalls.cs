using Microsoft.Extensions.Options;
using Sessions.Hosting;

namespace Sessions.Api.Http;

/// <summary>
/// What every endpoint needs to call a grain: the factory, and the deadline after which the Api stops waiting and
/// answers 503, so the grain must not act on the request after it.
/// </summary>
public sealed class GrainCalls(IGrainFactory grains, IOptions<ClusterSettings> cluster, [FromKeyedServices(SessionClock.Key)] TimeProvider time)
{
    public IGrainFactory Grains => grains;

    /// <summary>
    /// How long a call is waited for, and after which a lost refresh is sent again: Cluster:ResponseTimeout, which the
    /// Orleans client of a plain Api node and the silo of a co-hosted one both wait.
    /// </summary>
    public TimeSpan ResponseTimeout => cluster.Value.ResponseTimeout;

    public DateTimeOffset Deadline() => time.GetUtcNow() + ResponseTimeout;
}
