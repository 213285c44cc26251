using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sessions.Api.Keys;

namespace Sessions.Tests.Api;

/// <summary>The admin API as docs/http-api.md#admin-api states it: who may call, the user object, roles, disabling, sessions.</summary>
[Layer(Layer.Api)]
[Collection(AccountApiCluster.Name)]
public sealed class AdminApiTests(ApiFixture fixture)
{
    private static readonly string[] Granted = ["admin", "user", "admin", "billing:read"];
    private static readonly string[] JustUser = ["user"];
    private readonly HttpClient _client = fixture.Client();

    private Task<HttpResponseMessage> AdminAsync(HttpMethod method, string path, object? body = null, AuthenticationHeaderValue? authorization = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = authorization ?? ApiFixture.AdminTool.Basic;
        return _client.SendAsync(request);
    }

    private static Guid UserId(Http.Login login) => Guid.Parse(Http.JwtPart(login.AccessToken, 1).GetProperty("sub").GetString()!);

    private async Task<JsonElement> UserAsync(Guid userId)
    {
        var response = await AdminAsync(HttpMethod.Get, $"/admin/users/{userId}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        return await response.JsonAsync();
    }

    private static string[] RolesOf(JsonElement json, string member = "roles") => [.. json.GetProperty(member).EnumerateArray().Select(r => r.GetString()!)];

    private async Task<HttpResponseMessage> RefreshAsync(string token) => await _client.PostJsonAsync("/auth/refresh", new { refreshToken = token });

    [Fact]
    public async Task A_user_is_found_by_id_and_by_any_spelling_of_the_email()
    {
        var login = await _client.LoginAsync();
        var id = UserId(login);

        var byId = await UserAsync(id);
        var byEmail = await (await AdminAsync(HttpMethod.Get, $"/admin/users?email={Uri.EscapeDataString(" " + login.Email.ToUpperInvariant())}")).JsonAsync();

        Assert.Equal(byId.GetRawText(), byEmail.GetRawText());
        Assert.Equal(id, byId.GetProperty("userId").GetGuid());
        Assert.Equal(login.Email, byId.GetProperty("email").GetString());
        Assert.False(byId.GetProperty("emailVerified").GetBoolean());
        Assert.Equal(["user"], RolesOf(byId));
        Assert.False(byId.GetProperty("disabled").GetBoolean());
        Assert.Equal(1, byId.GetProperty("activeSessions").GetInt32());
        Assert.True(byId.GetProperty("createdAt").GetDateTimeOffset() <= fixture.Clock.GetUtcNow());
    }

    [Theory]
    [InlineData("/admin/users/not-a-guid", 400, "invalid_request")]
    [InlineData("/admin/users?email=", 400, "invalid_request")]
    [InlineData("/admin/users?email=not-an-email", 400, "invalid_request")]
    [InlineData("/admin/users?email=nobody%40example.com", 404, "not_found")]
    [InlineData("/admin/users/00000000-0000-0000-0000-000000000001", 404, "not_found")]
    [InlineData("/admin/users/00000000-0000-0000-0000-000000000001/sessions", 404, "not_found")]
    public async Task Bad_ids_and_unknown_users_are_problems(string path, int status, string error) =>
        await (await AdminAsync(HttpMethod.Get, path)).AssertProblemAsync(status, error);

    [Theory]
    [InlineData("GET", "/admin/users/not-a-guid")]
    [InlineData("PUT", "/admin/users/not-a-guid/roles")]
    [InlineData("POST", "/admin/users/not-a-guid/disable")]
    [InlineData("POST", "/admin/users/not-a-guid/enable")]
    [InlineData("GET", "/admin/users/not-a-guid/sessions")]
    [InlineData("DELETE", "/admin/users/not-a-guid/sessions")]
    [InlineData("DELETE", "/admin/users/not-a-guid/sessions/00000000-0000-0000-0000-000000000001")]
    [InlineData("DELETE", "/admin/users/not-a-guid")]
    public async Task A_user_id_that_is_not_a_guid_is_400_on_every_route(string method, string path)
    {
        var problem = await (await AdminAsync(new HttpMethod(method), path)).AssertProblemAsync(400, "invalid_request");

        Assert.Equal("userId must be a GUID.", problem.GetProperty("detail").GetString());
    }

    public static TheoryData<string> Callers() => ["none", "bad-basic", "client-without-admin", "user-without-admin"];

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task Only_an_admin_client_or_a_user_who_is_admin_now_may_call(string caller)
    {
        var login = await _client.LoginAsync();
        var (authorization, status, error) = caller switch
        {
            "none" => (null, 401, "invalid_token"),
            "bad-basic" => (new BackendClient(ApiFixture.AdminTool.ClientId, ApiFixture.AdminTool.Secret + "x").Basic, 401, "invalid_client"),
            "client-without-admin" => (ApiFixture.ResourceServer.Basic, 403, "insufficient_scope"),
            _ => (new AuthenticationHeaderValue("Bearer", login.AccessToken), 403, "insufficient_scope"),
        };
        var request = new HttpRequestMessage(HttpMethod.Post, $"/admin/users/{UserId(login)}/disable") { Headers = { Authorization = authorization } };

        await (await _client.SendAsync(request)).AssertProblemAsync(status, error);
        Assert.False((await UserAsync(UserId(login))).GetProperty("disabled").GetBoolean());
    }

    [Fact]
    public async Task New_roles_reach_every_session_at_once_and_the_next_refresh_carries_them()
    {
        var login = await _client.LoginAsync();
        var bearer = new AuthenticationHeaderValue("Bearer", login.AccessToken);

        var granted = await AdminAsync(HttpMethod.Put, $"/admin/users/{UserId(login)}/roles", new { roles = Granted });

        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
        Assert.Equal(["admin", "user", "billing:read"], RolesOf(await granted.JsonAsync()));
        // The access token from before the change says ["user"]; its session says admin now.
        Assert.Equal(["admin", "user", "billing:read"], RolesOf(await (await _client.SendAsync(HttpMethod.Get, "/me", login.AccessToken)).JsonAsync()));
        Assert.Equal(HttpStatusCode.OK, (await AdminAsync(HttpMethod.Get, $"/admin/users/{UserId(login)}", authorization: bearer)).StatusCode);
        var introspected = await (await _client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/oauth/introspect")
        {
            Content = new FormUrlEncodedContent([KeyValuePair.Create("token", login.AccessToken)]),
            Headers = { Authorization = ApiFixture.ResourceServer.Basic },
        })).JsonAsync();
        Assert.Equal(["admin", "user", "billing:read"], RolesOf(introspected, "role"));
        var refreshed = await (await RefreshAsync(login.RefreshToken)).JsonAsync();
        Assert.Equal(["admin", "user", "billing:read"], RolesOf(Http.JwtPart(refreshed.GetProperty("accessToken").GetString()!, 1), "role"));

        // And a removal is as immediate: the same token may no longer administer.
        Assert.Equal(HttpStatusCode.OK, (await AdminAsync(HttpMethod.Put, $"/admin/users/{UserId(login)}/roles", new { roles = JustUser })).StatusCode);
        await (await AdminAsync(HttpMethod.Get, $"/admin/users/{UserId(login)}", authorization: bearer)).AssertProblemAsync(403, "insufficient_scope");
        Assert.Equal(["user"], RolesOf(await (await _client.SendAsync(HttpMethod.Get, "/me", login.AccessToken)).JsonAsync()));
    }

    [Fact]
    public async Task Every_change_is_an_admin_action_event_naming_the_actor_the_action_and_the_target()
    {
        var logs = new CapturedLogs();
        await using var factory = fixture.CreateFactory(configure: web => web.ConfigureTestServices(s => s.AddSingleton<ILoggerProvider>(logs)));
        await factory.Services.GetRequiredService<SigningKeys>().RefreshAsync();
        using var client = factory.CreateClient();
        var admin = await client.LoginAsync();
        var target = await client.LoginAsync();
        Task<HttpResponseMessage> Send(HttpMethod method, string path, AuthenticationHeaderValue authorization, object? body = null) =>
            client.SendAsync(new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body), Headers = { Authorization = authorization } });

        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Put, $"/admin/users/{UserId(admin)}/roles", ApiFixture.AdminTool.Basic, new { roles = Granted })).StatusCode);
        var asUser = new AuthenticationHeaderValue("Bearer", admin.AccessToken);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Post, $"/admin/users/{UserId(target)}/disable", asUser)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, $"/admin/users/{UserId(target)}", asUser)).StatusCode);

        Assert.Equal([$"client:admin-tool did set_roles to user {UserId(admin)}", $"user:{UserId(admin)} did disable to user {UserId(target)}"],
            logs.Named("admin_action").Select(e => e.Message.Replace("Security event admin_action: ", "", StringComparison.Ordinal)));
    }

    public static TheoryData<string> BadRoles() => ["[]", """["Admin"]""", """["1st"]""", """["a b"]""", """[""]""", """[null]""", "\"admin\"", "null",
        "[" + string.Join(",", Enumerable.Range(0, 33).Select(i => $"\"r{i}\"")) + "]", $"[\"{new string('a', 65)}\"]"];

    [Theory]
    [MemberData(nameof(BadRoles))]
    public async Task A_role_list_that_breaks_the_rules_is_400_and_changes_nothing(string roles)
    {
        var login = await _client.LoginAsync();
        var request = new HttpRequestMessage(HttpMethod.Put, $"/admin/users/{UserId(login)}/roles")
        {
            Content = new StringContent($"{{\"roles\":{roles}}}", Encoding.UTF8, "application/json"),
            Headers = { Authorization = ApiFixture.AdminTool.Basic },
        };

        await (await _client.SendAsync(request)).AssertProblemAsync(400, "invalid_request");
        Assert.Equal(["user"], RolesOf(await UserAsync(UserId(login))));
    }

    [Theory]
    [InlineData("text/plain", "roles=admin", 415)]
    [InlineData("application/json", "{not json", 400)]
    public async Task A_body_that_is_not_json_is_a_problem(string type, string body, int status)
    {
        var login = await _client.LoginAsync();
        var request = new HttpRequestMessage(HttpMethod.Put, $"/admin/users/{UserId(login)}/roles")
        {
            Content = new StringContent(body, Encoding.UTF8, type),
            Headers = { Authorization = ApiFixture.AdminTool.Basic },
        };

        await (await _client.SendAsync(request)).AssertProblemAsync(status, "invalid_request");
    }

    [Fact]
    public async Task A_disabled_account_loses_every_session_at_once_and_logs_in_again_only_once_enabled()
    {
        var login = await _client.LoginAsync();
        var second = await (await _client.PostJsonAsync("/auth/login", new { email = login.Email, password = TestSteps.Password, refreshTokenIn = "body" })).JsonAsync();

        var disabled = await AdminAsync(HttpMethod.Post, $"/admin/users/{UserId(login)}/disable");

        Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        var account = await disabled.JsonAsync();
        Assert.True(account.GetProperty("disabled").GetBoolean());
        Assert.Equal(0, account.GetProperty("activeSessions").GetInt32());
        await (await _client.SendAsync(HttpMethod.Get, "/me", login.AccessToken)).AssertProblemAsync(401, "invalid_token");
        await (await RefreshAsync(login.RefreshToken)).AssertProblemAsync(403, "invalid_grant");
        await (await RefreshAsync(second.GetProperty("refreshToken").GetString()!)).AssertProblemAsync(403, "invalid_grant");
        await (await _client.PostJsonAsync("/auth/login", new { email = login.Email, password = TestSteps.Password })).AssertProblemAsync(403, "account_disabled");
        await (await _client.PostJsonAsync("/auth/login", new { email = login.Email, password = "not the password" })).AssertProblemAsync(401, "invalid_credentials");
        Assert.Contains(fixture.Logs.Named("session_revoked"), e => e.Message.Contains(login.SessionId.ToString()) && e.Message.Contains("UserDisabled"));

        var enabled = await AdminAsync(HttpMethod.Post, $"/admin/users/{UserId(login)}/enable");

        Assert.False((await enabled.JsonAsync()).GetProperty("disabled").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await _client.PostJsonAsync("/auth/login", new { email = login.Email, password = TestSteps.Password })).StatusCode);
        await (await RefreshAsync(login.RefreshToken)).AssertProblemAsync(403, "invalid_grant");
    }

    [Fact]
    public async Task An_admin_lists_a_users_sessions_and_revokes_one_or_all()
    {
        var laptop = await _client.LoginAsync();
        var id = UserId(laptop);
        var phone = await (await _client.PostJsonAsync("/auth/login", new { email = laptop.Email, password = TestSteps.Password, refreshTokenIn = "body" })).JsonAsync();
        var stranger = await _client.LoginAsync();

        var list = await (await AdminAsync(HttpMethod.Get, $"/admin/users/{id}/sessions")).JsonAsync();
        Assert.Equal(2, list.GetArrayLength());
        Assert.All(list.EnumerateArray(), s => Assert.False(s.TryGetProperty("current", out _)));

        await (await AdminAsync(HttpMethod.Delete, $"/admin/users/{id}/sessions/{stranger.SessionId}")).AssertProblemAsync(404, "not_found");
        await (await AdminAsync(HttpMethod.Delete, $"/admin/users/{id}/sessions/not-a-guid")).AssertProblemAsync(404, "not_found");
        Assert.Equal(HttpStatusCode.NoContent, (await AdminAsync(HttpMethod.Delete, $"/admin/users/{id}/sessions/{laptop.SessionId}")).StatusCode);
        await (await RefreshAsync(laptop.RefreshToken)).AssertProblemAsync(403, "invalid_grant");
        Assert.Equal(HttpStatusCode.OK, (await RefreshAsync(phone.GetProperty("refreshToken").GetString()!)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await AdminAsync(HttpMethod.Delete, $"/admin/users/{id}/sessions")).StatusCode);
        Assert.Equal(0, (await UserAsync(id)).GetProperty("activeSessions").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await RefreshAsync(stranger.RefreshToken)).StatusCode);
        Assert.Contains(fixture.Logs.Named("session_revoked"), e => e.Message.Contains(laptop.SessionId.ToString()) && e.Message.Contains("RevokedByAdmin"));
    }

    [Fact]
    public async Task A_deleted_account_is_gone_its_sessions_are_dead_and_its_email_registers_a_new_user()
    {
        var login = await _client.LoginAsync();
        var id = UserId(login);

        Assert.Equal(HttpStatusCode.NoContent, (await AdminAsync(HttpMethod.Delete, $"/admin/users/{id}")).StatusCode);

        await (await AdminAsync(HttpMethod.Get, $"/admin/users/{id}")).AssertProblemAsync(404, "not_found");
        await (await AdminAsync(HttpMethod.Delete, $"/admin/users/{id}")).AssertProblemAsync(404, "not_found");
        await (await _client.SendAsync(HttpMethod.Get, "/me", login.AccessToken)).AssertProblemAsync(401, "invalid_token");
        await (await RefreshAsync(login.RefreshToken)).AssertProblemAsync(403, "invalid_grant");
        await (await _client.PostJsonAsync("/auth/login", new { email = login.Email, password = TestSteps.Password })).AssertProblemAsync(401, "invalid_credentials");
        var again = await _client.PostJsonAsync("/auth/register", new { email = login.Email, password = TestSteps.Password });
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.NotEqual(id, (await again.JsonAsync()).GetProperty("userId").GetGuid());
        // Nothing stored names the deleted account's email any more but the new account.
        Assert.DoesNotContain(fixture.Storage.StoredStates("session").OfType<Sessions.Grains.SessionState>(), s => s.UserId == id && s.HoldsPersonalData);
    }

    [Fact]
    public async Task A_user_deletes_their_own_account_with_the_password()
    {
        var login = await _client.LoginAsync();
        Task<HttpResponseMessage> DeleteMe(object body) => _client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/me")
        {
            Content = JsonContent.Create(body),
            Headers = { Authorization = new("Bearer", login.AccessToken) },
        });

        await (await DeleteMe(new { password = "not the password" })).AssertProblemAsync(403, "invalid_credentials");
        await (await DeleteMe(new { })).AssertProblemAsync(400, "invalid_request");
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(HttpMethod.Get, "/me", login.AccessToken)).StatusCode);
        var deleted = await DeleteMe(new { password = TestSteps.Password });

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.StartsWith("refresh_token=;", string.Join(";", deleted.Headers.GetValues("Set-Cookie")), StringComparison.Ordinal);
        await (await _client.SendAsync(HttpMethod.Get, "/me", login.AccessToken)).AssertProblemAsync(401, "invalid_token");
        await (await AdminAsync(HttpMethod.Get, $"/admin/users/{UserId(login)}")).AssertProblemAsync(404, "not_found");
        Assert.Equal(HttpStatusCode.Created, (await _client.PostJsonAsync("/auth/register", new { email = login.Email, password = TestSteps.Password })).StatusCode);
    }
}
