// Peer test: better-auth's own client (better-auth/client) against shush's
// /api/auth. Env: SHUSH_URL. Prints TAP.
import { createAuthClient } from "better-auth/client";
import { tap, needEnv, uniqueEmail, CookieJar, sessionCookieName, show } from "./lib.mjs";

const { SHUSH_URL } = needEnv(["SHUSH_URL"]);
const t = tap();
const COOKIE = sessionCookieName(SHUSH_URL);

// Node's fetch sends sec-fetch-mode, so better-auth's wire wants an Origin;
// and Node has no cookie jar, so the jar's fetch keeps the cookies.
const jar = new CookieJar();
const client = createAuthClient({
  baseURL: SHUSH_URL,
  fetchOptions: { customFetchImpl: jar.fetch(SHUSH_URL) },
});

const isId = (s) => typeof s === "string" && /^[A-Za-z0-9]{32}$/.test(s);
const isDate = (d) => d instanceof Date && !Number.isNaN(d.getTime());
const sessionSetCookie = () => (jar.lastSetCookie || []).find((c) => c.name === COOKIE);

function expectError(res, status, code, name) {
  const e = res.error;
  t.ok(res.data === null && e && e.status === status && e.code === code,
    `${name} -> ${status} ${code}`, { data: res.data, error: e });
  t.ok(e && typeof e.message === "string" && e.message.length > 0, `${name}: error has a message`, e);
}

async function main() {
  const email = uniqueEmail("client");
  const lower = email.toLowerCase();
  const password = "correct horse battery staple";
  const name = "Peer Client";

  // 1. sign-up
  let r = await client.signUp.email({ email, password, name });
  const user = r.data?.user;
  t.ok(r.error === null && user && typeof r.data.token === "string", "signUp.email -> 200 {token,user}", r);
  t.is(user?.email, lower, "sign-up lowercases the email");
  t.is(user?.name, name, "sign-up keeps the name");
  t.ok(isId(user?.id), "user id is 32 chars of [A-Za-z0-9]", user?.id);
  t.ok(isId(r.data?.token), "session token is 32 chars of [A-Za-z0-9]", r.data?.token);
  t.is(user?.emailVerified, false, "new user has emailVerified false");
  t.ok(isDate(user?.createdAt) && isDate(user?.updatedAt),
    "user createdAt/updatedAt are ISO dates the client revives", user);
  let sc = sessionSetCookie();
  t.ok(sc && sc.value.startsWith(`${r.data?.token}.`), `sign-up sets ${COOKIE}=<token>.<sig>`, jar.lastSetCookie);
  checkCookieAttrs(sc, "604800", "sign-up");

  // 2. get-session with that cookie
  r = await client.getSession();
  t.ok(r.error === null && r.data?.session && r.data?.user, "getSession -> {session,user}", r);
  t.is(r.data?.user?.id, user?.id, "getSession user is the signed-up user");
  t.is(r.data?.session?.userId, user?.id, "session.userId is the user");
  t.ok(isId(r.data?.session?.id), "session id is 32 chars of [A-Za-z0-9]", r.data?.session);
  const exp = r.data?.session?.expiresAt;
  t.ok(isDate(exp) && Math.abs(exp.getTime() - Date.now() - 7 * 86400e3) < 3600e3,
    "session expires in 7 days", r.data?.session);

  // 3. sign-out ends it
  r = await client.signOut();
  t.ok(r.error === null && r.data?.success === true, "signOut -> {success:true}", r);
  t.ok(jar.get(COOKIE) === undefined, "sign-out clears the session cookie", jar.lastSetCookie);
  r = await client.getSession();
  t.ok(r.error === null && r.data === null, "getSession after sign-out -> null", r);

  // 4. wrong password, unknown email
  r = await client.signIn.email({ email, password: "wrong password 123" });
  expectError(r, 401, "INVALID_EMAIL_OR_PASSWORD", "signIn.email wrong password");
  r = await client.signIn.email({ email: uniqueEmail("nobody"), password });
  expectError(r, 401, "INVALID_EMAIL_OR_PASSWORD", "signIn.email unknown email");
  t.ok(jar.get(COOKIE) === undefined, "failed sign-in sets no session cookie", jar.lastSetCookie);

  // 5. right password (email in another case)
  r = await client.signIn.email({ email: lower.toUpperCase(), password });
  t.ok(r.error === null && r.data?.user?.id === user?.id && typeof r.data?.token === "string",
    "signIn.email -> 200 {token,user} (email case-insensitive)", r);
  t.is(r.data?.redirect, false, "sign-in answers redirect:false");
  sc = sessionSetCookie();
  t.ok(sc && sc.value.startsWith(`${r.data?.token}.`), "sign-in sets the session cookie", jar.lastSetCookie);
  checkCookieAttrs(sc, "604800", "sign-in");
  r = await client.getSession();
  t.is(r.data?.user?.id, user?.id, "getSession after sign-in is the user");

  // 6. rememberMe:false -> a cookie without Max-Age (a browser-session cookie)
  const other = new CookieJar();
  const client2 = createAuthClient({
    baseURL: SHUSH_URL,
    fetchOptions: { customFetchImpl: other.fetch(SHUSH_URL) },
  });
  r = await client2.signIn.email({ email, password, rememberMe: false });
  const sc2 = (other.lastSetCookie || []).find((c) => c.name === COOKIE);
  t.ok(r.error === null && sc2 && sc2.attrs["max-age"] === undefined && sc2.attrs.expires === undefined,
    "rememberMe:false -> session cookie without Max-Age/Expires", other.lastSetCookie);
  r = await client2.getSession();
  const exp2 = r.data?.session?.expiresAt;
  t.ok(isDate(exp2) && Math.abs(exp2.getTime() - Date.now() - 86400e3) < 3600e3,
    "rememberMe:false -> session expires in 1 day", r.data?.session);
  await client2.signOut();

  // 7. bad sign-ups
  r = await client.signUp.email({ email: lower, password, name });
  expectError(r, 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "duplicate signUp.email");
  r = await client.signUp.email({ email: uniqueEmail("short"), password: "short", name });
  expectError(r, 400, "PASSWORD_TOO_SHORT", "signUp.email password \"short\"");
  r = await client.signUp.email({ email: uniqueEmail("long"), password: "x".repeat(129), name });
  expectError(r, 400, "PASSWORD_TOO_LONG", "signUp.email 129-char password");

  // the earlier session is still good after all this
  r = await client.getSession();
  t.is(r.data?.user?.id, user?.id, "session survives the failed calls");

  // a sign-up signs in: the new user's cookie replaces the old one
  r = await client.signUp.email({ email: uniqueEmail("edge"), password: "12345678", name });
  const edge = r.data?.user;
  t.ok(r.error === null && edge, "signUp.email 8-char password is accepted", r);
  r = await client.getSession();
  t.ok(edge && r.data?.user?.id === edge.id, "getSession after a second sign-up is the new user", r);
  r = await client.signOut();
  t.ok(r.data?.success === true, "signOut -> {success:true}", r);
}

function checkCookieAttrs(c, maxAge, what) {
  const a = c?.attrs || {};
  t.ok(a["max-age"] === maxAge, `${what} cookie has Max-Age=${maxAge}`, c);
  t.ok(a.path === "/" && a.httponly === true && String(a.samesite).toLowerCase() === "lax",
    `${what} cookie has Path=/; HttpOnly; SameSite=Lax`, c);
  t.ok(SHUSH_URL.startsWith("https:") ? a.secure === true : a.secure === undefined,
    `${what} cookie is Secure exactly when the URL is https`, c);
}

try {
  await main();
} catch (e) {
  t.ok(false, "no unexpected exception", e?.stack || show(e));
}
process.exit(t.done());
