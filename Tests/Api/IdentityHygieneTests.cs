using System.Net;
using System.Text;
using Sessions.Tests.Infrastructure;

namespace Sessions.Tests.Api;

/// <summary>
/// API.md v2, "Limits and malformed requests": emails compared after NFKC and case folding, emails with
/// hidden characters refused, user agents stored, listed and logged without control characters.
/// </summary>
[Collection(ApiCluster.Name)]
public sealed class IdentityHygieneTests(ApiFixture fixture)
{
    private readonly HttpClient _client = fixture.Client();

    private static string Unique() => Guid.NewGuid().ToString("N")[..12];

    private static bool IsHidden(char c) => char.GetUnicodeCategory(c) is UnicodeCategory.Control or UnicodeCategory.Format;

    [Fact]
    public async Task Composed_and_decomposed_forms_of_an_email_are_one_account_and_either_form_logs_in()
    {
        var id = Unique();
        var composed = $"jos\u00e9-{id}@example.com";
        var decomposed = $"jose\u0301-{id}@example.com";

        var first = await _client.PostJsonAsync("/auth/register", new { email = composed, password = TestSteps.Password });
        var second = await _client.PostJsonAsync("/auth/register", new { email = decomposed, password = "another password" });

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        await second.AssertProblemAsync(409, "email_taken");
        Assert.Equal(HttpStatusCode.OK, (await _client.PostJsonAsync("/auth/login", new { email = composed, password = TestSteps.Password })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.PostJsonAsync("/auth/login", new { email = decomposed, password = TestSteps.Password })).StatusCode);
    }

    [Fact]
    public async Task Compatibility_and_case_variants_are_one_account_stored_in_the_normal_form()
    {
        var id = Unique();
        // Fullwidth letters and a ligature: NFKC makes them "JOSE" and "fi", and lower-casing "jose".
        var variant = $"\uFF2A\uFF2F\uFF33\uFF25-\uFB01-{id}@EXAMPLE.com";
        var normal = $"jose-fi-{id}@example.com";

        Assert.Equal(HttpStatusCode.Created, (await _client.PostJsonAsync("/auth/register", new { email = variant, password = TestSteps.Password })).StatusCode);
        await (await _client.PostJsonAsync("/auth/register", new { email = normal, password = TestSteps.Password })).AssertProblemAsync(409, "email_taken");

        var login = await _client.PostJsonAsync("/auth/login", new { email = normal, password = TestSteps.Password, refreshTokenIn = "body" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var me = await _client.SendAsync(HttpMethod.Get, "/me", (await login.JsonAsync()).GetProperty("accessToken").GetString());
        Assert.Equal(normal, (await me.JsonAsync()).GetProperty("email").GetString());
    }

    [Theory]
    [InlineData("a\u200Bb@example.com")] // zero-width space
    [InlineData("\u202Eevil@example.com")] // right-to-left override
    [InlineData("a\u200Db@example.com")] // zero-width joiner
    [InlineData("\u2066a@example.com")] // left-to-right isolate
    [InlineData("\uFEFFa@example.com")] // zero-width no-break space (BOM)
    [InlineData("a\U000E0041b@example.com")] // a tag character
    [InlineData("a\u0085b@example.com")] // next line, a C1 control
    public async Task An_email_with_hidden_characters_is_400_invalid_request_at_register_and_login(string email)
    {
        var register = await _client.PostJsonAsync("/auth/register", new { email, password = TestSteps.Password });
        var login = await _client.PostJsonAsync("/auth/login", new { email, password = TestSteps.Password });

        await register.AssertProblemAsync(400, "invalid_request");
        var malformed = await (await _client.PostJsonAsync("/auth/login", new { email = "not-an-email", password = TestSteps.Password })).JsonAsync();
        var refused = await login.AssertProblemAsync(400, "invalid_request");
        Assert.Equal(malformed.GetProperty("title").GetString(), refused.GetProperty("title").GetString());
    }

    [Fact]
    public async Task An_email_whose_normal_form_is_malformed_is_400_and_never_a_500()
    {
        // A fullwidth @ passes as a character of the local part; its NFKC form is a second @.
        var fullwidthAt = await _client.PostJsonAsync("/auth/register", new { email = $"a\uFF20b-{Unique()}@example.com", password = TestSteps.Password });
        // A lone surrogate, which string.Normalize throws on.
        var loneSurrogate = await _client.PostAsync("/auth/register", new StringContent(
            $$"""{"email":"a\ud800b-{{Unique()}}@example.com","password":"{{TestSteps.Password}}"}""", Encoding.UTF8, "application/json"));

        await fullwidthAt.AssertProblemAsync(400, "invalid_request");
        await loneSurrogate.AssertProblemAsync(400, "invalid_request");
    }

    [Fact]
    public async Task A_user_agent_with_terminal_escapes_and_bidi_overrides_is_listed_without_them()
    {
        var email = Http.NewEmail();
        await _client.PostJsonAsync("/auth/register", new { email, password = TestSteps.Password });
        var request = new HttpRequestMessage(HttpMethod.Post, "/auth/login")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { email, password = TestSteps.Password, refreshTokenIn = "body" }),
        };
        request.Headers.TryAddWithoutValidation("User-Agent", "Evil/1.0 \u001b[31mred\u001b[0m \u202Egnp.exe\u0007");
        var login = await _client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);

        var sessions = await _client.SendAsync(HttpMethod.Get, "/auth/sessions", (await login.JsonAsync()).GetProperty("accessToken").GetString());

        var userAgent = (await sessions.JsonAsync())[0].GetProperty("userAgent").GetString()!;
        Assert.Equal("Evil/1.0 [31mred[0m gnp.exe", userAgent);
    }

    [Fact]
    public async Task The_reuse_event_logs_the_user_agent_without_control_characters()
    {
        var login = await _client.LoginAsync("body");
        Assert.Equal(HttpStatusCode.OK, (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = login.RefreshToken })).StatusCode);
        fixture.Clock.Advance(ClusterFixture.GraceWindow + TimeSpan.FromSeconds(1));
        var reuse = new HttpRequestMessage(HttpMethod.Post, "/auth/refresh")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { refreshToken = login.RefreshToken }),
        };
        reuse.Headers.TryAddWithoutValidation("User-Agent", "curl/8\u001b]0;owned\u0007\u001b[2J");

        await (await _client.SendAsync(reuse)).AssertProblemAsync(403, "invalid_grant");

        var logged = fixture.Logs.Named("refresh_token_reuse")
            .Single(e => e.Values.Any(v => v.Key == "SessionId" && Equals(v.Value, login.SessionId)));
        var userAgent = (string)logged.Values.Single(v => v.Key == "UserAgent").Value!;
        Assert.Equal("curl/8]0;owned[2J", userAgent);
        Assert.DoesNotContain(logged.Message, IsHidden);
    }
}
