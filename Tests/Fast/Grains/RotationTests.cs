
namespace Sessions.Tests;

/// <summary>docs/http-api.md#rotation-and-reuse-detection: one test per rule, on a TestCluster with memory storage.</summary>
[Layer(Layer.Grains)]
[Collection(MemoryCluster.Name)]
public sealed class RotationTests(MemoryClusterFixture fixture)
{
    private readonly IGrainFactory _grains = fixture.Grains;

    [Fact]
    public async Task Presenting_the_current_token_rotates_it_and_moves_the_idle_deadline()
    {
        var login = await _grains.NewSessionAsync();
        fixture.Clock.Advance(TimeSpan.FromHours(1));

        var result = await _grains.RefreshAsync(login.RefreshToken);

        Assert.Equal(RefreshStatus.Rotated, result.Status);
        Assert.NotEqual(login.RefreshToken, result.Grant!.RefreshToken);
        Assert.Equal(login.SessionId, result.Grant.SessionId);
        Assert.Equal(login.UserId, result.Grant.UserId);
        Assert.Equal(["user"], result.Grant.Roles.AsEnumerable());
        Assert.Equal(fixture.Clock.GetUtcNow() + ClusterFixture.IdleTimeout, result.Grant.RefreshTokenExpiresAt);
        Assert.Equal(RefreshStatus.Rotated, (await _grains.RefreshAsync(result.Grant.RefreshToken)).Status);
    }

    [Fact]
    public async Task A_chain_of_100_rotations_has_one_current_token_at_a_time()
    {
        var login = await _grains.NewSessionAsync();
        var tokens = new List<string> { login.RefreshToken };
        for (var i = 0; i < 100; i++)
            tokens.Add(await _grains.RotateAsync(tokens[^1]));

        Assert.Equal(tokens.Count, tokens.Distinct().Count());
        Assert.All(tokens, t => Assert.Equal(RefreshToken.TextLength, t.Length));
        // Only the newest rotates; the one before it is a replay of the newest, anything older is reuse.
        var replay = await _grains.RefreshAsync(tokens[^2]);
        Assert.Equal(RefreshStatus.Replayed, replay.Status);
        Assert.Equal(tokens[^1], replay.Grant!.RefreshToken);
        Assert.Equal(RefreshStatus.ReuseDetected, (await _grains.RefreshAsync(tokens[50])).Status);
    }

    [Fact]
    public async Task Retrying_the_previous_token_inside_the_grace_window_returns_the_same_successor()
    {
        var login = await _grains.NewSessionAsync();
        var first = await _grains.RefreshAsync(login.RefreshToken);
        fixture.Clock.Advance(ClusterFixture.GraceWindow - TimeSpan.FromMilliseconds(1));

        var retry = await _grains.RefreshAsync(login.RefreshToken);

        Assert.Equal(RefreshStatus.Replayed, retry.Status);
        Assert.Equal(first.Grant!.RefreshToken, retry.Grant!.RefreshToken);
        Assert.Equal(first.Grant.RefreshTokenExpiresAt, retry.Grant.RefreshTokenExpiresAt);
        // The retry did not log the client out: its successor is still the current token.
        Assert.Equal(RefreshStatus.Rotated, (await _grains.RefreshAsync(first.Grant.RefreshToken)).Status);
    }

    [Fact]
    public async Task Tokens_rotated_away_inside_the_window_arriving_out_of_order_all_get_the_current_token()
    {
        // Three tabs share one cookie: T0 -> T1 -> T2 -> T3 rotate a second apart, then the requests that
        // carried T0 and T1 arrive late. Both are answered with the current token, and nothing is revoked.
        var login = await _grains.NewSessionAsync();
        var t0 = login.RefreshToken;
        fixture.Clock.Advance(TimeSpan.FromSeconds(1));
        var t1 = await _grains.RotateAsync(t0);
        fixture.Clock.Advance(TimeSpan.FromSeconds(1));
        var t2 = await _grains.RotateAsync(t1);
        fixture.Clock.Advance(TimeSpan.FromSeconds(1));
        var t3 = await _grains.RotateAsync(t2);
        fixture.Clock.Advance(TimeSpan.FromSeconds(1));

        var lateT1 = await _grains.RefreshAsync(t1);
        var lateT0 = await _grains.RefreshAsync(t0);

        Assert.Equal((RefreshStatus.Replayed, t3), (lateT1.Status, lateT1.Grant!.RefreshToken));
        Assert.Equal((RefreshStatus.Replayed, t3), (lateT0.Status, lateT0.Grant!.RefreshToken));
        Assert.Equal(RefreshStatus.Rotated, (await _grains.RefreshAsync(t3)).Status);
    }

    [Fact]
    public async Task A_token_whose_rotation_is_older_than_the_window_is_reuse_even_when_later_ones_are_recent()
    {
        // T0 was rotated away 11 s ago, T1 only 1 s ago: the window counts from T0's own rotation.
        var login = await _grains.NewSessionAsync();
        var t1 = await _grains.RotateAsync(login.RefreshToken);
        fixture.Clock.Advance(ClusterFixture.GraceWindow);
        var t2 = await _grains.RotateAsync(t1);
        fixture.Clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(RefreshStatus.ReuseDetected, (await _grains.RefreshAsync(login.RefreshToken)).Status);
        Assert.Equal(RefreshStatus.Revoked, (await _grains.RefreshAsync(t2)).Status);
    }

    [Fact]
    public async Task The_previous_token_exactly_one_window_after_its_rotation_is_reuse()
    {
        var login = await _grains.NewSessionAsync();
        var current = await _grains.RotateAsync(login.RefreshToken);
        fixture.Clock.Advance(ClusterFixture.GraceWindow);

        Assert.Equal(RefreshStatus.ReuseDetected, (await _grains.RefreshAsync(login.RefreshToken)).Status);
        Assert.Equal(RefreshStatus.Revoked, (await _grains.RefreshAsync(current)).Status);
    }

    [Fact]
    public async Task Inside_the_window_a_token_8_rotations_old_gets_the_current_token_and_one_9_old_is_reuse()
    {
        var login = await _grains.NewSessionAsync();
        var tokens = new List<string> { login.RefreshToken };
        for (var i = 0; i < 9; i++)
            tokens.Add(await _grains.RotateAsync(tokens[^1]));

        var eightOld = await _grains.RefreshAsync(tokens[^9]);
        Assert.Equal((RefreshStatus.Replayed, tokens[^1]), (eightOld.Status, eightOld.Grant!.RefreshToken));

        Assert.Equal(RefreshStatus.ReuseDetected, (await _grains.RefreshAsync(tokens[^10])).Status);
        Assert.Equal(RefreshStatus.Revoked, (await _grains.RefreshAsync(tokens[^1])).Status);
    }

    [Fact]
    public async Task Reusing_a_rotated_token_after_the_grace_window_revokes_the_whole_family()
    {
        var login = await _grains.NewSessionAsync();
        var current = await _grains.RotateAsync(login.RefreshToken);
        fixture.Clock.Advance(ClusterFixture.GraceWindow + TimeSpan.FromMilliseconds(1));

        Assert.Equal(RefreshStatus.ReuseDetected, (await _grains.RefreshAsync(login.RefreshToken)).Status);

        // Every token of the family is dead from then on, the current one included.
        Assert.Equal(RefreshStatus.Revoked, (await _grains.RefreshAsync(current)).Status);
        Assert.Equal(RefreshStatus.Revoked, (await _grains.RefreshAsync(login.RefreshToken)).Status);
        Assert.Null(await _grains.Session(login).GetInfoAsync());
        Assert.False(await _grains.Session(login).IsActiveAsync());
    }

    [Fact]
    public async Task A_request_delivered_after_its_deadline_is_dropped_unjudged_and_revokes_nothing()
    {
        // Sent while its token was current, held up (a hung silo's buffers) past the caller's 503, delivered
        // after the client's retry rotated that token away and the grace window ran out.
        var login = await _grains.NewSessionAsync();
        var sentBy = fixture.Clock.GetUtcNow() + TimeSpan.FromSeconds(5);
        var current = await _grains.RotateAsync(login.RefreshToken);
        fixture.Clock.Advance(ClusterFixture.GraceWindow + TimeSpan.FromSeconds(1));

        var late = await _grains.Session(login).RefreshAsync(new RefreshAttempt(login.RefreshToken, TestSteps.Client, sentBy));

        Assert.Equal(RefreshStatus.Unavailable, late.Status);
        Assert.Equal(RefreshStatus.Rotated, (await _grains.RefreshAsync(current)).Status);
    }

    [Fact]
    public async Task Reuse_is_logged_as_a_security_event_with_the_session_and_user()
    {
        var login = await _grains.NewSessionAsync();
        await _grains.RotateAsync(login.RefreshToken);
        fixture.Clock.Advance(ClusterFixture.GraceWindow + TimeSpan.FromSeconds(1));

        await _grains.RefreshAsync(login.RefreshToken);

        var entry = Assert.Single(fixture.Logs.Named("refresh_token_reuse"),
            e => e.Values.Any(v => v is { Key: "SessionId", Value: Guid id } && id == login.SessionId));
        Assert.Contains(entry.Values, v => v is { Key: "UserId", Value: Guid id } && id == login.UserId);
        Assert.Contains(new KeyValuePair<string, object?>("IpAddress", TestSteps.Client.IpAddress), entry.Values);
        Assert.Contains(new KeyValuePair<string, object?>("UserAgent", TestSteps.Client.UserAgent), entry.Values);
    }

    [Fact]
    public async Task Fifty_concurrent_refreshes_with_one_token_yield_exactly_one_successor()
    {
        var login = await _grains.NewSessionAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => _grains.RefreshAsync(login.RefreshToken)));

        Assert.All(results, r => Assert.True(r.Succeeded, r.Status.ToString()));
        Assert.Single(results, r => r.Status == RefreshStatus.Rotated);
        var successor = Assert.Single(results.Select(r => r.Grant!.RefreshToken).Distinct());
        Assert.Equal(RefreshStatus.Rotated, (await _grains.RefreshAsync(successor)).Status);
    }

    [Fact]
    public async Task Tokens_naming_no_session_leave_no_session_loaded()
    {
        var forged = Enumerable.Range(0, 20).Select(_ =>
        {
            var signed = new byte[RefreshToken.SignedLength];
            RefreshToken.WriteSignedPart(signed, Guid.NewGuid(), 0);
            return RefreshToken.Format(signed, new byte[RefreshToken.MacLength]);
        }).ToArray();

        foreach (var token in forged)
        {
            Assert.Equal(RefreshStatus.Invalid, (await _grains.RefreshAsync(token)).Status);
            Assert.True(RefreshToken.TryParse(token, out var parsed));
            Assert.Equal(LogoutStatus.Invalid, await _grains.GetGrain<ISessionGrain>(parsed.SessionId).LogoutAsync(new LogoutAttempt(token, TestSteps.Client)));
        }

        var management = _grains.GetGrain<IManagementGrain>(0);
        var ids = forged.Select(t => RefreshToken.TryParse(t, out var p) ? p.SessionId : default).ToHashSet();
        for (var waited = 0; ; waited += 100)
        {
            var active = (await management.GetActiveGrains(GrainType.Create("session"))).Count(id => ids.Contains(id.GetGuidKey()));
            if (active == 0)
                break;
            Assert.True(waited < 10_000, $"{active} forged sessions still loaded");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task A_tampered_token_is_rejected_and_revokes_nothing()
    {
        var login = await _grains.NewSessionAsync();
        Assert.True(RefreshToken.TryParse(login.RefreshToken, out var token));
        var badMac = token.Mac.ToArray();
        badMac[0] ^= 1;

        string[] forgeries =
        [
            Forge(token.SessionId, token.Counter, badMac),   // bad MAC
            Forge(token.SessionId, token.Counter + 1, token.Mac.ToArray()), // next counter, old MAC
            Forge(token.SessionId, 0, new byte[32]),          // a MAC of zeros
        ];
        foreach (var forged in forgeries)
            Assert.Equal(RefreshStatus.Invalid, (await _grains.Session(login).RefreshAsync(new RefreshAttempt(forged, TestSteps.Client, TestSteps.NoDeadline))).Status);
        // The same MAC under another session id routes to a session that does not exist.
        Assert.Equal(RefreshStatus.Invalid, (await _grains.RefreshAsync(Forge(Guid.NewGuid(), 0, token.Mac.ToArray()))).Status);
        // A token for another session, sent to this one, does not verify here either.
        var other = await _grains.NewSessionAsync();
        Assert.Equal(RefreshStatus.Invalid, (await _grains.Session(login).RefreshAsync(new RefreshAttempt(other.RefreshToken, TestSteps.Client, TestSteps.NoDeadline))).Status);
        // Malformed text never gets as far as a MAC check.
        foreach (var junk in new[] { "", "x", new string('A', RefreshToken.TextLength), login.RefreshToken[..^1] + "*" })
            Assert.Equal(RefreshStatus.Invalid, (await _grains.Session(login).RefreshAsync(new RefreshAttempt(junk, TestSteps.Client, TestSteps.NoDeadline))).Status);
        Assert.Equal(LogoutStatus.Invalid, await _grains.Session(login).LogoutAsync(new LogoutAttempt(forgeries[0], TestSteps.Client)));

        // Nothing was revoked or rotated: the genuine token is still the current one.
        Assert.Equal(RefreshStatus.Rotated, (await _grains.RefreshAsync(login.RefreshToken)).Status);
    }

    [Fact]
    public async Task An_idle_session_expires_after_the_idle_timeout()
    {
        var login = await _grains.NewSessionAsync();
        var current = await _grains.RotateAsync(login.RefreshToken);
        fixture.Clock.Advance(ClusterFixture.IdleTimeout - TimeSpan.FromSeconds(1));
        current = await _grains.RotateAsync(current); // the refresh moved the idle deadline

        fixture.Clock.Advance(ClusterFixture.IdleTimeout);

        Assert.Equal(RefreshStatus.Expired, (await _grains.RefreshAsync(current)).Status);
        Assert.Null(await _grains.Session(login).GetInfoAsync());
    }

    [Fact]
    public async Task The_absolute_lifetime_ends_a_session_that_is_refreshed_all_the_time()
    {
        var login = await _grains.NewSessionAsync();
        var absoluteDeadline = fixture.Clock.GetUtcNow() + ClusterFixture.AbsoluteLifetime;
        var current = login.RefreshToken;
        DateTimeOffset expiresAt;
        do
        {
            fixture.Clock.Advance(TimeSpan.FromHours(20));
            var result = await _grains.RefreshAsync(current);
            Assert.Equal(RefreshStatus.Rotated, result.Status);
            current = result.Grant!.RefreshToken;
            expiresAt = result.Grant.RefreshTokenExpiresAt;
            Assert.True(expiresAt <= absoluteDeadline); // the idle deadline never moves past the absolute one
        } while (expiresAt < absoluteDeadline);

        fixture.Clock.Advance(absoluteDeadline - fixture.Clock.GetUtcNow());

        Assert.Equal(RefreshStatus.Expired, (await _grains.RefreshAsync(current)).Status);
    }

    [Fact]
    public async Task Logout_revokes_the_session_and_is_idempotent()
    {
        var login = await _grains.NewSessionAsync();
        var current = await _grains.RotateAsync(login.RefreshToken);

        Assert.Equal(LogoutStatus.LoggedOut, await _grains.Session(login).LogoutAsync(new LogoutAttempt(current, TestSteps.Client)));
        Assert.Equal(LogoutStatus.LoggedOut, await _grains.Session(login).LogoutAsync(new LogoutAttempt(current, TestSteps.Client)));

        Assert.Equal(RefreshStatus.Revoked, (await _grains.RefreshAsync(current)).Status);
        Assert.Null(await _grains.Session(login).GetInfoAsync());
    }

    private static string Forge(Guid sessionId, long counter, byte[] mac)
    {
        Span<byte> signed = stackalloc byte[RefreshToken.SignedLength];
        RefreshToken.WriteSignedPart(signed, sessionId, counter);
        return RefreshToken.Format(signed, mac);
    }
}
