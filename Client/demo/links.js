import { SessionsClient, SessionsError } from "../client/sessions-client.js";

// The pages a mailed link opens. The token comes in the fragment, which no server sees; it is taken out of the address
// bar at once, so it stays out of the history too.
const token = new URLSearchParams(location.hash.slice(1)).get("token") ?? "";
history.replaceState(null, "", location.pathname + location.search);
const api = new URLSearchParams(location.search).get("api") ?? "";
const client = new SessionsClient({ baseUrl: api, channelName: null });
const result = document.getElementById("result");
for (const link of document.querySelectorAll("[data-demo]")) link.href = `./${location.search}`;

function show(status, text) {
  result.dataset.status = status;
  result.textContent = text;
}

function failure(error) {
  return error instanceof SessionsError && error.code === "invalid_grant"
    ? "This link is not valid any more: it was used, it expired, or a newer one was sent. Ask for a new one on the demo page."
    : error instanceof SessionsError ? error.message : "The service could not be reached.";
}

if (document.body.dataset.page === "verify") {
  const title = document.getElementById("title");
  try {
    if (!token) throw new SessionsError("This page is opened by the link in a verification mail.");
    await client.verifyEmail(token);
    title.textContent = "Your address is verified";
    show("ok", "Thank you: the service now knows this address is yours.");
  } catch (error) {
    title.textContent = "Not verified";
    show("error", failure(error));
  }
} else {
  document.getElementById("reset-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = document.getElementById("set-password");
    button.disabled = true;
    try {
      await client.resetPassword(token, document.getElementById("new-password").value);
      document.getElementById("new-password").value = "";
      show("ok", "Your password is changed, and every device was signed out. Sign in with the new password.");
    } catch (error) {
      show("error", error instanceof SessionsError && error.code === "invalid_request" ? error.message : failure(error));
    } finally {
      button.disabled = false;
    }
  });
  if (!token) show("error", "This page is opened by the link in a password-reset mail.");
}
