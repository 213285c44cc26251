namespace Sessions.Bench.Scenarios;

/// <summary>
/// Refreshes measured while --flood clients, each from an address of its own (X-Forwarded-For through a trusted proxy),
/// log in with wrong passwords to unknown emails: every attempt costs a full hash.
/// </summary>
public sealed class LoginFloodScenario : Scenario
{
    public override string Name => "login-flood";

    public override string Arguments => "[--users N] [--flood N] [--seconds S] [--warmup S] [--silo-metrics URL]";

    public override async Task RunAsync(Target target)
    {
        var options = target.Options;
        var sessions = await InParallelAsync(options.Users, vu => LoginNewUserAsync(target.Api(vu)));
        await using var flood = Flood.Start(options, "/auth/login", () => new { email = $"flood-{Guid.NewGuid():N}@example.com", password = "wrong password 1" });
        var result = await MeasureAsync(options, target.Meter, (vu, recorder, stop) =>
            RefreshLoopAsync(target.Api(vu), "/auth/refresh", sessions, vu, recorder, withMe: false, stop));
        var answers = await flood.StopAsync();
        // An unknown email's grain leaves memory within seconds once it has no failures to remember; those answered
        // 401 remember theirs for the failed-login window.
        await Task.Delay(TimeSpan.FromSeconds(20));
        var loaded = await SiloSampleAsync(options, "orleans_catalog_activations");
        Report(options, result, $"refreshes during a flood of {options.Flood} login clients, whose answers were {answers}; " +
                                $"20 s after it, {loaded} grains loaded in the silo");
    }
}
