using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Sessions.Api.Dpop;

/// <summary>What a request's DPoP header amounts to.</summary>
public enum DpopProofStatus
{
    /// <summary>No DPoP header.</summary>
    None,
    Valid,
    /// <summary>A DPoP header that fails a check of docs/http-api.md#dpop-sender-constrained-tokens.</summary>
    Invalid,
}

/// <summary>The verdict on a request's DPoP header: the proof when valid, else why not (for Debug logs only).</summary>
public readonly record struct DpopProofRead(DpopProofStatus Status, DpopProof? Proof, string? Failure)
{
    public static readonly DpopProofRead None = new(DpopProofStatus.None, null, null);
}

/// <summary>
/// The stateless checks of a DPoP proof (RFC 9449 section 4.3, docs/http-api.md#dpop-sender-constrained-tokens), made once per request: one
/// header of at most 4 KB, a compact JWS with typ dpop+jwt, alg ES256 and a public P-256 jwk, a signature by that
/// key, jti, htm, htu, iat and, with an access token, ath. Replay is the grains' part: the proof's jti goes to the
/// session grain (or, at login, the email's index grain). Nothing a client sends is cached here: each proof's key is
/// imported, used once and disposed of (no signature-provider cache, unlike JsonWebTokenHandler's defaults).
/// </summary>
public sealed partial class DpopProofValidator(
    IOptions<ApiOptions> options,
    IServer server,
    [FromKeyedServices(SessionClock.Key)] TimeProvider time,
    ILogger<DpopProofValidator> logger)
{
    public const string HeaderName = "DPoP";
    public const string ProofType = "dpop+jwt";
    public const string Algorithm = "ES256";
    public const int MaxHeaderLength = 4096;
    public const int MaxJtiLength = 256;
    private const int CoordinateLength = 32; // P-256

    private static readonly JsonDocumentOptions Json = new() { AllowDuplicateProperties = false, MaxDepth = 8 };

    private readonly ApiOptions _options = options.Value;
    private readonly Uri? _publicBase = ApiOptions.ParsePublicBaseUrl(options.Value.PublicBaseUrl);
    // The hosts this node listens on as configured (ASPNETCORE_URLS, Kestrel endpoints), read once it listens.
    private string[]? _listenerHosts;

    /// <summary>
    /// The request's DPoP proof. <paramref name="accessToken"/> is the access token sent with it (then the proof's
    /// ath must be its hash), or null at login, refresh and logout.
    /// </summary>
    public DpopProofRead Read(HttpContext http, string? accessToken = null)
    {
        var headers = http.Request.Headers[HeaderName];
        if (headers.Count == 0)
            return DpopProofRead.None;
        var failure = Check(http.Request, headers, accessToken, out var proof);
        if (failure is null)
            return new DpopProofRead(DpopProofStatus.Valid, proof, null);
        LogRefused(logger, http.Request.Path, failure);
        return new DpopProofRead(DpopProofStatus.Invalid, null, failure);
    }

    private string? Check(HttpRequest request, Microsoft.Extensions.Primitives.StringValues headers, string? accessToken, out DpopProof? proof)
    {
        proof = null;
        if (headers.Count != 1)
            return "more than one DPoP header";
        var text = headers[0] ?? "";
        if (text.Length > MaxHeaderLength)
            return "DPoP header over 4 KB";
        var firstDot = text.IndexOf('.', StringComparison.Ordinal);
        var secondDot = firstDot < 0 ? -1 : text.IndexOf('.', firstDot + 1);
        if (firstDot <= 0 || secondDot < 0 || text.IndexOf('.', secondDot + 1) >= 0)
            return "not a compact JWS";
        if (Decode(text.AsSpan(0, firstDot)) is not { } headerBytes
            || Decode(text.AsSpan(firstDot + 1, secondDot - firstDot - 1)) is not { } payloadBytes
            || Decode(text.AsSpan(secondDot + 1)) is not { } signature)
            return "not base64url";

        using var header = Parse(headerBytes);
        using var payload = Parse(payloadBytes);
        if (header?.RootElement is not { ValueKind: JsonValueKind.Object } h || payload?.RootElement is not { ValueKind: JsonValueKind.Object } p)
            return "header or payload is not a JSON object";

        if (!h.TryGetProperty("typ", out var typ) || typ.ValueKind != JsonValueKind.String
            || !string.Equals(typ.GetString(), ProofType, StringComparison.OrdinalIgnoreCase)) // media types are case-insensitive (RFC 7515 4.1.9)
            return "typ is not dpop+jwt";
        if (!h.TryGetProperty("alg", out var alg) || !IsString(alg, Algorithm))
            return "alg is not ES256";
        if (h.TryGetProperty("crit", out _))
            return "crit is not supported";
        if (!h.TryGetProperty("jwk", out var jwk) || !TryReadPublicKey(jwk, out var x, out var y))
            return "jwk is not a public P-256 key";
        if (signature.Length != 2 * CoordinateLength || !SignatureVerifies(x, y, text.AsSpan(0, secondDot), signature))
            return "signature does not verify";

        if (!p.TryGetProperty("jti", out var jtiElement) || jtiElement.ValueKind != JsonValueKind.String
            || jtiElement.GetString() is not { Length: > 0 and <= MaxJtiLength } jti)
            return "jti is not a string of 1 to 256 characters";
        if (!p.TryGetProperty("htm", out var htm) || !IsString(htm, request.Method))
            return "htm is not the request method";
        if (!p.TryGetProperty("htu", out var htu) || htu.ValueKind != JsonValueKind.String || !HtuMatches(request, htu.GetString()!))
            return "htu is not the request URL";
        if (!p.TryGetProperty("iat", out var iatElement) || !TryReadNumericDate(iatElement, out var iat))
            return "iat is not a NumericDate";
        var now = time.GetUtcNow();
        if (iat < now - _options.DpopProofLifetime || iat > now + _options.ClockSkew)
            return "iat is outside the accepted window";
        if (accessToken is not null
            && (!p.TryGetProperty("ath", out var ath) || !IsString(ath, AccessTokenHash(accessToken))))
            return "ath is not the hash of the access token";

        proof = new DpopProof(Thumbprint(x, y), jti, iat, iat + _options.DpopProofLifetime + _options.ClockSkew);
        return null;
    }

    /// <summary>RFC 7638: base64url(SHA-256 of {"crv","kty","x","y"} in that order, no whitespace), for a P-256 key.</summary>
    public static string Thumbprint(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        // The coordinates are encoded again, so that one key has one thumbprint however its jwk spelt them.
        var canonical = $$"""{"crv":"P-256","kty":"EC","x":"{{Base64Url.EncodeToString(x)}}","y":"{{Base64Url.EncodeToString(y)}}"}""";
        return Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    /// <summary>The ath of a proof sent with an access token: base64url(SHA-256(ASCII(token))).</summary>
    public static string AccessTokenHash(string accessToken) =>
        Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));

    private static bool IsString(JsonElement element, string value) =>
        element.ValueKind == JsonValueKind.String && element.ValueEquals(value);

    private static JsonDocument? Parse(byte[] json)
    {
        try
        {
            return JsonDocument.Parse(json, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static byte[]? Decode(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
            return null;
        var bytes = new byte[Base64Url.GetMaxDecodedLength(text.Length)];
        // The OperationStatus overload: the Try… one throws on characters outside the alphabet.
        return Base64Url.DecodeFromChars(text, bytes, out _, out var written) == OperationStatus.Done ? bytes[..written] : null;
    }

    /// <summary>An EC P-256 public key: kty, crv, x and y of 32 bytes each, and no private member (d).</summary>
    private static bool TryReadPublicKey(JsonElement jwk, out byte[] x, out byte[] y)
    {
        x = y = [];
        if (jwk.ValueKind != JsonValueKind.Object || jwk.TryGetProperty("d", out _)
            || !jwk.TryGetProperty("kty", out var kty) || !IsString(kty, "EC")
            || !jwk.TryGetProperty("crv", out var crv) || !IsString(crv, "P-256")
            || !jwk.TryGetProperty("x", out var xElement) || xElement.ValueKind != JsonValueKind.String
            || !jwk.TryGetProperty("y", out var yElement) || yElement.ValueKind != JsonValueKind.String
            || Decode(xElement.GetString()) is not { Length: CoordinateLength } xBytes
            || Decode(yElement.GetString()) is not { Length: CoordinateLength } yBytes)
            return false;
        (x, y) = (xBytes, yBytes);
        return true;
    }

    private static bool SignatureVerifies(byte[] x, byte[] y, ReadOnlySpan<char> signingInput, byte[] signature)
    {
        try
        {
            // Importing checks that the point is on the curve; a bad one throws.
            using var key = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = x, Y = y } });
            var input = Encoding.ASCII.GetBytes(signingInput.ToArray());
            return key.VerifyData(input, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>A NumericDate: seconds since the epoch, an integer or not, within years 1970 to 9999.</summary>
    private static bool TryReadNumericDate(JsonElement element, out DateTimeOffset value)
    {
        value = default;
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetDouble(out var seconds) || seconds < 0 || seconds > 253_402_300_799)
            return false;
        value = DateTimeOffset.UnixEpoch.AddMilliseconds(Math.Floor(seconds * 1000));
        return true;
    }

    /// <summary>
    /// htu against the URL clients address (RFC 9449 4.3): Api:PublicBaseUrl when set (scheme, host, port and path
    /// prefix), otherwise the URL this node serves as configured, never the Host header a client chose
    /// (docs/http-api.md#known-devices-and-tighter-limits). Scheme and host case-insensitively, the host after IDNA
    /// (punycode and Unicode forms are one host), default ports normalised, the path exactly; query and fragment
    /// ignored; a htu with userinfo refused.
    /// </summary>
    private bool HtuMatches(HttpRequest request, string htu)
    {
        if (!Uri.TryCreate(htu, UriKind.Absolute, out var claimed) || claimed.Scheme is not ("https" or "http") || claimed.UserInfo.Length > 0)
            return false;
        var path = (request.PathBase + request.Path).ToUriComponent();
        if (_publicBase is { } publicBase)
        {
            return string.Equals(claimed.Scheme, publicBase.Scheme, StringComparison.OrdinalIgnoreCase)
                && string.Equals(claimed.IdnHost, publicBase.IdnHost, StringComparison.OrdinalIgnoreCase)
                && claimed.Port == publicBase.Port
                && string.Equals(claimed.AbsolutePath, publicBase.AbsolutePath.TrimEnd('/') + path, StringComparison.Ordinal);
        }
        var connection = request.HttpContext.Connection;
        var port = connection.LocalPort != 0 ? connection.LocalPort : string.Equals(request.Scheme, "https", StringComparison.OrdinalIgnoreCase) ? 443 : 80;
        return string.Equals(claimed.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase)
            && claimed.Port == port
            && NamesThisListener(claimed, connection.LocalIpAddress)
            && string.Equals(claimed.AbsolutePath, path, StringComparison.Ordinal);
    }

    /// <summary>
    /// Whether the host of <paramref name="claimed"/> names the listener the request came in on: a host name it was
    /// configured with; and for one bound to every interface or to loopback, the address the connection reached
    /// (the socket's, not the client's word), and "localhost" on loopback. In-memory test servers listen nowhere:
    /// "localhost".
    /// </summary>
    private bool NamesThisListener(Uri claimed, System.Net.IPAddress? local)
    {
        var host = claimed.IdnHost;
        if (claimed.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6)
            return local is not null && System.Net.IPAddress.TryParse(host, out var address)
                && (address.Equals(local) || (local.IsIPv4MappedToIPv6 && address.Equals(local.MapToIPv4())));
        var hosts = _listenerHosts ??= ListenerHosts();
        return hosts.Contains(host, StringComparer.OrdinalIgnoreCase)
            || (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) && (local is null || System.Net.IPAddress.IsLoopback(local)));
    }

    private string[] ListenerHosts() =>
        [.. (server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
            .Select(address => Uri.TryCreate(address.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal),
                UriKind.Absolute, out var uri) ? uri : null)
            .Where(uri => uri is { HostNameType: UriHostNameType.Dns })
            .Select(uri => uri!.IdnHost)];

    [LoggerMessage(EventId = LogEventIds.Requests + 5, Level = LogLevel.Debug, Message = "A DPoP proof sent to {Path} was refused: {Failure}")]
    private static partial void LogRefused(ILogger logger, PathString path, string failure);
}
