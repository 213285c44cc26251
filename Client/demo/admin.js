import { SessionsClient, SessionsError } from "../client/sessions-client.js";

// The admin API (docs/http-api.md#admin-api) called with the signed-in admin's access token.
const $ = (id) => document.getElementById(id);
const api = readApi();
const client = new SessionsClient({ baseUrl: api });
let shown = null; // the user object on screen

function readApi() {
  const raw = new URLSearchParams(location.search).get("api");
  try {
    return raw && /^https?:$/.test(new URL(raw).protocol) ? raw.replace(/\/+$/, "") : "";
  } catch {
    return "";
  }
}

async function adminCall(path, { method = "GET", body } = {}) {
  const init = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await client.fetch(path, init);
  if (!response.ok) throw await SessionsError.fromResponse(response);
  return response.status === 204 ? null : response.json();
}

function render() {
  const admin = client.signedIn && (client.user?.roles ?? []).includes("admin");
  document.body.dataset.state = admin ? "signed-in" : "signed-out";
  $("status-text").textContent = client.signedIn ? "Signed in" : "Signed out";
  $("admin-email").textContent = client.user?.email ?? "";
  if (client.signedIn && !admin) {
    $("gate-title").textContent = "Your account is not an admin.";
    $("gate-text").textContent = "The admin API takes an access token only when its user has the role admin now. An admin client (HTTP Basic, scope admin) grants it: see the HTTP API reference.";
  }
}

function showUser(user) {
  shown = user;
  $("user-card").hidden = !user;
  if (!user) return;
  $("user-title").textContent = user.email;
  $("user-id").textContent = user.userId;
  const roles = $("user-roles");
  roles.replaceChildren(...user.roles.map((role) => Object.assign(document.createElement("span"), { className: "role", textContent: role })));
  $("user-sessions").textContent = String(user.activeSessions);
  $("user-created").textContent = new Date(user.createdAt).toLocaleString();
  $("roles-input").value = user.roles.join(" ");
  const state = $("user-state");
  state.dataset.disabled = String(user.disabled);
  state.textContent = user.disabled ? "Disabled" : "Enabled";
  $("toggle-disabled").textContent = user.disabled ? "Enable" : "Disable";
  $("toggle-disabled").classList.toggle("btn-danger", !user.disabled);
  $("delete-user").textContent = "Delete user";
  $("delete-user").dataset.armed = "false";
}

async function act(button, work) {
  $("error").replaceChildren();
  $("notice").textContent = "";
  button.disabled = true;
  try {
    await work();
  } catch (error) {
    $("error").textContent = error instanceof SessionsError ? `${error.status} ${error.code ?? ""}: ${error.message}` : String(error);
  } finally {
    button.disabled = false;
  }
}

const users = (path = "") => `/admin/users/${encodeURIComponent(shown.userId)}${path}`;

$("find-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act($("find"), async () => {
    showUser(null);
    showUser(await adminCall(`/admin/users?email=${encodeURIComponent($("find-email").value.trim())}`));
  });
});

$("roles-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act($("save-roles"), async () => {
    const roles = $("roles-input").value.split(/[\s,]+/).filter(Boolean);
    showUser(await adminCall(users("/roles"), { method: "PUT", body: { roles } }));
    $("notice").textContent = `Roles saved. Every session of ${shown.email} has them now.`;
  });
});

$("toggle-disabled").addEventListener("click", () => act($("toggle-disabled"), async () => {
  const disabling = !shown.disabled;
  showUser(await adminCall(users(disabling ? "/disable" : "/enable"), { method: "POST" }));
  $("notice").textContent = disabling ? `${shown.email} is disabled and signed out everywhere.` : `${shown.email} may sign in again.`;
}));

$("revoke-all").addEventListener("click", () => act($("revoke-all"), async () => {
  await adminCall(users("/sessions"), { method: "DELETE" });
  showUser(await adminCall(users()));
  $("notice").textContent = `${shown.email} is signed out on every device.`;
}));

// Two clicks: the first arms the button, the second deletes.
$("delete-user").addEventListener("click", () => act($("delete-user"), async () => {
  const button = $("delete-user");
  if (button.dataset.armed !== "true") {
    button.dataset.armed = "true";
    button.textContent = "Click again to delete for good";
    return;
  }
  const email = shown.email;
  await adminCall(users(), { method: "DELETE" });
  showUser(null);
  $("notice").textContent = `${email} is deleted: every session ended, and the email is free.`;
}));

for (const link of [$("back"), $("demo-link")]) link.href = `./${location.search}`;
client.addEventListener("change", render);
client.start().then(async () => {
  if (client.signedIn) await client.me().catch(() => {});
  render();
}, () => render());
window.admin = Object.freeze({ client });
