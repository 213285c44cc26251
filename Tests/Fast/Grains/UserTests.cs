
namespace Sessions.Tests;

[Layer(Layer.Grains)]
[Collection(MemoryCluster.Name)]
public sealed class UserTests(MemoryClusterFixture fixture)
{
    private static readonly ClientInfo Client = new("xunit", "127.0.0.1");
    private readonly IGrainFactory _grains = fixture.Grains;

    private IEmailIndexGrain Email(string email) => _grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(email));
    private static string NewEmail() => $"user-{Guid.NewGuid():N}@example.com";

    [Fact]
    public async Task An_email_can_be_registered_once_whatever_its_case()
    {
        var email = NewEmail();
        var first = await Email(email).RegisterAsync(TestSteps.Registration());
        var again = await Email(email.ToUpperInvariant()).RegisterAsync(TestSteps.Registration("another password"));

        Assert.True(first.Registered);
        Assert.False(again.Registered);
        Assert.Equal(first.UserId, again.UserId);
        // The second registration changed nothing: the first password still logs in.
        Assert.Equal(LoginStatus.Succeeded, (await Email(email).LoginAsync(TestSteps.Password, Client)).Status);
        Assert.Equal(LoginStatus.InvalidCredentials, (await Email(email).LoginAsync("another password", Client)).Status);
    }

    [Fact]
    public async Task Concurrent_registrations_of_one_email_create_exactly_one_user()
    {
        var email = NewEmail();

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Email(email).RegisterAsync(TestSteps.Registration())));

        Assert.Single(results, r => r.Registered);
        Assert.Single(results.Select(r => r.UserId).Distinct());
    }

    [Theory]
    [InlineData("short")]
    [InlineData("")]
    public async Task A_password_that_breaks_the_rules_is_refused(string password) =>
        await Assert.ThrowsAsync<ArgumentException>(() => Email(NewEmail()).RegisterAsync(TestSteps.Registration(password)));

    [Fact]
    public async Task Unknown_email_and_wrong_password_answer_alike()
    {
        var email = NewEmail();
        await Email(email).RegisterAsync(TestSteps.Registration());

        var before = fixture.Passwords.Verifications;
        var wrongPassword = await Email(email).LoginAsync("wrong password", Client);
        var afterWrongPassword = fixture.Passwords.Verifications;
        var unknownEmail = await Email(NewEmail()).LoginAsync(TestSteps.Password, Client);

        Assert.Equal(new LoginResult(LoginStatus.InvalidCredentials), wrongPassword);
        Assert.Equal(wrongPassword, unknownEmail);
        // The same hashing work either way, so timing does not tell which emails are registered.
        Assert.Equal(1, afterWrongPassword - before);
        Assert.Equal(1, fixture.Passwords.Verifications - afterWrongPassword);
    }

    [Fact]
    public async Task Too_many_failed_logins_from_one_address_hold_it_back_even_for_the_right_password_until_the_window_passes()
    {
        var email = NewEmail();
        await Email(email).RegisterAsync(TestSteps.Registration());
        for (var i = 0; i < ClusterFixture.MaxFailedLogins; i++)
        {
            Assert.Equal(LoginStatus.InvalidCredentials, (await Email(email).LoginAsync("wrong password", Client)).Status);
            fixture.Clock.Advance(TimeSpan.FromMinutes(1));
        }

        var locked = await Email(email).LoginAsync(TestSteps.Password, Client);

        Assert.Equal(LoginStatus.TooManyAttempts, locked.Status);
        Assert.Null(locked.Grant);
        // The first failure was 3 minutes ago: it leaves the 15-minute window in 12.
        Assert.Equal(ClusterFixture.FailedLoginWindow - TimeSpan.FromMinutes(ClusterFixture.MaxFailedLogins), locked.RetryAfter);

        fixture.Clock.Advance(locked.RetryAfter!.Value - TimeSpan.FromSeconds(1));
        Assert.Equal(LoginStatus.TooManyAttempts, (await Email(email).LoginAsync(TestSteps.Password, Client)).Status);
        fixture.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(LoginStatus.Succeeded, (await Email(email).LoginAsync(TestSteps.Password, Client)).Status);
    }

    [Fact]
    public async Task A_stranger_failing_from_another_address_does_not_lock_the_owner_out()
    {
        var email = NewEmail();
        await Email(email).RegisterAsync(TestSteps.Registration());
        var stranger = new ClientInfo("curl", "203.0.113.66");
        for (var i = 0; i < ClusterFixture.MaxFailedLogins; i++)
            await Email(email).LoginAsync("guess " + i, stranger);

        Assert.Equal(LoginStatus.TooManyAttempts, (await Email(email).LoginAsync(TestSteps.Password, stranger)).Status);
        Assert.Equal(LoginStatus.Succeeded, (await Email(email).LoginAsync(TestSteps.Password, Client)).Status);
    }

    [Fact]
    public async Task Failures_spread_over_many_addresses_past_the_account_limit_hold_back_every_address()
    {
        var email = NewEmail();
        await Email(email).RegisterAsync(TestSteps.Registration());
        for (var i = 0; i < ClusterFixture.MaxFailedLoginsPerAccount; i++)
            await Email(email).LoginAsync("guess", new ClientInfo("bot", $"198.51.100.{i + 1}"));

        var owner = await Email(email).LoginAsync(TestSteps.Password, new ClientInfo("laptop", "192.0.2.200"));

        Assert.Equal(LoginStatus.TooManyAttempts, owner.Status);
        Assert.Equal(ClusterFixture.FailedLoginWindow, owner.RetryAfter);
    }

    [Fact]
    public async Task An_unknown_email_is_limited_exactly_like_a_known_one()
    {
        var known = NewEmail();
        await Email(known).RegisterAsync(TestSteps.Registration());
        var unknown = NewEmail();

        var answers = new List<(LoginResult Known, LoginResult Unknown)>();
        for (var i = 0; i <= ClusterFixture.MaxFailedLogins; i++)
        {
            answers.Add((await Email(known).LoginAsync("wrong password", Client), await Email(unknown).LoginAsync("wrong password", Client)));
            fixture.Clock.Advance(TimeSpan.FromSeconds(10));
        }

        Assert.All(answers, a => Assert.Equal(a.Known, a.Unknown));
        Assert.Equal(LoginStatus.TooManyAttempts, answers[^1].Unknown.Status);
    }

    [Fact]
    public async Task A_successful_login_clears_the_earlier_failures_of_its_address()
    {
        var email = NewEmail();
        await Email(email).RegisterAsync(TestSteps.Registration());
        for (var i = 0; i < ClusterFixture.MaxFailedLogins - 1; i++)
            await Email(email).LoginAsync("wrong password", Client);
        Assert.Equal(LoginStatus.Succeeded, (await Email(email).LoginAsync(TestSteps.Password, Client)).Status);

        for (var i = 0; i < ClusterFixture.MaxFailedLogins - 1; i++)
            await Email(email).LoginAsync("wrong password", Client);

        Assert.Equal(LoginStatus.Succeeded, (await Email(email).LoginAsync(TestSteps.Password, Client)).Status);
    }

    [Fact]
    public async Task A_login_beyond_the_session_limit_revokes_the_least_recently_refreshed_session_first()
    {
        var email = NewEmail();
        await Email(email).RegisterAsync(TestSteps.Registration());
        var grants = new List<SessionGrant>();
        for (var i = 0; i < ClusterFixture.MaxActiveSessions; i++)
        {
            grants.Add((await Email(email).LoginAsync(TestSteps.Password, Client)).Grant!);
            fixture.Clock.Advance(TimeSpan.FromMinutes(1));
        }
        // The oldest session is refreshed, so the second oldest is now the least recently refreshed.
        var oldestRotated = await _grains.RotateAsync(grants[0].RefreshToken);

        var newest = (await Email(email).LoginAsync(TestSteps.Password, Client)).Grant!;

        var listed = (await _grains.GetGrain<IUserGrain>(newest.UserId).GetSessionsAsync()).Select(s => s.SessionId).ToHashSet();
        Assert.Equal(ClusterFixture.MaxActiveSessions, listed.Count);
        Assert.DoesNotContain(grants[1].SessionId, listed);
        Assert.Contains(newest.SessionId, listed);
        Assert.Equal(RefreshStatus.Revoked, (await _grains.RefreshAsync(grants[1].RefreshToken)).Status);
        Assert.Equal(RefreshStatus.Rotated, (await _grains.RefreshAsync(oldestRotated)).Status);
        Assert.Contains(fixture.Logs.Named("session_revoked"), e =>
            e.Values.Contains(new("SessionId", grants[1].SessionId)) && e.Values.Contains(new("Reason", RevocationReason.SessionLimit)));
    }

    [Fact]
    public async Task The_session_list_shows_each_active_session_with_its_device()
    {
        var email = NewEmail();
        await Email(email).RegisterAsync(TestSteps.Registration());
        var phone = (await Email(email).LoginAsync(TestSteps.Password, new ClientInfo("phone", "10.0.0.1"))).Grant!;
        fixture.Clock.Advance(TimeSpan.FromMinutes(5));
        var laptop = (await Email(email).LoginAsync(TestSteps.Password, new ClientInfo("laptop", "10.0.0.2"))).Grant!;

        var sessions = await _grains.GetGrain<IUserGrain>(phone.UserId).GetSessionsAsync();

        Assert.Equal([laptop.SessionId, phone.SessionId], sessions.Select(s => s.SessionId));
        var listed = sessions[1];
        Assert.Equal(("phone", "10.0.0.1"), (listed.UserAgent, listed.IpAddress));
        Assert.Equal(listed.CreatedAt, listed.LastRefreshedAt);
        Assert.Equal(phone.RefreshTokenExpiresAt, listed.ExpiresAt);
    }

    [Fact]
    public async Task Revoking_one_session_leaves_the_others_alone()
    {
        var email = NewEmail();
        await Email(email).RegisterAsync(TestSteps.Registration());
        var first = (await Email(email).LoginAsync(TestSteps.Password, Client)).Grant!;
        var second = (await Email(email).LoginAsync(TestSteps.Password, Client)).Grant!;
        var user = _grains.GetGrain<IUserGrain>(first.UserId);

        Assert.True(await user.RevokeSessionAsync(new SessionRevocation(first.SessionId, RevocationReason.RevokedByUser)));

        Assert.Equal(RefreshStatus.Revoked, (await _grains.RefreshAsync(first.RefreshToken)).Status);
        Assert.Equal(RefreshStatus.Rotated, (await _grains.RefreshAsync(second.RefreshToken)).Status);
        Assert.Equal([second.SessionId], (await user.GetSessionsAsync()).Select(s => s.SessionId));
    }

    [Fact]
    public async Task A_user_cannot_revoke_a_session_of_another_user()
    {
        var mine = await _grains.NewSessionAsync();
        var theirs = await _grains.NewSessionAsync();

        Assert.False(await _grains.GetGrain<IUserGrain>(mine.UserId).RevokeSessionAsync(new SessionRevocation(theirs.SessionId, RevocationReason.RevokedByUser)));
        Assert.Equal(RefreshStatus.Rotated, (await _grains.RefreshAsync(theirs.RefreshToken)).Status);
    }

#pragma warning disable CS0618 // the 0.3 calls, which a cluster upgrading from 0.3 still makes
    [Fact]
    public async Task The_0_3_calls_with_plain_arguments_still_verify_and_revoke()
    {
        var email = NewEmail();
        await Email(email).RegisterAsync(TestSteps.Registration());
        var grants = new List<SessionGrant>();
        for (var i = 0; i < 3; i++)
            grants.Add((await Email(email).LoginAsync(TestSteps.Password, Client)).Grant!);
        var user = _grains.GetGrain<IUserGrain>(grants[0].UserId);

        Assert.True(await user.VerifyPasswordAsync(TestSteps.Password, TestSteps.NoDeadline));
        Assert.False(await user.VerifyPasswordAsync("another password", TestSteps.NoDeadline));
        Assert.True(await user.RevokeSessionAsync(grants[0].SessionId));
        Assert.True(await user.RevokeSessionAsync(grants[1].SessionId, RevocationReason.RevokedByAdmin));
        Assert.Equal(1, await user.RevokeAllSessionsAsync(RevocationReason.RevokedByAdmin));
        Assert.Equal(0, await user.RevokeAllSessionsAsync());

        foreach (var grant in grants)
            Assert.Equal(RefreshStatus.Revoked, (await _grains.RefreshAsync(grant.RefreshToken)).Status);
    }
#pragma warning restore CS0618

    [Fact]
    public async Task Revoking_all_sessions_kills_every_token_of_every_family()
    {
        var email = NewEmail();
        await Email(email).RegisterAsync(TestSteps.Registration());
        var grants = new List<SessionGrant>();
        for (var i = 0; i < 3; i++)
            grants.Add((await Email(email).LoginAsync(TestSteps.Password, Client)).Grant!);
        var rotated = await _grains.RotateAsync(grants[0].RefreshToken);
        var other = await _grains.NewSessionAsync();
        var user = _grains.GetGrain<IUserGrain>(grants[0].UserId);

        Assert.Equal(3, await user.RevokeAllSessionsAsync(new AllSessionsRevocation(RevocationReason.LogoutAll)));

        foreach (var token in grants.Select(g => g.RefreshToken).Append(rotated))
            Assert.False((await _grains.RefreshAsync(token)).Succeeded);
        Assert.Empty(await user.GetSessionsAsync());
        Assert.Equal(RefreshStatus.Rotated, (await _grains.RefreshAsync(other.RefreshToken)).Status);
        foreach (var grant in grants)
            Assert.Contains(fixture.Logs.Named("session_revoked"), e =>
                e.Values.Contains(new("SessionId", grant.SessionId)) && e.Values.Contains(new("Reason", RevocationReason.LogoutAll)));
    }

    [Fact]
    public async Task Sessions_that_ended_leave_the_list()
    {
        var login = await _grains.NewSessionAsync();
        var user = _grains.GetGrain<IUserGrain>(login.UserId);
        Assert.Single(await user.GetSessionsAsync());

        fixture.Clock.Advance(ClusterFixture.IdleTimeout);

        Assert.Empty(await user.GetSessionsAsync());
    }
}
