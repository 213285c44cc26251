using Microsoft.AspNetCore.Identity;
using Sessions.Grains;

namespace Sessions.Tests;

public sealed class PasswordHashingTests
{
    [Fact]
    public async Task A_burst_of_hashes_runs_one_per_core_at_a_time_and_every_one_completes()
    {
        var cores = Environment.ProcessorCount;
        using var hasher = new GatedHasher();
        var hashing = new PasswordHashing(hasher);

        // Callers on threads of their own, so only the limit can hold them back.
        var callers = Enumerable.Range(0, 3 * cores).Select(_ =>
        {
            var done = new TaskCompletionSource<string>();
            new Thread(() => done.SetResult(hashing.HashAsync(new UserState(), "password").GetAwaiter().GetResult())).Start();
            return done.Task;
        }).ToList();
        await hasher.WaitUntilInsideAsync(cores);
        await Task.Delay(200); // room for any caller the limit failed to hold back
        Assert.Equal(cores, hasher.Inside);

        hasher.Open();
        Assert.All(await Task.WhenAll(callers), hash => Assert.Equal("hash", hash));
        Assert.Equal(cores, hasher.MostInside);
    }

    private sealed class GatedHasher : IPasswordHasher<UserState>, IDisposable
    {
        private readonly ManualResetEventSlim _gate = new();
        private int _inside, _mostInside;

        public int Inside => Volatile.Read(ref _inside);
        public int MostInside => Volatile.Read(ref _mostInside);

        public void Open() => _gate.Set();

        public void Dispose() => _gate.Dispose();

        public async Task WaitUntilInsideAsync(int count)
        {
            for (var waited = 0; Inside < count; waited += 10)
            {
                Assert.True(waited < 10_000, $"only {Inside} of {count} hashes started");
                await Task.Delay(10);
            }
        }

        public string HashPassword(UserState user, string password)
        {
            var inside = Interlocked.Increment(ref _inside);
            InterlockedMax(ref _mostInside, inside);
            _gate.Wait();
            Interlocked.Decrement(ref _inside);
            return "hash";
        }

        public PasswordVerificationResult VerifyHashedPassword(UserState user, string hashedPassword, string providedPassword) =>
            throw new NotSupportedException();

        private static void InterlockedMax(ref int target, int value)
        {
            for (var seen = Volatile.Read(ref target); value > seen; seen = Volatile.Read(ref target))
                if (Interlocked.CompareExchange(ref target, value, seen) == seen)
                    return;
        }
    }
}
