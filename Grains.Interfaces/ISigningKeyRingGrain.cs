using System.Collections.Immutable;

namespace Sessions;

/// <summary>
/// One ES256 key of the access-token key ring. Published in JWKS from creation; signs from
/// <see cref="NotBefore"/> until a newer key's NotBefore. The private key is encrypted by the Api
/// nodes with their key-encryption key: neither the silo nor the database ever holds it in clear.
/// </summary>
[GenerateSerializer, Immutable, Alias("Sessions.SigningKey")]
public sealed record SigningKey(
    [property: Id(0)] string KeyId,
    [property: Id(1)] DateTimeOffset CreatedAt,
    [property: Id(2)] DateTimeOffset NotBefore,
    [property: Id(3)] byte[] PublicX,
    [property: Id(4)] byte[] PublicY,
    [property: Id(5)] byte[] EncryptedPrivateKey);

[GenerateSerializer, Immutable, Alias("Sessions.SigningKeyRing")]
public sealed record SigningKeyRing([property: Id(0)] int Version, [property: Id(1)] ImmutableArray<SigningKey> Keys);

/// <summary>The cluster's one key ring (key 0): a versioned register that every Api node reads and updates.</summary>
[Alias("Sessions.ISigningKeyRingGrain")]
public interface ISigningKeyRingGrain : IGrainWithIntegerKey
{
    [Alias("Get")]
    Task<SigningKeyRing> GetAsync();

    /// <summary>Replaces the keys if the ring is still at <paramref name="expectedVersion"/>; returns the ring as stored.</summary>
    [Alias("CompareAndSet")]
    Task<SigningKeyRing> CompareAndSetAsync(int expectedVersion, ImmutableArray<SigningKey> keys);
}
