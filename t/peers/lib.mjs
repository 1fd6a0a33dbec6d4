// Shared helpers for the peer tests: TAP output and a tiny cookie jar.
// Node's fetch has no cookie jar, so the tests keep cookies themselves.

// --- TAP -------------------------------------------------------------------
// The plan is printed at the end ("1..N" after the tests is valid TAP); a
// script that dies before done() leaves no plan, and prove counts it failed.
export function tap() {
  let n = 0;
  let failed = 0;
  const diag = (msg) => {
    for (const line of String(msg).split("\n")) process.stdout.write(`# ${line}\n`);
  };
  const ok = (cond, name, info) => {
    n += 1;
    const clean = String(name).replace(/[\r\n#]/g, " ");
    process.stdout.write(`${cond ? "ok" : "not ok"} ${n} - ${clean}\n`);
    if (!cond) {
      failed += 1;
      if (info !== undefined) diag(typeof info === "string" ? info : show(info));
    }
    return Boolean(cond);
  };
  const is = (got, want, name) =>
    ok(Object.is(got, want), name, `got:  ${show(got)}\nwant: ${show(want)}`);
  const done = () => {
    process.stdout.write(`1..${n}\n`);
    return failed === 0 ? 0 : 1;
  };
  return { ok, is, diag, done, get failed() { return failed; } };
}

export function show(v) {
  try {
    return JSON.stringify(v, (k, x) => (x instanceof Date ? `Date(${x.toISOString()})` : x));
  } catch {
    return String(v);
  }
}

// --- environment -----------------------------------------------------------
// Returns the named variables, or prints a TAP skip and exits when one is
// missing (the wrappers check SHUSH_URL too; this keeps `node x.mjs` safe).
export function needEnv(names) {
  const env = {};
  const missing = names.filter((k) => !process.env[k]);
  if (missing.length) {
    process.stdout.write(`1..0 # SKIP no stack (${missing.join(", ")} unset)\n`);
    process.exit(0);
  }
  for (const k of names) env[k] = process.env[k].replace(/\/+$/, "");
  return env;
}

export function uniqueEmail(tag) {
  const rnd = Math.random().toString(36).slice(2, 10);
  return `Peer.${tag}.${Date.now()}.${rnd}@Example.COM`;
}

// --- cookies ---------------------------------------------------------------
// One Set-Cookie header value -> {name, value, attrs} (attribute names lowercased).
export function parseSetCookie(line) {
  const parts = line.split(";").map((s) => s.trim());
  const eq = parts[0].indexOf("=");
  const name = parts[0].slice(0, eq);
  const value = parts[0].slice(eq + 1);
  const attrs = {};
  for (const p of parts.slice(1)) {
    if (!p) continue;
    const i = p.indexOf("=");
    if (i < 0) attrs[p.toLowerCase()] = true;
    else attrs[p.slice(0, i).toLowerCase()] = p.slice(i + 1);
  }
  return { name, value, attrs };
}

export function setCookies(headers) {
  return headers.getSetCookie().map(parseSetCookie);
}

// name -> value; a Set-Cookie with Max-Age<=0, an Expires in the past or an
// empty value deletes the cookie, as a browser would.
export class CookieJar {
  constructor() { this.map = new Map(); }
  store(headers) {
    for (const c of setCookies(headers)) {
      const maxAge = c.attrs["max-age"];
      const expires = c.attrs.expires ? Date.parse(c.attrs.expires) : NaN;
      const gone = c.value === "" || (maxAge !== undefined && Number(maxAge) <= 0) ||
        (!Number.isNaN(expires) && expires <= Date.now());
      if (gone) this.map.delete(c.name);
      else this.map.set(c.name, c.value);
    }
  }
  get(name) { return this.map.get(name); }
  header() {
    return [...this.map].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  // A fetch that sends Origin and the jar's cookies and keeps what comes back.
  fetch(origin) {
    return async (input, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set("origin", origin);
      const cookie = this.header();
      if (cookie) headers.set("cookie", cookie);
      else headers.delete("cookie");
      const res = await fetch(input, { ...init, headers });
      this.lastSetCookie = setCookies(res.headers);
      this.store(res.headers);
      return res;
    };
  }
}

export const SESSION_COOKIE = "better-auth.session_token";

// The session cookie's name for a base URL (better-auth adds __Secure- on https).
export function sessionCookieName(baseURL) {
  return baseURL.startsWith("https:") ? `__Secure-${SESSION_COOKIE}` : SESSION_COOKIE;
}
