using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Sessions.Tests.Api;

/// <summary>
/// Address verification and password reset (docs/http-api.md#email-verification-and-password-reset) with mail sent by
/// MailKit over a socket to a real SMTP server in the test process.
/// </summary>
[Layer(Layer.EndToEnd)]
[Collection(ApiCluster.Name)]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Disposed in IAsyncLifetime.DisposeAsync.")]
public sealed class EmailTests(ApiFixture fixture) : IAsyncLifetime
{
    private const string VerifyPage = "https://app.example/verify", ResetPage = "https://app.example/reset";
    private static readonly TimeSpan MailWait = TimeSpan.FromSeconds(10);
    private readonly TestSmtpServer _smtp = new();
    private WebApplicationFactory<Program> _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _smtp.Start();
        _factory = await fixture.CreateServingFactoryAsync(s =>
        {
            s["Email:Smtp:Host"] = "127.0.0.1";
            s["Email:Smtp:Port"] = _smtp.Port.ToString(CultureInfo.InvariantCulture);
            s["Email:Smtp:Security"] = "None";
            s["Email:From"] = "Sessions <no-reply@sessions.example>";
            s["Email:VerifyEmailUrl"] = VerifyPage;
            s["Email:ResetPasswordUrl"] = ResetPage;
        });
        _client = _factory.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _smtp.DisposeAsync();
    }

    private async Task<string> RegisterAsync(string? email = null)
    {
        email ??= Http.NewEmail();
        Assert.Equal(HttpStatusCode.Created, (await _client.PostJsonAsync("/auth/register", new { email, password = TestSteps.Password })).StatusCode);
        return email;
    }

    private Task<HttpResponseMessage> PostAsync(string path, object body) => _client.PostJsonAsync(path, body);

    private async Task<string> MailedTokenAsync(string email, string page, int nth = 1)
    {
        var deadline = DateTime.UtcNow + MailWait;
        while (Mails(email, page).Count < nth)
        {
            Assert.True(DateTime.UtcNow < deadline, $"mail {nth} to {email} for {page} did not come");
            await Task.Delay(50);
        }
        return TestSmtpServer.TokenOf(Mails(email, page)[nth - 1]);
    }

    private List<MimeKit.MimeMessage> Mails(string email, string page) =>
        [.. _smtp.Received.Where(m => m.To.Mailboxes.Any(a => a.Address == email) && TestSmtpServer.LinkOf(m).StartsWith(page + "#token=", StringComparison.Ordinal))];

    [Fact]
    public async Task Registration_mails_a_verification_link_whose_token_verifies_the_address_once()
    {
        var email = await RegisterAsync();
        var token = await MailedTokenAsync(email, VerifyPage);
        var mail = Mails(email, VerifyPage).Single();
        var login = await (await PostAsync("/auth/login", new { email, password = TestSteps.Password, refreshTokenIn = "body" })).JsonAsync();
        var accessToken = login.GetProperty("accessToken").GetString()!;

        Assert.Equal("no-reply@sessions.example", mail.From.Mailboxes.Single().Address);
        Assert.NotNull(mail.HtmlBody);
        Assert.DoesNotContain(TestSteps.Password, mail.TextBody, StringComparison.Ordinal);
        Assert.False((await (await _client.SendAsync(HttpMethod.Get, "/me", accessToken)).JsonAsync()).GetProperty("emailVerified").GetBoolean());

        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync("/auth/email/verify", new { token })).StatusCode);

        // At once for the session already open, and in the next access token.
        Assert.True((await (await _client.SendAsync(HttpMethod.Get, "/me", accessToken)).JsonAsync()).GetProperty("emailVerified").GetBoolean());
        var refreshed = await (await PostAsync("/auth/refresh", new { refreshToken = login.GetProperty("refreshToken").GetString() })).JsonAsync();
        Assert.True(Http.JwtPart(refreshed.GetProperty("accessToken").GetString()!, 1).GetProperty("email_verified").GetBoolean());
        await (await PostAsync("/auth/email/verify", new { token })).AssertProblemAsync(400, "invalid_grant");
        // Verified: asking again sends nothing.
        Assert.Equal(HttpStatusCode.Accepted, (await _client.SendAsync(HttpMethod.Post, "/auth/email/verify-request", accessToken)).StatusCode);
        await Task.Delay(500);
        Assert.Single(Mails(email, VerifyPage));
    }

    [Fact]
    public async Task Only_the_latest_verification_link_works_and_a_fourth_mail_in_the_window_is_429()
    {
        var email = await RegisterAsync();
        var first = await MailedTokenAsync(email, VerifyPage);
        var login = await _client.PostJsonAsync("/auth/login", new { email, password = TestSteps.Password, refreshTokenIn = "body" });
        var accessToken = (await login.JsonAsync()).GetProperty("accessToken").GetString()!;

        Assert.Equal(HttpStatusCode.Accepted, (await _client.SendAsync(HttpMethod.Post, "/auth/email/verify-request", accessToken)).StatusCode);
        var second = await MailedTokenAsync(email, VerifyPage, nth: 2);
        Assert.Equal(HttpStatusCode.Accepted, (await _client.SendAsync(HttpMethod.Post, "/auth/email/verify-request", accessToken)).StatusCode);
        var limited = await _client.SendAsync(HttpMethod.Post, "/auth/email/verify-request", accessToken);

        await limited.AssertProblemAsync(429, "too_many_attempts");
        // Until the first of the three mails leaves the 15-minute window.
        Assert.InRange(int.Parse(limited.Headers.RetryAfter!.ToString(), CultureInfo.InvariantCulture), 14 * 60, 15 * 60);
        await MailedTokenAsync(email, VerifyPage, nth: 3);
        await (await PostAsync("/auth/email/verify", new { token = first })).AssertProblemAsync(400, "invalid_grant");
        await (await PostAsync("/auth/email/verify", new { token = second })).AssertProblemAsync(400, "invalid_grant");
    }

    [Theory]
    [InlineData("""{"token":"not-a-token"}""", 400, "invalid_grant")]
    [InlineData("""{}""", 400, "invalid_request")]
    [InlineData("""{"token":42}""", 400, "invalid_request")]
    [InlineData("not json", 400, "invalid_request")]
    public async Task A_bad_verification_body_or_token_is_400(string body, int status, string error)
    {
        var response = await _client.PostAsync("/auth/email/verify", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        await response.AssertProblemAsync(status, error);
    }

    [Fact]
    public async Task Forgot_answers_the_same_for_unknown_and_known_emails_and_mails_only_the_known_one()
    {
        var known = await RegisterAsync();
        var unknown = Http.NewEmail();

        var a = await PostAsync("/auth/password/forgot", new { email = known.ToUpperInvariant() });
        var b = await PostAsync("/auth/password/forgot", new { email = unknown });

        Assert.Equal(HttpStatusCode.Accepted, a.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, b.StatusCode);
        Assert.Equal(await a.Content.ReadAsStringAsync(), await b.Content.ReadAsStringAsync());
        await MailedTokenAsync(known, ResetPage);
        await Task.Delay(500);
        Assert.DoesNotContain(_smtp.Received, m => m.To.Mailboxes.Any(x => x.Address == unknown));
        await (await PostAsync("/auth/password/forgot", new { email = "not an email" })).AssertProblemAsync(400, "invalid_request");
    }

    [Fact]
    public async Task A_reset_sets_the_password_revokes_every_session_verifies_the_address_and_spends_the_token()
    {
        var email = await RegisterAsync();
        var laptop = await (await PostAsync("/auth/login", new { email, password = TestSteps.Password, refreshTokenIn = "body" })).JsonAsync();
        var phone = await (await PostAsync("/auth/login", new { email, password = TestSteps.Password, refreshTokenIn = "body" })).JsonAsync();
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("/auth/password/forgot", new { email })).StatusCode);
        var token = await MailedTokenAsync(email, ResetPage);

        // A new password that breaks the rules spends nothing.
        await (await PostAsync("/auth/password/reset", new { token, newPassword = "short" })).AssertProblemAsync(400, "invalid_request");
        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync("/auth/password/reset", new { token, newPassword = "a reset passphrase" })).StatusCode);

        foreach (var session in new[] { laptop, phone })
        {
            await (await PostAsync("/auth/refresh", new { refreshToken = session.GetProperty("refreshToken").GetString() })).AssertProblemAsync(403, "invalid_grant");
            await (await _client.SendAsync(HttpMethod.Get, "/me", session.GetProperty("accessToken").GetString())).AssertProblemAsync(401, "invalid_token");
        }
        await (await PostAsync("/auth/login", new { email, password = TestSteps.Password })).AssertProblemAsync(401, "invalid_credentials");
        var fresh = await (await PostAsync("/auth/login", new { email, password = "a reset passphrase" })).JsonAsync();
        Assert.True(Http.JwtPart(fresh.GetProperty("accessToken").GetString()!, 1).GetProperty("email_verified").GetBoolean());
        await (await PostAsync("/auth/password/reset", new { token, newPassword = "another passphrase" })).AssertProblemAsync(400, "invalid_grant");
        Assert.Contains(fixture.Logs.Named("session_revoked"), e => e.Message.Contains(laptop.GetProperty("sessionId").GetString()!) && e.Message.Contains("PasswordReset"));
    }

    [Fact]
    public async Task A_reset_clears_a_failed_login_lock_and_a_password_change_voids_outstanding_reset_links()
    {
        var email = await RegisterAsync();
        for (var i = 0; i < 10; i++)
            await PostAsync("/auth/login", new { email, password = "a wrong password" });
        await (await PostAsync("/auth/login", new { email, password = TestSteps.Password })).AssertProblemAsync(429, "too_many_attempts");

        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("/auth/password/forgot", new { email })).StatusCode);
        var token = await MailedTokenAsync(email, ResetPage);
        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync("/auth/password/reset", new { token, newPassword = "a reset passphrase" })).StatusCode);
        var login = await PostAsync("/auth/login", new { email, password = "a reset passphrase", refreshTokenIn = "body" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);

        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("/auth/password/forgot", new { email })).StatusCode);
        var outstanding = await MailedTokenAsync(email, ResetPage, nth: 2);
        var change = new HttpRequestMessage(HttpMethod.Post, "/auth/password")
        {
            Content = JsonContent.Create(new { currentPassword = "a reset passphrase", newPassword = "a changed passphrase" }),
            Headers = { Authorization = new("Bearer", (await login.JsonAsync()).GetProperty("accessToken").GetString()) },
        };
        Assert.Equal(HttpStatusCode.NoContent, (await _client.SendAsync(change)).StatusCode);
        await (await PostAsync("/auth/password/reset", new { token = outstanding, newPassword = "a stolen passphrase" })).AssertProblemAsync(400, "invalid_grant");
    }

    [Fact]
    public async Task Without_smtp_the_mail_only_endpoints_are_501_and_registration_works_as_before()
    {
        using var client = fixture.Client();
        var login = await client.LoginAsync();

        await (await client.PostJsonAsync("/auth/password/forgot", new { email = login.Email })).AssertProblemAsync(501, "email_not_configured");
        await (await client.SendAsync(HttpMethod.Post, "/auth/email/verify-request", login.AccessToken)).AssertProblemAsync(501, "email_not_configured");
    }

    [Fact]
    public async Task Mail_sent_while_the_smtp_server_is_down_for_30_seconds_arrives_once_it_is_back_and_nothing_else_fails()
    {
        await _smtp.StopAsync();
        var email = await RegisterAsync();
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("/auth/password/forgot", new { email })).StatusCode);
        // Meanwhile everything else works.
        var login = await PostAsync("/auth/login", new { email, password = TestSteps.Password, refreshTokenIn = "body" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);

        await Task.Delay(TimeSpan.FromSeconds(30));
        Assert.Empty(_smtp.Received);
        _smtp.Start();

        // The back-off waits at most 10 s between tries.
        var verification = await _smtp.WaitForAsync(email, TimeSpan.FromSeconds(30), m => TestSmtpServer.LinkOf(m).StartsWith(VerifyPage, StringComparison.Ordinal));
        var reset = await _smtp.WaitForAsync(email, TimeSpan.FromSeconds(30), m => TestSmtpServer.LinkOf(m).StartsWith(ResetPage, StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync("/auth/email/verify", new { token = TestSmtpServer.TokenOf(verification) })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync("/auth/password/reset", new { token = TestSmtpServer.TokenOf(reset), newPassword = "after the outage" })).StatusCode);
    }
}
