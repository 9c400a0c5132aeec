"use strict";

const PALETTE = ["#1f6feb", "#d29922", "#2da44e", "#cf222e", "#8250df", "#0a7ea4", "#bf3989", "#6e7781"];
let charts = [];
let lastSeries = null;

function isoDate(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function periodTime(p) {
  return Date.parse(p) / 1000;
}

/** x values and one array per series key, from rows keyed by period. */
function columns(rows, keys, scale) {
  const xs = [...new Set(rows.map((r) => r.period))].sort();
  const byPeriod = new Map(rows.map((r) => [r.period, r]));
  return [xs.map(periodTime), ...keys.map((k) => xs.map((p) => {
    const v = byPeriod.get(p) ? byPeriod.get(p)[k] : null;
    return v === null || v === undefined ? null : v * (scale || 1);
  }))];
}

/** One series per group (counter), value `key`. */
function grouped(rows, group, key, scale) {
  const xs = [...new Set(rows.map((r) => r.period))].sort();
  const groups = [...new Set(rows.map((r) => r[group]))].sort((a, b) => a - b);
  const data = [xs.map(periodTime)];
  for (const g of groups) {
    const m = new Map(rows.filter((r) => r[group] === g).map((r) => [r.period, r[key]]));
    data.push(xs.map((p) => (m.has(p) && m.get(p) !== null ? m.get(p) * (scale || 1) : null)));
  }
  return { data, groups };
}

function plot(id, data, series) {
  const box = document.getElementById(id);
  box.replaceChildren();
  if (!data[0].length) {
    box.append(el("p", { class: "sub" }, t("history.empty")));
    return;
  }
  charts.push(new uPlot({
    width: Math.max(300, box.clientWidth - 8), height: 240,
    series: [{}, ...series.map((s, i) => Object.assign({ stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: false }, s))],
  }, data, box));
}

function draw(series) {
  lastSeries = series;
  for (const c of charts) c.destroy();
  charts = [];
  plot("chart-waits", columns(series.waits, ["mean_s", "p90_s"], 1 / 60),
    [{ label: t("series.mean") }, { label: t("series.p90"), dash: [6, 4] }]);
  plot("chart-queue", columns(series.queue.filter((r) => r.zone === "*"), ["mean", "max"]),
    [{ label: t("series.mean") }, { label: t("series.max"), dash: [6, 4] }]);
  plot("chart-flow", columns(series.flow, ["arrivals", "served", "abandoned"]),
    [{ label: t("series.arrivals") }, { label: t("series.served") }, { label: t("series.abandoned") }]);
  const svc = grouped(series.service, "counter", "mean_s", 1 / 60);
  plot("chart-service", svc.data, svc.groups.map((g) => ({ label: t("counter.name", { n: g }) })));
  const util = grouped(series.utilisation, "counter", "utilisation", 100);
  plot("chart-utilisation", util.data, util.groups.map((g) => ({ label: t("counter.name", { n: g }) })));
}

async function load() {
  const msg = document.getElementById("history-message");
  msg.textContent = "…";
  const q = new URLSearchParams({
    from: document.getElementById("from").value,
    to: document.getElementById("to").value,
    period: document.getElementById("period").value,
  });
  try {
    const r = await api(`/api/v1/series?${q}`);
    msg.textContent = "";
    draw(r.series);
  } catch (e) {
    msg.textContent = t("history.error", { m: e.message });
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  await startPage("/history.html");
  const to = new Date();
  const from = new Date(Date.now() - 6 * 86400 * 1000);
  document.getElementById("from").value = isoDate(from);
  document.getElementById("to").value = isoDate(to);
  document.getElementById("range").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  document.addEventListener("hw-lang", () => { if (lastSeries) draw(lastSeries); });
  api("/api/v1/state").then((s) => { document.getElementById("site").textContent = s.site_name || s.site; }).catch(() => {});
  await load();
});
