namespace Sessions;

/// <summary>
/// Grain state that may be deleted from storage once it can no longer be used: the grains' states say when, the
/// storage's payload header carries it to the purge.
/// </summary>
public interface IPurgeable
{
    /// <summary>When the row may be deleted; null while it must be kept.</summary>
    DateTimeOffset? PurgeAfter { get; }
}
