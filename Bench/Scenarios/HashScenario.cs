namespace Sessions.Bench.Scenarios;

/// <summary>Milliseconds of one password verification in this process (the median of 20); no service needed.</summary>
public sealed class HashScenario : Scenario
{
    public override string Name => "hash";

    public override string Arguments => "";

    public override Task RunAsync(Target target)
    {
        Console.WriteLine($"{HashMilliseconds():F2}");
        return Task.CompletedTask;
    }
}
