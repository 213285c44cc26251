using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Sessions.Tests.Browser;

/// <summary>
/// The browser client and the demo page in a real Chromium against the real Api and silo: the advice the
/// project started from (refresh token in an HttpOnly cookie, access token only in memory, silent refresh,
/// many tabs), working end to end.
/// </summary>
[Layer(Layer.Browser)]
[Collection(BrowserCluster.Name)]
public sealed class BrowserTests(BrowserFixture fixture, ITestOutputHelper output)
{
    /// <summary>Gitignored: scripts/screenshots.sh copies them to docs/images/ when the README's pictures should change.</summary>
    private static readonly string Screenshots = Path.Combine(Repository.Root, ".local", "screenshots");
    private static readonly string Screenshot = Path.Combine(Screenshots, "demo.png");

    private string DemoUrl(string origin) =>
        $"{origin}/demo/?api={Uri.EscapeDataString(fixture.ApiOrigin)}&yourApi={Uri.EscapeDataString(fixture.YourApiUrl)}";

    private async Task<IPage> OpenDemoAsync(IBrowserContext context, string? origin = null)
    {
        var page = await context.NewPageAsync();
        page.Console += (_, message) => output.WriteLine($"[console {message.Type}] {message.Text}");
        await page.GotoAsync(DemoUrl(origin ?? fixture.ApiOrigin));
        await page.WaitForSelectorAsync("body[data-state='signed-in'], body[data-state='signed-out']");
        return page;
    }

    private static async Task SignInAsync(IPage page, string email, string password = TestSteps.Password)
    {
        await page.FillAsync("#email", email);
        await page.FillAsync("#password", password);
        await page.ClickAsync("#sign-in");
        await page.WaitForSelectorAsync("body[data-state='signed-in']");
    }

    private static Task<string> StateAsync(IPage page) => page.EvaluateAsync<string>("document.body.dataset.state");

    private static async Task<int> CountAsync(IPage page, string selector) => int.Parse(await page.InnerTextAsync(selector), CultureInfo.InvariantCulture);

    [Fact]
    public async Task Signing_in_shows_the_user_keeps_tokens_out_of_page_storage_and_sets_a_strict_httponly_cookie()
    {
        var email = await fixture.RegisterAsync();
        await using var context = await fixture.Browser.NewContextAsync();
        var page = await OpenDemoAsync(context);
        Assert.Equal("signed-out", await StateAsync(page));

        await SignInAsync(page, email);

        await Assertions.Expect(page.Locator("#user-email")).ToHaveTextAsync(email);
        Assert.Equal(0, await page.EvaluateAsync<int>("localStorage.length"));
        Assert.Equal(0, await page.EvaluateAsync<int>("sessionStorage.length"));
        Assert.Equal(0, await page.EvaluateAsync<int>("indexedDB.databases().then(d => d.length)"));
        Assert.Equal("", await page.EvaluateAsync<string>("document.cookie"));
        // No JWT anywhere in the page: "eyJ" starts every base64url JSON header.
        Assert.DoesNotContain("eyJ", await page.ContentAsync());

        var cookie = Assert.Single(await context.CookiesAsync(), c => c.Name == "refresh_token");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.Equal("/auth", cookie.Path);
        Assert.Equal("localhost", cookie.Domain);
    }

    [Fact]
    public async Task A_reload_stays_signed_in_by_exactly_one_silent_refresh()
    {
        var email = await fixture.RegisterAsync();
        await using var context = await fixture.Browser.NewContextAsync();
        var page = await OpenDemoAsync(context);
        await SignInAsync(page, email);
        var refreshes = 0;
        page.Request += (_, request) => refreshes += request.Url.EndsWith("/auth/refresh", StringComparison.Ordinal) && request.Method == "POST" ? 1 : 0;

        await page.ReloadAsync();
        await page.WaitForSelectorAsync("body[data-state='signed-in']");
        await Assertions.Expect(page.Locator("#user-email")).ToHaveTextAsync(email);

        Assert.Equal(1, refreshes);
    }

    [Fact]
    public async Task For_a_minute_of_api_calls_no_401_surfaces_and_the_token_is_refreshed_ahead_of_expiry()
    {
        var email = await fixture.RegisterAsync();
        await using var context = await fixture.Browser.NewContextAsync();
        var page = await OpenDemoAsync(context);
        await SignInAsync(page, email);
        var refreshesBefore = await CountAsync(page, "#refresh-count");

        // A call every second for 60 s, three access-token lifetimes.
        var calls = await page.EvaluateAsync<int>(@"async () => {
            let calls = 0;
            for (const end = Date.now() + 60000; Date.now() < end; calls++) {
                const email = await window.demo.callMe();
                if (!email) throw new Error('no email from /me');
                await new Promise(r => setTimeout(r, 1000));
            }
            return calls;
        }");

        Assert.True(calls >= 50, $"{calls} calls");
        Assert.Equal(0, await CountAsync(page, "#unauthorized-count"));
        Assert.Equal("signed-in", await StateAsync(page));
        // 60 s of 20 s tokens, each refreshed before it expired.
        Assert.True(await CountAsync(page, "#refresh-count") - refreshesBefore >= 3, "fewer than 3 proactive refreshes in 60 s");
    }

    [Fact]
    public async Task Five_tabs_sharing_one_cookie_refreshing_at_once_never_sign_each_other_out()
    {
        var email = await fixture.RegisterAsync();
        await using var context = await fixture.Browser.NewContextAsync();
        var first = await OpenDemoAsync(context);
        await SignInAsync(first, email);
        var tabs = new List<IPage> { first };
        for (var i = 1; i < 5; i++)
            tabs.Add(await OpenDemoAsync(context));
        Assert.All(await Task.WhenAll(tabs.Select(StateAsync)), state => Assert.Equal("signed-in", state));

        // 30 s: every tab refreshes with the shared cookie at random moments (so requests cross in flight and
        // arrive out of order) and calls the API through its client in between.
        var calls = await Task.WhenAll(tabs.Select(tab => tab.EvaluateAsync<int>(@"async api => {
            let calls = 0;
            for (const end = Date.now() + 30000; Date.now() < end; calls++) {
                await new Promise(r => setTimeout(r, Math.random() * 700));
                const refresh = await fetch(api + '/auth/refresh', { method: 'POST', credentials: 'include',
                    headers: { 'Content-Type': 'application/json' }, body: '{}' });
                if (refresh.status !== 200) throw new Error('refresh answered ' + refresh.status);
                await window.demo.callMe();
            }
            return calls;
        }", fixture.ApiOrigin)));
        output.WriteLine($"refresh rounds per tab: {string.Join(", ", calls)}");

        // All five reload together: five silent refreshes in one burst.
        await Task.WhenAll(tabs.Select(tab => tab.ReloadAsync()));
        foreach (var tab in tabs)
        {
            await tab.WaitForSelectorAsync("body[data-state='signed-in']");
            Assert.Equal(email, await tab.EvaluateAsync<string>("window.demo.callMe()"));
            Assert.Equal(0, await CountAsync(tab, "#unauthorized-count"));
        }
        Assert.Empty(fixture.ReuseEvents());
    }

    [Fact]
    public async Task Signing_out_in_one_tab_signs_out_every_other_tab_within_a_second()
    {
        var email = await fixture.RegisterAsync();
        await using var context = await fixture.Browser.NewContextAsync();
        var first = await OpenDemoAsync(context);
        await SignInAsync(first, email);
        var others = new[] { await OpenDemoAsync(context), await OpenDemoAsync(context) };
        Assert.All(await Task.WhenAll(others.Select(StateAsync)), state => Assert.Equal("signed-in", state));

        await first.ClickAsync("#sign-out");
        await first.WaitForSelectorAsync("body[data-state='signed-out']");

        foreach (var tab in others)
        {
            await tab.WaitForSelectorAsync("body[data-state='signed-out']", new() { Timeout = 1000 });
            Assert.False(await tab.EvaluateAsync<bool>("window.demo.client.signedIn"));
            Assert.True(await tab.EvaluateAsync<bool>("window.demo.client.accessTokenExpiresAt === null"));
        }
    }

    [Fact]
    public async Task A_session_revoked_from_another_device_ends_signed_out_at_its_next_call()
    {
        var email = await fixture.RegisterAsync();
        await using var laptop = await fixture.Browser.NewContextAsync();
        await using var phone = await fixture.Browser.NewContextAsync();
        var laptopPage = await OpenDemoAsync(laptop);
        await SignInAsync(laptopPage, email);
        var laptopSession = await laptopPage.EvaluateAsync<string>("window.demo.client.sessionId");
        var phonePage = await OpenDemoAsync(phone);
        await SignInAsync(phonePage, email);

        await phonePage.ClickAsync("#refresh-sessions");
        var row = phonePage.Locator($"#sessions li[data-session-id='{laptopSession}']");
        await Assertions.Expect(row).ToHaveAttributeAsync("data-current", "false");
        await row.Locator("button.revoke").ClickAsync();
        await Assertions.Expect(row).ToHaveCountAsync(0);

        await Assert.ThrowsAnyAsync<PlaywrightException>(() => laptopPage.EvaluateAsync<string>("window.demo.callMe()"));
        await laptopPage.WaitForSelectorAsync("body[data-state='signed-out']");
        Assert.Equal("signed-in", await StateAsync(phonePage));
    }

    [Fact]
    public async Task Your_api_takes_the_in_memory_token_and_refuses_it_once_the_user_signs_out_everywhere_from_another_device()
    {
        var email = await fixture.RegisterAsync();
        await using var laptop = await fixture.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        await using var phone = await fixture.Browser.NewContextAsync();
        var laptopPage = await OpenDemoAsync(laptop);
        await SignInAsync(laptopPage, email);

        await laptopPage.ClickAsync("#call-your-api");
        var answer = laptopPage.Locator("#your-api-answer");
        await Assertions.Expect(answer).ToHaveAttributeAsync("data-status", "200");
        await Assertions.Expect(answer).ToContainTextAsync($"Hello from your API, {email}");
        await Assertions.Expect(answer).ToContainTextAsync("signature and introspection");
        Directory.CreateDirectory(Screenshots);
        await laptopPage.Locator(".your-api-card").ScrollIntoViewIfNeededAsync();
        await laptopPage.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "your-api.png"), FullPage = true });

        var phonePage = await OpenDemoAsync(phone);
        await SignInAsync(phonePage, email);
        await phonePage.ClickAsync("#sign-out-all");
        await phonePage.WaitForSelectorAsync("body[data-state='signed-out']");
        // The API keeps an introspection answer for at most a second.
        await Task.Delay(TimeSpan.FromSeconds(1.2));

        // The laptop's token is still within its lifetime and its signature is fine: only introspection refuses it.
        Assert.Equal("signed-in", await StateAsync(laptopPage));
        await laptopPage.ClickAsync("#call-your-api");
        await laptopPage.WaitForSelectorAsync("body[data-state='signed-out']");
        await Assertions.Expect(answer).ToHaveAttributeAsync("data-status", "401");
        await Assertions.Expect(laptopPage.Locator("#notice")).ToContainTextAsync("Your API answered 401");
        await laptopPage.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "your-api-revoked.png") });
    }

    private static readonly string[] AdminRoles = ["user", "admin"];

    /// <summary>The first admin is made by an admin client, as docs/http-api.md#admin-api shows with curl.</summary>
    private async Task<Guid> MakeAdminAsync(string email)
    {
        var find = new HttpRequestMessage(HttpMethod.Get, $"/admin/users?email={Uri.EscapeDataString(email)}") { Headers = { Authorization = ApiFixture.AdminTool.Basic } };
        var userId = (await Http.JsonAsync(await fixture.Api.SendAsync(find))).GetProperty("userId").GetGuid();
        var grant = new HttpRequestMessage(HttpMethod.Put, $"/admin/users/{userId}/roles")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { roles = AdminRoles }),
            Headers = { Authorization = ApiFixture.AdminTool.Basic },
        };
        Assert.Equal(System.Net.HttpStatusCode.OK, (await fixture.Api.SendAsync(grant)).StatusCode);
        return userId;
    }

    [Fact]
    public async Task The_admin_page_shows_its_forms_to_no_signed_out_visitor_and_no_user_without_the_admin_role()
    {
        var email = await fixture.RegisterAsync();
        await using var context = await fixture.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{fixture.ApiOrigin}/demo/admin.html?api={Uri.EscapeDataString(fixture.ApiOrigin)}");
        await page.WaitForSelectorAsync("body[data-state='signed-out']");
        Assert.False(await page.IsVisibleAsync("#find-form"));
        Assert.True(await page.IsVisibleAsync("#gate-title"));

        // Signed in without the role, then to the admin page as a typed URL would (the demo hides its link).
        await SignInAsync(await OpenDemoAsync(context), email);
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#gate-title")).ToHaveTextAsync("Your account is not an admin.");
        Assert.False(await page.IsVisibleAsync("#find-form"));
    }

    [Fact]
    public async Task The_typed_declarations_name_every_member_of_the_client_and_of_the_objects_it_hands_out()
    {
        var email = await fixture.RegisterAsync();
        await using var context = await fixture.Browser.NewContextAsync();
        var page = await OpenDemoAsync(context);
        await SignInAsync(page, email);

        var members = await page.EvaluateAsync<Dictionary<string, string[]>>(@"async () => {
            const client = window.demo.client;
            const fromClaims = Object.keys(client.user);
            await client.me();
            return {
                SessionsUser: fromClaims,
                SessionsUserFromMe: Object.keys(client.user),
                SessionsState: Object.keys(client.state),
                SessionsClient: Object.getOwnPropertyNames(Object.getPrototypeOf(client)).filter(name => name !== 'constructor'),
            };
        }");
        var declared = ClientDeclarations.Read(File.ReadAllText(Path.Combine(Repository.Root, "Client", "sessions-client.d.ts")));

        Assert.Equal(declared["SessionsUser"].Order(), members["SessionsUser"].Order());
        Assert.Equal(declared["SessionsUser"].Order(), members["SessionsUserFromMe"].Order());
        Assert.Equal(declared["SessionsState"].Order(), members["SessionsState"].Order());
        // addEventListener and removeEventListener are declared for their typed events and inherited from EventTarget.
        Assert.Equal(declared["SessionsClient"].Except(["addEventListener", "removeEventListener"]).Order(), members["SessionsClient"].Order());
    }

    [Fact]
    public async Task An_admin_finds_a_user_edits_roles_disables_enables_signs_them_out_and_deletes_them()
    {
        var adminEmail = await fixture.RegisterAsync();
        await MakeAdminAsync(adminEmail);
        var targetEmail = await fixture.RegisterAsync();
        var target = await Http.JsonAsync(await Http.PostJsonAsync(fixture.Api, "/auth/login",
            new { email = targetEmail, password = TestSteps.Password, refreshTokenIn = "body" }));
        await using var context = await fixture.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        var page = await OpenDemoAsync(context);
        await SignInAsync(page, adminEmail);

        await page.ClickAsync("#admin-link");
        await page.WaitForSelectorAsync("body[data-state='signed-in']");
        await page.FillAsync("#find-email", targetEmail.ToUpperInvariant());
        await page.ClickAsync("#find");
        await Assertions.Expect(page.Locator("#user-title")).ToHaveTextAsync(targetEmail);
        await Assertions.Expect(page.Locator("#user-sessions")).ToHaveTextAsync("1");

        await page.FillAsync("#roles-input", "user, support");
        await page.ClickAsync("#save-roles");
        await Assertions.Expect(page.Locator("#user-roles")).ToHaveTextAsync("usersupport");
        await page.ClickAsync("#toggle-disabled");
        await Assertions.Expect(page.Locator("#user-state")).ToHaveTextAsync("Disabled");
        var refresh = await Http.PostJsonAsync(fixture.Api, "/auth/refresh", new { refreshToken = target.GetProperty("refreshToken").GetString() });
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, refresh.StatusCode);
        Directory.CreateDirectory(Screenshots);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "admin.png") });
        await page.ClickAsync("#toggle-disabled");
        await Assertions.Expect(page.Locator("#user-state")).ToHaveTextAsync("Enabled");
        await page.ClickAsync("#revoke-all");
        await Assertions.Expect(page.Locator("#notice")).ToContainTextAsync("signed out on every device");

        await page.ClickAsync("#delete-user");
        await Assertions.Expect(page.Locator("#delete-user")).ToHaveTextAsync("Click again to delete for good");
        await page.ClickAsync("#delete-user");
        await Assertions.Expect(page.Locator("#notice")).ToContainTextAsync("is deleted");
        var login = await Http.PostJsonAsync(fixture.Api, "/auth/login", new { email = targetEmail, password = TestSteps.Password });
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, login.StatusCode);
        Assert.Contains(fixture.AdminActions(), line => line.Contains("did delete", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_user_deletes_their_own_account_from_the_account_card_and_every_tab_signs_out()
    {
        var email = await fixture.RegisterAsync();
        await using var context = await fixture.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await OpenDemoAsync(context);
        await SignInAsync(page, email);
        var other = await OpenDemoAsync(context);
        await other.WaitForSelectorAsync("body[data-state='signed-in']");
        Assert.False(await page.IsVisibleAsync("#admin-link"));

        await page.ClickAsync("#delete-account summary");
        await page.FillAsync("#delete-password", "not the password");
        await page.ClickAsync("#delete-me");
        await Assertions.Expect(page.Locator("#error")).ToContainTextAsync("The password is wrong");
        await page.FillAsync("#delete-password", TestSteps.Password);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "delete-account.png") });
        await page.ClickAsync("#delete-me");

        await page.WaitForSelectorAsync("body[data-state='signed-out']");
        await other.WaitForSelectorAsync("body[data-state='signed-out']");
        await Assertions.Expect(page.Locator("#notice")).ToContainTextAsync("Your account is deleted");
        var login = await Http.PostJsonAsync(fixture.Api, "/auth/login", new { email, password = TestSteps.Password });
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, login.StatusCode);
    }

    [Fact]
    public async Task A_new_user_verifies_the_address_from_the_mail_then_resets_a_forgotten_password_and_the_other_tab_signs_out()
    {
        var email = Http.NewEmail();
        await using var context = await fixture.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        var page = await OpenDemoAsync(context);
        await page.FillAsync("#email", email);
        await page.FillAsync("#password", TestSteps.Password);
        await page.ClickAsync("#register");
        await Assertions.Expect(page.Locator("#notice")).ToContainTextAsync("Account created");

        // The verification mail's link opens the demo's verify page, and the token leaves the address bar at once.
        var verification = await fixture.Smtp.WaitForAsync(email, TimeSpan.FromSeconds(15), m => m.Subject?.Contains("Verify", StringComparison.Ordinal) == true);
        var link = TestSmtpServer.LinkOf(verification);
        Assert.StartsWith($"{fixture.ApiOrigin}/demo/verify.html#token=", link, StringComparison.Ordinal);
        var verify = await context.NewPageAsync();
        await verify.GotoAsync(link);
        await Assertions.Expect(verify.Locator("#title")).ToHaveTextAsync("Your address is verified");
        Assert.DoesNotContain("token", verify.Url, StringComparison.Ordinal);
        Directory.CreateDirectory(Screenshots);
        await verify.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "verify.png") });

        // Signed in in one tab, with the address shown as verified.
        await SignInAsync(page, email);
        await Assertions.Expect(page.Locator("#email-state")).ToHaveTextAsync("verified");

        var secondTab = await OpenDemoAsync(context);
        await secondTab.WaitForSelectorAsync("body[data-state='signed-in']");

        // On another device the user has forgotten the password: the reset mail's link sets a new one.
        await using var device = await fixture.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        var other = await OpenDemoAsync(device);
        await other.FillAsync("#email", email);
        await other.ClickAsync("#forgot");
        await Assertions.Expect(other.Locator("#notice")).ToContainTextAsync("a link to set a new password is on its way");
        var resetMail = await fixture.Smtp.WaitForAsync(email, TimeSpan.FromSeconds(15), m => m.Subject?.Contains("Reset", StringComparison.Ordinal) == true);
        var reset = await device.NewPageAsync();
        await reset.GotoAsync(TestSmtpServer.LinkOf(resetMail));
        await reset.FillAsync("#new-password", "a passphrase after the reset");
        await reset.ClickAsync("#set-password");
        await Assertions.Expect(reset.Locator("#result")).ToContainTextAsync("Your password is changed");
        await reset.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "reset.png") });

        // The reset ended every session of the account: the first browser's tab finds out at its next call, and its
        // other tab follows.
        await Assert.ThrowsAnyAsync<PlaywrightException>(() => page.EvaluateAsync<string>("window.demo.callMe()"));
        await page.WaitForSelectorAsync("body[data-state='signed-out']");
        await secondTab.WaitForSelectorAsync("body[data-state='signed-out']");
        await SignInAsync(other, email, "a passphrase after the reset");
    }

    [Fact]
    public async Task The_demo_on_another_origin_of_the_site_works_through_cors_and_on_a_foreign_origin_signs_in_nothing()
    {
        var email = await fixture.RegisterAsync();
        await using var sibling = await fixture.Browser.NewContextAsync();
        var page = await OpenDemoAsync(sibling, fixture.SiblingOrigin);
        await SignInAsync(page, email);
        Assert.Equal(email, await page.EvaluateAsync<string>("window.demo.callMe()"));
        await page.ReloadAsync(); // the cookie set by the Api's origin goes back to it from this one
        await page.WaitForSelectorAsync("body[data-state='signed-in']");

        var stranger = await fixture.RegisterAsync();
        await using var foreign = await fixture.Browser.NewContextAsync();
        var foreignPage = await OpenDemoAsync(foreign, fixture.ForeignOrigin);
        await foreignPage.FillAsync("#email", stranger);
        await foreignPage.FillAsync("#password", TestSteps.Password);
        await foreignPage.ClickAsync("#sign-in");
        await Assertions.Expect(foreignPage.Locator("#error")).Not.ToBeEmptyAsync();
        Assert.Equal("signed-out", await StateAsync(foreignPage));

        // The browser stopped the login at its preflight: the stranger has no session but the one we open now.
        var login = await Http.PostJsonAsync(fixture.Api, "/auth/login",
            new { email = stranger, password = TestSteps.Password, refreshTokenIn = "body" });
        var accessToken = (await Http.JsonAsync(login)).GetProperty("accessToken").GetString();
        var sessions = await Http.JsonAsync(await Http.SendAsync(fixture.Api, HttpMethod.Get, "/auth/sessions", accessToken));
        Assert.Equal(1, sessions.GetArrayLength());
    }

    [Fact]
    public async Task The_readme_screenshot_shows_a_signed_in_user_with_two_devices()
    {
        var email = await fixture.RegisterAsync($"ada.lovelace+{Guid.NewGuid().ToString("N")[..6]}@example.com");
        await using var other = await fixture.Browser.NewContextAsync(new()
        {
            UserAgent = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
        });
        await SignInAsync(await OpenDemoAsync(other), email);
        await using var context = await fixture.Browser.NewContextAsync(new()
        {
            ViewportSize = new() { Width = 1280, Height = 800 },
            UserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
        });
        var page = await OpenDemoAsync(context);
        await SignInAsync(page, email);
        await page.ClickAsync("#refresh-sessions");
        await Assertions.Expect(page.Locator("#sessions li")).ToHaveCountAsync(2);

        Directory.CreateDirectory(Path.GetDirectoryName(Screenshot)!);
        await page.ScreenshotAsync(new() { Path = Screenshot, FullPage = true });
        Assert.True(new FileInfo(Screenshot).Length > 10_000);
    }

    [Fact]
    public async Task In_dpop_mode_the_session_is_bound_to_a_browser_key_that_a_stolen_refresh_token_cannot_use()
    {
        var email = await fixture.RegisterAsync();
        await using var context = await fixture.Browser.NewContextAsync();
        var page = await OpenDemoAsync(context);
        const string dpopClient = @"async ([api, email, password]) => {
            const { SessionsClient } = await import('/client/sessions-client.js');
            const client = new SessionsClient({ baseUrl: api, dpop: true, channelName: null, dpopDatabase: 'dpop-test' });
            if (email) await client.login(email, password); else await client.start();
            const me = await client.fetch('/me');
            const result = client.signedIn + ' ' + me.status;
            client.dispose();
            return result;
        }";

        Assert.Equal("true 200", await page.EvaluateAsync<string>(dpopClient, new[] { fixture.ApiOrigin, email, TestSteps.Password }));
        // A reload finds the key and the token in IndexedDB and refreshes with a fresh proof.
        await page.ReloadAsync();
        Assert.Equal("true 200", await page.EvaluateAsync<string>(dpopClient, new[] { fixture.ApiOrigin, "", "" }));

        // The refresh token, taken from the browser's storage, is useless without the key, which cannot be exported.
        var stolen = await page.EvaluateAsync<string>(@"() => new Promise((resolve, reject) => {
            const open = indexedDB.open('dpop-test', 1);
            open.onsuccess = () => {
                const get = open.result.transaction('state').objectStore('state').get('refreshToken');
                get.onsuccess = () => resolve(get.result);
                get.onerror = () => reject(get.error);
            };
            open.onerror = () => reject(open.error);
        })");
        Assert.False(string.IsNullOrEmpty(stolen));
        var replayed = await Http.PostJsonAsync(fixture.Api, "/auth/refresh", new { refreshToken = stolen });
        await Http.AssertProblemAsync(replayed, 400, "invalid_dpop_proof");
        Assert.Equal("false", await page.EvaluateAsync<string>(@"async () => {
            const db = await new Promise(r => { const o = indexedDB.open('dpop-test', 1); o.onsuccess = () => r(o.result); });
            const key = await new Promise(r => { const g = db.transaction('state').objectStore('state').get('key'); g.onsuccess = () => r(g.result); });
            return String((key.privateKey ?? key).extractable);
        }"));
    }

    [Fact]
    public async Task The_silo_dashboard_shows_the_cluster_on_the_management_port()
    {
        await using var context = await fixture.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        var page = await context.NewPageAsync();

        var response = await page.GotoAsync(fixture.SiloDashboardUrl);
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await page.WaitForTimeoutAsync(3000); // the dashboard polls the silo every second: let the charts fill

        Assert.Equal(200, response!.Status);
        var shot = Path.Combine(Screenshots, "dashboard.png");
        Directory.CreateDirectory(Screenshots);
        await page.ScreenshotAsync(new() { Path = shot });
        Assert.True(new FileInfo(shot).Length > 10_000);
    }
}

