namespace Sessions.Api.Tokens;

/// <summary>Who the validated access token says the caller is.</summary>
public static class Caller
{
    public static Guid UserId(HttpContext http) => Guid.Parse(http.User.FindFirst(Claims.Subject)!.Value);
    public static Guid SessionId(HttpContext http) => Guid.Parse(http.User.FindFirst(Claims.SessionId)!.Value);
    /// <summary>The account's email, in the normal form it was issued in.</summary>
    public static string Email(HttpContext http) => http.User.FindFirst(Claims.Email)!.Value;
}
