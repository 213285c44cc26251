using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Sessions.Grains;

namespace Sessions.Tests.Fixtures;

/// <summary>
/// The production hasher, counting how often a password is hashed and checked. It runs PBKDF2 at a hundredth of the
/// production iteration count: what these tests check is who hashes when, and at 100,000 iterations the hashes alone
/// kept a loaded two-core machine busy for most of the fast lane. The count is in each hash, so any hasher verifies it.
/// </summary>
public sealed class CountingPasswordHasher : IPasswordHasher<UserState>
{
    private readonly PasswordHasher<UserState> _inner = new(Options.Create(new PasswordHasherOptions { IterationCount = 1_000 }));
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
