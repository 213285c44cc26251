using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Sessions.Api.Http;

/// <summary>
/// What every endpoint needs to call a grain: the factory, and the deadline after which the Api stops waiting and
/// answers 503, so the grain must not act on the request after it.
/// </summary>
public sealed class GrainCalls(IGrainFactory grains, IOptions<ClientMessagingOptions> messaging, [FromKeyedServices(SessionClock.Key)] TimeProvider time)
{
    public IGrainFactory Grains => grains;

    /// <summary>How long a call is waited for (Cluster:ResponseTimeout); a lost refresh is sent again after it.</summary>
    public TimeSpan ResponseTimeout => messaging.Value.ResponseTimeout;

    public DateTimeOffset Deadline() => time.GetUtcNow() + ResponseTimeout;
}
