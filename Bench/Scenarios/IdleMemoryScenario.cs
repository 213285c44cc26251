namespace Sessions.Bench.Scenarios;

/// <summary>--sessions sessions, ten per user, left idle: what each costs in the silo's memory and in PostgreSQL.</summary>
public sealed class IdleMemoryScenario : Scenario
{
    public override string Name => "idle-memory";

    public override string Arguments => "[--sessions N] --database CONNECTION, with silo=P in --pids";

    public override async Task RunAsync(Target target)
    {
        var (options, http) = (target.Options, target.Http);
        var silo = options.Pids["silo"].Single(); // idle-memory measures one silo
        var before = CpuMeter.ResidentBytes(silo);
        var created = await InParallelAsync((options.Sessions + 9) / 10, async _ =>
        {
            var email = await RegisterAsync(http);
            for (var i = 0; i < 10; i++)
                await LoginAsync(http, email);
            return 10;
        }, concurrency: 32);
        await Task.Delay(TimeSpan.FromSeconds(10)); // let the silo's background GC settle; RSS still holds its garbage
        var after = CpuMeter.ResidentBytes(silo);
        await using var db = Npgsql.NpgsqlDataSource.Create(options.Database!);
        await using var command = db.CreateCommand("SELECT count(*), avg(octet_length(payloadbinary)), pg_total_relation_size('grainstate') FROM grainstate WHERE graintypestring = 'session'");
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Console.WriteLine($"| idle-memory | {created.Sum():N0} sessions | silo RSS {before / 1048576.0:F0} → {after / 1048576.0:F0} MB ({(after - before) / (double)created.Sum():F0} B/session) " +
                          $"| {reader.GetInt64(0):N0} session rows, payload {reader.GetDouble(1):F0} B/row, table with indexes {reader.GetInt64(2) / (double)reader.GetInt64(0):F0} B/row |");
    }
}
