// Drives the dashboard in headless Chromium (playwright-core with Debian's chromium, a fresh
// profile) for tests/web_browser.rs: log in, watch the overview update live, switch language,
// save screenshots. Prints one JSON line with what it saw; the Rust test judges it.
//
// Env: BASE_URL, WEB_USER, WEB_PASSWORD, CHROMIUM, PROFILE_DIR (fresh), SHOTS_DIR.
const { chromium } = require('playwright-core');
const path = require('path');

async function main() {
  const out = { steps: [], console: [] };
  const context = await chromium.launchPersistentContext(process.env.PROFILE_DIR, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    viewport: { width: 1366, height: 768 },
  });
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on('console', (m) => out.console.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => out.console.push(`pageerror: ${e.message}`));
    const external = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(process.env.BASE_URL) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) external.push(r.url());
    });

    // Not logged in: the overview sends us to the login page.
    await page.goto(process.env.BASE_URL + '/');
    await page.waitForURL(/login\.html/, { timeout: 15000 });
    out.login_page_lang = await page.getAttribute('html', 'lang');
    out.login_title = await page.textContent('h1');
    // Where the login page sends people afterwards: paths on this site only (no open redirect).
    out.safe_next = await page.evaluate(() => Object.fromEntries(
      ['/history.html?from=1', '//evil.example', '/\\evil.example', 'https://evil.example/x',
       new URLSearchParams('next=/%5Cevil.example').get('next'), 'javascript:alert(1)']
        .map((n) => [n, safeNext(n)])));
    await page.fill('#username', process.env.WEB_USER);
    await page.fill('#password', process.env.WEB_PASSWORD);
    await page.click('#login-submit');
    await page.waitForURL((u) => new URL(u).pathname === '/', { timeout: 15000 });
    out.steps.push('logged in');

    // The overview fills from the live stream and keeps changing as the clip plays.
    await page.waitForFunction(() => /^\d+$/.test(document.querySelector('#seq').textContent), null, { timeout: 60000 });
    const seqs = [Number(await page.textContent('#seq'))];
    const started = Date.now();
    while (seqs.length < 4 && Date.now() - started < 90000) {
      const last = seqs[seqs.length - 1];
      await page.waitForFunction((s) => Number(document.querySelector('#seq').textContent) > s, last, { timeout: 30000 });
      seqs.push(Number(await page.textContent('#seq')));
    }
    out.seqs = seqs;
    out.live_class = await page.getAttribute('#live', 'class');
    out.waiting_now = await page.textContent('#waiting-now');
    out.counters = await page.locator('#counters .counter').count();
    out.cameras = await page.locator('#cameras li').count();
    out.heading_vi = await page.textContent('.card.big h2');
    await page.waitForTimeout(1500);
    await page.screenshot({ path: path.join(process.env.SHOTS_DIR, 'web_overview_vi.png') });

    // Switch to English and back.
    await page.click('#lang');
    out.heading_en = await page.textContent('.card.big h2');
    out.lang_en = await page.getAttribute('html', 'lang');
    out.counter_text_en = await page.locator('#counters .counter .activity').first().textContent().catch(() => null);
    await page.screenshot({ path: path.join(process.env.SHOTS_DIR, 'web_overview_en.png') });
    // The choice survives a reload.
    await page.reload();
    await page.waitForFunction(() => /^\d+$/.test(document.querySelector('#seq').textContent), null, { timeout: 30000 });
    out.heading_after_reload = await page.textContent('.card.big h2');
    await page.click('#lang');
    out.heading_back = await page.textContent('.card.big h2');

    // The wall screen, in large type.
    await page.goto(process.env.BASE_URL + '/wall.html');
    await page.waitForFunction(() => /^\d+$/.test(document.querySelector('#waiting-now').textContent), null, { timeout: 30000 });
    out.wall_waiting = await page.textContent('#waiting-now');
    await page.screenshot({ path: path.join(process.env.SHOTS_DIR, 'web_wall.png') });

    // The history page: a date range and its charts (or the empty-range message).
    await page.goto(process.env.BASE_URL + '/history.html');
    out.history_loaded = await page
      .waitForFunction(() => document.querySelector('#history-message').textContent !== '…' && document.querySelectorAll('#chart-waits .uplot, #chart-waits p').length > 0, null, { timeout: 60000 })
      .then(() => true, () => false);
    out.history_message = await page.textContent('#history-message');
    await page.screenshot({ path: path.join(process.env.SHOTS_DIR, 'web_history.png'), fullPage: true });

    // The camera page: a pixelated snapshot when the pipeline provides one.
    await page.goto(process.env.BASE_URL + '/camera.html');
    out.snapshot_shown = await page
      .waitForFunction(() => { const i = document.querySelector('#snapshot'); return i && !i.hidden && i.naturalWidth > 0; }, null, { timeout: 10000 })
      .then(() => true, () => false);
    await page.screenshot({ path: path.join(process.env.SHOTS_DIR, 'web_camera.png') });

    out.external_requests = external;
  } finally {
    await context.close();
  }
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.log(JSON.stringify({ error: String(e && e.stack || e) }));
  process.exit(1);
});
