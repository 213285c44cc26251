using System.Text;
using System.Text.RegularExpressions;

namespace Sessions.Tests;

/// <summary>
/// Every "docs/….md#anchor" cited in code, and every relative link in the README and docs, names a file of the
/// repository and a heading in it: a renamed heading fails here, not in a reader's browser.
/// </summary>
[Layer(Layer.Unit)]
public sealed partial class DocumentationLinkTests
{
    private static readonly string[] SourceExtensions = [".cs", ".js", ".sh", ".html", ".md", ".json", ".sql"];

    [Fact]
    public void Every_docs_anchor_cited_in_code_exists()
    {
        var broken = new List<string>();
        foreach (var file in RepositoryFiles().Where(f => SourceExtensions.Contains(Path.GetExtension(f))))
        {
            foreach (Match cite in CodeCitation().Matches(File.ReadAllText(file)))
            {
                var target = Path.Combine(Repository.Root, "docs", cite.Groups["file"].Value + ".md");
                if (!Exists(target, cite.Groups["anchor"].Value))
                    broken.Add($"{Relative(file)}: {cite.Value}");
            }
        }
        Assert.Empty(broken);
    }

    [Fact]
    public void Every_relative_link_of_the_readme_and_docs_exists()
    {
        var broken = new List<string>();
        var documents = RepositoryFiles().Where(f => f.EndsWith(".md", StringComparison.Ordinal)).ToList();
        Assert.Contains(documents, d => Relative(d) == "docs/http-api.md");
        foreach (var file in documents)
        {
            foreach (Match link in MarkdownLink().Matches(File.ReadAllText(file)))
            {
                var path = link.Groups["path"].Value;
                if (path.Contains("://", StringComparison.Ordinal) || path.StartsWith("mailto:", StringComparison.Ordinal))
                    continue;
                var target = path.Length == 0 ? file : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, path));
                var anchor = link.Groups["anchor"].Success ? link.Groups["anchor"].Value : null;
                if (!target.StartsWith(Repository.Root, StringComparison.Ordinal) || !Exists(target, anchor))
                    broken.Add($"{Relative(file)}: {link.Value}");
            }
        }
        Assert.Empty(broken);
    }

    [Theory]
    [InlineData("## Browsers on other origins (CORS)", "browsers-on-other-origins-cors")]
    [InlineData("### JWKS, health", "jwks-health")]
    [InlineData("## DPoP: sessions bound to a client's key", "dpop-sessions-bound-to-a-clients-key")]
    [InlineData("### `Api:Issuer` and discovery", "apiissuer-and-discovery")]
    public void Anchors_are_made_from_headings_as_GitHub_makes_them(string heading, string anchor) =>
        Assert.Contains(anchor, Anchors([heading]));

    private static bool Exists(string path, string? anchor)
    {
        if (Directory.Exists(path))
            return anchor is null;
        if (!File.Exists(path))
            return false;
        return anchor is null || !path.EndsWith(".md", StringComparison.Ordinal) || Anchors(File.ReadLines(path)).Contains(anchor);
    }

    /// <summary>
    /// GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, "-1", "-2" for repeats; and
    /// explicit ones (&lt;a id="invalid_grant"&gt;&lt;/a&gt;, the rows of docs/http-api.md#errors).
    /// </summary>
    private static HashSet<string> Anchors(IEnumerable<string> lines)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var inFence = false;
        foreach (var line in lines)
        {
            if (line.StartsWith("```", StringComparison.Ordinal))
                inFence = !inFence;
            if (inFence)
                continue;
            foreach (Match explicitAnchor in ExplicitAnchor().Matches(line))
                anchors.Add(explicitAnchor.Groups["id"].Value);
            if (Heading().Match(line) is not { Success: true } heading)
                continue;
            var slug = new StringBuilder();
            foreach (var c in heading.Groups["text"].Value.Trim().ToLowerInvariant())
            {
                if (char.IsLetterOrDigit(c) || c is '-' or '_')
                    slug.Append(c);
                else if (c == ' ')
                    slug.Append('-');
            }
            var anchor = slug.ToString();
            for (var n = 1; !anchors.Add(anchor); n++)
                anchor = $"{slug}-{n}";
        }
        return anchors;
    }

    private static IEnumerable<string> RepositoryFiles()
    {
        string[] skipped = ["bin", "obj", "node_modules", ".git", ".local"];
        var pending = new Stack<string>([Repository.Root]);
        while (pending.TryPop(out var dir))
        {
            foreach (var sub in Directory.EnumerateDirectories(dir))
                if (!skipped.Contains(Path.GetFileName(sub)))
                    pending.Push(sub);
            foreach (var file in Directory.EnumerateFiles(dir))
                yield return file;
        }
    }

    private static string Relative(string path) => Path.GetRelativePath(Repository.Root, path).Replace('\\', '/');

    [GeneratedRegex(@"docs/(?<file>[a-z0-9-]+)\.md#(?<anchor>[a-z0-9_-]+)")]
    private static partial Regex CodeCitation();

    // [text](path#anchor), [text](path) or [text](#anchor); images too. Not inside code spans, which hold no links here.
    [GeneratedRegex(@"\]\((?<path>[^)\s#]*)(?:#(?<anchor>[^)\s]+))?\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex("""<a id="(?<id>[^"]+)"></a>""")]
    private static partial Regex ExplicitAnchor();

    [GeneratedRegex(@"^#{1,6}\s+(?<text>.+?)\s*#*$")]
    private static partial Regex Heading();
}
