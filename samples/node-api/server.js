// An API of your own, protected by Sessions' access tokens: Auth0's express-oauth2-jwt-bearer is given the issuer,
// and reads the signing keys from its discovery document and JWKS. Nothing here checks a signature by hand.
//   SESSIONS_ISSUER (required)   the issuer URL, Sessions' Api:Issuer
//   SESSIONS_AUDIENCE            Sessions' Api:Audience, default "sessions-api"
//   CLOCK_TOLERANCE              seconds of clock difference allowed for exp and nbf, default 5
//   PORT                         default 5082
import express from "express";
import { auth } from "express-oauth2-jwt-bearer";

const issuer = process.env.SESSIONS_ISSUER;
if (!issuer) {
  console.error("SESSIONS_ISSUER must be set to Sessions' issuer URL, such as http://127.0.0.1:5080");
  process.exit(1);
}

const app = express();

// --- validation: begin
app.use(auth({
  issuerBaseURL: issuer,
  audience: process.env.SESSIONS_AUDIENCE ?? "sessions-api",
  tokenSigningAlg: "ES256",
  clockTolerance: Number(process.env.CLOCK_TOLERANCE ?? 5),
}));
// --- validation: end

// Sessions puts the user's roles in the "role" claim, an array.
const requireRole = (role) => (req, res, next) =>
  (req.auth.payload.role ?? []).includes(role)
    ? next()
    : res.status(403).json({ error: "insufficient_role", title: `The role "${role}" is required.` });

app.get("/hello", (req, res) => {
  const { sub, sid, email, role } = req.auth.payload;
  res.json({ message: `Hello from your API, ${email}`, userId: sub, sessionId: sid, roles: role ?? [], checkedWith: "signature" });
});
app.get("/admin", requireRole("admin"), (req, res) => res.json({ message: "Only admins see this." }));

// The middleware's errors carry their status (401 for a missing or bad token) and WWW-Authenticate header.
app.use((err, req, res, next) => {
  const status = err.status ?? 500;
  if (err.headers) res.set(err.headers);
  res.status(status).json({ error: err.code ?? "server_error", title: status >= 500 ? "Internal error" : err.message });
});

const port = Number(process.env.PORT ?? 5082);
app.listen(port, "127.0.0.1", () => console.log(`node-api listening on http://127.0.0.1:${port}, trusting ${issuer}`));
