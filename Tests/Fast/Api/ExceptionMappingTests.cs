using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sessions.Api;
using Sessions.Api.Cluster;
using Sessions.Api.Http;

namespace Sessions.Tests.Api;

/// <summary>A request its client aborted is the client's doing, not an outage: no Warning, no 503.</summary>
[Layer(Layer.Api)]
public sealed class ExceptionMappingTests : IDisposable
{
    private readonly CapturedLogs _logs = new(LogLevel.Debug);

    public void Dispose() => _logs.Dispose();

    [Fact]
    public async Task A_cancellation_by_the_client_is_logged_at_debug_and_gets_no_503()
    {
        using var aborted = new CancellationTokenSource();
        var http = Context(aborted.Token);
        await aborted.CancelAsync();

        Assert.True(await Mapping().TryHandleAsync(http, new TaskCanceledException(), CancellationToken.None));

        Assert.NotEqual(StatusCodes.Status503ServiceUnavailable, http.Response.StatusCode);
        var entry = Assert.Single(_logs.All);
        Assert.Equal(LogLevel.Debug, entry.Level);
        Assert.Contains("aborted by its client", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cancellation_while_the_client_waits_is_still_an_outage()
    {
        var http = Context(CancellationToken.None);

        Assert.True(await Mapping().TryHandleAsync(http, new TaskCanceledException(), CancellationToken.None));

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, http.Response.StatusCode);
        Assert.Equal(LogLevel.Warning, Assert.Single(_logs.All).Level);
    }

    private ExceptionMapping Mapping()
    {
        var connected = new ClusterConnection();
        connected.NotifyGatewayCountChanged(1, 0, connectionRecovered: false);
        return new ExceptionMapping(Options.Create(new ApiOptions()), connected, new LoggerFactory([_logs]).CreateLogger<ExceptionMapping>());
    }

    private static DefaultHttpContext Context(CancellationToken requestAborted) => new()
    {
        RequestAborted = requestAborted,
        RequestServices = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider(),
        Request = { Path = "/auth/refresh" },
    };
}
