using Microsoft.AspNetCore.Identity;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sessions.Grains;

namespace Sessions.Tests;

[Layer(Layer.Unit)]
public sealed class PasswordHashingTests
{
    [Fact]
    public async Task A_burst_of_hashes_runs_one_per_core_at_a_time_and_every_one_completes()
    {
        var cores = Environment.ProcessorCount;
        using var hasher = new GatedHasher();
        var hashing = Hashing(hasher, Options.Create(new PasswordHashingOptions { Concurrency = cores }));

        // Callers on threads of their own, so only the limit can hold them back.
        var callers = Enumerable.Range(0, 3 * cores).Select(_ =>
        {
            var done = new TaskCompletionSource<string>();
            new Thread(() => done.SetResult(hashing.HashAsync(new UserState(), "password", DateTimeOffset.MaxValue).GetAwaiter().GetResult())).Start();
            return done.Task;
        }).ToList();
        await hasher.WaitUntilInsideAsync(cores);
        await Task.Delay(200); // room for any caller the limit failed to hold back
        Assert.Equal(cores, hasher.Inside);

        hasher.Open();
        Assert.All(await Task.WhenAll(callers), hash => Assert.Equal("hash", hash));
        Assert.Equal(cores, hasher.MostInside);
    }

    [Fact]
    public async Task A_full_queue_refuses_a_hash_at_once()
    {
        using var hasher = new GatedHasher();
        var hashing = Hashing(hasher, Options.Create(new PasswordHashingOptions { Concurrency = 1, MaxQueue = 1 }));
        var running = Task.Run(() => hashing.HashAsync(new UserState(), "running", DateTimeOffset.MaxValue));
        await hasher.WaitUntilInsideAsync(1);
        var queued = hashing.HashAsync(new UserState(), "queued", DateTimeOffset.MaxValue);

        var refused = hashing.HashAsync(new UserState(), "refused", DateTimeOffset.MaxValue);

        Assert.True(refused.IsCompleted, "a full queue must answer at once");
        await Assert.ThrowsAsync<OverloadedException>(() => refused);
        hasher.Open();
        Assert.Equal("hash", await running);
        Assert.Equal("hash", await queued);
        Assert.Equal(2, hasher.Started);
    }

    [Fact]
    public async Task A_hash_whose_caller_gave_up_while_it_waited_never_runs()
    {
        using var hasher = new GatedHasher();
        var hashing = Hashing(hasher, Options.Create(new PasswordHashingOptions { Concurrency = 1 }));
        var running = Task.Run(() => hashing.HashAsync(new UserState(), "running", DateTimeOffset.MaxValue));
        await hasher.WaitUntilInsideAsync(1);

        var late = hashing.HashAsync(new UserState(), "late", DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAsync<OverloadedException>(() => late);
        hasher.Open();
        await running;
        Assert.Equal(1, hasher.Started);
    }

    [Fact]
    public async Task A_known_device_hash_takes_the_next_free_core_and_is_not_refused_for_a_full_normal_queue()
    {
        using var hasher = new GatedHasher();
        var hashing = Hashing(hasher, Options.Create(new PasswordHashingOptions { Concurrency = 1, MaxQueue = 2 }));
        var running = Task.Run(() => hashing.HashAsync(new UserState(), "running", DateTimeOffset.MaxValue));
        await hasher.WaitUntilInsideAsync(1);
        var strangers = new[] { hashing.HashAsync(new UserState(), "stranger 1", DateTimeOffset.MaxValue), hashing.HashAsync(new UserState(), "stranger 2", DateTimeOffset.MaxValue) };
        await Assert.ThrowsAsync<OverloadedException>(() => hashing.HashAsync(new UserState(), "stranger 3", DateTimeOffset.MaxValue));

        var owner = hashing.HashAsync(new UserState(), "owner", DateTimeOffset.MaxValue, HashingLane.Priority);
        hasher.Open();

        await Task.WhenAll([running, owner, .. strangers]);
        Assert.Equal(["running", "owner", "stranger 1", "stranger 2"], hasher.Order);
    }

    private static PasswordHashing Hashing(IPasswordHasher<UserState> hasher, IOptions<PasswordHashingOptions> options) =>
        new(hasher, options, new SessionsInstruments(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>()),
            TimeProvider.System);

    private sealed class GatedHasher : IPasswordHasher<UserState>, IDisposable
    {
        private readonly ManualResetEventSlim _gate = new();
        private int _inside, _mostInside, _started;
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _order = new();

        /// <summary>The passwords in the order their hashes started.</summary>
        public string[] Order => [.. _order];

        public int Inside => Volatile.Read(ref _inside);
        public int Started => Volatile.Read(ref _started);
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
            Interlocked.Increment(ref _started);
            _order.Enqueue(password);
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
