using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Sessions.Tests.Infrastructure;

/// <summary>Keeps every log entry of a silo, so tests can check that security events are written.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    public sealed record Entry(string Category, EventId EventId, LogLevel Level, string Message, IReadOnlyList<KeyValuePair<string, object?>> Values);

    private readonly ConcurrentQueue<Entry> _entries = new();

    public IEnumerable<Entry> Named(string eventName) => _entries.Where(e => e.EventId.Name == eventName);

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel) && eventId.Name is not null)
                entries.Enqueue(new Entry(category, eventId, logLevel, formatter(state, exception),
                    state as IReadOnlyList<KeyValuePair<string, object?>> ?? []));
        }
    }
}
