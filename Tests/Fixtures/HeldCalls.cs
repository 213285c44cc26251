namespace Sessions.Tests.Fixtures;

/// <summary>
/// A silo call filter that holds calls to grains, as a hung silo holds the grains it hosts, or as a stopping
/// silo loses a call's answer: the call runs only after its caller stopped waiting.
/// </summary>
public sealed class HeldCalls : IIncomingGrainCallFilter
{
    private volatile Hold? _hold;
    private volatile DelayedCall? _delayed;

    /// <summary>Holds calls to grains of <paramref name="grainType"/> (its [GrainType] name) until the result is disposed.</summary>
    public IDisposable HoldCallsTo(string grainType)
    {
        var hold = new Hold(grainType, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        _hold = hold;
        return new Release(() =>
        {
            _hold = null;
            hold.Released.TrySetResult();
        });
    }

    /// <summary>Holds the next call to grain <paramref name="grain"/> for <paramref name="delay"/>; the grain's later calls queue behind it.</summary>
    public void DelayNextCallTo(GrainId grain, TimeSpan delay) => _delayed = new DelayedCall(grain, delay);

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (_hold is { } hold && context.TargetId.Type.ToString() == hold.GrainType)
            await hold.Released.Task;
        if (_delayed is { } delayed && context.TargetId == delayed.Grain && Interlocked.CompareExchange(ref _delayed, null, delayed) == delayed)
            await Task.Delay(delayed.Delay);
        await context.Invoke();
    }

    private sealed record Hold(string GrainType, TaskCompletionSource Released);

    private sealed record DelayedCall(GrainId Grain, TimeSpan Delay);

    private sealed class Release(Action release) : IDisposable
    {
        public void Dispose() => release();
    }
}
