using System.Diagnostics;
using System.Text.Json;

namespace Sessions.Bench.Scenarios;

/// <summary>--sessions logins to one account: the user's row and session list stay small (MaxActiveSessions).</summary>
public sealed class OneUserScenario : Scenario
{
    public override string Name => "one-user";

    public override string Arguments => "[--sessions N] --database CONNECTION";

    public override async Task RunAsync(Target target)
    {
        var (options, http) = (target.Options, target.Http);
        var email = await RegisterAsync(http);
        var logins = await InParallelAsync(options.Sessions, _ => LoginAsync(http, email), concurrency: 8);
        var started = Stopwatch.GetTimestamp();
        using var list = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/auth/sessions")
        {
            Headers = { Authorization = new("Bearer", logins[^1].AccessToken) },
        });
        var listMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var body = await list.Content.ReadAsByteArrayAsync();
        await using var db = Npgsql.NpgsqlDataSource.Create(options.Database!);
        await using var command = db.CreateCommand("SELECT max(octet_length(payloadbinary)) FROM grainstate WHERE graintypestring = 'user'");
        var row = await command.ExecuteScalarAsync();
        Console.WriteLine($"| one-user | {options.Sessions:N0} logins to one account | GET /auth/sessions {(int)list.StatusCode}: " +
                          $"{JsonDocument.Parse(body).RootElement.GetArrayLength()} sessions, {body.Length:N0} B, {listMs:F1} ms | largest user row {row} B |");
    }
}
