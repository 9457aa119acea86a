// The signed-in person's tokens, in this module's memory only: never in localStorage,
// sessionStorage or a cookie, so a reload or a closed tab ends the sign-in. The access token
// is renewed with the refresh token before it expires; if that fails, the person is asked
// to sign in again.

// The gateway's root: the console is served at <root>/console/.
export const ROOT = new URL("../", document.baseURI);
// Renew this long before the access token expires (or at four fifths of its life).
const RENEW_AHEAD_SECONDS = 60;

let access = null; // { token, claims }
let refreshToken = null;
let renewTimer = null;
let renewing = null;
const listeners = new Set();

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem ?? {};
  }
}

// `listener(person, reason)`: person is null once signed out (reason: "expired", "signedOut").
export function onSessionChange(listener) {
  listeners.add(listener);
}

export function person() {
  if (!access) return null;
  const { sub = "", roles = [] } = access.claims;
  return { subject: sub, name: sub.replace(/^user:/, ""), roles };
}

export function hasRole(...roles) {
  const current = person();
  return !!current && roles.some((role) => current.roles.includes(role));
}

export async function signIn(username, password) {
  accept(await tokenRequest({ grant_type: "password", username, password }));
}

export async function signOut() {
  const token = refreshToken;
  end("signedOut");
  if (token) {
    // Revoking ends the sign-in everywhere this refresh token was; a failure leaves only
    // an access token that expires within minutes, already forgotten here.
    await fetch(new URL("auth/revoke", ROOT), {
      method: "POST",
      body: new URLSearchParams({ token, token_type_hint: "refresh_token" }),
      credentials: "omit",
      cache: "no-store",
    }).catch(() => undefined);
  }
}

// A call to the public API with the person's token: the parsed JSON answer, or an
// ApiError carrying the problem. An expired token is renewed once and the call made again.
export async function api(path, { method = "GET", body, headers = {} } = {}) {
  const send = () =>
    fetch(new URL(path.replace(/^\//, ""), ROOT), {
      method,
      headers: {
        Accept: "application/json",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...headers,
        Authorization: `Bearer ${access?.token ?? ""}`,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  let response = await send();
  if (response.status === 401 && refreshToken) {
    try {
      await renew();
      response = await send();
    } catch {
      // The renewal failed: the sign-in has ended, the 401 stands.
    }
  }
  if (response.status === 401) end("expired");
  const data = await readJson(response);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

async function tokenRequest(fields) {
  const response = await fetch(new URL("auth/token", ROOT), {
    method: "POST",
    body: new URLSearchParams(fields),
    headers: { Accept: "application/json" },
    credentials: "omit",
    cache: "no-store",
  });
  const data = await readJson(response);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

async function readJson(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text };
  }
}

function accept(answer) {
  const first = access === null;
  access = { token: answer.access_token, claims: claimsOf(answer.access_token) };
  refreshToken = answer.refresh_token ?? null;
  clearTimeout(renewTimer);
  const life = Number(answer.expires_in) || 0;
  if (refreshToken && life > 0) {
    const ahead = Math.min(RENEW_AHEAD_SECONDS, life / 5);
    renewTimer = setTimeout(() => renew().catch(() => undefined), (life - ahead) * 1000);
  }
  if (first) notify("signedIn");
}

// One renewal at a time: each refresh token works once, and a second use ends the sign-in.
function renew() {
  if (!renewing) {
    const token = refreshToken;
    renewing = tokenRequest({ grant_type: "refresh_token", refresh_token: token })
      .then(accept, (error) => {
        end("expired");
        throw error;
      })
      .finally(() => {
        renewing = null;
      });
  }
  return renewing;
}

function end(reason) {
  const wasSignedIn = access !== null;
  clearTimeout(renewTimer);
  access = null;
  refreshToken = null;
  if (wasSignedIn) notify(reason);
}

function notify(reason) {
  for (const listener of listeners) listener(person(), reason);
}

// The token's claims, to know whom and which roles to show. Not a check: the API verifies
// the signature on every call, and refuses what the roles do not allow.
function claimsOf(token) {
  const part = token.split(".")[1] ?? "";
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

// A fresh Idempotency-Key: a POST resent after a lost answer applies once. (Not
// crypto.randomUUID: browsers offer it only on HTTPS pages, and an office network may
// serve the console over plain HTTP.)
export function idempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
