using Microsoft.AspNetCore.Identity;

namespace Sessions.Grains;

/// <summary>
/// Runs password hashes one per core at a time, first come first served. Run all at once, a burst of logins
/// shares the cores until every one of them is late (64 at once took over the 5 s response timeout on a
/// fresh silo) and starves the thread pool the rest of the silo runs on; queued, they finish in turn.
/// </summary>
public sealed class PasswordHashing(IPasswordHasher<UserState> hasher) : IDisposable
{
    private readonly SemaphoreSlim _cores = new(Environment.ProcessorCount);

    public Task<string> HashAsync(UserState user, string password) =>
        RunAsync(() => hasher.HashPassword(user, password));

    public Task<PasswordVerificationResult> VerifyAsync(UserState user, string hash, string password) =>
        RunAsync(() => hasher.VerifyHashedPassword(user, hash, password));

    public void Dispose() => _cores.Dispose();

    private async Task<T> RunAsync<T>(Func<T> hash)
    {
        await _cores.WaitAsync();
        try
        {
            return hash();
        }
        finally
        {
            _cores.Release();
        }
    }
}
