namespace Sessions.Tests;

/// <summary>A test class without a layer, or one that belongs in the fast lane, would run in the wrong lane.</summary>
[Layer(Layer.EndToEnd)]
public sealed class EndToEndLayerTests
{
    [Fact]
    public void Every_test_class_names_an_end_to_end_layer() =>
        Assert.Empty(Layers.Misplaced(typeof(EndToEndLayerTests).Assembly, Layers.EndToEnd));
}
