using Microsoft.Extensions.Logging;

namespace Sessions;

/// <summary>
/// Every security event of the service, each with its one id and name, written by the grains and the Api alike
/// as structured logs ("Security event &lt;name&gt;: ..."). No event carries a secret: no password, no token.
/// </summary>
public static partial class SecurityEvents
{
    [LoggerMessage(EventId = 1001, EventName = "refresh_token_reuse", Level = LogLevel.Warning,
        Message = "Security event refresh_token_reuse: session {SessionId} of user {UserId} from {IpAddress} ({UserAgent}) presented token {PresentedCounter} while {CurrentCounter} is current; revoking the session")]
    public static partial void RefreshTokenReuse(ILogger logger, Guid sessionId, Guid userId, string? ipAddress, string? userAgent, long presentedCounter, long currentCounter);

    [LoggerMessage(EventId = 1002, EventName = "session_revoked", Level = LogLevel.Information,
        Message = "Security event session_revoked: session {SessionId} of user {UserId}, reason {Reason}")]
    public static partial void SessionRevoked(ILogger logger, Guid sessionId, Guid userId, RevocationReason reason);

    [LoggerMessage(EventId = 1003, EventName = "login_succeeded", Level = LogLevel.Information,
        Message = "Security event login_succeeded: user {UserId} opened session {SessionId} from {IpAddress} ({UserAgent})")]
    public static partial void LoginSucceeded(ILogger logger, Guid userId, Guid sessionId, string? ipAddress, string? userAgent);

    /// <summary>A wrong password, or an unknown email (then <paramref name="userId"/> is null).</summary>
    [LoggerMessage(EventId = 1004, EventName = "login_failed", Level = LogLevel.Warning,
        Message = "Security event login_failed: user {UserId} from {IpAddress} ({UserAgent})")]
    public static partial void LoginFailed(ILogger logger, Guid? userId, string? ipAddress, string? userAgent);

    [LoggerMessage(EventId = 1005, EventName = "login_throttled", Level = LogLevel.Warning,
        Message = "Security event login_throttled: an email is held back for {Address} for {RetryAfter}")]
    public static partial void LoginThrottled(ILogger logger, string address, TimeSpan retryAfter);

    [LoggerMessage(EventId = 1006, EventName = "logout_all", Level = LogLevel.Information,
        Message = "Security event logout_all: user {UserId} revoked {Count} sessions")]
    public static partial void LogoutAll(ILogger logger, Guid userId, int count);

    [LoggerMessage(EventId = 1007, EventName = "session_limit", Level = LogLevel.Information,
        Message = "Security event session_limit: user {UserId} is at the session limit; {Count} least recently refreshed sessions revoked")]
    public static partial void SessionLimit(ILogger logger, Guid userId, int count);

    /// <summary>A cookie-borne refresh or logout from an origin not in Api:AllowedOrigins: a cross-site request, refused.</summary>
    [LoggerMessage(EventId = 1008, EventName = "origin_refused", Level = LogLevel.Warning,
        Message = "Security event origin_refused: a cookie-borne {Path} from origin {Origin} ({IpAddress}) was refused")]
    public static partial void OriginRefused(ILogger logger, string path, string origin, string? ipAddress);

    /// <summary>A new password is stored; the user's other sessions are being revoked (reason password_changed), the caller's kept.</summary>
    [LoggerMessage(EventId = 1009, EventName = "password_changed", Level = LogLevel.Information,
        Message = "Security event password_changed: user {UserId} changed the password from session {SessionId} ({IpAddress}, {UserAgent}); revoking {Count} other sessions")]
    public static partial void PasswordChanged(ILogger logger, Guid userId, Guid sessionId, string? ipAddress, string? userAgent, int count);

    /// <summary>A valid DPoP proof by a key other than the one the session is bound to: refused (403), nothing revoked.</summary>
    [LoggerMessage(EventId = 1010, EventName = "dpop_key_mismatch", Level = LogLevel.Warning,
        Message = "Security event dpop_key_mismatch: session {SessionId} of user {UserId} got a DPoP proof by key {PresentedJkt} from {IpAddress} ({UserAgent}); it is bound to another key")]
    public static partial void DpopKeyMismatch(ILogger logger, Guid sessionId, Guid userId, string presentedJkt, string? ipAddress, string? userAgent);

    /// <summary>An admin changed an account: <paramref name="actor"/> is "client:" and a backend client's id, or "user:" and an admin's user id.</summary>
    [LoggerMessage(EventId = 1011, EventName = "admin_action", Level = LogLevel.Information,
        Message = "Security event admin_action: {Actor} did {Action} to user {TargetUserId}")]
    public static partial void AdminAction(ILogger logger, string actor, string action, Guid targetUserId);

    /// <summary>An account is being deleted: its sessions are revoked, then its email freed and its state deleted.</summary>
    [LoggerMessage(EventId = 1012, EventName = "account_deleted", Level = LogLevel.Information,
        Message = "Security event account_deleted: user {UserId} is being deleted; revoking {Count} sessions")]
    public static partial void AccountDeleted(ILogger logger, Guid userId, int count);

    /// <summary>The deletion of an account is finished: no session is live, the email is free, the state is gone.</summary>
    [LoggerMessage(EventId = 1013, EventName = "account_erased", Level = LogLevel.Information,
        Message = "Security event account_erased: user {UserId} is deleted; its email is free")]
    public static partial void AccountErased(ILogger logger, Guid userId);

    [LoggerMessage(EventId = 1014, EventName = "password_reset_requested", Level = LogLevel.Information,
        Message = "Security event password_reset_requested: a reset link is mailed to user {UserId}")]
    public static partial void PasswordResetRequested(ILogger logger, Guid userId);

    [LoggerMessage(EventId = 1015, EventName = "password_reset", Level = LogLevel.Information,
        Message = "Security event password_reset: user {UserId} set a new password by a mailed link; revoking {Count} sessions")]
    public static partial void PasswordResetDone(ILogger logger, Guid userId, int count);

    [LoggerMessage(EventId = 1016, EventName = "email_verified", Level = LogLevel.Information,
        Message = "Security event email_verified: user {UserId} verified the address")]
    public static partial void EmailVerified(ILogger logger, Guid userId);
}
