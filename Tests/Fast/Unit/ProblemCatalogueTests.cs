using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Sessions.Api.Http;

namespace Sessions.Tests;

/// <summary>
/// The one catalogue of error codes (Api/Http/ProblemCatalogue.cs) against docs/http-api.md#errors, and the Api's code
/// against the catalogue: no problem made around it, no status it does not give a code.
/// </summary>
[Layer(Layer.Unit)]
public sealed partial class ProblemCatalogueTests
{
    [Fact]
    public void The_error_table_of_the_docs_lists_every_code_with_its_statuses_and_title()
    {
        var documented = ErrorTable().Select(row => $"{row.Code} | {row.Statuses} | {row.Title}");
        var catalogued = ProblemCatalogue.All.Select(p => $"{p.Error} | {string.Join(", ", p.Statuses)} | {p.Title}");

        Assert.Equal(catalogued, documented);
    }

    [Fact]
    public void Every_row_of_the_error_table_is_the_anchor_its_codes_type_links_to()
    {
        foreach (var row in ErrorTable())
            Assert.Equal(row.Code, row.Anchor);
        Assert.Equal("https://example.com/docs/http-api.md#invalid_grant",
            ProblemCatalogue.InvalidGrant.TypeUri(new Uri("https://example.com/docs/http-api.md")));
        Assert.Equal("urn:sessions:problem:invalid_grant", ProblemCatalogue.InvalidGrant.TypeUri(null));
    }

    [Fact]
    public void Codes_are_unique_and_answer_only_with_error_statuses()
    {
        Assert.Equal(ProblemCatalogue.All.Count, ProblemCatalogue.All.Select(p => p.Error).Distinct().Count());
        Assert.Equal(ProblemCatalogue.All.Count, ProblemCatalogue.All.Select(p => p.Title).Distinct().Count());
        Assert.All(ProblemCatalogue.All, p => Assert.All(p.Statuses, status => Assert.InRange(status, 400, 599)));
        Assert.All(ProblemCatalogue.All, p => Assert.Same(p, ProblemCatalogue.Find(p.Error)));
    }

    [Fact]
    public void A_problem_takes_its_title_from_the_catalogue_and_refuses_a_status_the_catalogue_does_not_give_its_code()
    {
        var problem = Problems.Of(ProblemCatalogue.InvalidGrant, StatusCodes.Status400BadRequest, "The link is not valid.");

        Assert.Equal(ProblemCatalogue.InvalidGrant.Title, problem.ProblemDetails.Title);
        Assert.Equal("The link is not valid.", problem.ProblemDetails.Detail);
        Assert.Equal("invalid_grant", problem.ProblemDetails.Extensions["error"]);
        Assert.Throws<ArgumentOutOfRangeException>(() => Problems.Of(ProblemCatalogue.InvalidGrant, StatusCodes.Status401Unauthorized, "no"));
        Assert.Throws<InvalidOperationException>(() => Problems.Of(ProblemCatalogue.InvalidGrant, "which status?"));
        Assert.Equal(StatusCodes.Status409Conflict, Problems.Of(ProblemCatalogue.EmailTaken, "taken").StatusCode);
    }

    [Fact]
    public void The_Api_makes_problems_only_through_the_catalogue()
    {
        var api = Path.Combine(Repository.Root, "Api");
        var around = Directory.EnumerateFiles(api, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && Path.GetFileName(f) != "Problems.cs")
            .Where(f => ProblemMadeElsewhere().IsMatch(File.ReadAllText(f)))
            .Select(f => Path.GetRelativePath(Repository.Root, f));

        Assert.Empty(around);
    }

    private sealed record Row(string Anchor, string Code, string Statuses, string Title);

    /// <summary>The rows of the table under "## Errors": | &lt;a id="code"&gt;&lt;/a&gt;`code` | statuses | title | meaning |.</summary>
    private static List<Row> ErrorTable()
    {
        var lines = File.ReadLines(Path.Combine(Repository.Root, "docs", "http-api.md"))
            .SkipWhile(l => l != "## Errors").Skip(1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal));
        var rows = lines.Select(l => TableRow().Match(l)).Where(m => m.Success)
            .Select(m => new Row(m.Groups["anchor"].Value, m.Groups["code"].Value, m.Groups["statuses"].Value.Trim(), m.Groups["title"].Value.Trim()))
            .ToList();
        Assert.NotEmpty(rows);
        return rows;
    }

    [GeneratedRegex("""^\| <a id="(?<anchor>[a-z_]+)"></a>`(?<code>[a-z_]+)` \|(?<statuses>[^|]+)\|(?<title>[^|]+)\|""")]
    private static partial Regex TableRow();

    [GeneratedRegex(@"\b(Typed)?Results\.Problem\(|new ProblemDetails\b|\.ValidationProblem\(")]
    private static partial Regex ProblemMadeElsewhere();
}
