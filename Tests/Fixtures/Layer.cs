using Xunit.Abstractions;
using Xunit.Sdk;

namespace Sessions.Tests.Fixtures;

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
[TraitDiscoverer("Sessions.Tests.Fixtures.LayerDiscoverer", "Sessions.Tests.Fixtures")]
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

/// <summary>Which layers each test project holds: the fast lane runs no browser, no process and no SMTP server.</summary>
public static class Layers
{
    public static readonly Layer[] Fast = [Layer.Unit, Layer.Grains, Layer.Api];
    public static readonly Layer[] EndToEnd = [Layer.Browser, Layer.EndToEnd, Layer.Fault];

    /// <summary>The test classes of <paramref name="tests"/> with no layer or a layer that belongs in the other project.</summary>
    public static IEnumerable<string> Misplaced(System.Reflection.Assembly tests, Layer[] held) =>
        tests.GetTypes()
            .Where(type => type.GetMethods().Any(method => method.IsDefined(typeof(FactAttribute), inherit: true)))
            .Where(type => type.GetCustomAttributes(typeof(LayerAttribute), inherit: false).SingleOrDefault() is not LayerAttribute layer
                || !held.Contains(layer.Layer))
            .Select(type => type.FullName!);
}
