"use strict";

// Where to go after logging in: only a path on this site. "//evil.example", "/\\evil.example"
// (browsers read a backslash as a slash) and absolute URLs all go to "/".
function safeNext(next) {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.includes("\\")) return "/";
  try {
    const u = new URL(next, location.origin);
    return u.origin === location.origin ? u.pathname + u.search + u.hash : "/";
  } catch (_) {
    return "/";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  applyI18n();
  document.getElementById("lang").addEventListener("click", switchLang);
  const form = document.getElementById("login-form");
  const err = document.getElementById("login-error");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    const body = JSON.stringify({
      username: document.getElementById("username").value.trim(),
      password: document.getElementById("password").value,
    });
    try {
      const r = await fetch("/api/v1/login", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" }, body,
      });
      if (r.ok) {
        location.href = safeNext(new URLSearchParams(location.search).get("next"));
        return;
      }
      if (r.status === 429) {
        err.textContent = t("login.limited", { s: r.headers.get("Retry-After") || "60" });
      } else if (r.status === 401) {
        err.textContent = t("login.bad");
      } else {
        err.textContent = t("login.error");
      }
    } catch (_) {
      err.textContent = t("login.error");
    }
  });
});
