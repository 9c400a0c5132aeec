// Drives the province page in headless Chromium (playwright-core with Debian's chromium, a
// fresh profile) for tests/province_browser.rs: log in, read the league table, open a hall's
// days, switch to English. Prints one JSON line with what it saw; the Rust test judges it.
//
// Env: BASE_URL, WEB_USER, WEB_PASSWORD, CHROMIUM, PROFILE_DIR (fresh), SHOTS_DIR, MONTH.
const { chromium } = require('playwright-core');
const path = require('path');

async function main() {
  const out = { console: [] };
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
    const target = `/province.html?month=${process.env.MONTH}`;
    await page.goto(process.env.BASE_URL + target);
    await page.waitForURL(/login\.html/, { timeout: 15000 });
    await page.fill('#username', process.env.WEB_USER);
    await page.fill('#password', process.env.WEB_PASSWORD);
    await page.click('#login-submit');
    await page.waitForURL((u) => new URL(u).pathname === '/province.html', { timeout: 15000 });
    await page.waitForSelector('#league tbody tr', { timeout: 15000 });
    out.lang = await page.getAttribute('html', 'lang');
    out.headers_vi = await page.$$eval('#league thead th', (ths) => ths.map((th) => th.textContent));
    out.rows = await page.$$eval('#league tbody tr', (trs) => trs.map((tr) => ({
      site: tr.dataset.site, cells: [...tr.querySelectorAll('td')].map((td) => td.textContent),
    })));
    out.nav = await page.$$eval('.nav a', (as) => as.map((a) => a.textContent));
    await page.click('#league tbody tr:first-child a.hall-link');
    await page.waitForSelector('#days tbody tr', { timeout: 15000 });
    out.drill_hall = await page.textContent('#drill-hall');
    out.days = await page.$$eval('#days tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    await page.screenshot({ path: path.join(process.env.SHOTS_DIR, 'province_vi.png'), fullPage: true });
    await page.click('#lang');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    out.headers_en = await page.$$eval('#league thead th', (ths) => ths.map((th) => th.textContent));
    out.complete_en = await page.$$eval('#days tbody tr td:last-child', (tds) => tds.map((td) => td.textContent));
    await page.screenshot({ path: path.join(process.env.SHOTS_DIR, 'province_en.png'), fullPage: true });
  } catch (e) {
    out.error = String(e && e.stack || e);
  } finally {
    await context.close();
  }
  console.log(JSON.stringify(out));
}

main();
