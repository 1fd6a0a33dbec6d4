// Peer test: a real better-auth server, in process, on shush's database and
// secret. Users, passwords and sessions made on either side work on the other.
// better-auth is driven through auth.handler(new Request(...)); shush over HTTP.
// Env: SHUSH_URL, DATABASE_URL, BETTER_AUTH_SECRET, BETTER_AUTH_URL. Prints TAP.
import pg from "pg";
import { betterAuth } from "better-auth";
import { organization } from "better-auth/plugins";
import { getMigrations } from "better-auth/db/migration";
import { tap, needEnv, uniqueEmail, setCookies, sessionCookieName, show } from "./lib.mjs";

const env = needEnv(["SHUSH_URL", "DATABASE_URL", "BETTER_AUTH_SECRET", "BETTER_AUTH_URL"]);
const t = tap();
const BA_URL = env.BETTER_AUTH_URL;
const COOKIE = sessionCookieName(BA_URL);

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
const options = {
  database: pool,
  secret: process.env.BETTER_AUTH_SECRET,
  baseURL: BA_URL,
  emailAndPassword: { enabled: true },
  plugins: [organization()],
  trustedOrigins: [...new Set([env.SHUSH_URL, BA_URL])],
  telemetry: { enabled: false },
};
const auth = betterAuth(options);

// One request to either side -> {status, body, cookie (our session cookie's
// Set-Cookie, parsed), raw}. `cookie` is the value of the session cookie to send.
// `cookie` is the session cookie's value, or a whole Cookie header if it has "=".
async function call(side, method, path, { body, cookie, origin = env.SHUSH_URL, headers = {} } = {}) {
  const h = new Headers(headers);
  if (origin) h.set("origin", origin);
  if (body !== undefined) h.set("content-type", "application/json");
  if (cookie) h.set("cookie", cookie.includes("=") ? cookie : `${COOKIE}=${cookie}`);
  const init = { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) };
  const res = side === "ba"
    ? await auth.handler(new Request(`${BA_URL}/api/auth${path}`, init))
    : await fetch(`${env.SHUSH_URL}/api/auth${path}`, init);
  const text = await res.text();
  let parsed;
  try { parsed = JSON.parse(text); } catch { parsed = text; }
  const all = setCookies(res.headers);
  const sc = all.find((c) => c.name === COOKIE);
  return { status: res.status, body: parsed, cookie: sc, all, ctype: res.headers.get("content-type") };
}
const ba = (...a) => call("ba", ...a);
const shush = (...a) => call("shush", ...a);
const post = (side, path, body, opts = {}) => call(side, "POST", path, { body, ...opts });
const getSession = (side, cookie) => call(side, "GET", "/get-session", { cookie, origin: null });

// Keys sorted, so two servers' JSON compares equal whatever the key order.
function canon(v) {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])]));
  }
  return v;
}
const same = (a, b) => JSON.stringify(canon(a)) === JSON.stringify(canon(b));

async function main() {
  // 0. better-auth finds shush's schema complete (nothing to create or add).
  const { toBeCreated, toBeAdded } = await getMigrations(options);
  const missing = [
    ...toBeCreated.map((x) => `table ${x.table}`),
    ...toBeAdded.map((x) => `${x.table}: ${Object.keys(x.fields).join(", ")}`),
  ];
  t.ok(missing.length === 0, "better-auth finds nothing to migrate in shush's database",
    `better-auth wants: ${missing.join("; ")}`);

  const password = "peer test password 1";
  const emailA = uniqueEmail("ba"); // signs up on better-auth
  const emailB = uniqueEmail("shush"); // signs up on shush

  // (a) sign-up on one side, sign-in on the other
  const upA = await post("ba", "/sign-up/email", { email: emailA, password, name: "Made By BA" });
  const userA = upA.body?.user;
  t.ok(upA.status === 200 && userA?.id && upA.cookie, "better-auth: sign-up A -> 200 with cookie", upA);
  let r = await post("shush", "/sign-in/email", { email: emailA, password });
  t.ok(r.status === 200 && r.body?.user?.id === userA?.id, "shush: sign-in of better-auth's user -> 200, same user", r);
  t.ok(same(r.body?.user, userA), "shush: sign-in user object equals better-auth's", { shush: r.body?.user, ba: userA });
  t.is(r.body?.redirect, false, "shush: sign-in body has redirect:false");
  const shushCookieA = r.cookie?.value;
  r = await post("shush", "/sign-in/email", { email: emailA, password: `${password}x` });
  t.ok(r.status === 401 && r.body?.code === "INVALID_EMAIL_OR_PASSWORD",
    "shush: wrong password for better-auth's user -> 401 INVALID_EMAIL_OR_PASSWORD", r);

  const upB = await post("shush", "/sign-up/email", { email: emailB, password, name: "Made By shush" });
  const userB = upB.body?.user;
  t.ok(upB.status === 200 && userB?.id && upB.cookie && typeof upB.body?.token === "string",
    "shush: sign-up B -> 200 {token,user} with cookie", upB);
  r = await post("ba", "/sign-in/email", { email: emailB, password });
  t.ok(r.status === 200 && r.body?.user?.id === userB?.id, "better-auth: sign-in of shush's user -> 200, same user", r);
  t.ok(same(r.body?.user, userB), "better-auth: sign-in user object equals shush's sign-up user", { ba: r.body?.user, shush: userB });
  const baCookieB = r.cookie?.value;
  r = await post("ba", "/sign-in/email", { email: emailB, password: `${password}x` });
  t.ok(r.status === 401 && r.body?.code === "INVALID_EMAIL_OR_PASSWORD",
    "better-auth: wrong password for shush's user -> 401", r);

  r = await post("shush", "/sign-up/email", { email: emailA.toLowerCase(), password, name: "dup" });
  t.ok(r.status === 422 && r.body?.code === "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
    "shush: sign-up with better-auth user's email -> 422", r);
  r = await post("ba", "/sign-up/email", { email: emailB.toLowerCase(), password, name: "dup" });
  t.ok(r.status === 422 && r.body?.code === "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
    "better-auth: sign-up with shush user's email -> 422 (shush stored it lowercased)", r);

  // (b) a session cookie from one side is a session on the other
  const cookieA = upA.cookie?.value; // issued by better-auth
  const cookieB = upB.cookie?.value; // issued by shush
  let s1 = await getSession("shush", cookieA);
  let s2 = await getSession("ba", cookieA);
  t.ok(s1.status === 200 && s1.body?.user?.id === userA?.id && s1.body?.session?.token === upA.body?.token,
    "shush: get-session with better-auth's cookie -> that session and user", s1);
  t.ok(same(s1.body, s2.body), "shush and better-auth answer get-session alike (better-auth's cookie)",
    { shush: s1.body, ba: s2.body });
  t.ok(/^application\/json/.test(s1.ctype || ""), "shush: get-session is application/json", s1.ctype);

  s1 = await getSession("ba", cookieB);
  s2 = await getSession("shush", cookieB);
  t.ok(s1.status === 200 && s1.body?.user?.id === userB?.id && s1.body?.session?.token === upB.body?.token,
    "better-auth: get-session with shush's cookie -> that session and user", s1);
  t.ok(same(s1.body, s2.body), "shush and better-auth answer get-session alike (shush's cookie)",
    { ba: s1.body, shush: s2.body });

  const forged = `${upA.body?.token}.${"A".repeat(43)}%3D`;
  r = await getSession("shush", forged);
  t.ok(r.status === 200 && r.body === null, "shush: a real token with a bad signature -> null", r);

  // (c) sign-out on one side ends the session on the other
  r = await post("shush", "/sign-out", undefined, { cookie: cookieA });
  t.ok(r.status === 200 && r.body?.success === true, "shush: sign-out with better-auth's cookie -> {success:true}", r);
  t.ok(r.cookie && r.cookie.value === "" && r.cookie.attrs["max-age"] === "0",
    "shush: sign-out clears the cookie (empty, Max-Age=0)", r.cookie);
  r = await getSession("ba", cookieA);
  t.ok(r.status === 200 && r.body === null, "better-auth: that session is gone", r);
  r = await getSession("shush", cookieA);
  t.ok(r.status === 200 && r.body === null, "shush: that session is gone", r);
  r = await getSession("shush", shushCookieA);
  t.ok(r.body?.user?.id === userA?.id, "shush: the user's other session lives on", r);

  r = await post("ba", "/sign-out", undefined, { cookie: cookieB });
  t.ok(r.status === 200 && r.body?.success === true, "better-auth: sign-out with shush's cookie", r);
  r = await getSession("shush", cookieB);
  t.ok(r.status === 200 && r.body === null, "shush: the session better-auth signed out is gone", r);
  r = await getSession("shush", baCookieB);
  t.ok(r.body?.user?.id === userB?.id, "shush: better-auth's session for B still works", r);

  // organizations: better-auth's plugin writes its tables; the active
  // organization on the session shows on shush too
  r = await post("ba", "/organization/create", { name: "Peer Org", slug: `peer-${Date.now()}-${Math.random().toString(36).slice(2, 8)}` }, { cookie: baCookieB });
  const org = r.body;
  t.ok(r.status === 200 && org?.id, "better-auth: organization/create on shush's database -> 200", r);
  s1 = await getSession("shush", baCookieB);
  s2 = await getSession("ba", baCookieB);
  t.ok(org?.id && s2.body?.session?.activeOrganizationId === org.id &&
    s1.body?.session?.activeOrganizationId === org.id,
    "session.activeOrganizationId set by better-auth shows on shush", { shush: s1.body?.session, ba: s2.body?.session });
  t.ok(same(s1.body, s2.body), "shush and better-auth answer get-session alike (with an active org)",
    { shush: s1.body, ba: s2.body });
  await post("ba", "/sign-out", undefined, { cookie: baCookieB });
  await post("shush", "/sign-out", undefined, { cookie: shushCookieA });

  // rememberMe:false: a 1-day session, a session cookie without Max-Age, and
  // better-auth's signed `dont_remember` cookie, without which better-auth's
  // get-session would extend the session to 7 days at once.
  const DONT = COOKIE.replace("session_token", "dont_remember");
  const jarOf = (res) => res.all.filter((c) => c.value !== "").map((c) => `${c.name}=${c.value}`).join("; ");
  const dayish = (d) => Math.abs(Date.parse(d) - Date.now() - 86400e3) < 3600e3;
  for (const [from, to] of [["shush", "ba"], ["ba", "shush"]]) {
    const name = (x) => (x === "ba" ? "better-auth" : "shush");
    const si = await post(from, "/sign-in/email", { email: emailA, password, rememberMe: false });
    const dont = si.all.find((c) => c.name === DONT);
    t.ok(si.status === 200 && si.cookie && si.cookie.attrs["max-age"] === undefined && dont?.value.startsWith("true."),
      `${name(from)}: rememberMe:false sets ${COOKIE} without Max-Age and a signed ${DONT}`, si.all);
    const jar = jarOf(si);
    const g1 = await getSession(to, jar);
    const g2 = await getSession(from, jar);
    const again = g1.all.find((c) => c.name === COOKIE && c.value !== "");
    t.ok(g1.body?.user?.id === userA?.id && dayish(g1.body?.session?.expiresAt) && !again?.attrs["max-age"],
      `${name(to)}: get-session keeps ${name(from)}'s rememberMe:false session at 1 day`, { got: g1, from: g2.body });
    t.ok(same(g1.body, g2.body), `${name(from)} and ${name(to)} answer get-session alike (rememberMe:false)`,
      { [to]: g1.body, [from]: g2.body });
    const so = await post(to, "/sign-out", undefined, { cookie: jar });
    const cleared = new Set(so.all.filter((c) => c.value === "" && c.attrs["max-age"] === "0").map((c) => c.name));
    t.ok(so.status === 200 && cleared.has(COOKIE) && cleared.has(DONT),
      `${name(to)}: sign-out clears ${COOKIE} and ${DONT}`, so.all);
    const g3 = await getSession(from, si.cookie?.value);
    t.ok(g3.status === 200 && g3.body === null, `${name(from)}: that session is gone`, g3);
  }

  // Same answer from both to requests that fail better-auth's origin checks.
  const evil = "http://evil.invalid";
  const cases = [
    ["sign-in with an untrusted Origin", "/sign-in/email", { email: emailA, password }, { origin: evil }],
    ["sign-up with an untrusted Origin", "/sign-up/email", { email: uniqueEmail("evil"), password, name: "x" }, { origin: evil }],
    ["sign-in, sec-fetch-mode but no Origin", "/sign-in/email", { email: emailA, password },
      { origin: null, headers: { "sec-fetch-mode": "cors" } }],
    ["sign-out with a cookie and no Origin", "/sign-out", undefined,
      { origin: null, cookie: shushCookieA, headers: { "sec-fetch-mode": "cors" } }],
    ["sign-out with a cookie and an untrusted Origin", "/sign-out", undefined, { origin: evil, cookie: shushCookieA }],
  ];
  for (const [name, path, body, opts] of cases) {
    const a = await post("ba", path, body, opts);
    const b = await post("shush", path, body, opts);
    t.ok(a.status === b.status && a.body?.code === b.body?.code && a.status === 403,
      `${name}: shush answers as better-auth (${a.status} ${a.body?.code})`, { ba: a, shush: b });
  }
}

try {
  await main();
} catch (e) {
  t.ok(false, "no unexpected exception", e?.stack || show(e));
}
const rc = t.done();
await pool.end().catch(() => {});
process.exit(rc);
