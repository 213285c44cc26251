using Microsoft.AspNetCore.Identity;
using Sessions.Grains;

namespace Sessions.Tests.Infrastructure;

/// <summary>The production hasher, counting how often a password is hashed and checked.</summary>
public sealed class CountingPasswordHasher : IPasswordHasher<UserState>
{
    private readonly PasswordHasher<UserState> _inner = new();
    private int _verifications, _hashes;

    public int Verifications => Volatile.Read(ref _verifications);
    public int Hashes => Volatile.Read(ref _hashes);

    public string HashPassword(UserState user, string password)
    {
        Interlocked.Increment(ref _hashes);
        return _inner.HashPassword(user, password);
    }

    public PasswordVerificationResult VerifyHashedPassword(UserState user, string hashedPassword, string providedPassword)
    {
        Interlocked.Increment(ref _verifications);
        return _inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
    }
}
