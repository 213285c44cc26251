namespace Sessions.Bench.Scenarios;

/// <summary>Refreshes as in refresh, each followed by a GET /me with the new access token.</summary>
public sealed class MixedScenario : Scenario
{
    public override string Name => "mixed";

    public override string Arguments => "[--users N] [--seconds S] [--warmup S]";

    public override async Task RunAsync(Target target)
    {
        var options = target.Options;
        var sessions = await InParallelAsync(options.Users, vu => LoginNewUserAsync(target.Api(vu)));
        var result = await MeasureAsync(options, target.Meter, (vu, recorder, stop) =>
            RefreshLoopAsync(target.Api(vu), "/auth/refresh", sessions, vu, recorder, withMe: true, stop));
        Report(options, result);
    }
}
