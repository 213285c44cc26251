using System.Buffers.Text;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Sessions.Api.Keys;

/// <summary>
/// This node's view of the cluster's key ring, and the rotation policy. Each node re-reads the ring
/// periodically and, when a key is due, proposes the next one; the ring grain lets exactly one
/// proposal win. A new key is published (in JWKS and to every node) for SigningKeyPublishLead
/// before it signs; a retired key stays until every token it signed has expired. Signing and
/// validation read the snapshot in memory: no I/O per request.
/// </summary>
public sealed partial class SigningKeys(
    IGrainFactory grains,
    KeyEncryption encryption,
    IOptions<ApiOptions> options,
    [FromKeyedServices(SessionClock.Key)] TimeProvider time,
    ILogger<SigningKeys> logger)
{
    public const string Algorithm = SecurityAlgorithms.EcdsaSha256;

    private sealed record Snapshot(ImmutableArray<(SigningKey Key, ECDsaSecurityKey Security)> Keys, string Jwks);

    private readonly ApiOptions _options = options.Value;
    private volatile Snapshot? _snapshot;

    public string Jwks => _snapshot?.Jwks ?? """{"keys":[]}""";

    /// <summary>The key that signs now: the newest whose NotBefore has passed. Null until the ring is loaded.</summary>
    public SigningCredentials? Current() => CurrentKey() is { } key ? new SigningCredentials(key, Algorithm) : null;

    /// <summary>The private key that signs now, or null until the ring is loaded.</summary>
    internal ECDsaSecurityKey? CurrentKey()
    {
        if (_snapshot is not { } snapshot)
            return null;
        var now = time.GetUtcNow();
        foreach (var (key, security) in snapshot.Keys)
        {
            if (key.NotBefore <= now)
                return security;
        }
        return null;
    }

    public SecurityKey? Find(string? keyId) =>
        keyId is null ? null : _snapshot?.Keys.FirstOrDefault(k => k.Key.KeyId == keyId).Security;

    /// <summary>Reads the ring, adds or retires keys when due, and installs the result.</summary>
    public async Task RefreshAsync()
    {
        var ring = grains.GetGrain<ISigningKeyRingGrain>(0);
        var current = await ring.GetAsync();
        var planned = Plan(current.Keys, time.GetUtcNow());
        if (planned != current.Keys)
        {
            current = await ring.CompareAndSetAsync(current.Version, planned);
            LogRingChanged(logger, current.Version, current.Keys.Length);
        }
        Install(current.Keys);
    }

    /// <summary>The ring as it should be now; the same array when nothing is due.</summary>
    internal ImmutableArray<SigningKey> Plan(ImmutableArray<SigningKey> keys, DateTimeOffset now)
    {
        var ordered = keys.OrderBy(k => k.NotBefore).ToList();
        // Retire: a key whose successor has signed for longer than an access token lives is in no valid token.
        var expired = ordered.Where((k, i) => i + 1 < ordered.Count
            && ordered[i + 1].NotBefore + _options.AccessTokenLifetime + _options.ClockSkew < now).ToList();
        var newest = ordered.LastOrDefault();
        SigningKey? added = newest is null
            ? NewKey(now, notBefore: now) // the first key: nothing was ever published, so it signs at once
            : newest.NotBefore <= now && now >= newest.NotBefore + _options.SigningKeyLifetime - _options.SigningKeyPublishLead
                ? NewKey(now, notBefore: now + _options.SigningKeyPublishLead)
                : null;
        if (expired.Count == 0 && added is null)
            return keys;
        return [.. ordered.Except(expired).Append(added).OfType<SigningKey>()];
    }

    private SigningKey NewKey(DateTimeOffset now, DateTimeOffset notBefore)
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var parameters = ecdsa.ExportParameters(includePrivateParameters: true);
        var keyId = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(12));
        var key = new SigningKey(keyId, now, notBefore, parameters.Q.X!, parameters.Q.Y!, encryption.Encrypt(parameters.D, keyId));
        CryptographicOperations.ZeroMemory(parameters.D);
        return key;
    }

    private void Install(ImmutableArray<SigningKey> keys)
    {
        var previous = _snapshot?.Keys ?? [];
        var installed = keys.OrderByDescending(k => k.NotBefore)
            .Select(k => (k, previous.FirstOrDefault(p => p.Key.KeyId == k.KeyId).Security ?? Load(k)))
            .ToImmutableArray();
        _snapshot = new Snapshot(installed, JwksOf(keys));
    }

    private ECDsaSecurityKey Load(SigningKey key)
    {
        var d = encryption.Decrypt(key.EncryptedPrivateKey, key.KeyId);
        var ecdsa = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = d, Q = new ECPoint { X = key.PublicX, Y = key.PublicY } });
        CryptographicOperations.ZeroMemory(d);
        return new ECDsaSecurityKey(ecdsa) { KeyId = key.KeyId };
    }

    /// <summary>RFC 7517 public keys only: there is no private member to leak because none is ever read here.</summary>
    private static string JwksOf(ImmutableArray<SigningKey> keys) => JsonSerializer.Serialize(new
    {
        keys = keys.OrderByDescending(k => k.NotBefore).Select(k => new Dictionary<string, string>
        {
            ["kty"] = "EC",
            ["use"] = "sig",
            ["alg"] = "ES256",
            ["kid"] = k.KeyId,
            ["crv"] = "P-256",
            ["x"] = Base64Url.EncodeToString(k.PublicX),
            ["y"] = Base64Url.EncodeToString(k.PublicY),
        }),
    });

    [LoggerMessage(EventId = LogEventIds.SigningKeys + 1, Level = LogLevel.Information, Message = "Signing key ring is at version {Version} with {Count} keys")]
    private static partial void LogRingChanged(ILogger logger, int version, int count);
}

/// <summary>Keeps the key ring fresh on this node.</summary>
public sealed partial class SigningKeyRefresher(SigningKeys keys, IOptions<ApiOptions> options, ILogger<SigningKeyRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Until this node has keys (no silo reachable yet) it asks every few seconds, then at the interval.
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await keys.RefreshAsync();
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Before the first key, a failure is the cluster not reached yet (readiness says so): no trace. A
                // key that does not decrypt is a wrong Api:KeyEncryptionKey, never a matter of waiting.
                if (keys.Current() is null && e is not CryptographicException)
                    LogWaitingForRing(logger, e.Message);
                else
                    LogRefreshFailed(logger, e);
            }
            await Task.Delay(keys.Current() is null ? TimeSpan.FromSeconds(2) : options.Value.KeyRingRefreshInterval, stoppingToken);
        }
    }

    [LoggerMessage(EventId = LogEventIds.SigningKeys + 2, Level = LogLevel.Warning, Message = "Reading the signing key ring failed; keeping the keys this node has")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = LogEventIds.SigningKeys + 3, Level = LogLevel.Information, Message = "No signing key yet; reading the key ring again shortly ({Reason})")]
    private static partial void LogWaitingForRing(ILogger logger, string reason);
}
