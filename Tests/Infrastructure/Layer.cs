using Xunit.Abstractions;
using Xunit.Sdk;

namespace Sessions.Tests.Infrastructure;

/// <summary>The test layers of docs/testing.md; a run picks layers by their trait, e.g. --filter "Category=grains".</summary>
public enum Layer
{
    Unit,
    Grains,
    Api,
    Browser,
    EndToEnd,
    Fault,
}

/// <summary>The layer of a test class, as the trait "Category" (unit, grains, api, browser, end-to-end, fault).</summary>
[TraitDiscoverer("Sessions.Tests.Infrastructure.LayerDiscoverer", "Tests")]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class LayerAttribute(Layer layer) : Attribute, ITraitAttribute
{
    public Layer Layer { get; } = layer;
}

public sealed class LayerDiscoverer : ITraitDiscoverer
{
    public const string Trait = "Category";

    public IEnumerable<KeyValuePair<string, string>> GetTraits(IAttributeInfo traitAttribute)
    {
        yield return new(Trait, Name((Layer)Convert.ToInt32(traitAttribute.GetConstructorArguments().Single(), CultureInfo.InvariantCulture)));
    }

    public static string Name(Layer layer) => layer == Layer.EndToEnd ? "end-to-end" : layer.ToString().ToLowerInvariant();
}
