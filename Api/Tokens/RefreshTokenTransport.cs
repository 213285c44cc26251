using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Sessions.Api.Http;

namespace Sessions.Api.Tokens;

/// <summary>Where a refresh token travels (docs/http-api.md#refresh-token-transport).</summary>
public sealed class RefreshTokenTransport(IOptions<ApiOptions> options)
{
    public const string CookieName = "refresh_token";
    public const string CookiePath = "/auth";
    /// <summary>The known-device cookie (docs/http-api.md#known-devices-and-tighter-limits): beside the refresh token's, for a year.</summary>
    public const string DeviceCookieName = "device_token";
    private static readonly TimeSpan DeviceCookieLifetime = TimeSpan.FromDays(365);

    private readonly ApiOptions _options = options.Value;

    /// <summary>At most this many refresh_token cookies of one request are tried: each costs a grain call, and a storage read when it names no loaded session.</summary>
    public const int MaxCookieTokens = 3;

    private const string CookiePrefix = CookieName + "=";

    /// <summary>The presented tokens: the JSON body's refreshToken wins over the cookies.</summary>
    public static (StringValues Tokens, bool FromCookie) Presented(HttpContext http, string? fromBody) =>
        !string.IsNullOrEmpty(fromBody) ? (fromBody, false) : (CookieTokens(http.Request.Headers.Cookie), true);

    /// <summary>
    /// Every non-empty refresh_token cookie in the order sent, at most <see cref="MaxCookieTokens"/>. A browser
    /// sends several when a sibling subdomain (Domain=) or another path sets one beside ours, and
    /// HttpRequest.Cookies would keep only one of them. With one cookie, this is one string and no array.
    /// </summary>
    public static StringValues CookieTokens(StringValues headers)
    {
        string? first = null;
        List<string>? all = null;
        foreach (var header in headers)
        {
            var text = header.AsSpan();
            foreach (var range in text.Split(';'))
            {
                var pair = text[range].Trim(" \t");
                if (!pair.StartsWith(CookiePrefix, StringComparison.Ordinal))
                    continue;
                var value = pair[CookiePrefix.Length..];
                if (value is ['"', .., '"'])
                    value = value[1..^1];
                if (value.IsEmpty)
                    continue;
                if (first is null)
                {
                    first = value.ToString();
                    continue;
                }
                (all ??= [first]).Add(value.ToString());
                if (all.Count == MaxCookieTokens)
                    return new StringValues([.. all]);
            }
        }
        return all is null ? new StringValues(first) : new StringValues([.. all]);
    }

    /// <summary>A cookie-borne request from an origin we do not know is cross-site: refused.</summary>
    public bool OriginAllowed(HttpContext http) =>
        http.Request.Headers.Origin is not { Count: > 0 } origin || BrowserAccess.IsAllowedOrigin(_options, origin.ToString());

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

    /// <summary>Kept across sign-outs: it names the device, not a session.</summary>
    public void SetDeviceCookie(HttpContext http, string token) =>
        http.Response.Cookies.Append(DeviceCookieName, token, Cookie(DateTimeOffset.UtcNow + DeviceCookieLifetime));

    public void ClearCookie(HttpContext http) => http.Response.Cookies.Delete(CookieName, Cookie(null));
}
