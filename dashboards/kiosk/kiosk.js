// Rating kiosk: a tablet at one counter. Each tap is queued in localStorage with its own
// client_id and the time of the tap, then sent to POST /api/v1/ratings; whatever cannot be sent
// (no network, server down) stays queued and is resent when the connection returns. The server
// stores a (kiosk, client_id) once, so a resend after a lost answer is never counted twice.
//
// URL: /kiosk/?counter=3&token=hwt_...&lang=en  — the token (a kiosk-scoped API token) and the
// counter are remembered in localStorage, and the token is removed from the address bar.
(function () {
  'use strict';
  var KEY_TOKEN = 'hallwatch.kiosk.token';
  var KEY_COUNTER = 'hallwatch.kiosk.counter';
  var KEY_QUEUE = 'hallwatch.kiosk.queue';
  var API = '/api/v1/ratings';
  var THANKS_MS = 2500;

  var params = new URLSearchParams(window.location.search);
  if (params.get('token')) {
    localStorage.setItem(KEY_TOKEN, params.get('token'));
    params.delete('token');
    var q = params.toString();
    window.history.replaceState(null, '', window.location.pathname + (q ? '?' + q : ''));
  }
  if (params.get('counter')) {
    localStorage.setItem(KEY_COUNTER, params.get('counter'));
  }
  var token = localStorage.getItem(KEY_TOKEN) || '';
  var counter = parseInt(localStorage.getItem(KEY_COUNTER) || '', 10);
  var en = params.get('lang') === 'en';
  if (en) { document.body.classList.add('en'); }

  var $ = function (id) { return document.getElementById(id); };
  var T = function (vi, enText) { return en ? vi + ' / ' + enText : vi; };
  $('counter-label').textContent = Number.isFinite(counter) ? T('Quầy ' + counter, 'Counter ' + counter) : T('Quầy —', 'Counter —');
  if (en) {
    $('title').textContent = T('Đánh giá mức độ hài lòng', 'How satisfied are you?');
    $('comment-label').textContent = T('Góp ý (không bắt buộc)', 'Comment (optional)');
    $('thanks-text').textContent = T('Cảm ơn Ông/Bà đã đánh giá!', 'Thank you!');
  }

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY_QUEUE) || '[]'); } catch (e) { return []; }
  }
  function save(items) { localStorage.setItem(KEY_QUEUE, JSON.stringify(items)); }
  function newId() {
    var b = new Uint8Array(9);
    window.crypto.getRandomValues(b);
    var hex = Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
    return 'k' + (Number.isFinite(counter) ? counter : 0) + '-' + Date.now().toString(36) + '-' + hex;
  }

  var status = $('status');
  function show(text, warn) {
    status.textContent = text;
    status.className = warn ? 'warn' : '';
  }
  function showQueue() {
    var n = load().length;
    if (n === 0) { show(''); } else { show(T('Chờ gửi: ' + n + ' đánh giá', n + ' rating(s) waiting to be sent'), true); }
  }

  var sending = false;
  var retryTimer = null;
  var backoff = 2000;
  function retryIn(ms) {
    if (retryTimer) { clearTimeout(retryTimer); }
    retryTimer = setTimeout(function () { retryTimer = null; flush(); }, ms);
  }

  // Sends the queue in order; stops at the first item that cannot be sent now.
  function flush() {
    if (sending) { return; }
    var items = load();
    if (items.length === 0) { showQueue(); return; }
    if (!token) { show(T('Chưa cấu hình mã kiosk (token)', 'No kiosk token configured'), true); return; }
    sending = true;
    var item = items[0];
    fetch(API, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Authorization': 'Bearer ' + token },
      body: JSON.stringify(item),
      cache: 'no-store'
    }).then(function (res) {
      sending = false;
      if (res.ok) {
        save(load().filter(function (x) { return x.client_id !== item.client_id; }));
        backoff = 2000;
        showQueue();
        flush();
      } else if (res.status === 429) {
        var after = parseFloat(res.headers.get('Retry-After') || '5');
        showQueue();
        retryIn(Math.max(1, after) * 1000);
      } else if (res.status === 400 || res.status === 422) {
        // Never acceptable (a bug or a changed config): drop it rather than block the queue.
        console.warn('rating refused', res.status, item);
        save(load().filter(function (x) { return x.client_id !== item.client_id; }));
        flush();
      } else if (res.status === 401 || res.status === 403) {
        show(T('Mã kiosk không hợp lệ — liên hệ quản trị', 'Kiosk token refused — call the administrator'), true);
        retryIn(60000);
      } else {
        showQueue();
        retryIn(backoff);
        backoff = Math.min(backoff * 2, 60000);
      }
    }, function () {
      // No connection: keep everything, try again later and when the browser is back online.
      sending = false;
      showQueue();
      retryIn(backoff);
      backoff = Math.min(backoff * 2, 60000);
    });
  }

  function rate(level) {
    var comment = $('comment').value.trim();
    var item = { level: level, client_id: newId(), t: Date.now() / 1000 };
    if (Number.isFinite(counter)) { item.counter = counter; }
    if (comment) { item.comment = comment.slice(0, 500); }
    var items = load();
    items.push(item);
    save(items);
    $('comment').value = '';
    $('ask').hidden = true;
    $('thanks').hidden = false;
    setTimeout(function () { $('thanks').hidden = true; $('ask').hidden = false; }, THANKS_MS);
    showQueue();
    backoff = 2000;
    flush();
  }

  Array.prototype.forEach.call(document.querySelectorAll('button.level'), function (b) {
    b.addEventListener('click', function () { rate(b.getAttribute('data-level')); });
  });
  window.addEventListener('online', function () { backoff = 2000; flush(); });
  window.hallwatchKiosk = { pending: function () { return load().length; }, flush: flush };
  showQueue();
  flush();
})();
