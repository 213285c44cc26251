using System.Reflection;
using Sessions.Tests.Infrastructure;

namespace Sessions.Tests;

/// <summary>A test class without a layer would run in every filtered lane, the fast one included.</summary>
[Layer(Layer.Unit)]
public sealed class LayerTests
{
    [Fact]
    public void Every_test_class_names_its_layer()
    {
        var unlayered = typeof(LayerTests).Assembly.GetTypes()
            .Where(type => type.GetMethods().Any(method => method.IsDefined(typeof(FactAttribute), inherit: true)))
            .Where(type => type.GetCustomAttribute<LayerAttribute>() is null)
            .Select(type => type.FullName);

        Assert.Empty(unlayered);
    }

    [Theory]
    [InlineData(Layer.Unit, "unit")]
    [InlineData(Layer.EndToEnd, "end-to-end")]
    [InlineData(Layer.Fault, "fault")]
    public void A_layer_is_the_category_trait_the_scripts_filter_on(Layer layer, string category) =>
        Assert.Equal(category, LayerDiscoverer.Name(layer));
}
