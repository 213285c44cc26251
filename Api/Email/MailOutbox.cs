using System.Threading.Channels;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Sessions.Api.Email;

/// <summary>
/// Mail leaves here, never on a request's path: a request queues a job and is answered. One worker composes each job's
/// message (which may first ask a grain for its token) and hands it to the SMTP server with MailKit. While the server
/// does not take it, the worker tries again with back-off, up to Email:RetryFor (15 minutes), so an outage loses no mail
/// and fails no request. Jobs beyond Email:MaxQueued are dropped and counted. The queue is in memory: mail still
/// waiting when this node stops is not sent, and the user asks again.
/// </summary>
public sealed partial class MailOutbox(IOptions<EmailOptions> options, ApiInstruments instruments, ILogger<MailOutbox> logger) : BackgroundService
{
    private static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(10);
    private readonly EmailOptions _options = options.Value;
    private readonly Channel<Job> _jobs = Channel.CreateBounded<Job>(new BoundedChannelOptions(Math.Max(1, options.Value.MaxQueued))
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    /// <summary>A mail to send: <c>Compose</c> makes it, or answers null when none is due (no such account, say).</summary>
    private sealed record Job(string Kind, Func<CancellationToken, Task<MimeMessage?>> Compose);

    public bool Enabled => _options.Enabled;

    /// <summary>Queues a mail; false (and counted) when the queue is full. Never waits.</summary>
    public bool Enqueue(string kind, Func<CancellationToken, Task<MimeMessage?>> compose)
    {
        if (_jobs.Writer.TryWrite(new Job(kind, compose)))
            return true;
        instruments.Mail(kind, "dropped");
        return false;
    }

    /// <summary>The message of a mailed link: text, with the link alone on its line, and an HTML alternative.</summary>
    public MimeMessage Message(string to, string subject, string intro, string linkBase, string token, string outro)
    {
        var link = $"{linkBase}#token={token}";
        var message = new MimeMessage { Subject = subject };
        message.From.Add(MailboxAddress.Parse(_options.From!));
        message.To.Add(MailboxAddress.Parse(to));
        static string Html(string text) => System.Net.WebUtility.HtmlEncode(text);
        message.Body = new BodyBuilder
        {
            TextBody = $"{intro}\n\n{link}\n\n{outro}\n",
            HtmlBody = $"<p>{Html(intro)}</p><p><a href=\"{Html(link)}\">{Html(link)}</a></p><p>{Html(outro)}</p>",
        }.ToMessageBody();
        return message;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
            return;
        await foreach (var job in _jobs.Reader.ReadAllAsync(stoppingToken))
            await DeliverAsync(job, stoppingToken);
    }

    private async Task DeliverAsync(Job job, CancellationToken stoppingToken)
    {
        var giveUpAt = DateTime.UtcNow + _options.RetryFor;
        MimeMessage? message = null;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                // Composed once: a token, once issued, must be the one that is mailed.
                message ??= await job.Compose(stoppingToken);
                if (message is null)
                {
                    instruments.Mail(job.Kind, "none_due");
                    return;
                }
                await SendAsync(message, stoppingToken);
                instruments.Mail(job.Kind, "sent");
                return;
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                if (DateTime.UtcNow >= giveUpAt)
                {
                    instruments.Mail(job.Kind, "failed");
                    LogGaveUp(logger, exception, job.Kind, _options.RetryFor);
                    return;
                }
                instruments.Mail(job.Kind, "retried");
                var wait = TimeSpan.FromSeconds(Math.Min(LongestWait.TotalSeconds, Math.Pow(2, attempt)));
                LogRetry(logger, job.Kind, wait, exception.Message);
                await Task.Delay(wait, stoppingToken);
            }
        }
    }

    private async Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        var smtp = _options.Smtp;
        using var client = new SmtpClient { Timeout = 30_000 };
        await client.ConnectAsync(smtp.Host!, smtp.Port, smtp.Security switch
        {
            SmtpSecurity.None => SecureSocketOptions.None,
            SmtpSecurity.Tls => SecureSocketOptions.SslOnConnect,
            _ => SecureSocketOptions.StartTls,
        }, cancellationToken);
        if (!string.IsNullOrEmpty(smtp.Username))
            await client.AuthenticateAsync(smtp.Username, smtp.Password ?? "", cancellationToken);
        await client.SendAsync(message, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }

    [LoggerMessage(EventId = LogEventIds.Mail + 1, Level = LogLevel.Warning, Message = "A {Kind} mail was not taken by the SMTP server; trying again in {Wait}: {Reason}")]
    private static partial void LogRetry(ILogger logger, string kind, TimeSpan wait, string reason);

    [LoggerMessage(EventId = LogEventIds.Mail + 2, Level = LogLevel.Error, Message = "A {Kind} mail was dropped: the SMTP server did not take it for {RetryFor}")]
    private static partial void LogGaveUp(ILogger logger, Exception exception, string kind, TimeSpan retryFor);
}
