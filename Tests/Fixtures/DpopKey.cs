using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Sessions.Tests.Fixtures;

/// <summary>
/// A client's DPoP key (ES256, generated here) and the proofs it makes (RFC 9449), written out by hand so that tests
/// can also make every malformed proof the checks must refuse.
/// </summary>
public sealed class DpopKey : IDisposable
{
    public ECDsa Key { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>The RFC 7638 thumbprint as Microsoft.IdentityModel computes it: an independent check of the Api's.</summary>
    public string Jkt => Base64UrlEncoder.Encode(new ECDsaSecurityKey(Key).ComputeJwkThumbprint());

    /// <summary>The public key as a jwk header member.</summary>
    public Dictionary<string, object?> Jwk()
    {
        var q = Key.ExportParameters(includePrivateParameters: false).Q;
        return new() { ["kty"] = "EC", ["crv"] = "P-256", ["x"] = Base64Url.EncodeToString(q.X), ["y"] = Base64Url.EncodeToString(q.Y) };
    }

    /// <summary>
    /// A proof for <paramref name="method"/> and <paramref name="url"/> issued at <paramref name="issuedAt"/>, with ath
    /// when <paramref name="accessToken"/> is given. <paramref name="header"/> and <paramref name="payload"/> may change
    /// it before it is signed; <paramref name="signer"/> signs instead of this key.
    /// </summary>
    public string Proof(string method, string url, DateTimeOffset issuedAt, string? accessToken = null, string? jti = null,
        Action<Dictionary<string, object?>>? header = null, Action<Dictionary<string, object?>>? payload = null, ECDsa? signer = null)
    {
        var h = new Dictionary<string, object?> { ["typ"] = "dpop+jwt", ["alg"] = "ES256", ["jwk"] = Jwk() };
        var p = new Dictionary<string, object?>
        {
            ["jti"] = jti ?? Guid.NewGuid().ToString("N"),
            ["htm"] = method,
            ["htu"] = url,
            ["iat"] = issuedAt.ToUnixTimeSeconds(),
        };
        if (accessToken is not null)
            p["ath"] = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
        header?.Invoke(h);
        payload?.Invoke(p);
        return Sign(JsonSerializer.Serialize(h), JsonSerializer.Serialize(p), signer ?? Key);
    }

    public static string Sign(string headerJson, string payloadJson, ECDsa signer)
    {
        var input = $"{Encode(headerJson)}.{Encode(payloadJson)}";
        return $"{input}.{Base64Url.EncodeToString(signer.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256))}";
    }

    public static string Encode(string json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));

    /// <summary>A proof's grain-side summary, as the Api would pass it on after its checks.</summary>
    public DpopProof Accepted(DateTimeOffset issuedAt, string? jti = null) =>
        new(Jkt, jti ?? Guid.NewGuid().ToString("N"), issuedAt, issuedAt + TimeSpan.FromSeconds(90));

    public void Dispose() => Key.Dispose();
}
