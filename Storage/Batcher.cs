using System.Collections.Concurrent;

namespace Sessions.Storage;

/// <summary>
/// One batch in flight at a time: a lone item goes at once, and the items queued while a batch is in flight
/// form the next one. The sender answers every item of its batch and never throws.
/// </summary>
internal sealed class Batcher<TItem>(Func<List<TItem>, Task> send, Comparison<TItem>? order = null)
{
    // Bounds one statement batch; at that size the commit, not the queue, is the cost.
    public const int MaxBatch = 256;

    private readonly ConcurrentQueue<TItem> _queue = new();
    private int _flushing; // 1 while a flusher runs

    public void Add(TItem item)
    {
        _queue.Enqueue(item);
        if (Interlocked.Exchange(ref _flushing, 1) == 0)
            _ = Task.Run(FlushAsync);
    }

    private async Task FlushAsync()
    {
        do
        {
            while (!_queue.IsEmpty)
                await send(TakeBatch());
            Volatile.Write(ref _flushing, 0);
        }
        // An item queued after the last look found the flusher still running and left its batch to this one.
        while (!_queue.IsEmpty && Interlocked.Exchange(ref _flushing, 1) == 0);
    }

    private List<TItem> TakeBatch()
    {
        var batch = new List<TItem>(Math.Min(_queue.Count, MaxBatch));
        while (batch.Count < MaxBatch && _queue.TryDequeue(out var item))
            batch.Add(item);
        if (order is not null)
            batch.Sort(order);
        return batch;
    }
}
