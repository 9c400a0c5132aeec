// The monthly review for reviewers: the summary of GET /api/v1/reports/{month} and its PDF,
// XLSX and HTML files (generated on the server; this page shows progress while it works).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const vi = () => hwLang() === "vi";
  const T = (v, e) => (vi() ? v : e);

  function labels() {
    $("l-month").textContent = T("Tháng", "Month");
    $("l-hall").textContent = T("Đơn vị", "Hall");
    $("b-show").textContent = T("Xem tóm tắt", "Show summary");
    $("report-title").textContent = T("Báo cáo tháng", "Monthly review");
  }

  function query(format) {
    const p = new URLSearchParams({ format, lang: hwLang() });
    if ($("hall").value.trim()) p.set("hall", $("hall").value.trim());
    return `/api/v1/reports/${$("month").value}?${p}`;
  }

  // Shows elapsed seconds while the server computes and renders.
  async function busy(what, work) {
    const t0 = Date.now();
    const tick = () => { $("report-status").textContent = `${what} ${Math.round((Date.now() - t0) / 1000)} s…`; };
    tick();
    const timer = setInterval(tick, 500);
    try {
      await work();
      $("report-status").textContent = "";
    } catch (e) {
      $("report-status").textContent = String(e.message || e);
    } finally {
      clearInterval(timer);
    }
  }

  function show(value, unit) {
    if (value === null || value === undefined) return "–";
    if (unit === "seconds") return fmtMinutes(value);
    if (unit === "share") return fmtPct(value);
    return String(Math.round(value));
  }

  async function summary() {
    await busy(T("Đang lập báo cáo", "Computing"), async () => {
      const body = await api(query("json"));
      const t = $("kpis");
      t.replaceChildren(el("tr", {}, el("th", {}, T("Chỉ tiêu", "Indicator")), el("th", {}, T("Tháng này", "This month")), el("th", {}, T("Tháng trước", "Previous month"))));
      for (const k of body.kpis) {
        t.append(el("tr", { "data-key": k.key }, el("td", {}, k.label), el("td", {}, show(k.current, k.unit)), el("td", {}, show(k.previous, k.unit))));
      }
    });
  }

  async function download(format) {
    if (!$("month").reportValidity()) return;
    await busy(T("Đang tạo tệp", "Rendering"), async () => {
      const r = await fetch(query(format), { credentials: "same-origin" });
      if (!r.ok) {
        const b = await r.json().catch(() => null);
        throw new Error(b && b.error ? b.error.message : String(r.status));
      }
      const url = URL.createObjectURL(await r.blob());
      const a = el("a", { href: url, download: `hallwatch-${$("month").value}.${format}` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    });
  }

  document.addEventListener("DOMContentLoaded", async () => {
    await startPage("/report.html");
    labels();
    const d = new Date();
    d.setMonth(d.getMonth() - 1);
    $("month").value = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
    $("report-form").addEventListener("submit", (e) => { e.preventDefault(); summary(); });
    for (const b of document.querySelectorAll("button[data-format]")) {
      b.addEventListener("click", () => download(b.dataset.format));
    }
  });
})();
