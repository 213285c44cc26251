using System.Net;
using System.Text;
using Sessions.Api.Http;

namespace Sessions.Tests.Api;

/// <summary>
/// docs/http-api.md#register: emails compared after NFKC and case folding, emails with
/// hidden characters refused, user agents stored, listed and logged without control characters.
/// </summary>
[Layer(Layer.Api)]
[Collection(AccountApiCluster.Name)]
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
        Assert.Equal(malformed.GetProperty("detail").GetString(), refused.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("p\u0430ypal-{0}@example.com")] // a Cyrillic а among Latin letters
    [InlineData("ann-{0}@ex\u0430mple.com")] // the same in the domain
    [InlineData("ann-{0}@examp\u04cfe.com")] // a Cyrillic palochka ӏ for the l
    [InlineData("\u03bfscar-{0}@example.com")] // a Greek omicron
    public async Task A_look_alike_email_mixing_scripts_in_one_part_is_400_at_registration(string template)
    {
        var email = string.Format(CultureInfo.InvariantCulture, template, Unique());

        var register = await _client.PostJsonAsync("/auth/register", new { email, password = TestSteps.Password });

        var problem = await register.AssertProblemAsync(400, "invalid_request");
        Assert.Equal(ProblemCatalogue.InvalidRequest.Title, problem.GetProperty("title").GetString());
        Assert.Contains("script", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("\u0438\u0432\u0430\u043d-{0}@example.com")] // all Cyrillic local part, Latin domain: one script per part
    [InlineData("tanaka-\u7530\u4e2d-{0}@example.jp")] // Latin with Han, as Japanese writes
    [InlineData("\u03c3\u03c9\u03ba\u03c1\u03ac\u03c4\u03b7\u03c2-{0}@\u03c0\u03b1\u03c1\u03ac\u03b4\u03b5\u03b9\u03b3\u03bc\u03b1.gr")] // all Greek
    public async Task An_email_in_one_script_per_part_registers(string template)
    {
        // Digits only: they belong to no script, where a Guid's a-f are Latin.
        var email = string.Format(CultureInfo.InvariantCulture, template, Random.Shared.NextInt64(1_000_000_000_000));

        Assert.Equal(HttpStatusCode.Created, (await _client.PostJsonAsync("/auth/register", new { email, password = TestSteps.Password })).StatusCode);
    }

    [Fact]
    public async Task A_capital_dotted_i_is_folded_as_unicode_folds_it_and_surrounding_spaces_are_trimmed()
    {
        var id = Unique();
        var folded = $"i\u0307smail-{id}@example.com";

        Assert.Equal(HttpStatusCode.Created, (await _client.PostJsonAsync("/auth/register", new { email = $"  \u0130SMAIL-{id}@example.com ", password = TestSteps.Password })).StatusCode);
        await (await _client.PostJsonAsync("/auth/register", new { email = folded, password = TestSteps.Password })).AssertProblemAsync(409, "email_taken");

        var login = await _client.PostJsonAsync("/auth/login", new { email = folded, password = TestSteps.Password, refreshTokenIn = "body" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var me = await _client.SendAsync(HttpMethod.Get, "/me", (await login.JsonAsync()).GetProperty("accessToken").GetString());
        Assert.Equal(folded, (await me.JsonAsync()).GetProperty("email").GetString());
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
