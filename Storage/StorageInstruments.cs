using System.Diagnostics.Metrics;

namespace Sessions.Storage;

/// <summary>What grain storage adds to the service's meter (<see cref="SessionsMeter"/>), beside the grains' instruments.</summary>
public sealed class StorageInstruments
{
    private readonly Histogram<long> _writesPerCommit;

    public StorageInstruments(IMeterFactory meters)
    {
        var meter = meters.Create(SessionsMeter.Name);
        _writesPerCommit = meter.CreateHistogram<long>("sessions.storage.writes_per_commit", "{write}", "Grain-state writes that shared one PostgreSQL commit.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
    }

    /// <summary>A batch of grain-state writes committed in one transaction.</summary>
    public void WritesCommittedTogether(int count) => _writesPerCommit.Record(count);
}
