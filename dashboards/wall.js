"use strict";
// The wall screen: large type, live, no controls. The language follows the saved choice
// (or ?lang=en); the page reloads itself every 30 minutes to pick up new dashboard files.

const activity = { serving: "counter.serving", idle: "counter.idle", staff_absent: "counter.staff_absent" };
let last = null;

function render(s) {
  last = s;
  document.getElementById("site").textContent = s.site_name || s.site;
  document.getElementById("waiting-now").textContent = String(s.waiting_now);
  document.getElementById("zones").textContent = s.zones.filter((z) => z.role === "waiting").map((z) => `${z.name || z.id}: ${z.people_now}`).join(" · ");
  document.getElementById("predicted").textContent = s.prediction ? fmtMinutes(s.prediction.expected_s) : t("predict.none");
  document.getElementById("served-today").textContent = String(s.today.served);
  document.getElementById("mean-wait").textContent = fmtMinutes(s.today.mean_wait_s);
  document.getElementById("counters").replaceChildren(...s.counters.map((c) =>
    el("div", { class: "counter " + c.activity },
      el("div", { class: "name" }, t("counter.name", { n: c.counter })),
      el("div", { class: "activity" }, t(activity[c.activity] || "counter.idle")),
      el("div", { class: "time" }, c.activity === "serving" ? fmtDuration(c.serving_for_s) : ""))));
}

document.addEventListener("DOMContentLoaded", async () => {
  const lang = new URLSearchParams(location.search).get("lang");
  if (lang === "en" || lang === "vi") localStorage.setItem("hw_lang", lang);
  applyI18n();
  await loadMe();
  followLive(render);
  const tick = () => { document.getElementById("clock").textContent = fmtClock(Date.now() / 1000); };
  tick();
  setInterval(tick, 1000);
  setTimeout(() => location.reload(), 30 * 60 * 1000);
  document.addEventListener("hw-lang", () => last && render(last));
});
