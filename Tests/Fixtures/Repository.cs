namespace Sessions.Tests.Fixtures;

/// <summary>The checkout the tests were built from.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "sql", "schema.sql")))
                return dir.FullName;
        throw new InvalidOperationException("sql/schema.sql not found above " + AppContext.BaseDirectory);
    }
}
