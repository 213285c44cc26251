using Microsoft.AspNetCore.Identity;
using Sessions.Grains;

namespace Sessions.Tests.Infrastructure;

/// <summary>The production hasher, counting how often a password is checked.</summary>
public sealed class CountingPasswordHasher : IPasswordHasher<UserState>
{
    private readonly PasswordHasher<UserState> _inner = new();
    private int _verifications;

    public int Verifications => Volatile.Read(ref _verifications);

    public string HashPassword(UserState user, string password) => _inner.HashPassword(user, password);

    public PasswordVerificationResult VerifyHashedPassword(UserState user, string hashedPassword, string providedPassword)
    {
        Interlocked.Increment(ref _verifications);
        return _inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
    }
}
