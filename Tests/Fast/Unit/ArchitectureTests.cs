using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Sessions.Tests;

/// <summary>
/// Which room may use which (README.md, "Where the code lives"): Hosting is a leaf, storage stands on its own, and the
/// Api's features reach each other only through shared plumbing, never in a circle.
/// </summary>
[Layer(Layer.Unit)]
public sealed partial class ArchitectureTests
{
    private static readonly string[] ApiFeatures = Directory.GetDirectories(Path.Combine(Repository.Root, "Api"))
        .Select(Path.GetFileName).OfType<string>().Where(name => name is not ("bin" or "obj")).ToArray();

    private static string[] ProjectReferences(string project) =>
        [.. XDocument.Load(Path.Combine(Repository.Root, project, project + ".csproj")).Descendants("ProjectReference")
            .Select(reference => Path.GetFileNameWithoutExtension(reference.Attribute("Include")!.Value.Replace('\\', '/')))];

    private static IEnumerable<(string Feature, string File, string Text)> ApiSources() =>
        ApiFeatures.SelectMany(feature => Directory.GetFiles(Path.Combine(Repository.Root, "Api", feature), "*.cs", SearchOption.AllDirectories)
            .Select(file => (feature, Path.GetRelativePath(Repository.Root, file), File.ReadAllText(file))));

    [Fact]
    public void Hosting_references_no_project_of_the_app_and_storage_neither_grains_nor_hosting()
    {
        Assert.Empty(ProjectReferences("Hosting"));
        Assert.DoesNotContain("Grains", ProjectReferences("Storage"));
        Assert.DoesNotContain("Hosting", ProjectReferences("Storage"));
    }

    [Fact]
    public void No_feature_but_auth_uses_the_auth_handlers_services()
    {
        var reaching = ApiSources().Where(source => source.Feature != "Auth" && AuthInternals().IsMatch(source.Text)).Select(source => source.File);

        Assert.Empty(reaching);
    }

    [Fact]
    public void No_two_namespaces_of_the_api_use_each_other()
    {
        // An arrow is a using of another folder's namespace, or a name qualified by it (OAuth.ClientScopes).
        var arrows = ApiSources()
            .SelectMany(source => ApiFeatures.Where(other => other != source.Feature
                    && (source.Text.Contains($"using Sessions.Api.{other};", StringComparison.Ordinal) || Regex.IsMatch(source.Text, $@"(?<![\w.]){other}\.[A-Z]")))
                .Select(other => (From: source.Feature, To: other, source.File)))
            .ToList();

        var both = arrows.Where(arrow => arrows.Any(back => back.From == arrow.To && back.To == arrow.From)).Select(arrow => $"{arrow.From} -> {arrow.To} ({arrow.File})");

        Assert.Empty(both);
    }

    [GeneratedRegex(@"\bAuthServices\b|\bAuthApi\.")]
    private static partial Regex AuthInternals();
}
