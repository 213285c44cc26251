using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Sessions.Api;

/// <summary>
/// Every instrument the Api adds to the "Sessions" meter, in one place. The outcomes of refreshes, logins and
/// revocations are counted by the silos, where they are decided; ASP.NET Core's own meters count HTTP answers.
/// </summary>
public sealed class ApiInstruments
{
    private readonly Histogram<double> _tokenIssueDuration;
    private readonly Counter<long> _adminActions;
    private readonly Counter<long> _mails;

    public ApiInstruments(IMeterFactory meters)
    {
        var meter = meters.Create(SessionsMeter.Name);
        _tokenIssueDuration = meter.CreateHistogram<double>("sessions.access_token.issue.duration", "s", "Time to build and sign one access token.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01] });
        _mails = meter.CreateCounter<long>("sessions.mail", "{mail}", "Mails by kind and outcome: sent, retried, failed, dropped, none_due.");
        _adminActions = meter.CreateCounter<long>("sessions.admin.actions", "{action}", "Changes made through the admin API, by action.");
    }

    public void Mail(string kind, string outcome) =>
        _mails.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("outcome", outcome));

    public void AdminAction(string action) => _adminActions.Add(1, new KeyValuePair<string, object?>("action", action));

    public void AccessTokenIssued(long startTimestamp) => _tokenIssueDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds);
}
