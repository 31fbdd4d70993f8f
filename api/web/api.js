// The HTTP API and the session.
//
// The access token lives in this module's memory only. The refresh token is an
// HttpOnly cookie that the browser sends to /auth/refresh alone (we ask for it
// with X-Refresh-Cookie: 1), so no script on the page can read it. Tabs take a
// Web Lock around a refresh: the cookie is rotated on every use, and two tabs
// spending the same one at once would leave one of them signed out.

const REFRESH_LOCK = "insurance-navigator-refresh";
const COOKIE_HEADER = { "X-Refresh-Cookie": "1" };
const MAX_TRIES = 8;
const MAX_WAIT_SECONDS = 30;

export class ApiError extends Error {
  constructor(status, message, { detail = null, retryAfter = null } = {}) {
    super(message);
    this.status = status;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }
}

let accessToken = null;
let refreshTimer = null;
let refreshing = null;
const hooks = { status: () => {}, signedOut: () => {} };
// Requests now waiting to retry, and what each would say: the status shows while any waits,
// so a request that succeeds meanwhile does not hide another's "retrying".
const waiting = new Map();

async function waitToRetry(key, seconds, text) {
  waiting.set(key, text);
  hooks.status(text);
  try {
    await sleep(seconds * 1000);
  } finally {
    waiting.delete(key);
  }
}

function settledStatus() {
  hooks.status(waiting.size ? [...waiting.values()].at(-1) : null);
}

/** fn(text | null): what to tell the person while the service is unreachable. */
export function onServiceStatus(fn) { hooks.status = fn; }
/** fn(reason): the session ended without the person signing out. */
export function onSignedOut(fn) { hooks.signedOut = fn; }

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function duration(seconds) {
  if (seconds < 60) {
    const whole = Math.max(1, Math.round(seconds));
    return whole === 1 ? "1 second" : `${whole} seconds`;
  }
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

function retryAfter(response) {
  const value = Number(response.headers.get("Retry-After"));
  return Number.isFinite(value) && value > 0 ? value : null;
}

function describeInvalid(detail) {
  if (!Array.isArray(detail)) return "Please check what you entered.";
  const fields = new Set(detail.map((item) => (item.loc || []).filter((part) => typeof part === "string").pop()));
  if (fields.has("password")) return "Use a password of at least 8 characters.";
  if (fields.has("email")) return "Enter a valid email address.";
  if (fields.has("title")) return "Use a title of 1 to 200 characters.";
  if (fields.has("message") || fields.has("input")) return "That message cannot be sent: it is empty or too long.";
  return "Please check what you entered.";
}

/** The person-facing sentence for a failed response; `messages` overrides by status. */
async function failure(response, messages = {}) {
  let detail = null;
  try { detail = (await response.json()).detail; } catch { /* not JSON */ }
  const wait = retryAfter(response);
  const given = messages[response.status];
  let text;
  if (typeof given === "function") text = given(wait, detail);
  else if (given) text = given;
  else if (response.status === 401) text = "Your session has ended. Sign in again.";
  else if (response.status === 404) text = "Not found: it may have expired or been deleted.";
  else if (response.status === 409) text = typeof detail === "string" ? capitalize(detail) + "." : "That conflicts with a change made elsewhere.";
  else if (response.status === 413) text = "That is too long to send.";
  else if (response.status === 422) text = describeInvalid(detail);
  else if (response.status === 429) text = `Too many attempts. Try again in ${duration(wait || 60)}.`;
  else if (response.status === 503) text = "The service is unavailable. Try again in a minute.";
  else text = "Something went wrong on our side. Try again.";
  return new ApiError(response.status, text, { detail, retryAfter: wait });
}

const capitalize = (text) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * fetch with the access token, one refresh on 401, and retries while the service is
 * unavailable (503, honouring Retry-After) or unreachable. A request that is not safe
 * to repeat (a POST without an Idempotency-Key) is not retried after a network error.
 * `json` is sent as JSON, `body` (FormData, an upload) as it is.
 */
async function send(method, path, { json, body, headers = {}, auth = true, signal, retryNetwork } = {}) {
  const repeatable = retryNetwork ?? (method !== "POST" || "Idempotency-Key" in headers);
  const key = Symbol(path);
  let refreshed = false;
  for (let attempt = 1; ; attempt += 1) {
    const init = { method, headers: { ...headers }, credentials: "same-origin", cache: "no-store", signal };
    if (json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(json);
    } else if (body !== undefined) {
      init.body = body;  // FormData: the browser writes the multipart Content-Type with its boundary
    }
    if (auth && accessToken) init.headers.Authorization = `Bearer ${accessToken}`;
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      if (signal?.aborted) {
        settledStatus();
        throw error;
      }
      if (!repeatable || attempt >= MAX_TRIES) {
        settledStatus();
        throw new ApiError(0, "The service cannot be reached. Check your connection, then try again.");
      }
      const wait = Math.min(2 ** attempt, MAX_WAIT_SECONDS);
      await waitToRetry(key, wait, `Cannot reach the service. Retrying in ${duration(wait)}…`);
      continue;
    }
    if (response.status === 503 && attempt < MAX_TRIES) {
      const wait = Math.min(retryAfter(response) ?? 2 ** attempt, MAX_WAIT_SECONDS);
      await waitToRetry(key, wait, `The service is unavailable right now. Retrying in ${duration(wait)}…`);
      continue;
    }
    settledStatus();
    if (response.status === 401 && auth) {
      if (accessToken && !refreshed) {
        refreshed = true;
        if (await refreshSession()) continue;
      }
      // No session left (expired, revoked, or signed out in another tab).
      hooks.signedOut("Your session has ended. Sign in again.");
    }
    return response;
  }
}

/** JSON of a successful call (null for 204); ApiError otherwise. */
export async function request(method, path, options = {}) {
  const response = await send(method, path, options);
  if (!response.ok) throw await failure(response, options.messages);
  return response.status === 204 ? null : response.json();
}

/** The raw response of a Server-Sent Events stream, after `lastEventId`. */
export async function openStream(path, lastEventId, signal) {
  const headers = { Accept: "text/event-stream" };
  if (lastEventId > 0) headers["Last-Event-ID"] = String(lastEventId);
  const response = await send("GET", path, { headers, signal });
  if (!response.ok) throw await failure(response);
  return response;
}

/** A file download of an authenticated GET (the export). */
export async function download(path, filename) {
  const response = await send("GET", path);
  if (!response.ok) throw await failure(response);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// --- session ----------------------------------------------------------------------

function adopt(pair) {
  accessToken = pair.access_token;
  clearTimeout(refreshTimer);
  // Renew a minute before the access token expires, so requests rarely meet a 401.
  const seconds = Math.max(10, (pair.expires_in || 60) - 60);
  refreshTimer = setTimeout(() => { refreshSession().catch(() => {}); }, seconds * 1000);
}

function forget() {
  accessToken = null;
  clearTimeout(refreshTimer);
  refreshTimer = null;
}

async function refreshOnce() {
  const response = await send("POST", "/auth/refresh", { headers: COOKIE_HEADER, auth: false, retryNetwork: true });
  if (response.ok) {
    adopt(await response.json());
    return true;
  }
  if (response.status === 401) {
    forget();
    return false;
  }
  throw await failure(response);
}

/** Spend the refresh cookie for a new access token; false when there is no live session. */
export function refreshSession() {
  if (!refreshing) {
    const locked = navigator.locks
      ? navigator.locks.request(REFRESH_LOCK, refreshOnce)
      : refreshOnce();
    refreshing = locked.finally(() => { refreshing = null; });
  }
  return refreshing;
}

export const me = () => request("GET", "/auth/me");

export async function signIn(email, password) {
  await request("POST", "/auth/login", {
    json: { email, password }, headers: COOKIE_HEADER, auth: false, retryNetwork: true,
    messages: {
      401: "Incorrect email or password.",
      429: (wait) => `Too many sign-in attempts. Try again in ${duration(wait || 60)}.`,
    },
  }).then(adopt);
  return me();
}

const NOT_CREATED = "No account was created with this email and password. If the address already has an "
  + "account, press Sign in with its password.";

/**
 * Register, then sign in. Registration answers alike whether or not the address already has an
 * account (it says nothing about who has one), so a refused sign-in is how a taken address shows.
 * With email confirmation on, resolves to `{ pending: email }`: the emailed link finishes it.
 */
export async function createAccount(email, password) {
  const accepted = await request("POST", "/auth/register", {
    json: { email, password }, auth: false,
    messages: { 429: (wait) => `Too many new accounts from your network. Try again in ${duration(wait || 3600)}.` },
  });
  if (accepted.confirmation_required) return { pending: accepted.email };
  try {
    return await signIn(accepted.email, password);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) throw new ApiError(401, NOT_CREATED);
    throw error;
  }
}

/** Open a confirmation link's token: the account exists from now on; resolves to it. */
export function confirmEmail(token) {
  return request("POST", "/auth/confirm", {
    json: { token }, auth: false, retryNetwork: true,
    messages: { 404: (wait, detail) => `${capitalize(detail || "this link cannot be used")}.`,
      422: "This confirmation link is damaged: open it again from the email." },
  });
}

/** The signed-in person after a reload (from the refresh cookie), or null. */
export async function resumeSession() {
  return (await refreshSession()) ? me() : null;
}

/** Revoke the session and clear the cookie; if the service cannot be told, stay signed in
 * (the cookie would otherwise sign the person back in at the next load) and throw. */
export async function signOut() {
  try {
    await request("POST", "/auth/logout", { retryNetwork: true });
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) throw error;
  }
  forget();
}
