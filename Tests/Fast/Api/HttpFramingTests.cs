using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sessions.Api.Keys;

namespace Sessions.Tests.Api;

/// <summary>
/// docs/http-api.md#bodies: malformed HTTP framing is the client's fault, a 400 or
/// a closed connection, never a 500, and never logged as a server error. TestServer does not parse
/// framing, so these tests send raw bytes to the real Api on a real Kestrel loopback port.
/// </summary>
[Layer(Layer.Api)]
[Collection(ApiCluster.Name)]
public sealed class HttpFramingTests(ApiFixture fixture) : IAsyncLifetime
{
    private const string Json = """{"email":"a@example.com","password":"long enough"}""";

    private WebApplicationFactory<Program> _factory = null!;
    private Uri _address = null!;
    private int _logsAtStart;

    private CapturedLogs Logs => _factory.Services.GetRequiredService<CapturedLogs>();

    public async Task InitializeAsync()
    {
        _factory = fixture.CreateFactory(configure: web => web.ConfigureServices(services =>
        {
            services.AddSingleton(_ => new CapturedLogs(LogLevel.Debug));
            services.AddSingleton<ILoggerProvider>(provider => provider.GetRequiredService<CapturedLogs>());
            // Past the app's own filters ("Microsoft.AspNetCore": "Warning"), so we see all that is written and when a request ends.
            services.Configure<LoggerFilterOptions>(filters => filters.AddFilter<CapturedLogs>(null, LogLevel.Debug));
        }));
        // Not UseKestrel(0): on a factory made by WithWebHostBuilder the port is lost (the base factory builds the host).
        _factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        _factory.StartServer();
        _address = new Uri(_factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        // Start-up may log warnings of its own (the key ring read before the cluster answers); only our requests count.
        await _factory.Services.GetRequiredService<SigningKeys>().RefreshAsync();
        _logsAtStart = Logs.All.Count;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Theory]
    [InlineData("/auth/register")]
    [InlineData("/auth/login")]
    [InlineData("/auth/refresh")]
    [InlineData("/auth/logout")]
    public async Task A_chunk_size_too_large_to_parse_is_400_or_a_closed_connection_and_no_server_error(string path)
    {
        var answer = await ExchangeAsync(Head(path, "Transfer-Encoding: chunked") + "fffffffff\r\n" + Json + "\r\n0\r\n\r\n");

        AssertClientError(answer);
        await AssertNoServerErrorLoggedAsync(path);
    }

    [Theory]
    [InlineData("/auth/login")]
    [InlineData("/auth/refresh")]
    public async Task A_chunk_size_that_is_not_hex_is_400_or_a_closed_connection_and_no_server_error(string path)
    {
        var answer = await ExchangeAsync(Head(path, "Transfer-Encoding: chunked") + "zz\r\n" + Json + "\r\n0\r\n\r\n");

        AssertClientError(answer);
        await AssertNoServerErrorLoggedAsync(path);
    }

    [Theory]
    [InlineData("/auth/register")]
    [InlineData("/auth/refresh")]
    public async Task A_body_shorter_than_its_content_length_then_a_half_close_is_400_or_a_closed_connection_and_no_server_error(string path)
    {
        var answer = await ExchangeAsync(Head(path, "Content-Length: 500") + Json, halfClose: true);

        AssertClientError(answer);
        await AssertNoServerErrorLoggedAsync(path);
    }

    [Theory]
    [InlineData("/auth/login", "Content-Length: 500")]
    [InlineData("/auth/refresh", "Transfer-Encoding: chunked")]
    public async Task A_connection_reset_mid_body_logs_no_server_error(string path, string framing)
    {
        using var tcp = await ConnectAsync();
        var body = framing.StartsWith("Content-Length", StringComparison.Ordinal) ? Json : $"{Json.Length + 10:x}\r\n{Json}";
        await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes(Head(path, framing) + body));
        // Let the Api start reading the body, then reset the connection (RST, not FIN).
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        tcp.Client.LingerState = new LingerOption(true, 0);
        tcp.Close();

        await AssertNoServerErrorLoggedAsync(path);
    }

    [Fact]
    public async Task A_well_framed_chunked_body_on_the_same_listener_is_still_read()
    {
        var body = $"{Json.Length:x}\r\n{Json}\r\n0\r\n\r\n";

        var answer = await ExchangeAsync(Head("/auth/login", "Transfer-Encoding: chunked") + body);

        Assert.StartsWith("HTTP/1.1 401", answer);
    }

    private static string Head(string path, string framing) =>
        $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\n{framing}\r\n\r\n";

    private async Task<TcpClient> ConnectAsync()
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _address.Port);
        return tcp;
    }

    /// <summary>Sends the bytes and reads until the Api closes the connection: the answer, or "" for none.</summary>
    private async Task<string> ExchangeAsync(string request, bool halfClose = false)
    {
        using var tcp = await ConnectAsync();
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        if (halfClose)
            tcp.Client.Shutdown(SocketShutdown.Send);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        using var answer = new MemoryStream();
        try
        {
            await stream.CopyToAsync(answer, timeout.Token);
        }
        catch (IOException)
        {
            // A reset after the answer, or instead of one: a closed connection either way.
        }
        return Encoding.UTF8.GetString(answer.ToArray());
    }

    private static void AssertClientError(string answer)
    {
        if (answer.Length == 0)
            return; // the connection was closed without an answer, which docs/http-api.md#bodies allows
        Assert.True(answer.StartsWith("HTTP/1.1 400", StringComparison.Ordinal), $"expected 400, got: {answer}");
        Assert.Contains("application/problem+json", answer);
        Assert.Contains("\"error\":\"invalid_request\"", answer);
        Assert.DoesNotContain("Exception", answer);
    }

    /// <summary>Waits for the request to end (the host logs that), then checks nothing went to the log at Warning or above.</summary>
    private async Task AssertNoServerErrorLoggedAsync(string path)
    {
        for (var waited = 0; waited < 100 && !Logs.All.Skip(_logsAtStart).Any(e => IsRequestEnd(e, path)); waited++)
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        // Anything the connection logs after the request, such as Kestrel on the rest of the body.
        await Task.Delay(TimeSpan.FromMilliseconds(300));

        var logs = Logs.All.Skip(_logsAtStart).ToArray();
        Assert.Contains(logs, e => IsRequestEnd(e, path));
        var serious = logs.Where(e => e.Level >= LogLevel.Warning && !e.Category.StartsWith("Orleans", StringComparison.Ordinal)).ToArray();
        Assert.True(serious.Length == 0, string.Join("\n", serious.Select(e => $"{e.Level} {e.Category} {e.EventId.Name}: {e.Message}")));
    }

    private static bool IsRequestEnd(CapturedLogs.Entry entry, string path) =>
        entry.Category == "Microsoft.AspNetCore.Hosting.Diagnostics" && entry.Message.StartsWith("Request finished", StringComparison.Ordinal)
        && entry.Message.Contains(path, StringComparison.Ordinal);
}
