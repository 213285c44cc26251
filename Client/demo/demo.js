import { SessionsClient, SessionsError } from "../client/sessions-client.js";

const $ = (id) => document.getElementById(id);

const apiBase = readUrlParameter("api") ?? "";
// An API of the app's own on another origin (scripts/run.sh starts samples/aspnet-api there).
const yourApi = readUrlParameter("yourApi") ?? "http://127.0.0.1:5081";
const client = new SessionsClient({ baseUrl: apiBase, resourceServers: [yourApi] });

let refreshCount = 0;
let unauthorizedCount = 0;
let shownSession = null;
let tokenLifetimeMs = 0;
let errorSource = null;

// ---- state -----------------------------------------------------------------------------------

function render() {
  const signedIn = client.signedIn;
  document.body.dataset.state = signedIn ? "signed-in" : "signed-out";
  $("status-text").textContent = signedIn ? "Signed in" : "Signed out";
  showUser(client.user);

  if (signedIn && client.sessionId !== shownSession) {
    shownSession = client.sessionId;
    if (errorSource === "start" || errorSource === "auto") clearError();
    clearNotice();
    loadMe();
    loadSessions();
  } else if (!signedIn) {
    shownSession = null;
    renderSessions([]);
    $("last-call").textContent = "";
  }
  tick();
}

function showUser(user) {
  $("user-email").textContent = user?.email ?? "";
  $("user-id").textContent = user?.userId ?? "—";
  $("session-id").textContent = user?.sessionId ?? client.sessionId ?? "—";
  $("avatar").textContent = (user?.email ?? "").slice(0, 1).toUpperCase();
  const roles = $("user-roles");
  roles.replaceChildren();
  for (const role of user?.roles ?? []) roles.append(el("span", { className: "role" }, role));
  if (!user?.roles?.length) roles.textContent = "none";
  $("email-state").textContent = user?.emailVerified === true ? "verified" : user ? "not verified yet" : "—";
  $("resend-verification").hidden = !user || user.emailVerified === true;
  const adminLink = $("admin-link");
  adminLink.hidden = !(user?.roles ?? []).includes("admin");
  adminLink.href = `admin.html${location.search}`;
}

function tick() {
  const countdown = $("countdown");
  const expiresAt = client.accessTokenExpiresAt;
  const left = expiresAt ? expiresAt.getTime() - Date.now() : 0;
  countdown.classList.toggle("is-expired", Boolean(expiresAt) && left <= 0);
  countdown.classList.toggle("is-low", left > 0 && left < 15_000);
  if (!expiresAt) countdown.textContent = "—";
  else if (left <= 0) countdown.textContent = "expired";
  else {
    const seconds = Math.ceil(left / 1000);
    countdown.textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  }
  const fraction = tokenLifetimeMs > 0 ? Math.min(1, Math.max(0, left / tokenLifetimeMs)) : 0;
  $("token-meter").style.transform = `scaleX(${fraction})`;
}

function noteNewToken() {
  const expiresAt = client.accessTokenExpiresAt;
  tokenLifetimeMs = expiresAt ? Math.max(0, expiresAt.getTime() - Date.now()) : 0;
}

// ---- API calls -------------------------------------------------------------------------------

/** GET /me through client.fetch; resolves to the email. */
async function callMe() {
  const response = await client.fetch("/me", { headers: { Accept: "application/json" } });
  if (response.status === 401) countUnauthorized();
  if (!response.ok) throw await SessionsError.fromResponse(response);
  const me = await response.json();
  showUser(me);
  $("last-call").textContent = `GET /me → ${response.status} at ${clock()}`;
  return me.email;
}

/** Calls that go through client.fetch: a 401 they end with is what the page would see. */
async function authed(call) {
  try {
    return await call();
  } catch (error) {
    if (error instanceof SessionsError && error.status === 401) countUnauthorized();
    throw error;
  }
}

function countUnauthorized() {
  unauthorizedCount++;
  $("unauthorized-count").textContent = String(unauthorizedCount);
}

/** GET {yourApi}/hello through client.fetch, which adds the token for that origin too. */
async function callYourApi() {
  const answer = $("your-api-answer");
  let response;
  try {
    response = await client.fetch(`${yourApi}/hello`, { headers: { Accept: "application/json" } });
  } catch {
    answer.dataset.status = "error";
    answer.textContent = `Your API at ${yourApi} does not answer (scripts/run.sh starts it).`;
    return;
  }
  answer.dataset.status = String(response.status);
  if (response.ok) {
    const hello = await response.json();
    answer.textContent = `${response.status} · ${hello.message} (checked: ${hello.checkedWith}) at ${clock()}`;
  } else if (response.status === 401) {
    answer.textContent = `401 · Your API refused the access token at ${clock()}: its session has ended.`;
    // The client has signed this tab out meanwhile; say why where the signed-out page shows it.
    showNotice("Your API answered 401: this session was signed out from another device, and the API asked Sessions before it trusted the token.");
  } else {
    answer.textContent = `${response.status} · Your API refused the call at ${clock()}.`;
  }
  log(`GET ${yourApi}/hello → ${response.status}`);
}

async function loadMe() {
  try {
    await callMe();
  } catch (error) {
    showError(error);
  }
}

async function loadSessions() {
  try {
    renderSessions(await authed(() => client.listSessions()));
  } catch (error) {
    showError(error);
  }
}

function renderSessions(sessions) {
  const list = $("sessions");
  const current = (s) => s.current === true || s.sessionId === client.sessionId;
  const sorted = [...sessions].sort((a, b) =>
    Number(current(b)) - Number(current(a)) || Date.parse(b.lastRefreshedAt) - Date.parse(a.lastRefreshedAt));

  list.replaceChildren(...sorted.map((session) => {
    const isCurrent = current(session);
    const title = el("div", { className: "session-title" }, describeAgent(session.userAgent));
    title.title = session.userAgent || "No user agent was sent";
    if (isCurrent) title.append(el("span", { className: "badge" }, "This device"));

    const meta = el("p", { className: "session-meta" },
      el("span", {}, el("code", {}, session.ipAddress || "unknown IP")),
      el("span", {}, "Signed in ", timeEl(session.createdAt)),
      el("span", {}, "Last refreshed ", timeEl(session.lastRefreshedAt)),
      el("span", {}, "Expires ", timeEl(session.expiresAt)));

    const row = el("li", {}, el("span", { className: "device" }), el("div", {}, title, meta));
    row.dataset.sessionId = session.sessionId;
    row.dataset.current = String(isCurrent);
    if (!isCurrent) {
      const revoke = el("button", { type: "button", className: "btn btn-small btn-danger revoke" }, "Revoke");
      revoke.setAttribute("aria-label", `Revoke ${describeAgent(session.userAgent)}, signed in ${relative(session.createdAt)}`);
      row.append(revoke);
    }
    return row;
  }));
  $("sessions-empty").hidden = sorted.length > 0 || !client.signedIn;
}

// ---- actions ---------------------------------------------------------------------------------

async function action(button, work) {
  clearError();
  clearNotice();
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    await work();
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

function credentials() {
  return { email: $("email").value.trim(), password: $("password").value };
}

$("auth-form").addEventListener("submit", (event) => {
  event.preventDefault();
  action($("sign-in"), async () => {
    const { email, password } = credentials();
    await client.login(email, password);
    $("password").value = "";
    log("Signed in");
  });
});

$("register").addEventListener("click", () => action($("register"), async () => {
  const { email, password } = credentials();
  await client.register(email, password);
  showNotice(`Account created for ${email}. You can sign in now.`);
  log(`Registered ${email}`);
}));

$("forgot").addEventListener("click", () => action($("forgot"), async () => {
  const email = $("email").value.trim();
  if (!email) throw new Error("Type your email first, then press Forgot password?");
  await client.requestPasswordReset(email);
  showNotice(`If ${email} has an account, a link to set a new password is on its way. It works once, for a short while.`);
  log("Asked for a password reset");
}));

$("resend-verification").addEventListener("click", () => action($("resend-verification"), async () => {
  await authed(() => client.requestVerification());
  showNotice("A new verification link is on its way to your address.");
}));

$("delete-form").addEventListener("submit", (event) => {
  event.preventDefault();
  action($("delete-me"), async () => {
    await authed(() => client.deleteAccount($("delete-password").value));
    $("delete-password").value = "";
    $("delete-account").open = false;
    showNotice("Your account is deleted. Every device has been signed out.");
    log("Deleted the account");
  });
});

$("password-form").addEventListener("submit", (event) => {
  event.preventDefault();
  action($("change-password"), async () => {
    await authed(() => client.changePassword($("current-password").value, $("new-password").value));
    $("current-password").value = "";
    $("new-password").value = "";
    showNotice("Password changed. Every other device has been signed out.");
    log("Changed the password; other sessions ended");
    renderSessions(await authed(() => client.listSessions()));
  });
});

$("sign-out").addEventListener("click", () => action($("sign-out"), () => client.logout()));

$("sign-out-all").addEventListener("click", () => action($("sign-out-all"), () => authed(() => client.logoutAll())));

$("refresh-sessions").addEventListener("click", () => action($("refresh-sessions"), async () => {
  renderSessions(await authed(() => client.listSessions()));
}));

$("call-me").addEventListener("click", () => action($("call-me"), callMe));
$("your-api-url").textContent = yourApi;
$("call-your-api").addEventListener("click", () => action($("call-your-api"), callYourApi));

$("sessions").addEventListener("click", (event) => {
  const button = event.target.closest("button.revoke");
  const row = button?.closest("li[data-session-id]");
  if (!row) return;
  action(button, async () => {
    await authed(() => client.revokeSession(row.dataset.sessionId));
    log("Revoked a session on another device");
    if (client.signedIn) renderSessions(await authed(() => client.listSessions()));
  });
});

setInterval(() => {
  if (!$("auto-call").checked || !client.signedIn) return;
  callMe().then(
    () => { if (errorSource === "auto") clearError(); },
    (error) => showError(error, "auto"));
}, 2000);

setInterval(tick, 250);

// ---- client events ---------------------------------------------------------------------------

client.addEventListener("change", () => {
  noteNewToken();
  render();
});

client.addEventListener("refresh", (event) => {
  refreshCount++;
  $("refresh-count").textContent = String(refreshCount);
  noteNewToken();
  log(`Access token refreshed (${event.detail.reason})`);
});

const signedOutMessages = {
  logout: "You are signed out.",
  revoked: "This session was ended elsewhere. Sign in again to continue.",
  "other-tab": "You signed out in another tab.",
  expired: "Your session expired. Sign in again to continue.",
};

client.addEventListener("signedout", (event) => {
  const reason = event.detail.reason;
  showNotice(signedOutMessages[reason] ?? "You are signed out.");
  log(`Signed out (${reason})`);
});

// ---- messages --------------------------------------------------------------------------------

function showError(error, source = "action") {
  // A 401 that ended the session is already explained by the "signed out" notice.
  if (error instanceof SessionsError && error.status === 401 && !client.signedIn && source !== "action") return;
  const box = $("error");
  box.replaceChildren(describeError(error));
  errorSource = source;
}

function clearError() {
  $("error").replaceChildren();
  errorSource = null;
}

function showNotice(text) {
  $("notice").textContent = text;
}

function clearNotice() {
  $("notice").textContent = "";
}

function describeError(error) {
  const body = el("span");
  if (!(error instanceof SessionsError)) {
    body.append(error?.message ?? String(error));
    return body;
  }
  const message = error.code === "network_error"
    ? `Cannot reach the API${apiBase ? ` at ${apiBase}` : ""}.`
    : error.message;
  body.append(el("strong", {}, message));
  if (error.code) body.append(" ", el("code", {}, error.code));
  if (error.retryAfter != null) body.append(` Try again in ${duration(error.retryAfter)}.`);
  return body;
}

function log(text) {
  const list = $("activity");
  list.prepend(el("li", {}, el("time", { dateTime: new Date().toISOString() }, clock()), el("span", {}, text)));
  while (list.children.length > 12) list.lastElementChild.remove();
}

// ---- formatting ------------------------------------------------------------------------------

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function clock() {
  return new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}

const relativeFormat = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

function relative(iso) {
  const seconds = (Date.parse(iso) - Date.now()) / 1000;
  if (Number.isNaN(seconds)) return "unknown";
  for (const [unit, size] of [["day", 86_400], ["hour", 3_600], ["minute", 60]]) {
    if (Math.abs(seconds) >= size) return relativeFormat.format(Math.round(seconds / size), unit);
  }
  return seconds < 0 ? "just now" : "in under a minute";
}

function timeEl(iso) {
  const node = el("time", { dateTime: iso }, relative(iso));
  const date = new Date(iso);
  if (!Number.isNaN(date.getTime())) node.title = date.toLocaleString();
  return node;
}

function duration(seconds) {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.ceil(seconds / 60)} min`;
  return `${Math.ceil(seconds / 3600)} h`;
}

/** "Chrome 156 on Linux" from a user agent string; the full string stays in the tooltip. */
function describeAgent(userAgent) {
  if (!userAgent) return "Unknown device";
  const browsers = [
    [/Edg(?:e|A|iOS)?\/(\d+)/, "Edge"],
    [/OPR\/(\d+)/, "Opera"],
    [/SamsungBrowser\/(\d+)/, "Samsung Internet"],
    [/HeadlessChrome\/(\d+)/, "Headless Chrome"],
    [/CriOS\/(\d+)/, "Chrome"],
    [/FxiOS\/(\d+)/, "Firefox"],
    [/Firefox\/(\d+)/, "Firefox"],
    [/Chrome\/(\d+)/, "Chrome"],
    [/Version\/(\d+)[\d.]*.*Safari\//, "Safari"],
    [/^curl\/([\d.]+)/, "curl"],
    [/^Playwright\/([\d.]+)/, "Playwright"],
  ];
  const systems = [
    [/Windows/, "Windows"],
    [/Android/, "Android"],
    [/iPhone|iPad|iPod/, "iOS"],
    [/Mac OS X|Macintosh/, "macOS"],
    [/CrOS/, "ChromeOS"],
    [/Linux/, "Linux"],
  ];
  const browser = browsers.find(([pattern]) => pattern.test(userAgent));
  const system = systems.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (browser) {
    const version = browser[0].exec(userAgent)[1];
    return `${browser[1]} ${version}${system ? ` on ${system}` : ""}`;
  }
  return userAgent.length > 48 ? `${userAgent.slice(0, 47)}…` : userAgent;
}

/** An http(s) URL from the query string, without a trailing slash; null when absent or not a URL. */
function readUrlParameter(name) {
  const raw = new URLSearchParams(location.search).get(name);
  if (!raw) return null;
  try {
    const url = new URL(raw);
    if (url.protocol === "http:" || url.protocol === "https:") return url.href.replace(/\/+$/, "");
  } catch {
    // Reported below.
  }
  queueMicrotask(() => showError(new Error(`Ignoring ?${name}=${raw}: not an http(s) URL.`), "start"));
  return null;
}

// ---- boot ------------------------------------------------------------------------------------

$("api-base").textContent = apiBase || "same origin";

window.demo = Object.freeze({ client, callMe });

client.start().then(
  () => render(),
  (error) => {
    // The client keeps retrying in the background; a "change" event follows if it succeeds.
    render();
    showError(error, "start");
    $("status-text").textContent = "API unreachable";
  });
