using Microsoft.Extensions.Options;
using MimeKit;

namespace Sessions.Api.Email;

public enum SmtpSecurity { None, StartTls, Tls }

/// <summary>The SMTP relay mail goes through: the "Email:Smtp" section.</summary>
public sealed class SmtpOptions
{
    /// <summary>Unset: no mail is sent, and the endpoints that only send mail answer 501 email_not_configured.</summary>
    public string? Host { get; set; }
    public int Port { get; set; } = 587;
    public SmtpSecurity Security { get; set; } = SmtpSecurity.StartTls;
    public string? Username { get; set; }
    public string? Password { get; set; }
}

/// <summary>Mail for address verification and password reset (docs/http-api.md#email-verification-and-password-reset): the "Email" section.</summary>
public sealed class EmailOptions
{
    public const string Section = "Email";

    public SmtpOptions Smtp { get; set; } = new();
    /// <summary>The sender, as "Name &lt;address&gt;" or an address.</summary>
    public string? From { get; set; }
    /// <summary>The app's page that verifies an address; the link is this URL followed by "#token=...". Development: the demo's.</summary>
    public string? VerifyEmailUrl { get; set; }
    /// <summary>The app's page that sets a new password; the link is this URL followed by "#token=...". Development: the demo's.</summary>
    public string? ResetPasswordUrl { get; set; }
    /// <summary>How long a mail is retried while the SMTP server does not take it.</summary>
    public TimeSpan RetryFor { get; set; } = TimeSpan.FromMinutes(15);
    /// <summary>Mails waiting to be sent; beyond, new ones are dropped (and counted) rather than use more memory.</summary>
    public int MaxQueued { get; set; } = 10_000;

    public bool Enabled => !string.IsNullOrWhiteSpace(Smtp.Host);
}

/// <summary>In Development the links point at the demo's pages, served by this Api under its issuer.</summary>
public sealed class EmailDefaults(IHostEnvironment environment, IOptions<ApiOptions> api) : IPostConfigureOptions<EmailOptions>
{
    public void PostConfigure(string? name, EmailOptions o)
    {
        if (!environment.IsDevelopment() || api.Value.Issuer is not { } issuer)
            return;
        var root = issuer.TrimEnd('/');
        o.VerifyEmailUrl ??= $"{root}/demo/verify.html";
        o.ResetPasswordUrl ??= $"{root}/demo/reset.html";
        o.From ??= "Sessions demo <no-reply@sessions.localhost>";
    }
}

public sealed class EmailOptionsValidator : IValidateOptions<EmailOptions>
{
    public ValidateOptionsResult Validate(string? name, EmailOptions o)
    {
        if (!o.Enabled)
            return ValidateOptionsResult.Success;
        var errors = new List<string>();
        void Require(bool ok, string message) { if (!ok) errors.Add($"{EmailOptions.Section}:{message}"); }

        Require(o.Smtp.Port is > 0 and <= 65535, $"Smtp:Port must be a TCP port (it is {o.Smtp.Port}).");
        Require(string.IsNullOrEmpty(o.Smtp.Username) == string.IsNullOrEmpty(o.Smtp.Password), "Smtp:Username and Smtp:Password go together.");
        Require(o.From is not null && MailboxAddress.TryParse(o.From, out _), "From must be a mail address such as \"Example <no-reply@example.com>\".");
        Require(IsPage(o.VerifyEmailUrl), "VerifyEmailUrl must be the http(s) URL of the app's page that verifies an address (no fragment).");
        Require(IsPage(o.ResetPasswordUrl), "ResetPasswordUrl must be the http(s) URL of the app's page that sets a new password (no fragment).");
        Require(o.RetryFor >= TimeSpan.FromMinutes(10), $"RetryFor must be at least 10 minutes (it is {o.RetryFor}).");
        Require(o.MaxQueued > 0, "MaxQueued must be at least 1.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool IsPage(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" && uri.Fragment.Length == 0;
}
