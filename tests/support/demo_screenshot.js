// For tests/demo.rs: logs in to the running `hallwatch demo` in headless Chromium
// (playwright-core with Debian's chromium, a fresh profile), waits until the overview shows the
// live hall and the simulated service figures, and saves the screenshot the README shows.
// Prints one JSON line with what it saw; the Rust test judges it.
//
// Env: BASE_URL, WEB_USER, WEB_PASSWORD, CHROMIUM, PROFILE_DIR (fresh), SHOTS_DIR.
const { chromium } = require('playwright-core');
const path = require('path');

async function main() {
  const out = { console: [] };
  const context = await chromium.launchPersistentContext(process.env.PROFILE_DIR, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    viewport: { width: 1440, height: 900 },
    // The hall's clock, as on a browser in the hall.
    timezoneId: 'Asia/Ho_Chi_Minh',
  });
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on('pageerror', (e) => out.console.push(`pageerror: ${e.message}`));
    await page.goto(process.env.BASE_URL + '/login.html');
    await page.fill('#username', process.env.WEB_USER);
    await page.fill('#password', process.env.WEB_PASSWORD);
    await page.click('#login-submit');
    await page.waitForURL((u) => new URL(u).pathname === '/', { timeout: 15000 });
    await page.waitForFunction(() => /^\d+$/.test(document.querySelector('#seq').textContent), null, { timeout: 60000 });
    await page.waitForFunction(() => document.querySelector('#tickets-issued').textContent !== '–', null, { timeout: 30000 });
    // For a telling picture: the first visits served at the clip's counter (up to 40 s).
    await page.waitForFunction(() => Number(document.querySelector('#served-today').textContent) > 0, null, { timeout: 40000 })
      .catch(() => {});
    await page.waitForTimeout(1000);
    out.waiting_now = await page.textContent('#waiting-now');
    out.satisfaction = await page.textContent('#satisfaction');
    out.ratings = await page.textContent('#ratings-count');
    out.tickets_issued = await page.textContent('#tickets-issued');
    out.report_link_visible = await page.locator('.nav a[href="/report.html"]').isVisible();
    await page.screenshot({ path: path.join(process.env.SHOTS_DIR, 'demo_overview_vi.png') });
    await page.click('#lang');
    out.satisfaction_heading_en = await page.textContent('#service-card h2');
    await page.screenshot({ path: path.join(process.env.SHOTS_DIR, 'demo_overview_en.png') });
  } catch (e) {
    out.error = String(e && e.stack ? e.stack : e);
  } finally {
    await context.close();
  }
  console.log(JSON.stringify(out));
}

main();
