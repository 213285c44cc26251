using Microsoft.Extensions.Configuration;
using Sessions.Storage;

namespace Sessions.Tests;

/// <summary>The batching of grain storage: its setting, without a database.</summary>
[Trait("Category", "unit")]
public sealed class BatcherTests
{
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
