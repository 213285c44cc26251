using System.Buffers;
using System.Collections.Concurrent;
using MimeKit;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Sessions.Tests.Fixtures;

/// <summary>
/// A real SMTP server in the test process (SmtpServer, on a loopback port), which MailKit talks to over a socket: the
/// mail it takes is kept for the test to read. <see cref="StopAsync"/> and <see cref="Start"/> make an outage.
/// </summary>
public sealed class TestSmtpServer : IAsyncDisposable
{
    private readonly ConcurrentQueue<MimeMessage> _received = new();
    private CancellationTokenSource? _running;
    private Task? _server;

    public int Port { get; } = FreePorts.Consecutive(1);

    public IReadOnlyCollection<MimeMessage> Received => _received;

    public void Start()
    {
        var options = new SmtpServerOptionsBuilder().ServerName("localhost").Endpoint(e => e.Endpoint(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, Port))).Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Store(_received));
        _running = new CancellationTokenSource();
        _server = new SmtpServer.SmtpServer(options, services).StartAsync(_running.Token);
    }

    public async Task StopAsync()
    {
        if (_running is null)
            return;
        await _running.CancelAsync();
        try
        {
            await _server!;
        }
        catch (OperationCanceledException)
        {
        }
        _running.Dispose();
        _running = null;
    }

    /// <summary>The first mail to <paramref name="to"/> whose text satisfies <paramref name="match"/>, waiting up to <paramref name="timeout"/>.</summary>
    public async Task<MimeMessage> WaitForAsync(string to, TimeSpan timeout, Func<MimeMessage, bool>? match = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var mail = _received.FirstOrDefault(m => m.To.Mailboxes.Any(a => string.Equals(a.Address, to, StringComparison.OrdinalIgnoreCase)) && (match?.Invoke(m) ?? true));
            if (mail is not null)
                return mail;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"No mail to {to} within {timeout.TotalSeconds} s ({_received.Count} received in all).");
            await Task.Delay(100);
        }
    }

    /// <summary>The token of a mail's link: the text after "#token=" on its one line with a link.</summary>
    public static string TokenOf(MimeMessage mail) =>
        (mail.TextBody ?? "").Split('\n').Select(l => l.Trim()).Single(l => l.Contains("#token=", StringComparison.Ordinal)).Split("#token=")[1];

    /// <summary>The link itself.</summary>
    public static string LinkOf(MimeMessage mail) =>
        (mail.TextBody ?? "").Split('\n').Select(l => l.Trim()).Single(l => l.Contains("#token=", StringComparison.Ordinal));

    public async ValueTask DisposeAsync() => await StopAsync();

    private sealed class Store(ConcurrentQueue<MimeMessage> received) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            await using var stream = new MemoryStream(buffer.ToArray());
            received.Enqueue(await MimeMessage.LoadAsync(stream, cancellationToken));
            return SmtpResponse.Ok;
        }
    }
}
