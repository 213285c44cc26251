using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;

namespace Sessions.Grains;

/// <summary>Mailed tokens: address verification and the token a password reset spends.</summary>
public sealed partial class UserGrain
{
    public async Task<EmailTokenIssue> IssueEmailTokenAsync(EmailTokenKind kind)
    {
        if (!await ExistsNowAsync())
            return new EmailTokenIssue(EmailTokenStatus.NotAllowed);
        if (kind == EmailTokenKind.Verification && User.EmailVerified)
            return new EmailTokenIssue(EmailTokenStatus.AlreadyVerified);
        // No mail at all to a disabled account: a reset would let nobody in, and a flood of them would only annoy its owner.
        if (User.Disabled)
            return new EmailTokenIssue(EmailTokenStatus.NotAllowed);
        var now = time.GetUtcNow();
        var recent = User.MailsSent.Where(at => now - at < _options.MailWindow).ToImmutableArray();
        if (recent.Length >= _options.MaxMailsPerAccount)
            return new EmailTokenIssue(EmailTokenStatus.TooManyMails, RetryAfter: recent.Min() + _options.MailWindow - now);

        var token = mac.IssueEmailToken(kind, UserId);
        var mailed = new MailedToken
        {
            Hash = SHA256.HashData(Encoding.ASCII.GetBytes(token)),
            ExpiresAt = now + (kind == EmailTokenKind.Verification ? _options.EmailVerificationLifetime : _options.PasswordResetLifetime),
        };
        // The one valid token of its kind from now on: an earlier one no longer matches the stored hash.
        await _state.WriteOrRollBackAsync(kind == EmailTokenKind.Verification
            ? User with { Verification = mailed, MailsSent = recent.Add(now) }
            : User with { PasswordReset = mailed, MailsSent = recent.Add(now) });
        if (kind == EmailTokenKind.PasswordReset)
            SecurityEvents.PasswordResetRequested(logger, UserId);
        return new EmailTokenIssue(EmailTokenStatus.Issued, token, User.Email);
    }

    public async Task<bool> VerifyEmailAsync(string token)
    {
        if (!await ExistsNowAsync() || !Matches(token, EmailTokenKind.Verification, User.Verification))
            return false;
        var sessions = LiveEntries(time.GetUtcNow());
        // Every session learns it as it learns new roles: owed in the same write.
        await _state.WriteOrRollBackAsync(User with
        {
            EmailVerified = true,
            Verification = null,
            Sessions = sessions,
            Owed = OwedSessionWork.UpdateUser(sessions.Keys),
        });
        SecurityEvents.EmailVerified(logger, UserId);
        await FinishOwedWorkAsync();
        return true;
    }

    /// <summary>Whether <paramref name="token"/> is genuine, of <paramref name="kind"/>, for this user, and the one last mailed, unexpired.</summary>
    private bool Matches(string token, EmailTokenKind kind, MailedToken? mailed) =>
        mailed is not null && time.GetUtcNow() < mailed.ExpiresAt
        && EmailToken.TryParse(token, out var parsed) && parsed.Kind == kind && parsed.UserId == UserId && mac.Verify(parsed)
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.ASCII.GetBytes(token)), mailed.Hash);
}
