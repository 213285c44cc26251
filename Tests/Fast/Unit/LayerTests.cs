namespace Sessions.Tests;

/// <summary>A test class without a layer, or in the wrong project, would run in the wrong lane.</summary>
[Layer(Layer.Unit)]
public sealed class LayerTests
{
    [Fact]
    public void Every_test_class_names_a_layer_of_the_fast_lane() =>
        Assert.Empty(Layers.Misplaced(typeof(LayerTests).Assembly, Layers.Fast));

    [Theory]
    [InlineData(Layer.Unit, "unit")]
    [InlineData(Layer.EndToEnd, "end-to-end")]
    [InlineData(Layer.Fault, "fault")]
    public void A_layer_is_the_category_trait_the_scripts_filter_on(Layer layer, string category) =>
        Assert.Equal(category, LayerDiscoverer.Name(layer));
}
