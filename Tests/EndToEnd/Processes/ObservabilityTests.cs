using System.Net;
using Xunit.Abstractions;

namespace Sessions.Tests.EndToEnd;

/// <summary>
/// Real traffic through a real silo and Api, then each node's Prometheus endpoint, on its management port,
/// shows our counters moved by the right amounts with the right tags (and the platform's meters beside them).
/// </summary>
[Layer(Layer.EndToEnd)]
[Collection(Alone.Name)]
public sealed class ObservabilityTests(ITestOutputHelper output) : PrivatePostgresClusterTest(silos: 1, apis: 1)
{
    protected override Dictionary<string, string> Environment() => new(base.Environment())
    {
        ["Sessions__ReuseGraceWindow"] = "00:00:03",
        // Under the window, as every silo requires.
        ["Cluster__ResponseTimeout"] = "00:00:02.500",
        ["Sessions__MaxFailedLogins"] = "2",
        ["Management__Dashboard"] = "true",
    };

    [Fact]
    public async Task Every_node_exports_refreshes_logins_revocations_and_storage_failures_by_outcome_on_its_management_port()
    {
        var (_, apis) = await StartClusterAsync();
        var api = apis[0];
        using var scraper = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var silo = $"http://127.0.0.1:{SiloManagementPort(0)}/metrics";
        var apiMetrics = $"http://127.0.0.1:{ApiManagementPort(0)}/metrics";
        var before = await Metrics.ScrapeAsync(scraper, silo);

        // A login, three rotations, a grace replay, then a reuse after the 3 s window.
        var login = await api.LoginAsync("body");
        var tokens = new List<string> { login.RefreshToken };
        for (var i = 0; i < 3; i++)
            tokens.Add((await (await api.PostJsonAsync("/auth/refresh", new { refreshToken = tokens[^1] })).JsonAsync()).GetProperty("refreshToken").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync("/auth/refresh", new { refreshToken = tokens[^2] })).StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(3.5));
        Assert.Equal(HttpStatusCode.Forbidden, (await api.PostJsonAsync("/auth/refresh", new { refreshToken = tokens[0] })).StatusCode);
        // Two wrong passwords, then the address is held back.
        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await api.PostJsonAsync("/auth/login", new { email = login.Email, password = "wrong password" })).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await api.PostJsonAsync("/auth/login", new { email = login.Email, password = TestSteps.Password })).StatusCode);
        // A refresh while the database is down: unavailable, and a storage failure.
        var other = await api.LoginAsync("body");
        await Server.StopAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await api.PostJsonAsync("/auth/refresh", new { refreshToken = other.RefreshToken })).StatusCode);
        await Server.RestartAsync();

        var after = await Metrics.ScrapeAsync(scraper, silo);
        var apiAfter = await Metrics.ScrapeAsync(scraper, apiMetrics);
        foreach (var line in after.Lines.Where(l => l.StartsWith("sessions_", StringComparison.Ordinal)))
            output.WriteLine(line);

        double Moved(string name, params string[] labels) => after.Sum(name, labels) - before.Sum(name, labels);
        Assert.Equal(3, Moved("sessions_refreshes_total", "outcome=\"rotated\""));
        Assert.Equal(1, Moved("sessions_refreshes_total", "outcome=\"replayed\""));
        Assert.Equal(1, Moved("sessions_refreshes_total", "outcome=\"reuse_detected\""));
        Assert.Equal(1, Moved("sessions_refreshes_total", "outcome=\"unavailable\""));
        Assert.Equal(1, Moved("sessions_revocations_total", "reason=\"refresh_token_reuse\""));
        Assert.Equal(2, Moved("sessions_logins_total", "outcome=\"succeeded\""));
        Assert.Equal(2, Moved("sessions_logins_total", "outcome=\"invalid_credentials\""));
        Assert.Equal(1, Moved("sessions_logins_total", "outcome=\"throttled\""));
        Assert.Equal(2, Moved("sessions_registrations_total", "outcome=\"registered\""));
        Assert.True(Moved("sessions_storage_failures_total", "state=\"session\"") >= 1);
        Assert.True(Moved("sessions_refresh_duration_seconds_count") >= 6);
        Assert.True(Moved("sessions_password_hash_duration_seconds_count") >= 5);
        Assert.True(after.Sum("sessions_session_activations") >= 2);
        Assert.True(after.Sum("orleans_grain_count") > 0 || after.Lines.Any(l => l.StartsWith("orleans_", StringComparison.Ordinal)), "no Orleans meter");
        // The Api: its own instrument and ASP.NET Core's, with bounded tags (no user, session or address).
        Assert.True(apiAfter.Sum("sessions_access_token_issue_duration_seconds_count") >= 6);
        Assert.True(apiAfter.Sum("http_server_request_duration_seconds_count", "http_route=\"/auth/refresh\"") >= 6);
        foreach (var secret in new[] { login.Email, login.SessionId.ToString(), login.RefreshToken, login.AccessToken })
            Assert.DoesNotContain(after.Lines.Concat(apiAfter.Lines).Where(l => !l.StartsWith('#')), l => l.Contains(secret, StringComparison.Ordinal));

        // Off the public listener; the silo's dashboard and readiness beside its metrics.
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/metrics")).StatusCode);
        var dashboard = await scraper.GetAsync($"http://127.0.0.1:{SiloManagementPort(0)}/dashboard/");
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Contains("html", await dashboard.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, (await scraper.GetAsync($"http://127.0.0.1:{SiloManagementPort(0)}/health/ready")).StatusCode);
    }
}

/// <summary>One scrape of a Prometheus text endpoint.</summary>
public sealed class Metrics(string[] lines)
{
    public string[] Lines { get; } = lines;

    public static async Task<Metrics> ScrapeAsync(HttpClient http, string url) =>
        new((await http.GetStringAsync(url)).Split('\n', StringSplitOptions.RemoveEmptyEntries));

    /// <summary>The sum of every sample of <paramref name="name"/> whose labels contain all of <paramref name="labels"/>.</summary>
    public double Sum(string name, params string[] labels) => Lines
        .Where(l => (l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
                    && labels.All(label => l.Contains(label, StringComparison.Ordinal)))
        .Sum(l => double.Parse(l.Split(' ')[1], CultureInfo.InvariantCulture));
}
