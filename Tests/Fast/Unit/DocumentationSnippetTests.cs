using System.Text.RegularExpressions;

namespace Sessions.Tests;

/// <summary>
/// The snippets of docs/protect-your-api.md are the tested samples' code, not copies that drift: each block marked
/// "&lt;!-- snippet: FILE REGION --&gt;" equals the lines between "// --- REGION: begin" and "// --- REGION: end" in FILE.
/// </summary>
[Layer(Layer.Unit)]
public sealed partial class DocumentationSnippetTests
{
    [Fact]
    public void Every_snippet_of_protect_your_api_is_the_samples_code()
    {
        var doc = File.ReadAllText(Path.Combine(Repository.Root, "docs", "protect-your-api.md")).ReplaceLineEndings("\n");
        var snippets = Snippet().Matches(doc);
        Assert.True(snippets.Count >= 3, "the ASP.NET, instant-revocation and Node snippets are marked");
        foreach (Match snippet in snippets)
        {
            var file = Path.Combine(Repository.Root, snippet.Groups["file"].Value);
            var lines = File.ReadAllLines(file);
            var name = snippet.Groups["region"].Value;
            var begin = Array.FindIndex(lines, l => l.Trim() == $"// --- {name}: begin");
            var end = Array.FindIndex(lines, l => l.Trim() == $"// --- {name}: end");
            Assert.True(begin >= 0 && end > begin, $"{snippet.Groups["file"].Value} has no region \"{name}\"");
            Assert.Equal(string.Join("\n", lines[(begin + 1)..end]), snippet.Groups["code"].Value);
        }
    }

    [GeneratedRegex(@"<!-- snippet: (?<file>\S+) (?<region>[^>]+?) -->\n```\w+\n(?<code>.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex Snippet();
}
