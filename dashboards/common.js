// Shared by every logged-in page: the API wrapper (cookie session + CSRF header), the header
// bar, the live stream and number formatting.
"use strict";

const HW = { me: null };

/** Calls the API; sends the CSRF token on state-changing requests; a 401 goes to login. */
async function api(path, opts) {
  const o = Object.assign({ method: "GET", headers: {} }, opts || {});
  o.credentials = "same-origin";
  if (o.body !== undefined && typeof o.body !== "string") {
    o.body = JSON.stringify(o.body);
    o.headers["Content-Type"] = "application/json";
  }
  if (o.method !== "GET" && HW.me && HW.me.csrf_token) o.headers["X-CSRF-Token"] = HW.me.csrf_token;
  const r = await fetch(path, o);
  if (r.status === 401) {
    location.href = "/login.html?next=" + encodeURIComponent(location.pathname + location.search);
    // The page is going away: never settle, so no caller reports an error meanwhile.
    return new Promise(() => {});
  }
  const type = r.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await r.json() : await r.text();
  if (!r.ok) {
    const msg = body && body.error ? body.error.message : String(r.status);
    const e = new Error(msg);
    e.status = r.status;
    throw e;
  }
  return body;
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "i18n") e.dataset.i18n = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function fmtDuration(s) {
  if (s === null || s === undefined || !isFinite(s)) return "–";
  s = Math.max(0, Math.round(s));
  const m = Math.floor(s / 60), r = s % 60;
  if (m >= 60) return `${Math.floor(m / 60)}:${String(m % 60).padStart(2, "0")}:${String(r).padStart(2, "0")}`;
  return `${m}:${String(r).padStart(2, "0")}`;
}

function fmtMinutes(s) {
  if (s === null || s === undefined || !isFinite(s)) return "–";
  return `${Math.round(s / 60)} ${t("unit.min")}`;
}

function fmtPct(x) {
  return x === null || x === undefined || !isFinite(x) ? "–" : `${Math.round(x * 100)}%`;
}

function fmtClock(unix) {
  const d = new Date(unix * 1000);
  return d.toLocaleTimeString(hwLang() === "vi" ? "vi-VN" : "en-GB", { hour12: false });
}

/** Builds the header bar: title, site, navigation, language switch, user and logout. */
function header(active) {
  const nav = el("nav", { class: "nav" });
  for (const [href, key] of [["/", "nav.overview"], ["/camera.html", "nav.cameras"], ["/history.html", "nav.history"], ["/wall.html", "nav.wall"], ["/report.html", "nav.report"]]) {
    nav.append(el("a", { href, i18n: key, class: href === active ? "active" : "" }));
  }
  const lang = el("button", { id: "lang", type: "button", class: "lang", i18n: "lang.switch" });
  lang.addEventListener("click", switchLang);
  const logout = el("button", { id: "logout", type: "button", i18n: "nav.logout" });
  logout.addEventListener("click", async () => {
    try { await api("/api/v1/logout", { method: "POST" }); } catch (_) { /* gone anyway */ }
    location.href = "/login.html";
  });
  const bar = el("header", { class: "bar" },
    el("div", { class: "brand" }, el("span", { i18n: "app.title" }), el("span", { id: "site", class: "site" })),
    nav,
    el("div", { class: "right" },
      el("span", { id: "live", class: "live off" }),
      lang,
      el("span", { id: "user", class: "user" }),
      logout));
  document.body.prepend(bar);
}

/** Loads who is logged in (redirects to login when nobody). */
async function loadMe() {
  HW.me = await api("/api/v1/me");
  const u = document.getElementById("user");
  if (u) u.textContent = `${HW.me.username} (${HW.me.role || HW.me.scope})`;
  // Báo cáo tháng is for reviewers and admins: the API refuses it to anyone else.
  const report = document.querySelector('.nav a[href="/report.html"]');
  if (report) report.hidden = !(HW.me.role === "reviewer" || HW.me.role === "admin");
  return HW.me;
}

function setLive(on, t0) {
  const l = document.getElementById("live");
  if (!l) return;
  l.className = "live " + (on ? "on" : "off");
  l.textContent = on ? `● ${t("live.on")}${t0 ? " · " + fmtClock(t0) : ""}` : `○ ${t("live.off")}`;
}

/**
 * Follows the live hall state: calls onState(state) at once and on every change. Reconnects
 * on its own; when the session has ended it goes to the login page.
 */
function followLive(onState) {
  let es = null;
  let lastSeq = -1;
  const open = () => {
    es = new EventSource("/api/v1/live");
    es.addEventListener("state", (ev) => {
      const s = JSON.parse(ev.data);
      lastSeq = s.seq;
      setLive(true, s.t);
      onState(s);
    });
    es.onerror = async () => {
      setLive(false);
      if (es.readyState === EventSource.CLOSED) {
        // A refused stream (session ended) is not retried by the browser: check and reopen.
        try { await api("/api/v1/me"); } catch (_) { return; }
        setTimeout(open, 2000);
      }
    };
  };
  open();
  return () => lastSeq;
}

async function startPage(active) {
  header(active);
  applyI18n();
  await loadMe();
}
