using System.Net;
using Xunit.Abstractions;

namespace Sessions.Tests.EndToEnd;

/// <summary>
/// An account deletion whose silo is killed (SIGKILL) while it runs, at moments that move from round to round: before,
/// during and after its writes. Whatever the silo had stored when it died, the email is never free while a session of
/// the account still refreshes, and the client's retry (or the next call) finishes the deletion.
/// </summary>
[Layer(Layer.EndToEnd)]
public sealed class AccountDeletionCrashTests(ITestOutputHelper output) : ProcessClusterTest(silos: 1, apis: 1)
{
    private const int SessionsPerUser = 12;

    [Fact]
    public async Task A_deletion_cut_short_by_a_killed_silo_never_frees_the_email_of_a_live_session_and_is_finished_after()
    {
        var clients = new Dictionary<string, string>
        {
            ["Api__Clients__0__ClientId"] = ApiFixture.AdminTool.ClientId,
            ["Api__Clients__0__SecretHash"] = ApiFixture.AdminTool.SecretHash,
            ["Api__Clients__0__Scopes__0"] = "admin",
        };
        var (silos, apis) = await StartClusterAsync(clients);
        var api = apis[0];
        var silo = silos[0];

        foreach (var killAfter in new[] { 0, 15, 40, 120 })
        {
            var email = Http.NewEmail();
            Assert.Equal(HttpStatusCode.Created, (await api.PostJsonAsync("/auth/register", new { email, password = TestSteps.Password })).StatusCode);
            var tokens = new List<string>();
            for (var i = 0; i < SessionsPerUser; i++)
                tokens.Add((await (await api.PostJsonAsync("/auth/login", new { email, password = TestSteps.Password, refreshTokenIn = "body" })).JsonAsync())
                    .GetProperty("refreshToken").GetString()!);
            var userId = (await (await Admin(api, HttpMethod.Get, $"/admin/users?email={Uri.EscapeDataString(email)}")).JsonAsync()).GetProperty("userId").GetGuid();

            var deletion = StatusAsync(() => Admin(api, HttpMethod.Delete, $"/admin/users/{userId}"));
            await Task.Delay(killAfter);
            silo.Dispose(); // SIGKILL, mid-deletion or near it
            var answer = await deletion;
            output.WriteLine($"killed {killAfter} ms after the request; it was answered {(int)answer}");
            silo = StartSilo(0);
            await WaitAsync(async () => await TryGetAsync(api, "/health/ready") == HttpStatusCode.OK, "the restarted silo serving");

            // Before anything touches the account again: what storage says now.
            var emailRows = await Database.ScalarAsync<long>("SELECT count(*) FROM grainstate WHERE grainidextensionstring = $1", EmailIndex.KeyFor(email));
            var refreshing = 0;
            foreach (var token in tokens)
                if ((await api.PostJsonAsync("/auth/refresh", new { refreshToken = token })).StatusCode == HttpStatusCode.OK)
                    refreshing++;
            output.WriteLine($"after the restart: email rows {emailRows}, sessions still refreshing {refreshing}");
            if (emailRows == 0)
                Assert.Equal(0, refreshing); // the email went only after every session was revoked

            // The client retries its deletion; either it finishes it or it had finished.
            var retry = await UntilServedAsync(() => Admin(api, HttpMethod.Delete, $"/admin/users/{userId}"));
            Assert.Contains(retry, new[] { HttpStatusCode.NoContent, HttpStatusCode.NotFound });
            Assert.Equal(HttpStatusCode.NotFound, (await Admin(api, HttpMethod.Get, $"/admin/users/{userId}")).StatusCode);
            foreach (var token in tokens)
                Assert.Equal(HttpStatusCode.Forbidden, (await api.PostJsonAsync("/auth/refresh", new { refreshToken = token })).StatusCode);
            Assert.Equal(0, await Database.ScalarAsync<long>("SELECT count(*) FROM grainstate WHERE grainidextensionstring = $1", EmailIndex.KeyFor(email)));
            Assert.Equal(HttpStatusCode.Created, (await api.PostJsonAsync("/auth/register", new { email, password = TestSteps.Password })).StatusCode);
        }
    }

    private static Task<HttpResponseMessage> Admin(HttpClient api, HttpMethod method, string path) =>
        api.SendAsync(new HttpRequestMessage(method, path) { Headers = { Authorization = ApiFixture.AdminTool.Basic } });

    private static async Task<HttpStatusCode> StatusAsync(Func<Task<HttpResponseMessage>> send)
    {
        try
        {
            return (await send()).StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
        catch (TaskCanceledException)
        {
            return 0;
        }
    }

    /// <summary>Sends until the answer is not 503, as a client retries, for up to 60 s.</summary>
    private static async Task<HttpStatusCode> UntilServedAsync(Func<Task<HttpResponseMessage>> send)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var status = await StatusAsync(send);
            if (status is not (HttpStatusCode.ServiceUnavailable or 0) || DateTime.UtcNow > deadline)
                return status;
            await Task.Delay(500);
        }
    }
}
