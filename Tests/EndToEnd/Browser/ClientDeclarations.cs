using System.Text.RegularExpressions;

namespace Sessions.Tests.Browser;

/// <summary>The members each interface and class of Client/sessions-client.d.ts declares, by name (constructors aside).</summary>
public static partial class ClientDeclarations
{
    public static Dictionary<string, string[]> Read(string declarations) =>
        Declaration().Matches(declarations).ToDictionary(
            match => match.Groups["name"].Value,
            match => Member().Matches(WithoutComments().Replace(match.Groups["body"].Value, ""))
                .Select(member => member.Groups["member"].Value)
                .Where(member => member != "constructor")
                .Distinct()
                .ToArray());

    [GeneratedRegex(@"^export (?:interface|class) (?<name>\w+)[^{]*\{(?<body>.*?)^\}", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Declaration();

    // A member starts its line: "name:", "name?:", "readonly name:", "name(" or "name<K ...>(".
    [GeneratedRegex(@"^  (?:readonly |static )?(?<member>\w+)\??(?::|\(|<)", RegexOptions.Multiline)]
    private static partial Regex Member();

    [GeneratedRegex(@"/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex WithoutComments();
}
