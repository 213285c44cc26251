// Browser client for the Sessions service (its HTTP API: docs/http-api.md). No dependencies.
//
// The refresh token lives in an HttpOnly cookie the page never sees; the access token lives only
// in a private field of this object. In the opt-in DPoP mode (RFC 9449) the session is bound to a
// non-extractable P-256 key kept in IndexedDB, and the refresh token travels in the body. See
// README.md next to this file.

const BACKOFF_START_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;
// A server-requested wait is always honoured, but we re-check at least this often (see #hold).
const RETRY_AFTER_TIMER_MAX_MS = 5 * 60_000;
const TIMER_MAX_MS = 2 ** 31 - 1;
const JSON_TYPES = "application/json, application/problem+json";

/** Every non-2xx answer of the service, and any failure to reach it (status 0). */
export class SessionsError extends Error {
  constructor(message, { status = 0, code = null, problem = null, retryAfter = null, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "SessionsError";
    this.status = status;
    this.code = code;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  /** Builds the error for a non-2xx response, reading its problem body if it has one. */
  static async fromResponse(response) {
    let problem = null;
    if (/\bjson\b/i.test(response.headers.get("Content-Type") ?? "")) {
      try {
        const body = await response.json();
        if (body && typeof body === "object" && !Array.isArray(body)) problem = body;
      } catch {
        // An unreadable body still leaves the status to report.
      }
    }
    const code = typeof problem?.error === "string" ? problem.error : bearerError(response);
    // detail is this occurrence's sentence; title is the same for every answer with this code.
    const message = problem?.detail || problem?.title || `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
    return new SessionsError(message, {
      status: response.status,
      code,
      problem,
      retryAfter: parseRetryAfter(response.headers.get("Retry-After")),
    });
  }
}

export class SessionsClient extends EventTarget {
  #baseUrl;
  #resourceOrigins;
  #refreshAheadMs;
  #fetchImpl;
  #channel = null;
  #dpop = null; // DpopState in DPoP mode

  #accessToken = null;
  #tokenType = "Bearer";
  #expiresAt = 0; // local clock, from expiresIn: immune to a skewed device clock
  #lifetimeMs = 0;
  #sessionId = null;
  #claims = null;
  #profile = null; // the last /me answer for the current session
  #refreshTokenExpiresAt = 0;

  #refreshing = null;
  #timer = null;
  #failures = 0;
  #holdUntil = 0;
  #holdError = null;
  // Bumped whenever the session is replaced or dropped, so a refresh answer that arrives
  // afterwards cannot resurrect what the user just ended.
  #epoch = 0;
  #disposed = false;

  #onVisibility = () => {
    if (document.visibilityState !== "visible" || !this.signedIn) return;
    if (this.#expiresAt - Date.now() <= this.#aheadMs()) this.#background("visible");
  };

  #onMessage = (event) => {
    const message = event.data;
    if (!message || typeof message !== "object") return;
    if (message.type === "signed-out") {
      if (this.signedIn && (message.sessionId == null || message.sessionId === this.#sessionId)) {
        this.#end("other-tab", { broadcast: false });
      }
    } else if (message.type === "signed-in") {
      // Wait for our own refresh first: it went out with the cookie from before that login.
      this.#settle().then(() => {
        if (!this.#disposed && (!this.signedIn || this.#sessionId !== message.sessionId)) this.#background("cross-tab");
      });
    }
  };

  constructor({ baseUrl = "", resourceServers = [], refreshAheadSeconds = 60, channelName = "sessions", fetch = globalThis.fetch, dpop = false, dpopDatabase = "sessions-dpop" } = {}) {
    super();
    if (typeof fetch !== "function") throw new TypeError("SessionsClient needs a fetch implementation.");
    if (dpop) {
      if (!globalThis.crypto?.subtle || typeof indexedDB === "undefined") {
        throw new TypeError("DPoP mode needs WebCrypto and IndexedDB (a secure context).");
      }
      this.#dpop = new DpopState(String(dpopDatabase));
    }
    this.#baseUrl = String(baseUrl ?? "").replace(/\/+$/, "");
    // Your own APIs, which take the same access token: only their origins get it, besides the Api's.
    this.#resourceOrigins = new Set([...resourceServers].map((url) => new URL(String(url), globalThis.location?.href).origin));
    this.#refreshAheadMs = Math.max(0, Number(refreshAheadSeconds) || 0) * 1000;
    // Called unbound: window.fetch throws "Illegal invocation" when `this` is another object.
    this.#fetchImpl = (...args) => fetch(...args);

    if (channelName && typeof BroadcastChannel === "function") {
      this.#channel = new BroadcastChannel(channelName);
      this.#channel.addEventListener("message", this.#onMessage);
    }
    if (typeof document !== "undefined") document.addEventListener("visibilitychange", this.#onVisibility);
  }

  // ---- state -------------------------------------------------------------------------------

  get signedIn() {
    return this.#accessToken !== null;
  }

  get sessionId() {
    return this.#sessionId;
  }

  get accessTokenExpiresAt() {
    return this.signedIn ? new Date(this.#expiresAt) : null;
  }

  /** {userId, email, emailVerified, roles, sessionId}: from /me once called, else from the token's claims. */
  get user() {
    if (!this.signedIn) return null;
    if (this.#profile) return { ...this.#profile, roles: [...this.#profile.roles] };
    const claims = this.#claims ?? {};
    const roles = claims.role == null ? [] : [claims.role].flat().map(String);
    return {
      userId: claims.sub ?? null,
      email: claims.email ?? null,
      emailVerified: claims.email_verified === true,
      roles,
      sessionId: this.#sessionId,
    };
  }

  get state() {
    return {
      signedIn: this.signedIn,
      user: this.user,
      sessionId: this.#sessionId,
      accessTokenExpiresAt: this.accessTokenExpiresAt,
    };
  }

  // ---- session lifecycle -------------------------------------------------------------------

  /** Restores the session on page load with one silent refresh through the cookie. */
  async start() {
    if (!this.signedIn) await this.#refresh("start");
    return this.state;
  }

  async register(email, password) {
    return this.#call("/auth/register", { method: "POST", body: { email, password }, auth: false });
  }

  async login(email, password) {
    // A refresh still in flight would set its (older) cookie after ours.
    await this.#settle();
    // DPoP mode: the proof binds the new session to this browser's key; the refresh token comes back in the body.
    const request = this.#dpop ? { email, password, refreshTokenIn: "body" } : { email, password };
    const body = await this.#call("/auth/login", { method: "POST", body: request, auth: false });
    if (this.#dpop) await this.#dpop.set("refreshToken", typeof body?.refreshToken === "string" ? body.refreshToken : null);
    this.#epoch++;
    this.#profile = null;
    this.#failures = 0;
    this.#holdUntil = 0;
    this.#accept(body);
    this.#post({ type: "signed-in", sessionId: this.#sessionId });
    this.#emit("change", this.state);
    return this.state;
  }

  async logout() {
    await this.#settle();
    const sessionId = this.#sessionId;
    const response = this.#dpop
      ? await this.#dpop.exclusive(async () => {
          const refreshToken = await this.#dpop.get("refreshToken");
          const answer = await this.#send(this.#request("/auth/logout", jsonInit("POST", refreshToken ? { refreshToken } : {})));
          // A 400 invalid_dpop_proof or a 403 revoked nothing: the token stays for another try.
          if (answer.ok || answer.status === 401) await this.#dpop.set("refreshToken", null);
          return answer;
        })
      : await this.#send(this.#request("/auth/logout", jsonInit("POST", {})));
    // 401 missing_token: no cookie, so nothing left to end on the server.
    if (!response.ok && response.status !== 401) throw await SessionsError.fromResponse(response);
    this.#end("logout", { sessionId });
  }

  async logoutAll() {
    await this.#call("/auth/logout-all", { method: "POST" });
    this.#end("logout", { sessionId: null });
  }

  async me() {
    const me = await this.#call("/me");
    if (me && me.sessionId === this.#sessionId) {
      this.#profile = { userId: me.userId, email: me.email, emailVerified: me.emailVerified === true, roles: [...(me.roles ?? [])], sessionId: me.sessionId };
    }
    return me;
  }

  async listSessions() {
    return this.#call("/auth/sessions");
  }

  async revokeSession(sessionId) {
    await this.#call(`/auth/sessions/${encodeURIComponent(sessionId)}`, { method: "DELETE" });
    if (sessionId === this.#sessionId) this.#end("logout", { sessionId });
  }

  /**
   * Changes the password (POST /auth/password). Every other session of the user ends; this one, and so
   * every tab sharing its cookie, stays signed in. Rejects with a SessionsError: 403 invalid_credentials
   * (wrong current password, counted as a failed login), 400 invalid_request, 429 too_many_attempts
   * (see retryAfter), 503 unavailable (call again with the same arguments: that finishes the change).
   */
  async changePassword(currentPassword, newPassword) {
    await this.#call("/auth/password", { method: "POST", body: { currentPassword, newPassword } });
  }

  /** Asks for a password-reset mail (POST /auth/password/forgot): 202 whether or not the email has an account. */
  async requestPasswordReset(email) {
    await this.#call("/auth/password/forgot", { method: "POST", body: { email }, auth: false });
  }

  /** Sets a new password with the token of a reset mail's link; every session of the account ends, so sign in again after. */
  async resetPassword(token, newPassword) {
    await this.#call("/auth/password/reset", { method: "POST", body: { token, newPassword }, auth: false });
  }

  /** Confirms the address with the token of a verification mail's link. */
  async verifyEmail(token) {
    await this.#call("/auth/email/verify", { method: "POST", body: { token }, auth: false });
  }

  /** Mails a new verification link to the signed-in user (202; none when the address is verified already). */
  async requestVerification() {
    await this.#call("/auth/email/verify-request", { method: "POST" });
  }

  /**
   * Deletes the account for good (DELETE /me) after checking its password: every session of the user ends, this
   * browser's tabs sign out, and the email may register again. Rejects with a SessionsError: 403 invalid_credentials
   * (a wrong password, counted as a failed login), 429 too_many_attempts, 503 unavailable (call again to finish).
   */
  async deleteAccount(password) {
    await this.#call("/me", { method: "DELETE", body: { password } });
    this.#end("logout", { sessionId: null });
  }

  /**
   * fetch() with the access token. Resolves to the Response whatever its status, like fetch;
   * rejects with a SessionsError when the Api cannot be reached or a needed refresh failed.
   * The token goes only to the Api's origin and the resourceServers' origins; other URLs are fetched without it.
   */
  async fetch(input, init) {
    const template = this.#request(input, init);
    if (!this.#takesToken(template.url) || !this.signedIn) return this.#send(template);

    if (this.#expiresAt - Date.now() <= this.#marginMs()) {
      try {
        await this.#refresh("expired");
      } catch (error) {
        // A token that has not quite run out is still worth trying.
        if (!this.signedIn || Date.now() >= this.#expiresAt) throw error;
      }
      if (!this.signedIn) return this.#send(template);
    }

    const sent = this.#accessToken;
    const first = await this.#send(template.clone(), sent);
    if (first.status !== 401) return first;

    // Another call may already have refreshed since this one left.
    if (this.#accessToken === sent) {
      try {
        await this.#refresh("retry-401");
      } catch {
        return first;
      }
    }
    if (!this.signedIn) return first;

    const retried = this.#accessToken;
    const second = await this.#send(template, retried);
    if (second.status === 401 && this.#accessToken === retried) this.#end("revoked");
    return second;
  }

  dispose() {
    this.#disposed = true;
    this.#epoch++;
    this.#clearTimer();
    this.#channel?.removeEventListener("message", this.#onMessage);
    this.#channel?.close();
    this.#channel = null;
    if (typeof document !== "undefined") document.removeEventListener("visibilitychange", this.#onVisibility);
    this.#forget();
  }

  // ---- refresh -----------------------------------------------------------------------------

  // Single flight: every caller in this tab shares the refresh in progress. Other tabs refresh
  // on their own; the server's grace rule gives them all the same successor.
  #refresh(reason) {
    this.#refreshing ??= this.#doRefresh(reason).finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #doRefresh(reason) {
    if (this.#disposed) return;
    this.#clearTimer();
    const epoch = this.#epoch;
    const wasSignedIn = this.signedIn;
    const previousSession = this.#sessionId;

    if (Date.now() < this.#holdUntil) {
      const error = this.#heldError();
      this.#retryLater(reason, error, { held: true });
      throw error;
    }

    let response, body;
    try {
      ({ response, body } = await this.#postRefresh());
    } catch (error) {
      if (epoch === this.#epoch) this.#retryLater(reason, error);
      throw error;
    }
    if (epoch !== this.#epoch) return;

    if (response.ok) {
      this.#failures = 0;
      this.#accept(body);
      this.#emit("refresh", { reason });
      if (!wasSignedIn || previousSession !== this.#sessionId) this.#emit("change", this.state);
      return;
    }

    const error = await SessionsError.fromResponse(response);
    if (response.status === 401 || error.code === "invalid_grant") {
      if (wasSignedIn) {
        const cookieExpired = this.#refreshTokenExpiresAt > 0 && Date.now() >= this.#refreshTokenExpiresAt;
        this.#end(cookieExpired || response.status === 401 ? "expired" : "revoked");
      }
      return;
    }
    this.#retryLater(reason, error);
    throw error;
  }

  /**
   * POST /auth/refresh. In DPoP mode the refresh token is read from IndexedDB and its successor written back,
   * under a Web Lock shared by the tabs, so that no tab sends a token another one has already rotated away
   * or stores an older token over a newer one.
   */
  async #postRefresh() {
    const post = async (refreshToken) => {
      const response = await this.#send(this.#request("/auth/refresh", jsonInit("POST", refreshToken ? { refreshToken } : {})));
      return { response, body: response.ok ? await readJson(response) : undefined };
    };
    if (!this.#dpop) return post(null);
    return this.#dpop.exclusive(async () => {
      const refreshToken = await this.#dpop.get("refreshToken");
      const answer = await post(refreshToken);
      if (typeof answer.body?.refreshToken === "string") await this.#dpop.set("refreshToken", answer.body.refreshToken);
      // 403: that token is dead. A 400 (a proof refused, say for a wrong device clock) leaves it.
      else if (answer.response.status === 403 && refreshToken) await this.#dpop.set("refreshToken", null);
      return answer;
    });
  }

  /** Refresh nobody awaits: failures are rescheduled inside #doRefresh. */
  #background(reason) {
    this.#refresh(reason).catch(() => {});
  }

  #retryLater(reason, error, { held = false } = {}) {
    if (this.#disposed) return;
    const restoring = !this.signedIn && (reason === "start" || reason === "cross-tab");
    if (!this.signedIn && !restoring) return;
    const next = restoring ? reason : "proactive";

    if (error?.retryAfter != null) {
      if (!held) this.#hold(error);
      const wait = Math.max(0, this.#holdUntil - Date.now());
      this.#setTimer(Math.min(wait * (1 + Math.random() * 0.2), RETRY_AFTER_TIMER_MAX_MS), next);
      return;
    }
    const transient = !(error instanceof SessionsError) || error.status === 0 || error.status >= 500;
    // A 4xx will not fix itself, and an expired token is renewed by the next call or a tab switch.
    if (!transient || (this.signedIn && Date.now() >= this.#expiresAt)) return;
    const base = Math.min(BACKOFF_START_MS * 2 ** this.#failures, BACKOFF_MAX_MS);
    this.#failures++;
    this.#setTimer(Math.min(base * (1 + Math.random() * 0.2), BACKOFF_MAX_MS), next);
  }

  // Remember the server's wait so that nothing in this tab asks again before it is over.
  #hold(error) {
    const until = Date.now() + error.retryAfter * 1000;
    if (until > this.#holdUntil) {
      this.#holdUntil = until;
      this.#holdError = error;
    }
  }

  #heldError() {
    const held = this.#holdError;
    return new SessionsError(held.message, {
      status: held.status,
      code: held.code,
      problem: held.problem,
      retryAfter: Math.max(1, Math.ceil((this.#holdUntil - Date.now()) / 1000)),
    });
  }

  #accept(body) {
    if (!body || typeof body.accessToken !== "string") {
      throw new SessionsError("The token response has no access token.", { code: "invalid_response" });
    }
    this.#accessToken = body.accessToken;
    this.#tokenType = body.tokenType || "Bearer";
    this.#lifetimeMs = Math.max(0, Number(body.expiresIn) || 0) * 1000;
    this.#expiresAt = Date.now() + this.#lifetimeMs;
    this.#claims = decodeJwtPayload(body.accessToken);
    const sessionId = body.sessionId ?? this.#claims?.sid ?? null;
    if (sessionId !== this.#sessionId) this.#profile = null;
    this.#sessionId = sessionId;
    this.#refreshTokenExpiresAt = Date.parse(body.refreshTokenExpiresAt) || 0;
    // At least a second apart, whatever expiresIn says, so that a tiny lifetime cannot spin.
    this.#setTimer(Math.max(1_000, this.#expiresAt - this.#aheadMs() - Date.now()), "proactive");
  }

  /** Refresh this long before expiry: refreshAheadSeconds, but at most a quarter of the lifetime. */
  #aheadMs() {
    return Math.min(this.#refreshAheadMs, this.#lifetimeMs / 4);
  }

  /** How close to expiry a token is too old to send. */
  #marginMs() {
    return Math.min(5_000, this.#lifetimeMs / 10);
  }

  #end(reason, { broadcast = true, sessionId = this.#sessionId } = {}) {
    const wasSignedIn = this.signedIn;
    this.#epoch++;
    this.#forget();
    if (broadcast) this.#post({ type: "signed-out", sessionId, reason });
    if (wasSignedIn) {
      this.#emit("signedout", { reason });
      this.#emit("change", this.state);
    }
  }

  #forget() {
    this.#clearTimer();
    this.#accessToken = null;
    this.#tokenType = "Bearer";
    this.#expiresAt = 0;
    this.#lifetimeMs = 0;
    this.#sessionId = null;
    this.#claims = null;
    this.#profile = null;
    this.#refreshTokenExpiresAt = 0;
    this.#failures = 0;
  }

  async #settle() {
    try {
      await this.#refreshing;
    } catch {
      // Its outcome is already reflected in our state.
    }
  }

  #setTimer(delayMs, reason) {
    this.#clearTimer();
    if (this.#disposed) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#background(reason);
    }, Math.min(Math.max(0, delayMs), TIMER_MAX_MS));
  }

  #clearTimer() {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  // ---- HTTP --------------------------------------------------------------------------------

  async #call(path, { method = "GET", body, auth = true } = {}) {
    const init = body === undefined ? { method, headers: { Accept: JSON_TYPES } } : jsonInit(method, body);
    const response = auth ? await this.fetch(path, init) : await this.#send(this.#request(path, init));
    if (!response.ok) throw await SessionsError.fromResponse(response);
    return readJson(response);
  }

  #request(input, init) {
    if (typeof Request !== "undefined" && input instanceof Request) return new Request(input, init);
    const url = this.#resolve(String(input));
    // Every /auth/* call carries the refresh cookie, also across origins of the same site.
    if (init?.credentials === undefined && this.#isAuthPath(url)) init = { ...init, credentials: "include" };
    return new Request(url, init);
  }

  #resolve(url) {
    if (/^[a-z][a-z\d+.-]*:/i.test(url) || !this.#baseUrl) return url;
    return `${this.#baseUrl}${url.startsWith("/") ? "" : "/"}${url}`;
  }

  async #send(request, accessToken = null) {
    await this.#prepareHeaders(request, accessToken);
    try {
      return await this.#fetchImpl(request);
    } catch (error) {
      if (error?.name === "AbortError") throw error;
      throw new SessionsError("The service could not be reached.", { code: "network_error", cause: error });
    }
  }

  // The one place that decides what a request carries. In DPoP mode every request to the Api gets
  // a proof of its own (RFC 9449: htm, htu, and ath with a DPoP-bound token), retries included.
  async #prepareHeaders(request, accessToken) {
    if (accessToken) request.headers.set("Authorization", `${this.#tokenType} ${accessToken}`);
    if (this.#dpop && this.#takesToken(request.url)) {
      const bound = accessToken && this.#tokenType === "DPoP" ? accessToken : null;
      request.headers.set("DPoP", await this.#dpop.proof(request.method, request.url, bound));
    }
  }

  #apiUrl() {
    return new URL(this.#baseUrl || ".", globalThis.location?.href);
  }

  #takesToken(url) {
    if (this.#isApi(url)) return true;
    try {
      return this.#resourceOrigins.has(new URL(url, globalThis.location?.href).origin);
    } catch {
      return false;
    }
  }

  #isAuthPath(url) {
    try {
      const basePath = this.#baseUrl ? this.#apiUrl().pathname.replace(/\/+$/, "") : "";
      return new URL(url, globalThis.location?.href).pathname.startsWith(`${basePath}/auth/`);
    } catch {
      return false;
    }
  }

  #isApi(url) {
    try {
      return new URL(url, globalThis.location?.href).origin === this.#apiUrl().origin;
    } catch {
      return false;
    }
  }

  #post(message) {
    try {
      this.#channel?.postMessage(message);
    } catch {
      // Closed channel: nobody left to tell.
    }
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/**
 * DPoP mode's storage (one IndexedDB database, one object store) and proofs. The key pair is made
 * once per browser profile and origin, with a non-extractable private key: scripts can sign with
 * it while the page runs, but never read it out. The refresh token is kept beside it; without the
 * key it is worth nothing.
 */
class DpopState {
  #name;
  #db = null;
  #key = null;

  constructor(name) {
    this.#name = name;
  }

  get(name) {
    return this.#run("readonly", (store) => store.get(name));
  }

  set(name, value) {
    return this.#run("readwrite", (store) => (value == null ? store.delete(name) : store.put(value, name)));
  }

  /**
   * Runs `action` holding the lock `lock`, shared by every tab of this origin (Web Locks), when the browser
   * has them. Locks are not reentrant: the key has a lock of its own, since a proof is made inside a refresh.
   */
  exclusive(action, lock = "refresh-token") {
    const locks = globalThis.navigator?.locks;
    return locks ? locks.request(`${this.#name}:${lock}`, action) : action();
  }

  /** A compact JWS proof for one request: a fresh jti, htu without query or fragment, iat from this device's clock. */
  async proof(method, url, accessToken) {
    const { privateKey, jwk } = await this.#keyPair();
    const target = new URL(url);
    target.search = "";
    target.hash = "";
    const payload = { jti: crypto.randomUUID(), htm: method, htu: target.href, iat: Math.floor(Date.now() / 1000) };
    if (accessToken) payload.ath = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken)));
    const input = `${base64urlJson({ typ: "dpop+jwt", alg: "ES256", jwk })}.${base64urlJson(payload)}`;
    // WebCrypto's ECDSA signature is r‖s, as JWS wants it.
    const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, new TextEncoder().encode(input));
    return `${input}.${base64url(signature)}`;
  }

  #keyPair() {
    this.#key ??= this.exclusive(async () => {
      let pair = await this.get("key");
      if (!pair) {
        pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
        await this.set("key", pair);
      }
      // The public key is always exportable; only its public members go into the proof.
      const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", pair.publicKey);
      return { privateKey: pair.privateKey, jwk: { kty, crv, x, y } };
    }, "key").catch((error) => {
      this.#key = null; // not cached: the next proof tries again
      throw error;
    });
    return this.#key;
  }

  #open() {
    this.#db ??= new Promise((resolve, reject) => {
      const request = indexedDB.open(this.#name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore("state");
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    }).catch((error) => {
      this.#db = null;
      throw error;
    });
    return this.#db;
  }

  async #run(mode, action) {
    const db = await this.#open();
    return new Promise((resolve, reject) => {
      const transaction = db.transaction("state", mode);
      const request = action(transaction.objectStore("state"));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  }
}

function base64url(buffer) {
  let binary = "";
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function base64urlJson(value) {
  return base64url(new TextEncoder().encode(JSON.stringify(value)));
}

function jsonInit(method, body) {
  return {
    method,
    headers: { "Content-Type": "application/json", Accept: JSON_TYPES },
    body: JSON.stringify(body),
  };
}

async function readJson(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new SessionsError("The service sent a malformed answer.", { status: response.status, code: "invalid_response", cause });
  }
}

function parseRetryAfter(value) {
  if (value == null || value.trim() === "") return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** The error="…" of a WWW-Authenticate challenge: the Api's 401s also carry a problem body, a resource server's may not. */
function bearerError(response) {
  return /\berror="([^"]*)"/.exec(response.headers.get("WWW-Authenticate") ?? "")?.[1] ?? null;
}

/** Reads the claims (no verification: the Api verifies, we only display them). */
function decodeJwtPayload(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "="));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}
