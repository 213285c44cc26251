using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Sessions.Grains;

/// <summary>
/// Every instrument the grains add to the "Sessions" meter, with its names and tags, in one place (grain storage's
/// are in Sessions.Storage.StorageInstruments). Tags take a few fixed values only: never a user, session or address.
/// </summary>
public sealed class SessionsInstruments
{
    private readonly Counter<long> _refreshes;
    private readonly Histogram<double> _refreshDuration;
    private readonly Counter<long> _logins;
    private readonly Counter<long> _passwordChanges;
    private readonly Counter<long> _registrations;
    private readonly Counter<long> _logouts;
    private readonly Counter<long> _revocations;
    private readonly UpDownCounter<long> _sessionActivations;
    private readonly Histogram<double> _passwordHashDuration;
    private readonly Counter<long> _storageFailures;

    public SessionsInstruments(IMeterFactory meters)
    {
        var meter = meters.Create(SessionsMeter.Name);
        _refreshes = meter.CreateCounter<long>("sessions.refreshes", "{refresh}", "Refresh tokens presented to session grains, by outcome.");
        _refreshDuration = meter.CreateHistogram<double>("sessions.refresh.duration", "s", "Time a session grain takes to judge a refresh, its storage write included.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        _logins = meter.CreateCounter<long>("sessions.logins", "{login}", "Login attempts, by outcome.");
        _passwordChanges = meter.CreateCounter<long>("sessions.password_changes", "{change}", "Password changes (POST /auth/password), by outcome.");
        _registrations = meter.CreateCounter<long>("sessions.registrations", "{registration}", "Registrations, by outcome.");
        _logouts = meter.CreateCounter<long>("sessions.logouts", "{logout}", "Logouts with a refresh token, by outcome.");
        _revocations = meter.CreateCounter<long>("sessions.revocations", "{session}", "Sessions revoked, by reason.");
        _sessionActivations = meter.CreateUpDownCounter<long>("sessions.session.activations", "{activation}", "Session grains active on this silo.");
        _passwordHashDuration = meter.CreateHistogram<double>("sessions.password_hash.duration", "s", "Time of one password hash or verification, queueing excluded.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] });
        _storageFailures = meter.CreateCounter<long>("sessions.storage.failures", "{failure}", "Grain state reads and writes that failed, by state.");
    }

    public void Refreshed(RefreshStatus outcome, long startTimestamp)
    {
        var tag = new KeyValuePair<string, object?>("outcome", Outcome(outcome));
        _refreshes.Add(1, tag);
        _refreshDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tag);
    }

    /// <summary>A refresh that arrived after the Api stopped waiting for it, dropped unjudged.</summary>
    public void RefreshLate() => _refreshes.Add(1, new KeyValuePair<string, object?>("outcome", "late"));

    public void LoggedIn(LoginStatus outcome) => _logins.Add(1, new KeyValuePair<string, object?>("outcome", outcome switch
    {
        LoginStatus.Succeeded => "succeeded",
        LoginStatus.InvalidCredentials => "invalid_credentials",
        LoginStatus.InvalidProof => "invalid_dpop_proof",
        LoginStatus.AccountDisabled => "account_disabled",
        _ => "throttled",
    }));

    /// <summary>A login refused because hashing is saturated or its caller gave up.</summary>
    public void LoginOverloaded() => _logins.Add(1, new KeyValuePair<string, object?>("outcome", "overloaded"));

    public void PasswordChangeAnswered(PasswordChangeStatus outcome) => _passwordChanges.Add(1, new KeyValuePair<string, object?>("outcome", outcome switch
    {
        PasswordChangeStatus.Changed => "changed",
        PasswordChangeStatus.InvalidCredentials => "invalid_credentials",
        _ => "throttled",
    }));

    public void Registered(bool registered) =>
        _registrations.Add(1, new KeyValuePair<string, object?>("outcome", registered ? "registered" : "email_taken"));

    public void LoggedOut(LogoutStatus outcome) => _logouts.Add(1, new KeyValuePair<string, object?>("outcome", outcome switch
    {
        LogoutStatus.LoggedOut => "verified",
        LogoutStatus.InvalidProof => "invalid_dpop_proof",
        LogoutStatus.KeyMismatch => "dpop_key_mismatch",
        _ => "invalid",
    }));

    public void Revoked(RevocationReason reason) => _revocations.Add(1, new KeyValuePair<string, object?>("reason", reason switch
    {
        RevocationReason.Logout => "logout",
        RevocationReason.RevokedByUser => "revoked_by_user",
        RevocationReason.LogoutAll => "logout_all",
        RevocationReason.RefreshTokenReuse => "refresh_token_reuse",
        RevocationReason.SessionLimit => "session_limit",
        RevocationReason.PasswordChanged => "password_changed",
        RevocationReason.RevokedByClient => "revoked_by_client",
        RevocationReason.RevokedByAdmin => "revoked_by_admin",
        RevocationReason.UserDisabled => "user_disabled",
        RevocationReason.UserDeleted => "user_deleted",
        RevocationReason.PasswordReset => "password_reset",
        _ => "other",
    }));

    public void SessionActivated() => _sessionActivations.Add(1);

    public void SessionDeactivated() => _sessionActivations.Add(-1);

    public void PasswordHashed(long startTimestamp, bool verification) =>
        _passwordHashDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds,
            new KeyValuePair<string, object?>("operation", verification ? "verify" : "hash"));

    public void StorageFailed(string state) => _storageFailures.Add(1, new KeyValuePair<string, object?>("state", state));

    private static string Outcome(RefreshStatus status) => status switch
    {
        RefreshStatus.Rotated => "rotated",
        RefreshStatus.Replayed => "replayed",
        RefreshStatus.ReuseDetected => "reuse_detected",
        RefreshStatus.Invalid => "invalid",
        RefreshStatus.Expired => "expired",
        RefreshStatus.Revoked => "revoked",
        RefreshStatus.InvalidProof => "invalid_dpop_proof",
        RefreshStatus.KeyMismatch => "dpop_key_mismatch",
        _ => "unavailable",
    };
}
