using Sessions.Bench;
using Sessions.Bench.Scenarios;

// A load generator that drives the service through its HTTP API (docs/http-api.md); idle-memory, one-user and
// registration-flood also read the database (--database). One scenario per run, picked by name (the first argument, refresh when none);
// it prints one markdown table row (refresh with --seed: three). Bench --help lists the scenarios and their options.
Scenario[] scenarios =
[
    new RefreshScenario(), new MixedScenario(), new IntrospectScenario(), new LoginScenario(), new ColdSetupScenario(), new ColdScenario(),
    new IdleMemoryScenario(), new ForgedScenario(), new LoginFloodScenario(), new RegistrationFloodScenario(), new OneUserScenario(), new HashScenario(),
];
if (args is ["--help" or "-h", ..])
{
    Console.WriteLine("Bench SCENARIO [--url U[,U...]] [--pids api=P[+P...],silo=P[+P...],postgres=P,seed=P] [options]");
    foreach (var each in scenarios)
        Console.WriteLine($"  {each.Name,-19} {each.Arguments}".TrimEnd());
    return;
}
var options = Options.Parse(args);
var scenario = scenarios.FirstOrDefault(s => s.Name == options.Scenario) ?? throw new ArgumentException($"unknown scenario {options.Scenario}");
using var target = new Target(options);
await scenario.RunAsync(target);
