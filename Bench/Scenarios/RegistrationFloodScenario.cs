using System.Diagnostics;
using System.Net.Http.Json;

namespace Sessions.Bench.Scenarios;

/// <summary>
/// Honest logins measured while --flood clients, each from an address of its own, register new emails as fast as they
/// are answered. The owners log in from known devices (the device token of an earlier login), whose hashes go ahead
/// of registrations. Then, once the stragglers have had time to land, the rows: no user without its email.
/// </summary>
public sealed class RegistrationFloodScenario : Scenario
{
    public override string Name => "registration-flood";

    public override string Arguments => "[--users N] [--flood N] [--seconds S] [--warmup S] --database CONNECTION";

    public override async Task RunAsync(Target target)
    {
        var (options, http) = (target.Options, target.Http);
        var users = await InParallelAsync(options.Users, _ => RegisterAsync(http));
        var devices = await InParallelAsync(options.Users, async vu => (await LoginAsync(http, users[vu])).DeviceToken);
        await using var db = Npgsql.NpgsqlDataSource.Create(options.Database!);
        async Task<(long Users, long Emails)> RowsAsync()
        {
            await using var command = db.CreateCommand(
                "SELECT count(*) FILTER (WHERE graintypestring = 'user'), count(*) FILTER (WHERE graintypestring = 'email') FROM grainstate");
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            return (reader.GetInt64(0), reader.GetInt64(1));
        }
        var before = await RowsAsync();
        await using var flood = Flood.Start(options, "/auth/register", () => new { email = $"flood-{Guid.NewGuid():N}@example.com", password = "flood password 1" });
        var result = await MeasureAsync(options, target.Meter, async (vu, recorder, stop) =>
        {
            while (!stop.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await http.PostAsJsonAsync("/auth/login",
                    new { email = users[vu], password = Password, refreshTokenIn = "body", deviceToken = devices[vu] }, CancellationToken.None);
                recorder.Record(started, (int)response.StatusCode);
            }
        });
        var answers = await flood.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(10));
        var after = await RowsAsync();
        long newUsers = after.Users - before.Users, newEmails = after.Emails - before.Emails;
        Report(options, result, $"known-device logins during a flood of {options.Flood} registering clients, whose answers were {answers}; " +
                                $"10 s after it, {newUsers:N0} new user rows and {newEmails:N0} new email rows: {Math.Max(0, newUsers - newEmails):N0} users no email reaches");
    }
}
