namespace Sessions.Api.Http;

/// <summary>Bounds on what a client sends beyond the body limit, and the facts about the client a grain records.</summary>
public static class ClientInput
{
    /// <summary>A password presented to be checked (login, password change, account deletion): any length a login takes.</summary>
    public const int MaxPresentedPasswordLength = 1024;

    public const int MaxUserAgentLength = 512;

    /// <summary>The user agent is stored, listed and logged: without terminal escapes or bidi overrides.</summary>
    public static ClientInfo Client(HttpContext http) =>
        new(UnicodeText.WithoutHidden(http.Request.Headers.UserAgent.ToString(), MaxUserAgentLength), http.Connection.RemoteIpAddress?.ToString());
}
