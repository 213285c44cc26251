using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.FileProviders;
using Microsoft.Playwright;

namespace Sessions.Tests.Fixtures;

/// <summary>
/// A real silo and a real Api (Development, so it serves /demo/) on loopback and PostgreSQL, two more origins
/// serving the same Client/ files (one allowed, one not), and a headless Chromium driven by Playwright.
/// </summary>
public sealed class BrowserFixture() : ProcessClusterTest(silos: 1, apis: 1)
{
    /// <summary>Short, so that the tests see proactive refreshes.</summary>
    public static readonly TimeSpan AccessTokenLifetime = TimeSpan.FromSeconds(20);

    private readonly List<WebApplication> _origins = [];
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;
    public HttpClient Api { get; private set; } = null!;
    public string ApiOrigin => ApiUrl(0);
    /// <summary>Another port of localhost: another origin of the same site, in Api:AllowedOrigins.</summary>
    public string SiblingOrigin { get; } = $"http://localhost:{FreePorts.Consecutive(1)}";
    /// <summary>Another port of localhost that is not in Api:AllowedOrigins.</summary>
    public string ForeignOrigin { get; } = $"http://localhost:{FreePorts.Consecutive(1)}";

    /// <summary>samples/aspnet-api in instant-revocation mode: the demo's "Your API", on an origin of its own.</summary>
    public string YourApiUrl { get; } = $"http://127.0.0.1:{FreePorts.Consecutive(1)}";

    /// <summary>The Orleans dashboard on the silo's management port (Development turns it on).</summary>
    public string SiloDashboardUrl => $"http://127.0.0.1:{SiloManagementPort(0)}/dashboard/";

    protected override string ApiHost => "localhost";

    protected override Dictionary<string, string> Environment() => new(base.Environment())
    {
        // Development, so the Api serves /demo/ (DOTNET_ENVIRONMENT wins over ASPNETCORE_ENVIRONMENT in WebApplication).
        ["DOTNET_ENVIRONMENT"] = "Development",
        ["ASPNETCORE_ENVIRONMENT"] = "Development",
        ["Api__AccessTokenLifetime"] = AccessTokenLifetime.ToString(),
        ["Api__AllowedOrigins__0"] = ApiOrigin,
        ["Api__AllowedOrigins__1"] = SiblingOrigin,
        ["Api__Clients__0__ClientId"] = SampleCluster.Introspector.ClientId,
        ["Api__Clients__0__SecretHash"] = SampleCluster.Introspector.SecretHash,
        ["Api__Clients__0__Scopes__0"] = "introspect",
        ["Api__Clients__1__ClientId"] = ApiFixture.AdminTool.ClientId,
        ["Api__Clients__1__SecretHash"] = ApiFixture.AdminTool.SecretHash,
        ["Api__Clients__1__Scopes__0"] = "admin",
        ["Email__Smtp__Host"] = "127.0.0.1",
        ["Email__Smtp__Port"] = Smtp.Port.ToString(CultureInfo.InvariantCulture),
        ["Email__Smtp__Security"] = "None",
    };

    /// <summary>The SMTP server the Api mails to; the verification and reset pages' links default to the demo's.</summary>
    public TestSmtpServer Smtp { get; } = new();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Smtp.Start();
        Browser = await LaunchChromiumAsync();
        var (_, apis) = await StartClusterAsync();
        Api = apis[0];
        await ServeClientAsync(SiblingOrigin);
        await ServeClientAsync(ForeignOrigin);
        await StartYourApiAsync();
    }

    private async Task StartYourApiAsync()
    {
        var (folder, dll) = ServiceProcess.Built("samples/aspnet-api", "AspNetApi");
        Track(ServiceProcess.Start("dotnet", [dll, "--urls", YourApiUrl], folder, new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Sessions__Issuer"] = ApiOrigin,
            ["Sessions__Introspection__ClientId"] = SampleCluster.Introspector.ClientId,
            ["Sessions__Introspection__ClientSecret"] = SampleCluster.Introspector.Secret,
            ["Cors__Origins__0"] = ApiOrigin,
        }));
        using var client = new HttpClient { BaseAddress = new Uri(YourApiUrl) };
        await WaitAsync(async () => await TryGetAsync(client, "/health") == HttpStatusCode.OK, "your API answering");
    }

    public override async Task DisposeAsync()
    {
        foreach (var origin in _origins)
            await origin.DisposeAsync();
        if (Browser is not null)
            await Browser.DisposeAsync();
        _playwright?.Dispose();
        await base.DisposeAsync();
        await Smtp.DisposeAsync();
    }

    /// <summary>Every refresh_token_reuse event the silo and Api have logged so far.</summary>
    public IReadOnlyList<string> ReuseEvents() => LogLines("Security event refresh_token_reuse").ToList();

    /// <summary>Every admin_action event the Api has logged so far.</summary>
    public IReadOnlyList<string> AdminActions() => LogLines("Security event admin_action").ToList();

    /// <summary>Debian's Chromium (BROWSER-NOTES: Playwright cannot download its own here); CHROMIUM_PATH overrides.</summary>
    private async Task<IBrowser> LaunchChromiumAsync()
    {
        var path = System.Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } p ? p : "/usr/bin/chromium";
        if (!File.Exists(path))
            Assert.Fail($"No Chromium at {path}. Install it (as root: apt-get update && apt-get install -y chromium) or set CHROMIUM_PATH; scripts/test.sh installs it when run as root.");
        _playwright = await Playwright.CreateAsync();
        return await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = path, Headless = true });
    }

    /// <summary>A plain static server for Client/ at /client/ and /demo/, as an app on another origin would host it.</summary>
    private async Task ServeClientAsync(string origin)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(origin);
        var app = builder.Build();
        var client = Path.Combine(Repository.Root, "Client");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = new PhysicalFileProvider(Path.Combine(client, "demo")), RequestPath = "/demo" });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(Path.Combine(client, "demo")), RequestPath = "/demo" });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(client), RequestPath = "/client" });
        await app.StartAsync();
        _origins.Add(app);
    }

    /// <summary>A new user, registered through the Api; returns the email (the password is TestSteps.Password).</summary>
    public async Task<string> RegisterAsync(string? email = null)
    {
        email ??= Http.NewEmail();
        var response = await Http.PostJsonAsync(Api, "/auth/register", new { email, password = TestSteps.Password });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return email;
    }
}
