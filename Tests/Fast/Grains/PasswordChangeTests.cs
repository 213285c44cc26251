
namespace Sessions.Tests;

/// <summary>
/// POST /auth/password in the grains (docs/http-api.md#change-password; ASVS 5.0 §7.4.3: other sessions end when a
/// credential changes): the email index's failed-login limits, the user grain's change and revocations, and
/// logins on another device racing the change. Memory storage and a fake clock.
/// </summary>
[Layer(Layer.Grains)]
[Collection(MemoryCluster.Name)]
public sealed class PasswordChangeTests(MemoryClusterFixture fixture)
{
    private const string NewPassword = "a brand new passphrase";
    private static readonly ClientInfo Laptop = new("laptop", "192.0.2.10");
    private static readonly ClientInfo Phone = new("phone", "192.0.2.20");
    private readonly IGrainFactory _grains = fixture.Grains;

    private static string NewEmail() => $"user-{Guid.NewGuid():N}@example.com";

    private IEmailIndexGrain Email(string email) => _grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(email));

    private async Task<SessionGrant> LoginAsync(string email, ClientInfo client, string password = TestSteps.Password)
    {
        var login = await Email(email).LoginAsync(password, client);
        Assert.Equal(LoginStatus.Succeeded, login.Status);
        return login.Grant!;
    }

    /// <summary>The change as the Api sends it for the session of <paramref name="caller"/>.</summary>
    private Task<PasswordChangeResult> ChangeAsync(SessionGrant caller, string current, string next, ClientInfo? client = null) =>
        Email(caller.Email).ChangePasswordAsync(new PasswordChange(current, next, caller.UserId, caller.SessionId, client ?? Laptop, TestSteps.NoDeadline));

    private Task<bool> IsActiveAsync(SessionGrant grant) => _grains.Session(grant).IsActiveAsync();

    [Fact]
    public async Task A_change_keeps_the_callers_session_and_revokes_every_other_one_with_reason_password_changed()
    {
        var email = NewEmail();
        await Email(email).RegisterAsync(TestSteps.Registration());
        var laptop = await LoginAsync(email, Laptop);
        var phone = await LoginAsync(email, Phone);
        var tablet = await LoginAsync(email, new ClientInfo("tablet", "192.0.2.30"));
        var tabletRotated = await _grains.RotateAsync(tablet.RefreshToken);

        var result = await ChangeAsync(laptop, TestSteps.Password, NewPassword);

        Assert.Equal(new PasswordChangeResult(PasswordChangeStatus.Changed), result);
        Assert.True(await IsActiveAsync(laptop));
        Assert.Equal(RefreshStatus.Rotated, (await _grains.RefreshAsync(laptop.RefreshToken)).Status);
        foreach (var (other, token) in new[] { (phone, phone.RefreshToken), (tablet, tabletRotated) })
        {
            Assert.False(await IsActiveAsync(other));
            Assert.Equal(RefreshStatus.Revoked, (await _grains.RefreshAsync(token)).Status);
            Assert.Contains(fixture.Logs.Named("session_revoked"), e =>
                e.Values.Contains(new("SessionId", other.SessionId)) && e.Values.Contains(new("Reason", RevocationReason.PasswordChanged)));
        }
        Assert.Contains(fixture.Logs.Named("password_changed"), e =>
            e.Values.Contains(new("UserId", laptop.UserId)) && e.Values.Contains(new("SessionId", laptop.SessionId)) && e.Values.Contains(new("Count", 2)));
        // The old password no longer logs in, the new one does, and only the surviving sessions are listed.
        Assert.Equal(LoginStatus.InvalidCredentials, (await Email(email).LoginAsync(TestSteps.Password, Phone)).Status);
        var again = await LoginAsync(email, Phone, NewPassword);
        var listed = await _grains.GetGrain<IUserGrain>(laptop.UserId).GetSessionsAsync();
        Assert.Equal(new[] { laptop.SessionId, again.SessionId }.Order(), listed.Select(s => s.SessionId).Order());
    }

    [Fact]
    public async Task A_wrong_current_password_changes_nothing_and_counts_against_the_session_and_its_address()
    {
        var email = NewEmail();
        await Email(email).RegisterAsync(TestSteps.Registration());
        var laptop = await LoginAsync(email, Laptop);
        var phone = await LoginAsync(email, Phone);
        var verificationsBefore = fixture.Passwords.Verifications;

        for (var i = 0; i < ClusterFixture.MaxFailedLogins; i++)
            Assert.Equal(new PasswordChangeResult(PasswordChangeStatus.InvalidCredentials), await ChangeAsync(laptop, "wrong password", NewPassword));

        // The session's own failures hold its changes back, right password or not; they count as failed logins of
        // its address too, so a login from there waits as well.
        var change = await ChangeAsync(laptop, TestSteps.Password, NewPassword);
        var login = await Email(email).LoginAsync(TestSteps.Password, Laptop);
        Assert.Equal(PasswordChangeStatus.TooManyAttempts, change.Status);
        Assert.Equal(LoginStatus.TooManyAttempts, login.Status);
        Assert.Equal(login.RetryAfter, change.RetryAfter);
        Assert.NotNull(change.RetryAfter);
        // Each wrong password cost one verification, as a failed login does, and a held-back request none.
        Assert.Equal(ClusterFixture.MaxFailedLogins, fixture.Passwords.Verifications - verificationsBefore);
        Assert.True(await IsActiveAsync(phone));
        Assert.Equal(LoginStatus.Succeeded, (await Email(email).LoginAsync(TestSteps.Password, Phone)).Status);
        Assert.Contains(fixture.Logs.Named("login_failed"), e => e.Values.Contains(new("UserId", (Guid?)laptop.UserId)));
    }

    [Fact]
    public async Task Strangers_guessing_from_everywhere_never_hold_back_the_change_of_a_signed_in_session()
    {
        var email = NewEmail();
        await Email(email).RegisterAsync(TestSteps.Registration());
        var laptop = await LoginAsync(email, Laptop);
        var phoneSession = await LoginAsync(email, Phone);
        for (var i = 0; i < ClusterFixture.MaxFailedLoginsPerAccount; i++)
            await Email(email).LoginAsync("guess", new ClientInfo("bot", $"198.51.100.{i + 1}"));
        // The account-wide ceiling holds: a login without a device token from a fresh address waits.
        Assert.Equal(LoginStatus.TooManyAttempts, (await Email(email).LoginAsync(TestSteps.Password, new ClientInfo("new", "203.0.113.9"))).Status);
        // Another session's failures do not hold this one back either.
        for (var i = 0; i < ClusterFixture.MaxFailedLogins; i++)
            await ChangeAsync(phoneSession, "wrong password", NewPassword);

        Assert.Equal(new PasswordChangeResult(PasswordChangeStatus.Changed), await ChangeAsync(laptop, TestSteps.Password, NewPassword));
    }

    [Fact]
    public async Task A_change_clears_the_earlier_failures_of_its_address_as_a_login_does()
    {
        var email = NewEmail();
        await Email(email).RegisterAsync(TestSteps.Registration());
        var laptop = await LoginAsync(email, Laptop);
        for (var i = 0; i < ClusterFixture.MaxFailedLogins - 1; i++)
            await Email(email).LoginAsync("wrong password", Laptop);

        Assert.Equal(PasswordChangeStatus.Changed, (await ChangeAsync(laptop, TestSteps.Password, NewPassword)).Status);
        for (var i = 0; i < ClusterFixture.MaxFailedLogins - 1; i++)
            await Email(email).LoginAsync("wrong password", Laptop);

        Assert.Equal(LoginStatus.Succeeded, (await Email(email).LoginAsync(NewPassword, Laptop)).Status);
    }

    [Fact]
    public async Task The_same_request_again_from_the_same_session_is_answered_as_done_and_from_another_session_it_is_wrong()
    {
        var email = NewEmail();
        await Email(email).RegisterAsync(TestSteps.Registration());
        var laptop = await LoginAsync(email, Laptop);
        Assert.Equal(PasswordChangeStatus.Changed, (await ChangeAsync(laptop, TestSteps.Password, NewPassword)).Status);
        var phone = await LoginAsync(email, Phone, NewPassword);

        // A client whose answer was lost sends the same body: its current password is now the old one.
        Assert.Equal(PasswordChangeStatus.Changed, (await ChangeAsync(laptop, TestSteps.Password, NewPassword)).Status);
        // That is the same change, not a new one: the session opened since with the new password stays.
        Assert.True(await IsActiveAsync(phone));
        Assert.Equal(PasswordChangeStatus.InvalidCredentials, (await ChangeAsync(phone, TestSteps.Password, NewPassword)).Status);
        Assert.Equal(PasswordChangeStatus.InvalidCredentials, (await ChangeAsync(laptop, TestSteps.Password, "yet another passphrase")).Status);
        fixture.Clock.Advance(ClusterFixture.FailedLoginWindow);
        Assert.Equal(PasswordChangeStatus.InvalidCredentials, (await ChangeAsync(laptop, TestSteps.Password, NewPassword)).Status);
        Assert.Equal(LoginStatus.Succeeded, (await Email(email).LoginAsync(NewPassword, Phone)).Status);
    }

    [Fact]
    public async Task A_second_change_needs_the_password_of_the_first_and_revokes_what_was_opened_in_between()
    {
        var email = NewEmail();
        await Email(email).RegisterAsync(TestSteps.Registration());
        var laptop = await LoginAsync(email, Laptop);
        await ChangeAsync(laptop, TestSteps.Password, NewPassword);
        var phone = await LoginAsync(email, Phone, NewPassword);

        Assert.Equal(PasswordChangeStatus.Changed, (await ChangeAsync(phone, NewPassword, "the third passphrase")).Status);

        Assert.True(await IsActiveAsync(phone));
        Assert.False(await IsActiveAsync(laptop));
        Assert.Equal(LoginStatus.Succeeded, (await Email(email).LoginAsync("the third passphrase", Phone)).Status);
    }

    [Fact]
    public async Task A_session_start_delivered_after_its_logins_deadline_opens_no_session()
    {
        // A start held in a hung silo's buffers past the login's deadline: the user grain gave up on it, and a
        // password change since found nothing to revoke under that id. It must not open a session now.
        var session = _grains.GetGrain<ISessionGrain>(Guid.NewGuid());
        var late = new SessionStart(Guid.NewGuid(), NewEmail(), ["user"], "late", "192.0.2.99", fixture.Clock.GetUtcNow() - TimeSpan.FromMilliseconds(1));

        await Assert.ThrowsAsync<OverloadedException>(() => session.StartAsync(late));

        Assert.False(await session.IsActiveAsync());
        Assert.Null(await session.GetInfoAsync());
    }

    [Fact]
    public async Task Logins_racing_a_change_never_leave_a_session_opened_with_the_old_password_alive()
    {
        for (var round = 0; round < 12; round++)
        {
            var email = NewEmail();
            await Email(email).RegisterAsync(TestSteps.Registration());
            var laptop = await LoginAsync(email, Laptop);
            var phone = await LoginAsync(email, Phone);
            var user = _grains.GetGrain<IUserGrain>(laptop.UserId);

            // Logins on other devices with the old password and the change, all at once, in an order that moves
            // with the round, and a refresh of an open session. The logins sent before the change go straight to
            // the user grain, so they are in flight there when the change arrives (a change that could interleave
            // with them would miss their sessions); those after it go through the email index, as the Api sends
            // them, or straight, by round. Within the session limit (5), and fewer failures than the account-wide
            // limit, so nothing else revokes a session or holds a login back.
            var logins = new List<Task<LoginResult>>();
            Task<PasswordChangeResult>? change = null;
            Task<RefreshResult>? refresh = null;
            for (var i = 0; i <= 3; i++)
            {
                if (i == round % 4)
                {
                    change = ChangeAsync(laptop, TestSteps.Password, NewPassword);
                    refresh = _grains.RefreshAsync(phone.RefreshToken);
                }
                if (i == 3)
                    break;
                var device = new ClientInfo($"device {i}", $"203.0.113.{i + 1}");
                logins.Add(change is not null && (i + round) % 2 == 0
                    ? Email(email).LoginAsync(TestSteps.Password, device)
                    : user.LoginAsync(new LoginAttempt(TestSteps.Password, device, TestSteps.NoDeadline)));
            }
            Assert.Equal(PasswordChangeStatus.Changed, (await change!).Status);
            await refresh!;
            var results = await Task.WhenAll(logins);

            // After the answer: each login either met the new password or opened a session that is now revoked.
            foreach (var result in results)
            {
                Assert.True(result.Status is LoginStatus.Succeeded or LoginStatus.InvalidCredentials, $"round {round}: {result.Status}");
                if (result.Grant is { } grant)
                {
                    Assert.False(await IsActiveAsync(grant), $"round {round}: a session opened with the old password is alive");
                    Assert.Equal(RefreshStatus.Revoked, (await _grains.RefreshAsync(grant.RefreshToken)).Status);
                }
            }
            Assert.False(await IsActiveAsync(phone));
            Assert.True(await IsActiveAsync(laptop));
            Assert.Equal(LoginStatus.InvalidCredentials, (await Email(email).LoginAsync(TestSteps.Password, Phone)).Status);
            Assert.Equal([laptop.SessionId], (await user.GetSessionsAsync()).Select(s => s.SessionId));
        }
    }
}
