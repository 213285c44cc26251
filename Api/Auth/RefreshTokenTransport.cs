using Microsoft.Extensions.Options;

namespace Sessions.Api.Auth;

/// <summary>Where a refresh token travels (API.md, "Refresh-token transport").</summary>
public sealed class RefreshTokenTransport(IOptions<ApiOptions> options)
{
    public const string CookieName = "refresh_token";
    public const string CookiePath = "/auth";

    private readonly ApiOptions _options = options.Value;

    /// <summary>The presented token: the JSON body's refreshToken wins over the cookie.</summary>
    public static (string? Token, bool FromCookie) Presented(HttpContext http, string? fromBody) =>
        !string.IsNullOrEmpty(fromBody) ? (fromBody, false) : (http.Request.Cookies[CookieName], true);

    /// <summary>A cookie-borne request from an origin we do not know is cross-site: refused.</summary>
    public bool OriginAllowed(HttpContext http) =>
        http.Request.Headers.Origin is not { Count: > 0 } origin
        || _options.AllowedOrigins.Any(allowed => string.Equals(allowed.TrimEnd('/'), origin.ToString(), StringComparison.OrdinalIgnoreCase));

    // Host-only (no Domain), HttpOnly, SameSite=Strict, scoped to /auth; Secure unless plain-HTTP development.
    private CookieOptions Cookie(DateTimeOffset? expires) => new()
    {
        HttpOnly = true,
        Secure = !_options.AllowInsecureHttp,
        SameSite = SameSiteMode.Strict,
        Path = CookiePath,
        Expires = expires,
        IsEssential = true,
    };

    public void SetCookie(HttpContext http, string token, DateTimeOffset expires) =>
        http.Response.Cookies.Append(CookieName, token, Cookie(expires));

    public void ClearCookie(HttpContext http) => http.Response.Cookies.Delete(CookieName, Cookie(null));
}
