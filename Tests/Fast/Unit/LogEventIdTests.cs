using System.Reflection;
using Microsoft.Extensions.Logging;
using Sessions.Api.Http;
using Sessions.Grains;
using Sessions.Hosting;
using Sessions.Storage;

namespace Sessions.Tests;

/// <summary>Every log message of the service has an EventId of its own, inside a range of <see cref="LogEventIds"/> (docs/operations.md#log-event-ids).</summary>
[Layer(Layer.Unit)]
public sealed class LogEventIdTests
{
    private static readonly Assembly[] Service =
    [
        typeof(SecurityEvents).Assembly, typeof(SessionGrain).Assembly, typeof(StatePurger).Assembly, typeof(Problems).Assembly,
        typeof(HealthEndpoints).Assembly,
    ];

    [Fact]
    public void Every_log_message_has_its_own_event_id_inside_a_range_of_the_table()
    {
        var messages = Service.SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Select(m => (Name: $"{m.DeclaringType!.Name}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(m => m.Attribute is not null)
            .ToList();

        Assert.True(messages.Count > 20, $"only {messages.Count} log messages found");
        Assert.All(messages, m => Assert.True(LogEventIds.Ranges.Any(start => m.Attribute!.EventId > start && m.Attribute.EventId < start + 1000),
            $"{m.Name} has EventId {m.Attribute!.EventId}, in no range of LogEventIds"));
        var repeated = messages.GroupBy(m => m.Attribute!.EventId).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Name))}");
        Assert.Empty(repeated);
    }

    [Fact]
    public void Security_events_keep_their_ids_in_the_first_range()
    {
        var ids = typeof(SecurityEvents).GetMethods().Select(m => m.GetCustomAttribute<LoggerMessageAttribute>()?.EventId).OfType<int>().ToList();

        Assert.Equal(Enumerable.Range(LogEventIds.Security + 1, ids.Count), ids.Order());
    }
}
