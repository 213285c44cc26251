using Orleans.Core.Internal;
using Sessions.Grains;

namespace Sessions.Tests;

/// <summary>
/// docs/http-api.md#dpop-sender-constrained-tokens, at grain level: the session grain holds the bound key's thumbprint and decides binding and replay
/// alone, from the proof summaries the Api passes on (the Api's own checks are DpopApiTests').
/// </summary>
[Layer(Layer.Grains)]
[Collection(MemoryCluster.Name)]
public sealed class DpopSessionTests(MemoryClusterFixture fixture) : IDisposable
{
    private readonly IGrainFactory _grains = fixture.Grains;
    private readonly DpopKey _key = new();
    private readonly DpopKey _otherKey = new();

    public void Dispose()
    {
        _key.Dispose();
        _otherKey.Dispose();
    }

    private DateTimeOffset Now => fixture.Clock.GetUtcNow();

    private async Task<SessionGrant> BoundSessionAsync()
    {
        var index = await _grains.NewAccountAsync();
        var login = await index.LoginAsync(new LoginAttempt(TestSteps.Password, TestSteps.Client, TestSteps.NoDeadline, _key.Accepted(Now)));
        Assert.Equal(LoginStatus.Succeeded, login.Status);
        return login.Grant!;
    }

    private Task<RefreshResult> RefreshAsync(SessionGrant session, string refreshToken, DpopProof? proof) =>
        _grains.Session(session).RefreshAsync(new RefreshAttempt(refreshToken, TestSteps.Client, TestSteps.NoDeadline, proof));

    [Fact]
    public async Task A_login_with_a_proof_binds_the_session_to_its_key_for_every_grant()
    {
        var session = await BoundSessionAsync();

        var refreshed = await RefreshAsync(session, session.RefreshToken, _key.Accepted(Now));

        Assert.Equal(_key.Jkt, session.DpopJkt);
        Assert.Equal(RefreshStatus.Rotated, refreshed.Status);
        Assert.Equal(_key.Jkt, refreshed.Grant!.DpopJkt);
        var unbound = await _grains.NewSessionAsync();
        Assert.Null(unbound.DpopJkt);
    }

    [Fact]
    public async Task A_bound_session_refuses_a_refresh_without_a_proof_and_rotates_nothing()
    {
        var session = await BoundSessionAsync();

        var withoutProof = await RefreshAsync(session, session.RefreshToken, proof: null);

        Assert.Equal(RefreshStatus.InvalidProof, withoutProof.Status);
        Assert.Null(withoutProof.Grant);
        // Nothing rotated: the same token is still the current one.
        Assert.Equal(RefreshStatus.Rotated, (await RefreshAsync(session, session.RefreshToken, _key.Accepted(Now))).Status);
    }

    [Fact]
    public async Task A_proof_by_another_key_is_a_key_mismatch_that_revokes_nothing_and_is_logged()
    {
        var session = await BoundSessionAsync();

        var mismatch = await RefreshAsync(session, session.RefreshToken, _otherKey.Accepted(Now));

        Assert.Equal(RefreshStatus.KeyMismatch, mismatch.Status);
        var entry = Assert.Single(fixture.Logs.Named("dpop_key_mismatch"),
            e => e.Values.Any(v => v is { Key: "SessionId", Value: Guid id } && id == session.SessionId));
        Assert.Equal(1010, entry.EventId.Id);
        Assert.Contains(entry.Values, v => v is { Key: "UserId", Value: Guid id } && id == session.UserId);
        Assert.Contains(new KeyValuePair<string, object?>("PresentedJkt", _otherKey.Jkt), entry.Values);
        Assert.True(await _grains.Session(session).IsActiveAsync());
        Assert.Equal(RefreshStatus.Rotated, (await RefreshAsync(session, session.RefreshToken, _key.Accepted(Now))).Status);
    }

    [Fact]
    public async Task A_replayed_proof_is_refused_and_rotates_nothing()
    {
        var session = await BoundSessionAsync();
        var proof = _key.Accepted(Now);
        var first = await RefreshAsync(session, session.RefreshToken, proof);

        var replay = await RefreshAsync(session, first.Grant!.RefreshToken, proof);

        Assert.Equal(RefreshStatus.Rotated, first.Status);
        Assert.Equal(RefreshStatus.InvalidProof, replay.Status);
        Assert.Equal(RefreshStatus.Rotated, (await RefreshAsync(session, first.Grant.RefreshToken, _key.Accepted(Now))).Status);
    }

    [Fact]
    public async Task A_jti_is_remembered_while_its_proof_could_pass_the_api_and_no_longer()
    {
        var session = await BoundSessionAsync();
        var proof = _key.Accepted(Now); // replayable for 90 s
        Assert.Equal(AccessStatus.Active, await _grains.Session(session).CheckAccessAsync(new AccessCheck(proof)));

        fixture.Clock.Advance(TimeSpan.FromSeconds(89));
        Assert.Equal(AccessStatus.ProofRefused, await _grains.Session(session).CheckAccessAsync(new AccessCheck(proof)));

        // Past it the Api's iat check refuses the proof itself; the grain has forgotten the jti.
        fixture.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(AccessStatus.Active, await _grains.Session(session).CheckAccessAsync(new AccessCheck(_key.Accepted(Now, proof.Jti))));
    }

    [Fact]
    public async Task Access_checks_of_a_bound_session_take_each_proof_of_its_key_once_and_end_with_the_session()
    {
        var session = await BoundSessionAsync();
        var grain = _grains.Session(session);
        var proof = _key.Accepted(Now);

        Assert.Equal(AccessStatus.Active, await grain.CheckAccessAsync(new AccessCheck(proof)));
        Assert.Equal(AccessStatus.ProofRefused, await grain.CheckAccessAsync(new AccessCheck(proof)));
        Assert.Equal(AccessStatus.ProofRefused, await grain.CheckAccessAsync(new AccessCheck(_otherKey.Accepted(Now))));
        Assert.Equal(AccessStatus.Active, await grain.CheckAccessAsync(new AccessCheck(_key.Accepted(Now))));

        await grain.RevokeAsync(RevocationReason.RevokedByUser);
        Assert.Equal(AccessStatus.Ended, await grain.CheckAccessAsync(new AccessCheck(_key.Accepted(Now))));
    }

    [Fact]
    public async Task A_replay_after_the_grain_reactivates_is_accepted_the_documented_limit()
    {
        // The jtis live in the activation's memory only: a new activation (after a deactivation, or on another silo when
        // this one fails) does not know them, and takes a replay within the proof lifetime. docs/http-api.md#dpop-sender-constrained-tokens says so.
        var session = await BoundSessionAsync();
        var grain = _grains.Session(session);
        var proof = _key.Accepted(Now);
        Assert.Equal(AccessStatus.Active, await grain.CheckAccessAsync(new AccessCheck(proof)));
        Assert.Equal(AccessStatus.ProofRefused, await grain.CheckAccessAsync(new AccessCheck(proof)));

        await grain.AsReference<IGrainManagementExtension>().DeactivateOnIdle();
        var management = _grains.GetGrain<IManagementGrain>(0);
        for (var waited = 0; (await management.GetActiveGrains(GrainType.Create("session"))).Any(id => id.GetGuidKey() == session.SessionId); waited += 50)
        {
            Assert.True(waited < 10_000, "the session grain did not deactivate");
            await Task.Delay(50);
        }

        Assert.Equal(AccessStatus.Active, await grain.CheckAccessAsync(new AccessCheck(proof)));
        // The binding itself is stored: it survives the re-activation.
        Assert.Equal(AccessStatus.ProofRefused, await grain.CheckAccessAsync(new AccessCheck(_otherKey.Accepted(Now))));
    }

    [Fact]
    public async Task An_unbound_session_ignores_a_proof()
    {
        var session = await _grains.NewSessionAsync();

        var refreshed = await RefreshAsync(session, session.RefreshToken, _key.Accepted(Now));

        Assert.Equal(RefreshStatus.Rotated, refreshed.Status);
        Assert.Null(refreshed.Grant!.DpopJkt);
        Assert.Equal(LogoutStatus.LoggedOut, await _grains.Session(session).LogoutAsync(new LogoutAttempt(refreshed.Grant.RefreshToken, TestSteps.Client, _otherKey.Accepted(Now))));
        // A bound access token can only name a bound session.
        Assert.Equal(AccessStatus.Ended, await _grains.Session(session).CheckAccessAsync(new AccessCheck(_key.Accepted(Now))));
        Assert.Equal(AccessStatus.ProofRefused, await _grains.Session(await _grains.NewSessionAsync()).CheckAccessAsync(new AccessCheck(_key.Accepted(Now))));
    }

    [Fact]
    public async Task Logout_of_a_bound_session_wants_a_proof_by_its_key_and_revokes_nothing_without_one()
    {
        var session = await BoundSessionAsync();
        var grain = _grains.Session(session);

        Assert.Equal(LogoutStatus.InvalidProof, await grain.LogoutAsync(new LogoutAttempt(session.RefreshToken, TestSteps.Client)));
        Assert.Equal(LogoutStatus.KeyMismatch, await grain.LogoutAsync(new LogoutAttempt(session.RefreshToken, TestSteps.Client, _otherKey.Accepted(Now))));
        Assert.True(await grain.IsActiveAsync());

        Assert.Equal(LogoutStatus.LoggedOut, await grain.LogoutAsync(new LogoutAttempt(session.RefreshToken, TestSteps.Client, _key.Accepted(Now))));
        Assert.False(await grain.IsActiveAsync());
    }

    [Fact]
    public async Task A_login_proof_is_accepted_once_per_email_and_a_replay_opens_no_session()
    {
        var index = await _grains.NewAccountAsync();
        var proof = _key.Accepted(Now);

        var first = await index.LoginAsync(new LoginAttempt(TestSteps.Password, TestSteps.Client, TestSteps.NoDeadline, proof));
        var replay = await index.LoginAsync(new LoginAttempt(TestSteps.Password, TestSteps.Client, TestSteps.NoDeadline, proof));
        var unknownEmail = _grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor($"nobody-{Guid.NewGuid():N}@example.com"));
        var unknownFirst = await unknownEmail.LoginAsync(new LoginAttempt(TestSteps.Password, TestSteps.Client, TestSteps.NoDeadline, proof));
        var unknownReplay = await unknownEmail.LoginAsync(new LoginAttempt(TestSteps.Password, TestSteps.Client, TestSteps.NoDeadline, proof));

        Assert.Equal(LoginStatus.Succeeded, first.Status);
        Assert.Equal(LoginStatus.InvalidProof, replay.Status);
        Assert.Null(replay.Grant);
        Assert.Single(await _grains.GetGrain<IUserGrain>(first.Grant!.UserId).GetSessionsAsync());
        // Unknown emails answer alike: the proof is judged before the password.
        Assert.Equal(LoginStatus.InvalidCredentials, unknownFirst.Status);
        Assert.Equal(LoginStatus.InvalidProof, unknownReplay.Status);
    }

    [Fact]
    public void Recent_proofs_are_bounded_and_the_oldest_is_forgotten_first()
    {
        var proofs = new RecentProofs();
        var now = Now;
        var all = Enumerable.Range(0, RecentProofs.Capacity + 1).Select(_ => _key.Accepted(now)).ToList();

        Assert.All(all, p => Assert.True(proofs.TryAccept(p, now)));

        Assert.Equal(RecentProofs.Capacity, proofs.Count);
        Assert.False(proofs.TryAccept(all[^1], now));
        Assert.True(proofs.TryAccept(all[0], now)); // evicted: the bound's price, like a re-activation
        Assert.False(proofs.TryAccept(all[0], now));
    }
}
