using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Sessions.Api.OAuth;
using Sessions.Hosting;

namespace Sessions.Api;

/// <summary>The Api's options: the "Api" configuration section. Every limit and lifetime of docs/http-api.md#bodies-and-limits is here or in "Sessions".</summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>
    /// This Api node hosts a silo of the cluster in its own process (co-hosting) instead of reaching separate silos
    /// through a gateway: grain calls then skip serialization and two socket hops. The node joins the cluster
    /// named in "Cluster" like any silo, so co-hosted nodes, plain silos and plain Api nodes mix.
    /// </summary>
    public bool HostsSilo { get; set; }

    /// <summary>
    /// The issuer URL: every access token's iss, byte for byte, and the base of the discovery document's URLs
    /// (docs/http-api.md#issuer-and-discovery). Unset: <see cref="PublicBaseUrl"/> without a trailing slash; in
    /// Development, else the first URL this node listens on.
    /// </summary>
    public string? Issuer { get; set; }
    public string Audience { get; set; } = "sessions-api";
    /// <summary>The access tokens' client_id claim (RFC 9068 2.2): the application the tokens are issued to.</summary>
    public string ClientId { get; set; } = "sessions";
    /// <summary>Backends that may introspect, revoke or administer (docs/http-api.md#backend-clients).</summary>
    public List<BackendClientOptions> Clients { get; set; } = [];
    /// <summary>Failed client authentications from one address within <see cref="FailedClientAuthenticationWindow"/> before 429.</summary>
    public int MaxFailedClientAuthentications { get; set; } = 10;
    public TimeSpan FailedClientAuthenticationWindow { get; set; } = TimeSpan.FromMinutes(15);
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);
    /// <summary>Tolerance for clocks of other parties when checking nbf and exp.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>DPoP: how far in the past a proof's iat may be (it may be ClockSkew in the future).</summary>
    public TimeSpan DpopProofLifetime { get; set; } = TimeSpan.FromSeconds(60);
    /// <summary>
    /// The URL under which clients reach the Api ("https://auth.example.com", or with a path prefix such as
    /// "https://example.com/sessions"), when a reverse proxy stands in front of it: DPoP proofs' htu is checked
    /// against it instead of the URL this node sees. Unset: the request's own scheme, host and path.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>The parsed <see cref="PublicBaseUrl"/>: null when unset, or when it is not an http(s) URL without query, fragment or user.</summary>
    public static Uri? ParsePublicBaseUrl(string? value) =>
        !string.IsNullOrWhiteSpace(value) && Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri)
        && uri.Scheme is "https" or "http" && uri.Query.Length == 0 && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0
            ? uri
            : null;

    /// <summary>
    /// Where this service's docs/http-api.md is published ("https://example.com/sessions/docs/http-api.md"): each problem's
    /// type is then this URL with its code as fragment, a link to the code's row of docs/http-api.md#errors. Unset: "urn:sessions:problem:&lt;code&gt;".
    /// </summary>
    public string? ErrorDocsUrl { get; set; }
    internal Uri? ErrorDocsUri => ParsePublicBaseUrl(ErrorDocsUrl);

    /// <summary>Origins allowed to send cookie-borne refresh and logout requests (exact "scheme://host[:port]").</summary>
    public string[] AllowedOrigins { get; set; } = [];
    /// <summary>Development only: refresh-token cookies without Secure, for plain HTTP.</summary>
    public bool AllowInsecureHttp { get; set; }

    /// <summary>Base64 of 32 random bytes: encrypts the signing keys' private parts in the key ring. Required outside Development.</summary>
    public string? KeyEncryptionKey { get; set; }
    /// <summary>How long one signing key signs before the next takes over.</summary>
    public TimeSpan SigningKeyLifetime { get; set; } = TimeSpan.FromDays(30);
    /// <summary>How long a new key is published in JWKS before it signs anything.</summary>
    public TimeSpan SigningKeyPublishLead { get; set; } = TimeSpan.FromDays(1);
    /// <summary>How often each Api node re-reads the key ring.</summary>
    public TimeSpan KeyRingRefreshInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Reverse proxies (addresses, or networks such as "10.0.0.0/8") whose X-Forwarded-For names the client.
    /// Requests from anywhere else are limited by their own socket address; an X-Forwarded-For they send is ignored.
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];

    public int LoginsPerMinutePerAddress { get; set; } = 100;
    public int RegistrationsPerMinutePerAddress { get; set; } = 100;
    public int RefreshesPerMinutePerAddress { get; set; } = 6000;
    /// <summary>Requests with an access token (/me, /auth/sessions…, /auth/logout-all, /auth/password), counted before the token is checked.</summary>
    public int AccessTokenRequestsPerMinutePerAddress { get; set; } = 6000;
    public int MaxRequestBodyBytes { get; set; } = 1024 * 1024;
    /// <summary>Retry-After, in seconds, sent with 503 answers.</summary>
    public int RetryAfterSecondsWhenUnavailable { get; set; } = 5;
}

public sealed class ApiOptionsValidator(IHostEnvironment environment) : IValidateOptions<ApiOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiOptions o)
    {
        var errors = new List<string>();
        void Require(bool ok, string message) { if (!ok) errors.Add($"{ApiOptions.Section}:{message}"); }

        if (string.IsNullOrWhiteSpace(o.Issuer))
            errors.Add($"{ApiOptions.Section}:Issuer or {ApiOptions.Section}:PublicBaseUrl must be set to the URL clients reach this service at, such as \"https://auth.example.com\".");
        else
            Require(IsIssuerUrl(o.Issuer, environment),
                $"Issuer must be an https URL without query or fragment (http only in Development or on a loopback host); it is \"{o.Issuer}\".");
        Require(!string.IsNullOrWhiteSpace(o.ClientId), "ClientId must be set.");
        Require(o.MaxFailedClientAuthentications > 0 && o.FailedClientAuthenticationWindow > TimeSpan.Zero,
            "MaxFailedClientAuthentications and FailedClientAuthenticationWindow must be positive.");
        errors.AddRange(BackendClientOptions.Validate(o.Clients).Select(error => $"{ApiOptions.Section}:Clients: {error}"));
        Require(!string.IsNullOrWhiteSpace(o.Audience), "Audience must be set.");
        Require(o.AccessTokenLifetime > TimeSpan.Zero, $"AccessTokenLifetime must be positive (it is {o.AccessTokenLifetime}).");
        Require(o.ClockSkew >= TimeSpan.Zero && o.ClockSkew <= TimeSpan.FromMinutes(5), $"ClockSkew must be between 0 and 5 minutes (it is {o.ClockSkew}).");
        Require(o.DpopProofLifetime > TimeSpan.Zero && o.DpopProofLifetime <= TimeSpan.FromMinutes(10),
            $"DpopProofLifetime must be between 0 and 10 minutes (it is {o.DpopProofLifetime}).");
        Require(string.IsNullOrWhiteSpace(o.PublicBaseUrl) || ApiOptions.ParsePublicBaseUrl(o.PublicBaseUrl) is not null,
            "PublicBaseUrl must be an http or https URL such as \"https://auth.example.com\" (optionally with a path prefix; no query or fragment).");
        Require(string.IsNullOrWhiteSpace(o.ErrorDocsUrl) || o.ErrorDocsUri is not null,
            "ErrorDocsUrl must be an http or https URL without query or fragment.");
        Require(o.KeyRingRefreshInterval > TimeSpan.Zero, "KeyRingRefreshInterval must be positive.");
        Require(o.SigningKeyPublishLead >= o.KeyRingRefreshInterval,
            "SigningKeyPublishLead must be at least KeyRingRefreshInterval, so every node knows a key before it signs.");
        Require(o.SigningKeyLifetime > o.SigningKeyPublishLead, "SigningKeyLifetime must be longer than SigningKeyPublishLead.");
        Require(o.LoginsPerMinutePerAddress > 0 && o.RegistrationsPerMinutePerAddress > 0 && o.RefreshesPerMinutePerAddress > 0
            && o.AccessTokenRequestsPerMinutePerAddress > 0,
            "LoginsPerMinutePerAddress, RegistrationsPerMinutePerAddress, RefreshesPerMinutePerAddress and AccessTokenRequestsPerMinutePerAddress must be at least 1.");
        Require(o.MaxRequestBodyBytes >= 1024, "MaxRequestBodyBytes must be at least 1024.");
        Require(o.RetryAfterSecondsWhenUnavailable > 0, "RetryAfterSecondsWhenUnavailable must be at least 1.");
        Require(o.AllowedOrigins.All(origin => Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.GetLeftPart(UriPartial.Authority) == origin.TrimEnd('/')),
            "AllowedOrigins must hold origins such as \"https://app.example.com\" (scheme, host, optional port; no path).");
        Require(!o.AllowInsecureHttp || environment.IsDevelopment(), "AllowInsecureHttp is for Development only.");
        Require(o.TrustedProxies.All(proxy => System.Net.IPAddress.TryParse(proxy, out _) || System.Net.IPNetwork.TryParse(proxy, out _)),
            "TrustedProxies must hold IP addresses or networks such as \"10.0.0.0/8\".");
        Require(Keys.KeyEncryption.TryDecode(o.KeyEncryptionKey) is not null,
            "KeyEncryptionKey must be 32 random bytes in base64 (generate one with: openssl rand -base64 32).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool IsIssuerUrl(string issuer, IHostEnvironment environment) =>
        Uri.TryCreate(issuer, UriKind.Absolute, out var uri) && uri.Query.Length == 0 && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0
        && !issuer.Contains('#') && !issuer.Contains('?')
        && (uri.Scheme == "https" || (uri.Scheme == "http" && (environment.IsDevelopment() || uri.IsLoopback)));
}

/// <summary>
/// Fills in the issuer when only <see cref="ApiOptions.PublicBaseUrl"/> is set, or in Development from where this node
/// listens; the validator then refuses to start without one.
/// </summary>
public sealed partial class IssuerDefault(IHostEnvironment environment, IConfiguration configuration, IOptions<ManagementOptions> management) : IPostConfigureOptions<ApiOptions>
{
    public void PostConfigure(string? name, ApiOptions o)
    {
        o.Issuer = string.IsNullOrWhiteSpace(o.Issuer) ? null : o.Issuer.Trim();
        if (o.Issuer is null && ApiOptions.ParsePublicBaseUrl(o.PublicBaseUrl) is not null)
            o.Issuer = o.PublicBaseUrl!.Trim().TrimEnd('/');
        if (o.Issuer is null && environment.IsDevelopment())
            o.Issuer = FromListeners();
    }

    /// <summary>
    /// The first public listener, preferring a named host to a wildcard (read as localhost). The management listener
    /// is among the URLs (it was appended to them) but is never where clients reach the service.
    /// </summary>
    private string FromListeners()
    {
        var listeners = (configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(url => Listener().Match(url))
            .Where(match => match.Success && (management.Value.Port == 0 || match.Groups["port"].Value != management.Value.Port.ToString(CultureInfo.InvariantCulture)))
            .Select(match => (Scheme: match.Groups["scheme"].Value, Host: match.Groups["host"].Value, Port: match.Groups["port"].Success ? ":" + match.Groups["port"].Value : ""))
            .ToList();
        if (listeners.Count == 0)
            return "http://localhost:5000";
        var (scheme, host, port) = listeners.FirstOrDefault(l => !IsWildcard(l.Host), listeners[0]);
        return $"{scheme}://{(IsWildcard(host) ? "localhost" : host)}{port}";
    }

    private static bool IsWildcard(string host) => host is "*" or "+" or "0.0.0.0" or "[::]";

    [GeneratedRegex(@"^(?<scheme>https?)://(?<host>\[[^\]]*\]|[^:/\[]+)(?::(?<port>[0-9]+))?/?$", RegexOptions.IgnoreCase)]
    private static partial Regex Listener();
}

/// <summary>
/// A co-hosted node (Api:HostsSilo): a session grain must outlive an idle client's access token, so the refresh that
/// follows finds it in memory, and a DPoP proof's window, which its memory of proof ids must cover.
/// </summary>
public sealed class SessionCollectionAgeValidator(IOptions<ApiOptions> api) : IValidateOptions<Grains.SessionOptions>
{
    public ValidateOptionsResult Validate(string? name, Grains.SessionOptions options)
    {
        var o = api.Value;
        var needed = o.AccessTokenLifetime + o.DpopProofLifetime + 2 * o.ClockSkew;
        return options.SessionCollectionAge > needed
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"{Grains.SessionOptions.Section}:SessionCollectionAge ({options.SessionCollectionAge}) must be longer than {ApiOptions.Section}:AccessTokenLifetime " +
                $"+ {ApiOptions.Section}:DpopProofLifetime + 2 x {ApiOptions.Section}:ClockSkew ({needed}).");
    }
}
