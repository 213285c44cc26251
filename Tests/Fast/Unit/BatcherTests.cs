using Microsoft.Extensions.Configuration;
using Sessions.Storage;

namespace Sessions.Tests;

/// <summary>The batch runner of grain storage, and its setting, without a database.</summary>
[Layer(Layer.Unit)]
public sealed class BatcherTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_sender_that_throws_leaves_neither_the_items_queued_behind_it_nor_later_ones_unsent()
    {
        var firstStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sent = new TaskCompletionSource<int>[] { new(TaskCreationOptions.RunContinuationsAsynchronously), new(TaskCreationOptions.RunContinuationsAsynchronously) };
        var batcher = new Batcher<int>(async batch =>
        {
            if (batch.Contains(0))
            {
                firstStarted.SetResult();
                await releaseFirst.Task;
                throw new InvalidOperationException("a sender that breaks its promise");
            }
            foreach (var item in batch)
                sent[item - 1].TrySetResult(item);
        });

        batcher.Add(0);
        await firstStarted.Task.WaitAsync(Patience);
        batcher.Add(1); // queued while the batch that throws is in flight
        releaseFirst.SetResult();
        Assert.Equal(1, await sent[0].Task.WaitAsync(Patience));

        batcher.Add(2);
        Assert.Equal(2, await sent[1].Task.WaitAsync(Patience));
    }

    [Theory]
    [InlineData(null, null, true)]
    [InlineData("false", null, false)]
    [InlineData(null, "false", false)]
    [InlineData("true", "false", true)]
    [InlineData("false", "true", false)]
    public void Batching_is_on_unless_its_key_or_else_its_former_name_says_false(string? batching, string? coalesceWrites, bool expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [StorageSetup.BatchingKey] = batching,
            [StorageSetup.CoalesceWritesKey] = coalesceWrites,
        }).Build();

        Assert.Equal(expected, StorageSetup.Batching(configuration));
    }
}
