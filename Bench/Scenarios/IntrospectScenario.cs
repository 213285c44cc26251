using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Sessions.Bench.Scenarios;

/// <summary>A resource server asking about each user's access token in a closed loop, as backend client BENCH_CLIENT ("id:secret").</summary>
public sealed class IntrospectScenario : Scenario
{
    public override string Name => "introspect";

    public override string Arguments => "[--users N] [--seconds S] [--warmup S], with BENCH_CLIENT=id:secret";

    public override async Task RunAsync(Target target)
    {
        var options = target.Options;
        var client = Environment.GetEnvironmentVariable("BENCH_CLIENT") ?? throw new ArgumentException("introspect needs BENCH_CLIENT=id:secret, a client with scope introspect");
        var basic = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(client)));
        var sessions = await InParallelAsync(options.Users, vu => LoginNewUserAsync(target.Api(vu)));
        var result = await MeasureAsync(options, target.Meter, async (vu, recorder, stop) =>
        {
            var api = target.Api(vu);
            while (!stop.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                using var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/introspect")
                {
                    Headers = { Authorization = basic },
                    Content = new FormUrlEncodedContent([KeyValuePair.Create("token", sessions[vu].AccessToken)]),
                };
                using var response = await api.SendAsync(request, CancellationToken.None);
                var active = response.IsSuccessStatusCode && (await response.Content.ReadFromJsonAsync<JsonElement>(CancellationToken.None)).GetProperty("active").GetBoolean();
                // "600": answered, but inactive for a live session, which is a bug; counted among the errors.
                recorder.Record(started, active ? 200 : response.IsSuccessStatusCode ? 600 : (int)response.StatusCode);
            }
        });
        Report(options, result, "access tokens, each user's own; nothing is written");
    }
}
