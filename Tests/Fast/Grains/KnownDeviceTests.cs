
namespace Sessions.Tests;

/// <summary>
/// docs/http-api.md#known-devices-and-tighter-limits at grain level: a login from a known device is judged by that
/// device's own failures only, so strangers' guessing spread over many addresses, which holds the account-wide
/// ceiling, never locks the owner out; and work for callers that left is not done.
/// </summary>
[Layer(Layer.Grains)]
[Collection(MemoryCluster.Name)]
public sealed class KnownDeviceTests(MemoryClusterFixture fixture)
{
    private static readonly ClientInfo Owner = new("owner's laptop", "192.0.2.10");
    private readonly IGrainFactory _grains = fixture.Grains;

    private IEmailIndexGrain Email(string email) => _grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(email));
    private static string NewEmail() => $"user-{Guid.NewGuid():N}@example.com";

    private static Task<LoginResult> LoginAsync(IEmailIndexGrain index, string password, ClientInfo client, string? deviceToken = null) =>
        index.LoginAsync(new LoginAttempt(password, client, TestSteps.NoDeadline, DeviceToken: deviceToken));

    private static async Task GuessFromEverywhereAsync(IEmailIndexGrain index)
    {
        for (var i = 0; i < ClusterFixture.MaxFailedLoginsPerAccount; i++)
            Assert.Equal(LoginStatus.InvalidCredentials, (await LoginAsync(index, "guess", new ClientInfo("bot", $"198.51.100.{i + 1}"))).Status);
    }

    [Fact]
    public async Task A_login_gives_a_device_token_and_the_same_device_keeps_its_token()
    {
        var index = await _grains.NewAccountAsync(NewEmail());

        var first = await LoginAsync(index, TestSteps.Password, Owner);
        var again = await LoginAsync(index, TestSteps.Password, Owner, first.DeviceToken);
        var elsewhere = await LoginAsync(index, TestSteps.Password, Owner);

        Assert.NotNull(first.DeviceToken);
        Assert.Equal(first.DeviceToken, again.DeviceToken);
        Assert.NotEqual(first.DeviceToken, elsewhere.DeviceToken);
        Assert.DoesNotContain(first.DeviceToken, first.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Strangers_guessing_from_many_addresses_lock_out_strangers_but_never_the_owners_device()
    {
        var index = await _grains.NewAccountAsync(NewEmail());
        var device = (await LoginAsync(index, TestSteps.Password, Owner)).DeviceToken;

        await GuessFromEverywhereAsync(index);

        // The ceiling holds for every address, the owner's own one too, without the device token.
        Assert.Equal(LoginStatus.TooManyAttempts, (await LoginAsync(index, TestSteps.Password, new ClientInfo("new", "203.0.113.1"))).Status);
        Assert.Equal(LoginStatus.TooManyAttempts, (await LoginAsync(index, TestSteps.Password, Owner)).Status);
        // With it, from anywhere, the owner signs in.
        Assert.Equal(LoginStatus.Succeeded, (await LoginAsync(index, TestSteps.Password, new ClientInfo("café wifi", "203.0.113.2"), device)).Status);
    }

    [Fact]
    public async Task A_known_device_is_held_back_by_its_own_failures()
    {
        var index = await _grains.NewAccountAsync(NewEmail());
        var device = (await LoginAsync(index, TestSteps.Password, Owner)).DeviceToken;

        for (var i = 0; i < ClusterFixture.MaxFailedLogins; i++)
            Assert.Equal(LoginStatus.InvalidCredentials, (await LoginAsync(index, "typo", Owner, device)).Status);

        var held = await LoginAsync(index, TestSteps.Password, Owner, device);
        Assert.Equal(LoginStatus.TooManyAttempts, held.Status);
        Assert.NotNull(held.RetryAfter);
        // Its failures are its own: the address, without the device token, may still try.
        Assert.Equal(LoginStatus.Succeeded, (await LoginAsync(index, TestSteps.Password, Owner)).Status);
        fixture.Clock.Advance(ClusterFixture.FailedLoginWindow);
        Assert.Equal(LoginStatus.Succeeded, (await LoginAsync(index, TestSteps.Password, Owner, device)).Status);
    }

    [Fact]
    public async Task A_device_token_of_another_account_or_a_forged_one_counts_as_none()
    {
        var victim = await _grains.NewAccountAsync(NewEmail());
        var attacker = await _grains.NewAccountAsync(NewEmail());
        var attackersDevice = (await LoginAsync(attacker, TestSteps.Password, Owner)).DeviceToken!;
        var victimsDevice = (await LoginAsync(victim, TestSteps.Password, Owner)).DeviceToken!;
        await GuessFromEverywhereAsync(victim);

        var forged = victimsDevice[..^2] + (victimsDevice[^2] == 'A' ? "B" : "A") + victimsDevice[^1];
        Assert.Equal(LoginStatus.TooManyAttempts, (await LoginAsync(victim, TestSteps.Password, Owner, attackersDevice)).Status);
        Assert.Equal(LoginStatus.TooManyAttempts, (await LoginAsync(victim, TestSteps.Password, Owner, forged)).Status);
        Assert.Equal(LoginStatus.TooManyAttempts, (await LoginAsync(victim, TestSteps.Password, Owner, "not a token")).Status);
        Assert.Equal(LoginStatus.Succeeded, (await LoginAsync(victim, TestSteps.Password, Owner, victimsDevice)).Status);
    }

    [Fact]
    public async Task A_registration_past_its_deadline_hashes_and_stores_nothing()
    {
        var email = NewEmail();
        var hashesBefore = fixture.Passwords.Hashes;

        await Assert.ThrowsAsync<OverloadedException>(() =>
            Email(email).RegisterAsync(new RegistrationAttempt(TestSteps.Password, fixture.Clock.GetUtcNow() - TimeSpan.FromSeconds(1))));

        Assert.Equal(hashesBefore, fixture.Passwords.Hashes);
        Assert.Equal(LoginStatus.InvalidCredentials, (await Email(email).LoginAsync(TestSteps.Password, Owner)).Status);
        Assert.True((await Email(email).RegisterAsync(TestSteps.Registration())).Registered);
    }

    [Fact]
    public async Task A_login_of_an_unknown_email_answered_at_once_leaves_no_grain_loaded()
    {
        var index = Email(NewEmail());
        var management = _grains.GetGrain<IManagementGrain>(0);

        // Its caller has already gone: answered 503 at once, nothing counted.
        await Assert.ThrowsAsync<OverloadedException>(() =>
            index.LoginAsync(new LoginAttempt(TestSteps.Password, Owner, fixture.Clock.GetUtcNow() - TimeSpan.FromSeconds(1))));
        Assert.Contains(index.GetGrainId(), await management.GetActiveGrains(GrainType.Create("email")));

        for (var waited = 0; (await management.GetActiveGrains(GrainType.Create("email"))).Contains(index.GetGrainId()); waited += 100)
        {
            Assert.True(waited < 15_000, "the email's grain stayed loaded");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task A_counted_failure_keeps_the_count_loaded_for_the_lockout_rule()
    {
        var index = Email(NewEmail());
        for (var i = 0; i < ClusterFixture.MaxFailedLogins; i++)
            await index.LoginAsync("guess", Owner);

        await Task.Delay(TimeSpan.FromSeconds(6)); // past the idle check

        Assert.Equal(LoginStatus.TooManyAttempts, (await index.LoginAsync(TestSteps.Password, Owner)).Status);
    }
}
