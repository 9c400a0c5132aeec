"use strict";

let cameras = [];
let current = null;
let lastState = null;

function showHealth() {
  const c = cameras.find((c) => c.id === current);
  const h = lastState ? lastState.cameras.find((x) => x.camera === current) : c && c.health;
  const box = document.getElementById("health");
  if (!h) { box.textContent = "–"; return; }
  const state = h.state && h.state.state ? h.state.state : h.state;
  box.textContent = `${t("camera." + state)} · ${(h.input_fps || 0).toFixed(1)} / ${(h.analysed_fps || 0).toFixed(1)} ${t("camera.fps")} · ${h.frames_dropped} ${t("camera.dropped")} · ${h.reconnects} ${t("camera.reconnects")}`;
  if (lastState) {
    const zones = lastState.zones.filter((z) => z.camera === current);
    document.getElementById("camera-zones").replaceChildren(...zones.map((z) =>
      el("li", {}, `${z.name || z.id} (${z.role}): `, el("strong", {}, String(z.people_now)))));
  }
}

async function refreshSnapshot() {
  if (!current) return;
  const img = document.getElementById("snapshot");
  const none = document.getElementById("no-snapshot");
  try {
    const r = await fetch(`/api/v1/cameras/${encodeURIComponent(current)}/snapshot`, { credentials: "same-origin", cache: "no-store" });
    if (!r.ok) throw new Error(String(r.status));
    const url = URL.createObjectURL(await r.blob());
    const old = img.src;
    img.src = url;
    img.hidden = false;
    none.hidden = true;
    if (old.startsWith("blob:")) URL.revokeObjectURL(old);
  } catch (_) {
    img.hidden = true;
    none.hidden = false;
  }
}

function select(id) {
  current = id;
  history.replaceState(null, "", `?id=${encodeURIComponent(id)}`);
  for (const a of document.querySelectorAll("#camera-list button")) a.classList.toggle("active", a.dataset.id === id);
  showHealth();
  refreshSnapshot();
}

document.addEventListener("DOMContentLoaded", async () => {
  await startPage("/camera.html");
  cameras = await api("/api/v1/cameras");
  const list = document.getElementById("camera-list");
  list.replaceChildren(...cameras.map((c) => {
    const b = el("button", { type: "button", "data-id": c.id }, c.name || c.id);
    b.addEventListener("click", () => select(c.id));
    return b;
  }));
  const wanted = new URLSearchParams(location.search).get("id");
  if (cameras.length) select(cameras.some((c) => c.id === wanted) ? wanted : cameras[0].id);
  followLive((s) => { lastState = s; document.getElementById("site").textContent = s.site_name || s.site; showHealth(); });
  setInterval(refreshSnapshot, 2000);
  document.addEventListener("hw-lang", showHealth);
});
