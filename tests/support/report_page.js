// Drives the reviewers' report page (dashboards/report.html) in headless Chromium for
// tests/kiosk_browser.rs: log in, show the month's summary, download the XLSX.
// Env: BASE_URL, USERNAME, PASSWORD, CHROMIUM. Prints one JSON line.
const { chromium } = require('playwright-core');

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const out = {};
  try {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(process.env.BASE_URL + '/login.html');
    out.login = await page.evaluate(async ([u, p]) => {
      const r = await fetch('/api/v1/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: u, password: p }) });
      return r.status;
    }, [process.env.USERNAME, process.env.PASSWORD]);
    await page.goto(process.env.BASE_URL + '/report.html');
    await page.fill('#month', '2026-10');
    await page.click('#b-show');
    await page.waitForSelector('tr[data-key="ratings"]', { timeout: 20000 });
    out.ratings_row = await page.textContent('tr[data-key="ratings"]');
    out.satisfied_row = await page.textContent('tr[data-key="satisfied_share"]');
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 30000 }),
      page.click('button[data-format="xlsx"]'),
    ]);
    out.download_name = download.suggestedFilename();
    const path = await download.path();
    out.download_bytes = require('fs').statSync(path).size;
    out.ok = true;
  } catch (e) {
    out.ok = false;
    out.error = String(e && e.stack || e);
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(out));
}

main();
