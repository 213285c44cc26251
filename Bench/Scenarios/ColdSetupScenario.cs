namespace Sessions.Bench.Scenarios;

/// <summary>Many users with a few sessions each, as real traffic has; the tokens go to a file for "cold".</summary>
public sealed class ColdSetupScenario : Scenario
{
    public override string Name => "cold-setup";

    public override string Arguments => "[--sessions N] --tokens FILE";

    public override async Task RunAsync(Target target)
    {
        var (options, http) = (target.Options, target.Http);
        var perUser = 10;
        var tokens = await InParallelAsync((options.Sessions + perUser - 1) / perUser, async _ =>
        {
            var email = await RegisterAsync(http);
            var list = new List<string>();
            for (var i = 0; i < perUser; i++)
                list.Add((await LoginAsync(http, email)).RefreshToken);
            return list;
        }, concurrency: 32);
        await File.WriteAllLinesAsync(options.Tokens!, tokens.SelectMany(t => t).Take(options.Sessions));
        Console.Error.WriteLine($"{options.Sessions} sessions created");
    }
}
