using Microsoft.Extensions.Options;

namespace Sessions.Grains;

/// <summary>Lifetimes, windows and limits (docs/http-api.md#session-lifetimes and docs/http-api.md#failed-login-limit); bound from the "Sessions" configuration section.</summary>
public sealed class SessionOptions
{
    public const string Section = "Sessions";

    public TimeSpan SessionAbsoluteLifetime { get; set; } = TimeSpan.FromDays(7);
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromHours(24);
    public TimeSpan ReuseGraceWindow { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>Failed logins of one email from one client address within the window before that address waits.</summary>
    public int MaxFailedLogins { get; set; } = 10;
    /// <summary>Failed logins of one email from all addresses within the window before every address waits.</summary>
    public int MaxFailedLoginsPerAccount { get; set; } = 100;
    public TimeSpan FailedLoginWindow { get; set; } = TimeSpan.FromMinutes(15);
    /// <summary>Active sessions per user; a login beyond it revokes the least recently refreshed.</summary>
    public int MaxActiveSessions { get; set; } = 50;
    /// <summary>
    /// How long a session grain stays in memory without a call; the next call reads it back from storage. Longer than
    /// Api:AccessTokenLifetime, so a client that refreshes as its access token expires finds it still there, and
    /// longer than a DPoP proof's window (Api:DpopProofLifetime + 2 x Api:ClockSkew), which its jti memory must cover.
    /// </summary>
    public TimeSpan SessionCollectionAge { get; set; } = TimeSpan.FromMinutes(20);

    /// <summary>
    /// Base64 server secret (at least 32 bytes) mixed into every refresh-token MAC key, so the
    /// per-session secrets in the database are not enough to forge a token.
    /// </summary>
    public string? RefreshTokenPepper { get; set; }

    /// <summary>How long the link of a verification mail works.</summary>
    public TimeSpan EmailVerificationLifetime { get; set; } = TimeSpan.FromHours(24);
    /// <summary>How long the link of a password-reset mail works.</summary>
    public TimeSpan PasswordResetLifetime { get; set; } = TimeSpan.FromMinutes(30);
    /// <summary>Mails to one account within <see cref="MailWindow"/>, of both kinds together; beyond, none is sent.</summary>
    public int MaxMailsPerAccount { get; set; } = 3;
    public TimeSpan MailWindow { get; set; } = TimeSpan.FromMinutes(15);
}

public sealed class SessionOptionsValidator : IValidateOptions<SessionOptions>
{
    public ValidateOptionsResult Validate(string? name, SessionOptions o)
    {
        var errors = new List<string>();
        void Positive(TimeSpan value, string option)
        {
            if (value <= TimeSpan.Zero)
                errors.Add($"{SessionOptions.Section}:{option} must be a positive duration such as \"1.00:00:00\" (it is {value}).");
        }

        Positive(o.SessionAbsoluteLifetime, nameof(o.SessionAbsoluteLifetime));
        Positive(o.SessionIdleTimeout, nameof(o.SessionIdleTimeout));
        Positive(o.FailedLoginWindow, nameof(o.FailedLoginWindow));
        Positive(o.EmailVerificationLifetime, nameof(o.EmailVerificationLifetime));
        Positive(o.PasswordResetLifetime, nameof(o.PasswordResetLifetime));
        Positive(o.MailWindow, nameof(o.MailWindow));
        if (o.MaxMailsPerAccount < 1)
            errors.Add($"{SessionOptions.Section}:MaxMailsPerAccount must be at least 1 (it is {o.MaxMailsPerAccount}).");
        if (o.ReuseGraceWindow < TimeSpan.Zero)
            errors.Add($"{SessionOptions.Section}:ReuseGraceWindow must not be negative (it is {o.ReuseGraceWindow}).");
        if (o.MaxFailedLogins < 1)
            errors.Add($"{SessionOptions.Section}:MaxFailedLogins must be at least 1 (it is {o.MaxFailedLogins}).");
        if (o.MaxFailedLoginsPerAccount < o.MaxFailedLogins)
            errors.Add($"{SessionOptions.Section}:MaxFailedLoginsPerAccount must be at least MaxFailedLogins (it is {o.MaxFailedLoginsPerAccount}).");
        // Orleans collects in one-minute rounds and refuses an age that is not longer.
        if (o.SessionCollectionAge <= TimeSpan.FromMinutes(1))
            errors.Add($"{SessionOptions.Section}:SessionCollectionAge must be longer than one minute (it is {o.SessionCollectionAge}).");
        if (o.MaxActiveSessions < 1)
            errors.Add($"{SessionOptions.Section}:MaxActiveSessions must be at least 1 (it is {o.MaxActiveSessions}).");
        if (RefreshTokenMac.DecodePepper(o.RefreshTokenPepper) is null)
            errors.Add($"{SessionOptions.Section}:RefreshTokenPepper must be set to at least 32 random bytes in base64 " +
                       "(generate one with: openssl rand -base64 32).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
