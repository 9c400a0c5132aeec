// The province centre (Trung tâm tỉnh): every hall's month in a league table, and one hall's
// days with whether the centre holds each day completely. Served by `hallwatch central`.
"use strict";

let league = null;
let drill = null;

function monthParam() {
  return new URLSearchParams(location.search).get("month") || new Date().toISOString().slice(0, 7);
}

function freshness(ageS) {
  if (ageS === null || ageS === undefined) return t("province.never");
  return t("province.ago", { d: fmtDuration(ageS) });
}

function renderLeague() {
  const body = document.querySelector("#league tbody");
  body.replaceChildren();
  if (!league) return;
  for (const h of league.halls) {
    const row = el("tr", { "data-site": h.site, class: "clickable" },
      el("td", {}, el("a", { href: "#", class: "hall-link" }, h.name || h.site)),
      el("td", {}, h.waiting_now === null ? "–" : String(h.waiting_now)),
      el("td", {}, String(h.waits)),
      el("td", {}, fmtMinutes(h.wait_p50_s)),
      el("td", {}, fmtMinutes(h.wait_p90_s)),
      el("td", {}, fmtPct(h.within_target)),
      el("td", {}, String(h.served)),
      el("td", {}, String(h.abandoned)),
      el("td", {}, fmtPct(h.satisfied_share)),
      el("td", {}, fmtPct(h.on_time_rate)),
      el("td", {}, fmtPct(h.camera_uptime)),
      el("td", {}, h.score_766 === null || h.score_766 === undefined ? "–" : h.score_766.toLocaleString(hwLang() === "vi" ? "vi-VN" : "en-GB", { maximumFractionDigits: 1 })),
      el("td", { class: h.gaps > 0 ? "bad" : "" }, freshness(h.received_age_s)));
    row.querySelector("a").addEventListener("click", (ev) => { ev.preventDefault(); openHall(h); });
    body.append(row);
  }
}

function renderDrill() {
  const box = document.getElementById("drill");
  box.hidden = !drill;
  if (!drill) return;
  document.getElementById("drill-hall").textContent = drill.name;
  const complete = new Map((drill.completeness.days || []).map((d) => [d.day, d.complete]));
  const body = document.querySelector("#days tbody");
  body.replaceChildren();
  for (const d of drill.days.days) {
    const c = complete.get(d.day);
    body.append(el("tr", { "data-day": d.day },
      el("td", {}, d.day),
      el("td", {}, String(d.waits)),
      el("td", {}, fmtMinutes(d.wait_p50_s)),
      el("td", {}, fmtPct(d.within_target)),
      el("td", {}, String(d.served)),
      el("td", {}, fmtPct(d.satisfied_share)),
      el("td", {}, fmtPct(d.camera_uptime)),
      el("td", { class: c === false ? "bad" : "" },
        c === undefined ? "–" : t(c ? "province.yes" : "province.no"))));
  }
}

async function openHall(h) {
  const m = encodeURIComponent(monthParam());
  const site = encodeURIComponent(h.site);
  const [days, completeness] = await Promise.all([
    api(`/api/v1/province/halls/${site}/days?month=${m}`),
    api(`/api/v1/province/halls/${site}/completeness?month=${m}`),
  ]);
  drill = { name: h.name || h.site, days, completeness };
  renderDrill();
}

async function load() {
  const msg = document.getElementById("province-message");
  try {
    league = await api(`/api/v1/province/league?month=${encodeURIComponent(monthParam())}`);
    msg.textContent = t("province.count", { n: league.halls.length });
  } catch (e) {
    msg.textContent = e.message;
  }
  renderLeague();
}

document.addEventListener("DOMContentLoaded", async () => {
  await startPage("/province.html");
  // The centre has no cameras of its own: its navigation is the province page.
  const nav = document.querySelector(".nav");
  nav.replaceChildren(el("a", { href: "/province.html", i18n: "nav.province", class: "active" }));
  applyI18n();
  document.getElementById("month").value = monthParam();
  document.getElementById("range").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const u = new URL(location.href);
    u.searchParams.set("month", document.getElementById("month").value);
    history.replaceState(null, "", u);
    drill = null;
    renderDrill();
    load();
  });
  // Today's league: each hall's local day so far (people waiting now, waits, served...).
  document.getElementById("today").addEventListener("click", async () => {
    const d = new Date();
    const day = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    const msg = document.getElementById("province-message");
    try {
      league = await api(`/api/v1/province/league?day=${day}`);
      msg.textContent = t("province.today_of", { d: day, n: league.halls.length });
    } catch (e) {
      msg.textContent = e.message;
    }
    drill = null;
    renderDrill();
    renderLeague();
  });
  document.addEventListener("hw-lang", () => { renderLeague(); renderDrill(); });
  load();
});
