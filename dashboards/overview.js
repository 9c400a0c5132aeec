"use strict";

const activityKey = { serving: "counter.serving", idle: "counter.idle", staff_absent: "counter.staff_absent" };

function cameraStateKey(c) {
  const s = c.state && c.state.state ? c.state.state : c.state;
  return "camera." + (s || "starting");
}

// As CameraHealth::overloaded: more than one frame in ten dropped because analysis lags.
function overloaded(c) {
  const dropped = c.dropped_fps || 0;
  return dropped > 0.2 && dropped > 0.1 * ((c.analysed_fps || 0) + dropped);
}

function renderCameras(list, cams) {
  list.replaceChildren(...cams.map((c) => {
    const key = cameraStateKey(c);
    return el("li", { class: "camera " + key.slice(7) },
      el("strong", {}, c.camera), " ",
      el("span", { class: "state" }, t(key)), " ",
      el("span", { class: "sub" }, `${(c.analysed_fps || 0).toFixed(1)} ${t("camera.fps")} · ${c.frames_dropped} ${t("camera.dropped")} · ${c.reconnects} ${t("camera.reconnects")}`),
      overloaded(c) ? el("span", { class: "overload" }, " " + t("camera.overloaded", { n: (c.dropped_fps || 0).toFixed(1) })) : "");
  }));
}

function renderCounters(box, counters) {
  box.replaceChildren(...counters.map((c) =>
    el("div", { class: "counter " + c.activity, "data-counter": String(c.counter) },
      el("div", { class: "name" }, t("counter.name", { n: c.counter })),
      el("div", { class: "activity" }, t(activityKey[c.activity] || "counter.idle")),
      el("div", { class: "sub" }, `${t("counter.service_now")}: ${c.activity === "serving" ? fmtDuration(c.serving_for_s) : "–"}`),
      el("div", { class: "sub" }, `${t("counter.served")}: ${c.served_today} · ${t("counter.mean")}: ${fmtDuration(c.mean_service_s)}`))));
}

let lastState = null;
let chart = null;
let today = null;

function render(s) {
  lastState = s;
  document.getElementById("site").textContent = s.site_name || s.site;
  document.getElementById("waiting-now").textContent = String(s.waiting_now);
  document.getElementById("zones").replaceChildren(...s.zones.filter((z) => z.role === "waiting").map((z) =>
    el("li", { "data-zone": z.id }, `${z.name || z.id}: `, el("strong", {}, String(z.people_now)))));
  const p = s.prediction;
  document.getElementById("predicted").textContent = p ? fmtMinutes(p.expected_s) : t("predict.none");
  document.getElementById("predicted-band").textContent = p ? t("predict.band", { lo: fmtMinutes(p.low_s), hi: fmtMinutes(p.high_s) }) : "";
  document.getElementById("served-today").textContent = String(s.today.served);
  document.getElementById("arrivals-today").textContent = String(s.today.arrivals);
  document.getElementById("abandoned-today").textContent = String(s.today.abandoned);
  document.getElementById("mean-wait").textContent = fmtMinutes(s.today.mean_wait_s);
  document.getElementById("within-target").textContent = fmtPct(s.today.within_target);
  renderCounters(document.getElementById("counters"), s.counters);
  renderCameras(document.getElementById("cameras"), s.cameras);
  const storage = s.storage || {};
  const box = document.getElementById("storage");
  box.hidden = !storage.failing;
  box.textContent = storage.failing ? t("storage.failing", { n: storage.pending || 0 }) : "";
  // The uplink to the province centre: shown once facts have waited over 5 minutes (as /healthz).
  const up = s.uplink || {};
  const upBox = document.getElementById("uplink");
  const upFailing = up.configured && up.lag_s > 300;
  upBox.hidden = !upFailing;
  upBox.textContent = upFailing ? t("uplink.failing", { n: up.lag_events || 0, age: fmtDuration(up.lag_s) }) : "";
  document.getElementById("updated").textContent = fmtClock(s.t);
  document.getElementById("seq").textContent = String(s.seq);
  if (today && s.today.arrivals_by_hour && s.today.arrivals_by_hour.length === 24) {
    today.arrivals_by_hour = s.today.arrivals_by_hour;
    drawChart();
  }
}

function drawChart() {
  const box = document.getElementById("arrivals-chart");
  if (!today || typeof uPlot === "undefined") return;
  const hours = [...Array(24).keys()];
  const data = [hours, today.arrivals_by_hour.map(Number), today.typical_by_hour.map(Number)];
  if (chart && chart.hwLang === hwLang()) {
    chart.setData(data);
    return;
  }
  if (chart) chart.destroy();
  chart = new uPlot({
    width: Math.max(300, box.clientWidth - 8), height: 190,
    scales: { x: { time: false } },
    axes: [{ label: t("chart.hour") }, {}],
    series: [
      { label: t("chart.hour") },
      { label: t("chart.today"), stroke: "#1f6feb", fill: "rgba(31,111,235,0.15)", width: 2, paths: uPlot.paths.bars({ size: [0.6] }) },
      { label: t("chart.typical", { n: today.typical_days }), stroke: "#d29922", width: 2, dash: [6, 4] },
    ],
  }, data, box);
  chart.hwLang = hwLang();
}

let alertsCache = [];

function renderAlerts() {
  const panel = document.getElementById("alerts-panel");
  panel.hidden = alertsCache.length === 0;
  const canAck = HW.me && (HW.me.role === "reviewer" || HW.me.role === "admin");
  const focus = (location.hash.match(/^#\/alerts\/(\d+)$/) || [])[1];
  document.getElementById("alerts").replaceChildren(...alertsCache.map((a) => {
    const li = el("li", { class: "alert " + a.severity + (String(a.id) === focus ? " focus" : ""), "data-alert": String(a.id) },
      el("strong", {}, fmtClock(a.triggered)), " ", a.message || a.kind, " ");
    if (a.acknowledged) {
      li.append(el("span", { class: "sub" }, t("alerts.acked", { who: a.ack_by || "" })));
    } else if (canAck) {
      const b = el("button", { type: "button", i18n: "alerts.ack" }, t("alerts.ack"));
      b.addEventListener("click", async () => {
        try { await api(`/api/v1/alerts/${a.id}/ack`, { method: "POST", body: {} }); } catch (_) { /* shown on reload */ }
        loadAlerts();
      });
      li.append(b);
    }
    return li;
  }));
}

async function loadAlerts() {
  try {
    alertsCache = await api("/api/v1/alerts?state=active&limit=20");
    renderAlerts();
  } catch (_) { /* the panel stays as it was */ }
}

let service = null;

function renderService() {
  if (!service) return;
  const r = service.ratings;
  document.getElementById("satisfaction").textContent = r.count ? fmtPct(r.satisfied_share) : t("satisfaction.none");
  document.getElementById("ratings-count").textContent = String(r.count);
  document.getElementById("dissatisfied").textContent = String(r.dissatisfied);
  document.getElementById("tickets-issued").textContent = String(service.tickets.issued);
  document.getElementById("tickets-waiting").textContent = String(service.tickets.waiting);
  document.getElementById("ticket-wait").textContent = service.wait ? fmtMinutes(service.wait.mean_s) : "–";
}

/** Today's tickets and ratings (Mức độ hài lòng) from the ticket system and rating devices. */
async function loadService() {
  try {
    service = await api("/api/v1/service/today");
    renderService();
  } catch (_) { /* the card keeps its last figures */ }
}

async function loadToday() {
  try {
    today = await api("/api/v1/today");
    drawChart();
  } catch (e) { /* the chart stays empty; the live figures still work */ }
}

document.addEventListener("DOMContentLoaded", async () => {
  await startPage("/");
  followLive(render);
  await loadToday();
  loadAlerts();
  loadService();
  setInterval(loadAlerts, 15 * 1000);
  setInterval(loadService, 15 * 1000);
  setInterval(loadToday, 10 * 60 * 1000);
  document.addEventListener("hw-lang", () => { if (lastState) render(lastState); drawChart(); renderAlerts(); renderService(); });
  window.addEventListener("resize", () => { if (chart) chart.setSize({ width: Math.max(300, document.getElementById("arrivals-chart").clientWidth - 8), height: 190 }); });
});
