// The device-approval page of `shush login` (API.md §8): sign in if needed,
// then approve or deny the code the command line shows. Plain DOM, no
// framework; served by nginx with script-src 'self' (no inline script).
"use strict";

(function () {
  const ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";
  const $ = (id) => document.getElementById(id);

  function show(id, on) { $(id).hidden = !on; }

  function say(text, kind) {
    const m = $("message");
    m.textContent = text;
    m.className = kind || "";
    m.hidden = !text;
  }

  // What a person typed -> "BCDF-GHJK" when it can be a code, else null.
  function normalize(raw) {
    const s = String(raw || "").toUpperCase().replace(/[\s-]/g, "");
    if (s.length !== 8) return null;
    for (const c of s) if (ALPHABET.indexOf(c) < 0) return null;
    return s.slice(0, 4) + "-" + s.slice(4);
  }

  async function call(method, path, body) {
    const opts = { method, credentials: "include", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(path, opts);
    let json = null;
    try { json = await res.json(); } catch (e) { json = null; }
    return { status: res.status, json, retryAfter: res.headers.get("Retry-After") };
  }

  function errorText(r) {
    const code = r.json && r.json.code;
    if (r.status === 429) {
      const s = r.retryAfter ? ` Try again in ${r.retryAfter} seconds.` : "";
      return "Too many attempts." + s;
    }
    if (code === "INVALID_USER_CODE") return "That code is not valid. Check it against your terminal; it may have expired or already been used.";
    if (code === "NO_ACTIVE_ORGANIZATION") return "You belong to no organization yet: create one in the dashboard, then approve again.";
    if (code === "INVALID_EMAIL_OR_PASSWORD") return "Wrong email or password.";
    if (r.json && r.json.message) return r.json.message;
    return `Something went wrong (HTTP ${r.status}).`;
  }

  // The token starts in the session's active org: offer the person's orgs,
  // the active one selected (a fresh sign-in has none yet).
  let activeOrg = null;
  async function loadOrgs() {
    const sel = $("org");
    sel.textContent = "";
    const cur = await call("GET", "/v1/orgs/current").catch(() => null);
    activeOrg = cur && cur.status === 200 && cur.json ? cur.json.id : null;
    const mine = await call("GET", "/v1/orgs/me").catch(() => null);
    const items = (mine && mine.status === 200 && mine.json && mine.json.items) || [];
    for (const o of items) {
      const opt = document.createElement("option");
      opt.value = o.id;
      opt.textContent = o.name;
      if (o.id === activeOrg) opt.selected = true;
      sel.appendChild(opt);
    }
    show("org-field", items.length > 0);
  }

  async function showApproval(user) {
    show("loading", false);
    show("signin", false);
    show("approve", true);
    $("who-email").textContent = user.email;
    await loadOrgs();
    const fromUrl = normalize(new URLSearchParams(location.search).get("user_code"));
    if (fromUrl) $("user-code").value = fromUrl;
    $(fromUrl ? "approve-button" : "user-code").focus();
  }

  async function decide(deny) {
    const code = normalize($("user-code").value);
    if (!code) {
      say("Enter the 8-letter code your terminal shows, like BCDF-GHJK.", "error");
      return;
    }
    $("user-code").value = code;
    $("approve-button").disabled = $("deny-button").disabled = true;
    say("");
    try {
      const org = $("org").value;
      if (!$("org-field").hidden && org && org !== activeOrg) {
        const sw = await call("POST", "/v1/orgs/current", { orgId: org });
        if (sw.status !== 200) {
          say(errorText(sw), "error");
          return;
        }
        activeOrg = org;
      }
      const r = await call("POST", "/v1/auth/cli/approve", { userCode: code, deny });
      if (r.status === 200 && r.json && r.json.status === "approved") {
        say("Approved. You can return to your terminal.", "ok");
        show("approve-form", false);
        return;
      }
      if (r.status === 200 && r.json && r.json.status === "denied") {
        say("Denied. The command line will not be signed in.", "ok");
        show("approve-form", false);
        return;
      }
      if (r.status === 401) {
        await start();
        say("Your session ended: sign in again.", "error");
        return;
      }
      say(errorText(r), "error");
    } catch (e) {
      say("The server could not be reached.", "error");
    } finally {
      $("approve-button").disabled = $("deny-button").disabled = false;
    }
  }

  async function signIn(ev) {
    ev.preventDefault();
    $("signin-button").disabled = true;
    say("");
    try {
      const r = await call("POST", "/api/auth/sign-in/email",
        { email: $("email").value, password: $("password").value, rememberMe: false });
      $("password").value = "";
      if (r.status === 200 && r.json && r.json.user) {
        await showApproval(r.json.user);
        return;
      }
      if (r.status === 200 && r.json && r.json.twoFactorRedirect) {
        say("This account needs a second factor: sign in from the dashboard first, then reload this page.", "error");
        return;
      }
      say(errorText(r), "error");
    } catch (e) {
      say("The server could not be reached.", "error");
    } finally {
      $("signin-button").disabled = false;
    }
  }

  async function start() {
    let r;
    try {
      r = await call("GET", "/api/auth/get-session");
    } catch (e) {
      show("loading", false);
      say("The server could not be reached.", "error");
      return;
    }
    if (r.status === 200 && r.json && r.json.user) {
      await showApproval(r.json.user);
      return;
    }
    show("loading", false);
    show("approve", false);
    show("signin", true);
    $("email").focus();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("signin-form").addEventListener("submit", signIn);
    $("approve-form").addEventListener("submit", (ev) => { ev.preventDefault(); decide(false); });
    $("deny-button").addEventListener("click", () => decide(true));
    start();
  });
})();
