using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.Hosting;
using Orleans.TestingHost;
using Sessions.Api.Http;
using Sessions.Api.Keys;
using Sessions.Grains;

namespace Sessions.Tests.Fixtures;

/// <summary>
/// The real Api (WebApplicationFactory) as an Orleans client of a one-silo TestCluster, both on one
/// fake session clock. Storage behaves like memory storage until a test tells it to fail.
/// </summary>
public class ApiFixture : ClusterFixture
{
    public const string AllowedOrigin = "https://app.example";
    public const string Issuer = "https://sessions.example";
    /// <summary>Api:ErrorDocsUrl: where the fixture's Api says docs/http-api.md is published, the base of each problem's type.</summary>
    public const string ErrorDocsUrl = "https://docs.sessions.example/http-api.md";
    /// <summary>Backend clients of docs/http-api.md#backend-clients, registered in every Api of the fixture.</summary>
    public static readonly BackendClient ResourceServer = new("resource-api", "resource-api-secret-0123456789-abcdef");
    public static readonly BackendClient IntrospectOnly = new("introspect-only", "introspect-only-secret-0123456789-ab");
    public static readonly BackendClient AdminTool = new("admin-tool", "admin-tool-secret-0123456789-abcdefghij");
    public static readonly string KeyEncryptionKey = Convert.ToBase64String(Enumerable.Repeat((byte)7, 32).ToArray());

    public FaultyStorage Storage { get; } = new();
    public HeldCalls Held { get; } = new();
    public WebApplicationFactory<Program> Factory { get; private set; } = null!;

    protected override void ConfigureStorage(ISiloBuilder silo) =>
        silo.Services.AddGrainStorage(StorageNames.Grains, (_, _) => Storage);

    protected override void ConfigureSilo(ISiloBuilder silo) => silo.AddIncomingGrainCallFilter(Held);

    protected override void ConfigureCluster(TestClusterBuilder builder) =>
        builder.Options.ConnectionTransport = ConnectionTransportType.TcpSocket;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Factory = CreateFactory();
        // As the refresher does at start; awaited here so the first test never races it.
        await Factory.Services.GetRequiredService<SigningKeys>().RefreshAsync();
    }

    public override async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await base.DisposeAsync();
    }

    /// <summary>Settings as a production deployment would have them, pointed at the TestCluster.</summary>
    public Dictionary<string, string?> Settings() => new()
    {
        ["ConnectionStrings:Sessions"] = PostgresDatabase.ServerConnectionString,
        ["Cluster:Clustering"] = "Localhost",
        ["Cluster:ClusterId"] = Cluster.Options.ClusterId,
        ["Cluster:ServiceId"] = ServiceId,
        ["Cluster:GatewayPort"] = Cluster.Options.BaseGatewayPort.ToString(CultureInfo.InvariantCulture),
        ["Api:KeyEncryptionKey"] = KeyEncryptionKey,
        ["Api:Issuer"] = Issuer,
        ["Api:ErrorDocsUrl"] = ErrorDocsUrl,
        ["Api:Clients:0:ClientId"] = ResourceServer.ClientId,
        ["Api:Clients:0:SecretHash"] = ResourceServer.SecretHash,
        ["Api:Clients:0:Scopes:0"] = "introspect revoke",
        ["Api:Clients:1:ClientId"] = IntrospectOnly.ClientId,
        ["Api:Clients:1:SecretHash"] = IntrospectOnly.SecretHash,
        ["Api:Clients:1:Scopes:0"] = "introspect",
        ["Api:Clients:2:ClientId"] = AdminTool.ClientId,
        ["Api:Clients:2:SecretHash"] = AdminTool.SecretHash,
        ["Api:Clients:2:Scopes:0"] = "admin",
        ["Api:AllowedOrigins:0"] = AllowedOrigin,
        ["Api:LoginsPerMinutePerAddress"] = "100000",
        ["Api:RegistrationsPerMinutePerAddress"] = "100000",
        ["Api:RefreshesPerMinutePerAddress"] = "100000",
        ["Api:AccessTokenRequestsPerMinutePerAddress"] = "100000",
    };

    public WebApplicationFactory<Program> CreateFactory(Action<Dictionary<string, string?>>? change = null, Action<IWebHostBuilder>? configure = null)
    {
        var settings = Settings();
        change?.Invoke(settings);
        return new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment("Production");
            foreach (var (key, value) in settings)
                web.UseSetting(key, value);
            web.ConfigureTestServices(services => services.AddKeyedSingleton<TimeProvider>(SessionClock.Key, Clock));
            configure?.Invoke(web);
        });
    }

    /// <summary>An Api node with changed settings that serves tokens at once: its first key loaded, as the fixture's is.</summary>
    public async Task<WebApplicationFactory<Program>> CreateServingFactoryAsync(Action<Dictionary<string, string?>> change)
    {
        var factory = CreateFactory(change);
        await factory.Services.GetRequiredService<SigningKeys>().RefreshAsync();
        return factory;
    }

    /// <summary>A client that keeps no cookies of its own: tests send and read them explicitly.</summary>
    public HttpClient Client() => Factory.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false, AllowAutoRedirect = false });
}

/// <summary>A backend client's id and secret, and what the Api is configured with instead of the secret.</summary>
public sealed record BackendClient(string ClientId, string Secret)
{
    public string SecretHash => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Secret)));
    public System.Net.Http.Headers.AuthenticationHeaderValue Basic =>
        new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{ClientId}:{Secret}")));
}

/// <summary>Steps a client written from docs/http-api.md would take.</summary>
public static class Http
{
    public static string NewEmail() => $"user-{Guid.NewGuid():N}@example.com";

    /// <summary>The header (0) or the claims (1) of a JWT.</summary>
    public static JsonElement JwtPart(string jwt, int index) =>
        JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(jwt.Split('.')[index])).RootElement;

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, object body, string? cookie = null, string? origin = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (cookie is not null)
            request.Headers.Add("Cookie", $"refresh_token={cookie}");
        if (origin is not null)
            request.Headers.Add("Origin", origin);
        return client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> SendAsync(this HttpClient client, HttpMethod method, string path, string? accessToken = null, string? cookie = null, string? origin = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (accessToken is not null)
            request.Headers.Authorization = new("Bearer", accessToken);
        if (cookie is not null)
            request.Headers.Add("Cookie", $"refresh_token={cookie}");
        if (origin is not null)
            request.Headers.Add("Origin", origin);
        return client.SendAsync(request);
    }

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    /// <summary>Registers a new user and logs in; the refresh token comes back as the transport says.</summary>
    public static async Task<Login> LoginAsync(this HttpClient client, string transport = "body", string? email = null)
    {
        email ??= NewEmail();
        var registered = await client.PostJsonAsync("/auth/register", new { email, password = TestSteps.Password });
        Assert.Equal(System.Net.HttpStatusCode.Created, registered.StatusCode);
        var response = await client.PostJsonAsync("/auth/login", new { email, password = TestSteps.Password, refreshTokenIn = transport });
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var json = await response.JsonAsync();
        return new Login(email, json.GetProperty("accessToken").GetString()!, json.GetProperty("sessionId").GetGuid(),
            transport == "body" ? json.GetProperty("refreshToken").GetString()! : RefreshCookie(response)!.Value);
    }

    public sealed record Login(string Email, string AccessToken, Guid SessionId, string RefreshToken);

    public sealed record SetCookie(string Value, string Attributes);

    public static SetCookie? RefreshCookie(HttpResponseMessage response) => Cookie(response, "refresh_token");

    /// <summary>The one Set-Cookie of <paramref name="name"/> in <paramref name="response"/>, or null.</summary>
    public static SetCookie? Cookie(HttpResponseMessage response, string name)
    {
        if (!response.Headers.TryGetValues("Set-Cookie", out var cookies))
            return null;
        var cookie = cookies.SingleOrDefault(c => c.StartsWith(name + "=", StringComparison.Ordinal));
        if (cookie is null)
            return null;
        var separator = cookie.IndexOf(';');
        return new SetCookie(cookie[(name.Length + 1)..separator], cookie[(separator + 1)..]);
    }

    /// <summary>
    /// An RFC 9457 problem body carrying the error code (docs/http-api.md#errors) with a status the catalogue gives the
    /// code, the code's constant title and type, and a detail saying what happened.
    /// </summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, int status, string error)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal(error, json.GetProperty("error").GetString());
        Assert.Equal(status, json.GetProperty("status").GetInt32());
        var problem = ProblemCatalogue.Find(error);
        Assert.True(problem is not null, $"{error} is not in the catalogue");
        Assert.Contains(status, problem.Statuses);
        Assert.Equal(problem.Title, json.GetProperty("title").GetString());
        // The URL where the fixture's Api points; a urn in Apis started without Api:ErrorDocsUrl.
        Assert.Contains(json.GetProperty("type").GetString(), new[] { problem.TypeUri(new Uri(ApiFixture.ErrorDocsUrl)), problem.TypeUri(null) });
        Assert.False(string.IsNullOrEmpty(json.GetProperty("detail").GetString()));
        Assert.DoesNotContain("Exception", body);
        return json;
    }
}
