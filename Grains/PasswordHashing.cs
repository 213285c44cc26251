using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Sessions.Grains;

/// <summary>The "PasswordHashing" section, beside ASP.NET Core Identity's own PasswordHasherOptions (IterationCount).</summary>
public sealed class PasswordHashingOptions
{
    public const string Section = "PasswordHashing";

    /// <summary>Hashes run at once; more would only share the cores until all are late.</summary>
    public int Concurrency { get; set; } = Environment.ProcessorCount;
    /// <summary>Hashes that may wait for a core; beyond that a login or registration is refused at once (503).</summary>
    public int MaxQueue { get; set; } = 128;
}

/// <summary>
/// Runs password hashes a few at a time, first come first served, with a bounded queue. Run all at once, a
/// burst of logins shares the cores until every one of them is late and starves the thread pool the rest of
/// the silo runs on; queued without bound, a flood keeps the silo hashing for callers that gave up long ago.
/// So a full queue refuses at once, and a hash whose caller's deadline passed while it waited is dropped.
/// </summary>
public sealed class PasswordHashing(
    IPasswordHasher<UserState> hasher,
    IOptions<PasswordHashingOptions> options,
    SessionsInstruments instruments,
    [FromKeyedServices(SessionClock.Key)] TimeProvider time) : IDisposable
{
    private readonly SemaphoreSlim _cores = new(options.Value.Concurrency);
    private readonly int _maxQueue = options.Value.MaxQueue;
    private int _waiting;

    public Task<string> HashAsync(UserState user, string password, DateTimeOffset deadline) =>
        RunAsync(() => hasher.HashPassword(user, password), deadline, verification: false);

    public Task<PasswordVerificationResult> VerifyAsync(UserState user, string hash, string password, DateTimeOffset deadline) =>
        RunAsync(() => hasher.VerifyHashedPassword(user, hash, password), deadline, verification: true);

    public void Dispose() => _cores.Dispose();

    private async Task<T> RunAsync<T>(Func<T> hash, DateTimeOffset deadline, bool verification)
    {
        if (Interlocked.Increment(ref _waiting) > _maxQueue)
        {
            Interlocked.Decrement(ref _waiting);
            throw new OverloadedException("Too many password hashes are waiting; retry shortly.");
        }
        bool entered;
        try
        {
            var wait = deadline - time.GetUtcNow();
            entered = wait > TimeSpan.Zero && await _cores.WaitAsync(wait < TimeSpan.FromHours(1) ? wait : Timeout.InfiniteTimeSpan);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
        if (!entered)
            throw new OverloadedException("The caller's deadline passed before a password hash could start.");
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            return hash();
        }
        finally
        {
            _cores.Release();
            instruments.PasswordHashed(started, verification);
        }
    }
}
