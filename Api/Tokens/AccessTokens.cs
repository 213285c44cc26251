using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Sessions.Api.Keys;

namespace Sessions.Api.Tokens;

/// <summary>
/// Issues RFC 9068 access tokens (JWS, ES256, typ at+jwt) for a session grant: one signature, no I/O. The token is
/// written directly: its header is the same for every token of a key, so it is encoded once per key, and the
/// payload goes straight from the grant to UTF-8 JSON.
/// </summary>
public sealed class AccessTokens(SigningKeys keys, ApiInstruments instruments, IOptions<ApiOptions> options, [FromKeyedServices(SessionClock.Key)] TimeProvider time)
{
    public const string TokenType = "at+jwt";
    private const int SignatureLength = 64; // ES256: r and s, 32 bytes each (RFC 7518 3.4)

    private readonly ApiOptions _options = options.Value;
    private volatile EncodedHeader? _header;

    private sealed record EncodedHeader(string KeyId, byte[] Base64Url);

    public int LifetimeSeconds => (int)_options.AccessTokenLifetime.TotalSeconds;

    /// <summary>
    /// Whether this node can sign now. A refresh asks before its grain call: a rotation it could not hand out would
    /// make the client's retry, once past the grace window, look like reuse and revoke the family.
    /// </summary>
    public bool CanIssue => keys.CurrentKey() is { KeyId: not null };

    /// <summary>The signed token, or null when this node has no signing key yet (the cluster was never reached).</summary>
    public string? Issue(SessionGrant grant)
    {
        if (keys.CurrentKey() is not { KeyId: { } keyId } key)
            return null;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var header = _header is { } cached && cached.KeyId == keyId ? cached : _header = Header(keyId);

        var payload = new ArrayBufferWriter<byte>(384);
        WritePayload(payload, grant, time.GetUtcNow());
        var signingInputLength = header.Base64Url.Length + 1 + Base64Url.GetEncodedLength(payload.WrittenCount);
        var token = ArrayPool<byte>.Shared.Rent(signingInputLength + 1 + Base64Url.GetEncodedLength(SignatureLength));
        try
        {
            header.Base64Url.CopyTo(token, 0);
            token[header.Base64Url.Length] = (byte)'.';
            Base64Url.EncodeToUtf8(payload.WrittenSpan, token.AsSpan(header.Base64Url.Length + 1));
            Span<byte> signature = stackalloc byte[SignatureLength];
            if (!key.ECDsa.TrySignData(token.AsSpan(0, signingInputLength), signature, HashAlgorithmName.SHA256, out var written) || written != SignatureLength)
                throw new CryptographicException("The ES256 signature has an unexpected length.");
            token[signingInputLength] = (byte)'.';
            var length = signingInputLength + 1 + Base64Url.EncodeToUtf8(signature, token.AsSpan(signingInputLength + 1));
            instruments.AccessTokenIssued(started);
            return Encoding.ASCII.GetString(token, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(token);
        }
    }

    private static EncodedHeader Header(string keyId)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        {
            [JwtHeaderParameterNames.Alg] = SigningKeys.Algorithm,
            [JwtHeaderParameterNames.Kid] = keyId,
            [JwtHeaderParameterNames.Typ] = TokenType,
        });
        return new EncodedHeader(keyId, Encoding.ASCII.GetBytes(Base64Url.EncodeToString(json)));
    }

    private void WritePayload(IBufferWriter<byte> buffer, SessionGrant grant, DateTimeOffset now)
    {
        using var json = new Utf8JsonWriter(buffer);
        var issuedAt = now.ToUnixTimeSeconds();
        json.WriteStartObject();
        json.WriteString(JwtRegisteredClaimNames.Iss, _options.Issuer);
        json.WriteString(JwtRegisteredClaimNames.Aud, _options.Audience);
        json.WriteString(Claims.Subject, grant.UserId);
        json.WriteString(Claims.SessionId, grant.SessionId);
        json.WriteString(JwtRegisteredClaimNames.Jti, Guid.NewGuid().ToString("N"));
        json.WriteNumber(JwtRegisteredClaimNames.Iat, issuedAt);
        json.WriteNumber(JwtRegisteredClaimNames.Nbf, issuedAt);
        json.WriteNumber(JwtRegisteredClaimNames.Exp, issuedAt + (long)_options.AccessTokenLifetime.TotalSeconds);
        json.WriteString(Claims.ClientId, _options.ClientId);
        json.WriteString(Claims.Email, grant.Email);
        json.WriteBoolean(Claims.EmailVerified, grant.EmailVerified);
        json.WriteStartArray(Claims.Role);
        foreach (var role in grant.Roles)
            json.WriteStringValue(role);
        json.WriteEndArray();
        // DPoP (RFC 9449 6.1): a bound session's tokens name its key.
        if (grant.DpopJkt is { } jkt)
        {
            json.WriteStartObject(Claims.Confirmation);
            json.WriteString("jkt", jkt);
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }
}

/// <summary>The claim names of our access tokens.</summary>
public static class Claims
{
    public const string Subject = JwtRegisteredClaimNames.Sub;
    public const string SessionId = "sid";
    public const string Email = JwtRegisteredClaimNames.Email;
    public const string EmailVerified = JwtRegisteredClaimNames.EmailVerified;
    /// <summary>RFC 9068 2.2: the application the token was issued to.</summary>
    public const string ClientId = "client_id";
    public const string Role = "role";
    public const string Confirmation = Dpop.DpopAuthentication.ConfirmationClaim;
}
