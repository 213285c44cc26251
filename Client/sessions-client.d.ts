// Type declarations for sessions-client.js.

/** Why a refresh happened. */
export type RefreshReason = "proactive" | "visible" | "retry-401" | "start" | "expired" | "cross-tab";

/** Why this tab became signed out. */
export type SignedOutReason = "logout" | "revoked" | "other-tab" | "expired";

/** RFC 9457 problem document as the service sends it. */
export interface Problem {
  /** A link to the code's entry in the service's docs/http-api.md#errors (or a urn naming the code). */
  type?: string;
  /** The same for every answer with this error code. */
  title?: string;
  status?: number;
  /** What went wrong this time, for people: SessionsError's message. */
  detail?: string;
  /** The service's error code, e.g. "invalid_credentials", "email_taken", "too_many_attempts". */
  error?: string;
  [member: string]: unknown;
}

/** The signed-in user: the /me answer once me() was called, else read from the access token's claims. */
export interface SessionsUser {
  userId: string | null;
  email: string | null;
  /** Whether the address was verified: the access token's `email_verified`, or /me's answer. */
  emailVerified: boolean;
  roles: string[];
  sessionId: string | null;
}

export interface SessionsState {
  signedIn: boolean;
  user: SessionsUser | null;
  sessionId: string | null;
  accessTokenExpiresAt: Date | null;
}

/** GET /me */
export interface MeResponse {
  userId: string;
  email: string;
  /** False until the address has been verified by email. */
  emailVerified: boolean;
  roles: string[];
  sessionId: string;
}

/** One entry of GET /auth/sessions. Times are ISO 8601 strings. */
export interface SessionInfo {
  sessionId: string;
  createdAt: string;
  lastRefreshedAt: string;
  expiresAt: string;
  userAgent: string | null;
  ipAddress: string | null;
  current: boolean;
}

export interface SessionsClientOptions {
  /** The Api's base URL, e.g. "https://auth.example.com". Default "": same origin. */
  baseUrl?: string;
  /**
   * Your own APIs (URLs; their origins count) that take Sessions' access tokens: client.fetch adds the token to calls
   * to them too, refreshing as for the Api. No other origin ever gets it. Default [].
   */
  resourceServers?: string[];
  /** Refresh this many seconds before the access token expires (at most a quarter of its lifetime). Default 60. */
  refreshAheadSeconds?: number;
  /** BroadcastChannel name shared by the tabs of one app; null or "" turns cross-tab messages off. Default "sessions". */
  channelName?: string | null;
  /** fetch implementation. Default globalThis.fetch. */
  fetch?: typeof globalThis.fetch;
  /**
   * Opt-in DPoP mode (RFC 9449): the session is bound at login to a non-extractable WebCrypto P-256 key kept in
   * IndexedDB, the refresh token travels in the body (kept in IndexedDB beside the key), and every request to the
   * Api carries a fresh proof, retries included. Needs a secure context. Default false.
   */
  dpop?: boolean;
  /** The IndexedDB database of DPoP mode. Default "sessions-dpop". */
  dpopDatabase?: string;
}

export interface SessionsClientEventMap {
  /** Signed in, signed out, or now on another session. */
  change: CustomEvent<SessionsState>;
  /** A refresh succeeded. */
  refresh: CustomEvent<{ reason: RefreshReason }>;
  /** This tab became signed out. */
  signedout: CustomEvent<{ reason: SignedOutReason }>;
}

export interface SessionsErrorOptions {
  status?: number;
  code?: string | null;
  problem?: Problem | null;
  retryAfter?: number | null;
  cause?: unknown;
}

/** A non-2xx answer of the service, or status 0 with code "network_error" when it could not be reached. */
export class SessionsError extends Error {
  constructor(message: string, options?: SessionsErrorOptions);
  readonly name: "SessionsError";
  /** HTTP status; 0 when no answer arrived. */
  status: number;
  /** The problem body's `error` member (or a WWW-Authenticate error, "network_error", "invalid_response"). */
  code: string | null;
  /** The parsed application/problem+json body, if any. */
  problem: Problem | null;
  /** Seconds from Retry-After, or null. */
  retryAfter: number | null;
  /** Builds the error for a non-2xx response, reading its problem body. */
  static fromResponse(response: Response): Promise<SessionsError>;
}

export class SessionsClient extends EventTarget {
  constructor(options?: SessionsClientOptions);

  readonly signedIn: boolean;
  readonly user: SessionsUser | null;
  readonly sessionId: string | null;
  readonly accessTokenExpiresAt: Date | null;
  readonly state: SessionsState;

  /** One silent cookie refresh; resolves signed in or signed out, rejects only when the Api cannot answer. */
  start(): Promise<SessionsState>;
  register(email: string, password: string): Promise<{ userId: string }>;
  login(email: string, password: string): Promise<SessionsState>;
  logout(): Promise<void>;
  logoutAll(): Promise<void>;
  me(): Promise<MeResponse>;
  listSessions(): Promise<SessionInfo[]>;
  revokeSession(sessionId: string): Promise<void>;
  /**
   * POST /auth/password: ends every other session of the user, keeps this one. Rejects with a SessionsError:
   * 403 "invalid_credentials", 400 "invalid_request", 429 "too_many_attempts" (retryAfter), 503 "unavailable"
   * (call again with the same arguments to finish the change).
   */
  changePassword(currentPassword: string, newPassword: string): Promise<void>;
  /** POST /auth/password/forgot: a reset mail to the account of the email, if there is one; the same answer either way. */
  requestPasswordReset(email: string): Promise<void>;
  /** POST /auth/password/reset with a reset link's token: the new password, and every session of the account ended. */
  resetPassword(token: string, newPassword: string): Promise<void>;
  /** POST /auth/email/verify with a verification link's token. */
  verifyEmail(token: string): Promise<void>;
  /** POST /auth/email/verify-request: a new verification mail for the signed-in user. */
  requestVerification(): Promise<void>;
  /** DELETE /me: deletes the account after checking its password; every session ends and this browser signs out. */
  deleteAccount(password: string): Promise<void>;
  /** fetch with the access token (Api origin only); refreshes when needed and retries once after a 401. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  dispose(): void;

  addEventListener<K extends keyof SessionsClientEventMap>(
    type: K,
    listener: (this: SessionsClient, event: SessionsClientEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof SessionsClientEventMap>(
    type: K,
    listener: (this: SessionsClient, event: SessionsClientEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}
