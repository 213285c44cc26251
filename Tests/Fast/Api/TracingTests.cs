using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Sessions.Grains;
using Sessions.Hosting;
using Sessions.Storage;

namespace Sessions.Tests.Api;

/// <summary>The Api on a TestCluster whose grain state is in PostgreSQL, so a refresh's trace reaches the database.</summary>
public sealed class PostgresApiFixture : ApiFixture
{
    public PostgresDatabase Database { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        Database = await PostgresDatabase.CreateAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Database.DisposeAsync();
    }

    protected override void ConfigureStorage(ISiloBuilder silo)
    {
        silo.AddSessionsStorage(StorageNames.Grains, Database.ConnectionString);
        silo.Services.AddStorageExceptionSerialization();
    }
}

/// <summary>One trace (docs/operations.md#exporters) from the HTTP request through the grain call to the SQL statement, and no secret in it.</summary>
[Layer(Layer.Api)]
public sealed class TracingTests(PostgresApiFixture fixture) : IClassFixture<PostgresApiFixture>
{
    [Fact]
    public async Task A_refresh_is_one_trace_of_linked_http_grain_and_database_spans_without_any_secret()
    {
        var client = fixture.Client();
        var login = await client.LoginAsync("body");
        var spans = new ConcurrentBag<Activity>();
        var traceId = ActivityTraceId.CreateRandom();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Microsoft.AspNetCore" or "Npgsql" || source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
                options.TraceId == traceId ? ActivitySamplingResult.AllDataAndRecorded : ActivitySamplingResult.None,
            ActivityStopped = activity =>
            {
                if (activity.TraceId == traceId)
                    spans.Add(activity);
            },
        };
        ActivitySource.AddActivityListener(listener);

        var request = new HttpRequestMessage(HttpMethod.Post, "/auth/refresh") { Content = System.Net.Http.Json.JsonContent.Create(new { refreshToken = login.RefreshToken }) };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var rotated = (await response.JsonAsync()).GetProperty("refreshToken").GetString()!;

        var http = await EventuallyAsync(() => spans.FirstOrDefault(s => s.Source.Name == "Microsoft.AspNetCore"));
        var database = await EventuallyAsync(() => spans.FirstOrDefault(s => s.Source.Name == "Npgsql"));
        var grain = spans.Where(s => s.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(grain);
        // The statement's ancestry runs through a grain call up to the HTTP request.
        var ancestry = Ancestry(database, spans).ToList();
        Assert.Contains(ancestry, s => s.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal));
        Assert.Equal(http.SpanId, ancestry[^1].SpanId);

        foreach (var span in spans)
            foreach (var (key, value) in span.TagObjects)
                foreach (var secret in new[] { login.RefreshToken, rotated, login.AccessToken, TestSteps.Password })
                    Assert.DoesNotContain(secret, value?.ToString() ?? "", StringComparison.Ordinal);
    }

    private static IEnumerable<Activity> Ancestry(Activity span, IReadOnlyCollection<Activity> spans)
    {
        for (var parent = spans.FirstOrDefault(s => s.SpanId == span.ParentSpanId); parent is not null;
             parent = spans.FirstOrDefault(s => s.SpanId == parent.ParentSpanId))
            yield return parent;
    }

    private static async Task<T> EventuallyAsync<T>(Func<T?> find) where T : class
    {
        for (var waited = 0; ; waited += 50)
        {
            if (find() is { } found)
                return found;
            Assert.True(waited < 5000, "the span never ended");
            await Task.Delay(50);
        }
    }
}
