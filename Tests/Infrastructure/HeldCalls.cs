namespace Sessions.Tests.Infrastructure;

/// <summary>A silo call filter that holds every call to one grain type until released, as a hung silo holds the grains it hosts.</summary>
public sealed class HeldCalls : IIncomingGrainCallFilter
{
    private volatile Hold? _hold;

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

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (_hold is { } hold && context.TargetId.Type.ToString() == hold.GrainType)
            await hold.Released.Task;
        await context.Invoke();
    }

    private sealed record Hold(string GrainType, TaskCompletionSource Released);

    private sealed class Release(Action release) : IDisposable
    {
        public void Dispose() => release();
    }
}
