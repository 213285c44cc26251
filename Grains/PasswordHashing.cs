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

public sealed class PasswordHashingOptionsValidator : IValidateOptions<PasswordHashingOptions>
{
    public ValidateOptionsResult Validate(string? name, PasswordHashingOptions o)
    {
        var errors = new List<string>();
        if (o.Concurrency < 1)
            errors.Add($"{PasswordHashingOptions.Section}:Concurrency must be at least 1 (it is {o.Concurrency}).");
        if (o.MaxQueue < 0)
            errors.Add($"{PasswordHashingOptions.Section}:MaxQueue must not be negative (it is {o.MaxQueue}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Which queue a hash waits in when every core is busy.</summary>
public enum HashingLane
{
    /// <summary>Logins without a known device, registrations.</summary>
    Normal,
    /// <summary>Logins from a known device and password changes of a signed-in session: served before any normal hash.</summary>
    Priority,
}

/// <summary>
/// Runs password hashes a few at a time, with a bounded queue per lane, the priority lane served first. Run all at
/// once, a burst of logins shares the cores until every one of them is late and starves the thread pool the rest of
/// the silo runs on; queued without bound, a flood keeps the silo hashing for callers that gave up long ago; in one
/// queue, a flood of strangers' guesses makes the owner's login wait behind all of them
/// (docs/http-api.md#known-devices-and-tighter-limits). So a full lane refuses at once, a hash whose caller's deadline
/// passed while it waited is dropped, and a known device's hash takes the next free core.
/// </summary>
public sealed class PasswordHashing(
    IPasswordHasher<UserState> hasher,
    IOptions<PasswordHashingOptions> options,
    SessionsInstruments instruments,
    [FromKeyedServices(SessionClock.Key)] TimeProvider time)
{
    private readonly int _maxQueue = options.Value.MaxQueue;
    private readonly Lock _lock = new();
    private readonly LinkedList<TaskCompletionSource<bool>> _priority = new(), _normal = new();
    private int _freeCores = options.Value.Concurrency;

    public Task<string> HashAsync(UserState user, string password, DateTimeOffset deadline, HashingLane lane = HashingLane.Normal) =>
        RunAsync(() => hasher.HashPassword(user, password), deadline, lane, verification: false);

    public Task<PasswordVerificationResult> VerifyAsync(UserState user, string hash, string password, DateTimeOffset deadline, HashingLane lane = HashingLane.Normal) =>
        RunAsync(() => hasher.VerifyHashedPassword(user, hash, password), deadline, lane, verification: true);

    private async Task<T> RunAsync<T>(Func<T> hash, DateTimeOffset deadline, HashingLane lane, bool verification)
    {
        if (!await EnterAsync(lane, deadline))
            throw new OverloadedException("The caller's deadline passed before a password hash could start.");
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            return hash();
        }
        finally
        {
            Release();
            instruments.PasswordHashed(started, verification);
        }
    }

    /// <summary>A core at once, or a place in the lane's queue until a core is handed over (true) or the deadline passes (false).</summary>
    private async Task<bool> EnterAsync(HashingLane lane, DateTimeOffset deadline)
    {
        var wait = deadline - time.GetUtcNow();
        if (wait <= TimeSpan.Zero)
            return false;
        var queue = lane == HashingLane.Priority ? _priority : _normal;
        LinkedListNode<TaskCompletionSource<bool>> waiter;
        lock (_lock)
        {
            if (_freeCores > 0)
            {
                _freeCores--;
                return true;
            }
            if (queue.Count >= _maxQueue)
                throw new OverloadedException("Too many password hashes are waiting; retry shortly.");
            waiter = queue.AddLast(new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        }
        if (wait < TimeSpan.FromHours(1))
        {
            using var expiry = new CancellationTokenSource(wait);
            await using var registration = expiry.Token.Register(() => GiveUp(queue, waiter));
            return await waiter.Value.Task;
        }
        return await waiter.Value.Task;
    }

    private void GiveUp(LinkedList<TaskCompletionSource<bool>> queue, LinkedListNode<TaskCompletionSource<bool>> waiter)
    {
        lock (_lock)
        {
            // Handed a core just before: that hash runs.
            if (waiter.List is null)
                return;
            queue.Remove(waiter);
        }
        waiter.Value.TrySetResult(false);
    }

    /// <summary>Hands the core to the first waiter of the priority lane, else of the normal one, else frees it.</summary>
    private void Release()
    {
        TaskCompletionSource<bool>? next;
        lock (_lock)
        {
            var queue = _priority.Count > 0 ? _priority : _normal.Count > 0 ? _normal : null;
            if (queue is null)
            {
                _freeCores++;
                return;
            }
            next = queue.First!.Value;
            queue.RemoveFirst();
        }
        next.TrySetResult(true);
    }
}
