using System.Net;

namespace Sessions.Tests.Fixtures;

/// <summary>
/// The resource-server samples (samples/aspnet-api, samples/node-api) as a team would run them, against a real silo and
/// Api nodes: node 0 issues ordinary tokens, node 1 tokens that live a second, node 2 tokens for another audience.
/// The samples are told nothing but the issuer (and, for instant revocation, a backend client).
/// </summary>
public sealed class SampleCluster() : ProcessClusterTest(silos: 1, apis: 3)
{
    public static readonly BackendClient Introspector = new("sample-api", "sample-api-secret-0123456789-abcdefgh");
    /// <summary>Another backend, one that signs users out (a support tool, say).</summary>
    public static readonly BackendClient Revoker = new("support-tool", "support-tool-secret-0123456789-abcdef");
    private readonly int _samplePorts = FreePorts.Consecutive(3);

    public string AspNetUrl => $"http://127.0.0.1:{_samplePorts}";
    public string InstantAspNetUrl => $"http://127.0.0.1:{_samplePorts + 1}";
    public string NodeUrl => $"http://127.0.0.1:{_samplePorts + 2}";
    public HttpClient Sessions { get; private set; } = null!;
    public HttpClient ShortLived { get; private set; } = null!;
    public HttpClient OtherAudience { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        StartSilo(0);
        await WaitAsync(async () => await ActiveSilosAsync() == 1, "silo joined");
        var clients = new Dictionary<string, string>
        {
            ["Api__Clients__0__ClientId"] = Introspector.ClientId,
            ["Api__Clients__0__SecretHash"] = Introspector.SecretHash,
            ["Api__Clients__0__Scopes__0"] = "introspect",
            ["Api__Clients__1__ClientId"] = Revoker.ClientId,
            ["Api__Clients__1__SecretHash"] = Revoker.SecretHash,
            ["Api__Clients__1__Scopes__0"] = "revoke",
        };
        StartApi(0, clients);
        StartApi(1, new(clients) { ["Api__AccessTokenLifetime"] = "00:00:01" });
        StartApi(2, new(clients) { ["Api__Audience"] = "another-api" });
        (Sessions, ShortLived, OtherAudience) = (Client(ApiUrl(0)), Client(ApiUrl(1)), Client(ApiUrl(2)));
        foreach (var api in new[] { Sessions, ShortLived, OtherAudience })
            await WaitAsync(async () => await TryGetAsync(api, "/health/ready") == HttpStatusCode.OK, "Api ready");

        // A second of clock skew, so that a token of node 1 is expired for them two seconds after it was issued.
        var aspNet = new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Development", ["Sessions__Issuer"] = ApiUrl(0), ["Sessions__ClockSkew"] = "00:00:01" };
        var (folder, dll) = ServiceProcess.Built("samples/aspnet-api", "AspNetApi");
        Track(ServiceProcess.Start("dotnet", [dll, "--urls", AspNetUrl], folder, aspNet));
        Track(ServiceProcess.Start("dotnet", [dll, "--urls", InstantAspNetUrl], folder, new Dictionary<string, string>(aspNet)
        {
            ["Sessions__Introspection__ClientId"] = Introspector.ClientId,
            ["Sessions__Introspection__ClientSecret"] = Introspector.Secret,
        }));
        var node = Path.Combine(Repository.Root, "samples", "node-api");
        Track(ServiceProcess.Start("node", ["server.js"], node, new Dictionary<string, string>
        {
            ["SESSIONS_ISSUER"] = ApiUrl(0), ["CLOCK_TOLERANCE"] = "1", ["PORT"] = (_samplePorts + 2).ToString(CultureInfo.InvariantCulture),
        }));
        foreach (var sample in new[] { AspNetUrl, InstantAspNetUrl, NodeUrl })
        {
            using var client = Client(sample);
            await WaitAsync(async () => await TryGetAsync(client, "/hello") == HttpStatusCode.Unauthorized, $"{sample} answering");
        }
    }

    private static HttpClient Client(string url) => new() { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
}
