using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;

namespace Sessions.Storage;

public sealed class PurgeOptions
{
    public const string Section = "Purge";

    /// <summary>How often expired and revoked grain state is deleted.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);
    /// <summary>How long after its purge time a row is kept, a margin for clock skew between silos.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.FromHours(1);
    public int BatchSize { get; set; } = 5000;
}

public sealed class PurgeOptionsValidator : IValidateOptions<PurgeOptions>
{
    public ValidateOptionsResult Validate(string? name, PurgeOptions o)
    {
        var errors = new List<string>();
        if (o.Interval <= TimeSpan.Zero)
            errors.Add($"{PurgeOptions.Section}:Interval must be a positive duration (it is {o.Interval}).");
        if (o.Delay < TimeSpan.Zero)
            errors.Add($"{PurgeOptions.Section}:Delay must not be negative (it is {o.Delay}).");
        if (o.BatchSize < 1)
            errors.Add($"{PurgeOptions.Section}:BatchSize must be at least 1 (it is {o.BatchSize}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>
/// Deletes grain-state rows whose purge time (expiry or revocation of a session) has passed, through
/// the partial index on purgeafter: no table scan, no work on the request path. Every silo runs it;
/// the deletes are idempotent. It uses the host's small pool, the NpgsqlDataSource service.
/// </summary>
public sealed partial class StatePurger(
    NpgsqlDataSource database,
    IOptions<ClusterOptions> cluster,
    IOptions<PurgeOptions> options,
    [FromKeyedServices(SessionClock.Key)] TimeProvider time,
    ILogger<StatePurger> logger) : BackgroundService
{
    private readonly PurgeOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var purged = await PurgeAsync(stoppingToken);
                if (purged > 0)
                    LogPurged(logger, purged);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogPurgeFailed(logger, e);
            }
        }
    }

    /// <summary>Deletes every row due for purging, in batches; returns how many.</summary>
    public async Task<int> PurgeAsync(CancellationToken cancellationToken = default)
    {
        var cutoff = time.GetUtcNow() - _options.Delay;
        int total = 0, deleted;
        do
        {
            await using var command = database.CreateCommand("""
                DELETE FROM grainstate WHERE ctid = ANY (ARRAY(
                    SELECT ctid FROM grainstate
                    WHERE serviceid = $1 AND purgeafter < $2
                    LIMIT $3))
                """);
            command.Parameters.Add(new NpgsqlParameter { Value = cluster.Value.ServiceId });
            command.Parameters.Add(new NpgsqlParameter { Value = cutoff });
            command.Parameters.Add(new NpgsqlParameter { Value = _options.BatchSize });
            deleted = await command.ExecuteNonQueryAsync(cancellationToken);
            total += deleted;
        } while (deleted == _options.BatchSize);
        return total;
    }

    [LoggerMessage(EventId = LogEventIds.Storage + 2, Level = LogLevel.Information, Message = "Purged {Count} expired or revoked grain-state rows")]
    private static partial void LogPurged(ILogger logger, int count);

    [LoggerMessage(EventId = LogEventIds.Storage + 3, Level = LogLevel.Warning, Message = "Purging grain state failed; will retry at the next interval")]
    private static partial void LogPurgeFailed(ILogger logger, Exception exception);
}
