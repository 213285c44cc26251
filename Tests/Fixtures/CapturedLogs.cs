using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Sessions.Tests.Fixtures;

/// <summary>
/// Keeps every log entry of a silo or an Api, so tests can check that security events are written
/// and that nothing is logged as a server error when it is not one.
/// </summary>
public sealed class CapturedLogs(LogLevel minimum = LogLevel.Information) : ILoggerProvider
{
    public sealed record Entry(string Category, EventId EventId, LogLevel Level, string Message, IReadOnlyList<KeyValuePair<string, object?>> Values);

    private readonly ConcurrentQueue<Entry> _entries = new();

    public IEnumerable<Entry> Named(string eventName) => _entries.Where(e => e.EventId.Name == eventName);

    /// <summary>Every entry so far, oldest first.</summary>
    public IReadOnlyList<Entry> All => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, minimum, _entries);

    public void Dispose() { }

    private sealed class Logger(string category, LogLevel minimum, ConcurrentQueue<Entry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                entries.Enqueue(new Entry(category, eventId, logLevel, formatter(state, exception),
                    state as IReadOnlyList<KeyValuePair<string, object?>> ?? []));
        }
    }
}
