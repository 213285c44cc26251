namespace Sessions.Api.Cluster;

/// <summary>
/// Sends a grain call again when a silo refused it unrun, which is what a silo shutting down gracefully does
/// with the calls it still receives: so a rolling restart fails no request. Only refusals are retried (the
/// call did not run, so nothing can happen twice), a few times, a moment apart, while a silo takes over.
/// </summary>
public sealed class RefusedCallRetry : IOutgoingGrainCallFilter
{
    private const int Attempts = 3;

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await context.Invoke();
                return;
            }
            catch (OrleansMessageRejectionException) when (attempt < Attempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt));
            }
        }
    }
}
