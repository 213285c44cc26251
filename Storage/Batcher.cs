using System.Collections.Concurrent;

namespace Sessions.Storage;

/// <summary>
/// One batch in flight at a time: a lone item goes at once, and the items queued while a batch is in flight
/// form the next one. The sender answers every item of its batch and should never throw.
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
        try
        {
            while (!_queue.IsEmpty)
                await send(TakeBatch());
        }
        finally
        {
            // Also when the sender throws: a flag left at 1 would leave every later item queued for ever.
            Volatile.Write(ref _flushing, 0);
            // Items queued after the last look (they found the flusher still running), or behind a batch that threw.
            if (!_queue.IsEmpty && Interlocked.Exchange(ref _flushing, 1) == 0)
                _ = Task.Run(FlushAsync);
        }
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
