using Microsoft.Extensions.Logging;

namespace Sessions.Grains;

public static partial class PersistentStateExtensions
{
    /// <summary>
    /// Replaces the state and stores it; if storing fails the previous state is put back, so memory
    /// never runs ahead of storage, and the failure surfaces as a <see cref="StorageUnavailableException"/>.
    /// </summary>
    public static async Task WriteOrRollBackAsync<T>(this IPersistentState<T> state, T next, ILogger logger)
    {
        var previous = state.State;
        state.State = next;
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception e)
        {
            state.State = previous;
            LogRolledBack(logger, e, typeof(T).Name);
            throw new StorageUnavailableException($"Storing {typeof(T).Name} failed: {e.GetType().Name}.");
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Storing {StateType} failed; the change was rolled back")]
    private static partial void LogRolledBack(ILogger logger, Exception exception, string stateType);
}
