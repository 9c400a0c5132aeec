// Drives the rating kiosk page in headless Chromium (playwright-core, Debian's chromium) for
// tests/kiosk_browser.rs: a tap reaches the server; a tap while offline is queued in
// localStorage and resent when the connection returns. Prints one JSON line.
//
// Env: KIOSK_URL (the page with ?counter=&token=), CHROMIUM (the browser binary).
const { chromium } = require('playwright-core');

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const out = { steps: [] };
  try {
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, hasTouch: true });
    const page = await context.newPage();
    page.on('console', (m) => out.steps.push('console: ' + m.text()));
    await page.goto(process.env.KIOSK_URL);
    out.url_after_load = page.url();
    out.counter_label = await page.textContent('#counter-label');
    const pending = () => page.evaluate(() => window.hallwatchKiosk.pending());

    // Online: a tap is sent at once.
    await page.tap('button[data-level="satisfied"]');
    await page.waitForFunction(() => window.hallwatchKiosk.pending() === 0, null, { timeout: 10000 });
    out.steps.push('online tap sent');
    out.thanks_visible = await page.isVisible('#thanks');

    // Offline: the tap waits in the queue (and survives a reload), then goes when back online.
    await context.setOffline(true);
    await page.waitForSelector('#ask', { state: 'visible', timeout: 10000 });
    await page.fill('#comment', 'Chờ hơi lâu');
    await page.tap('button[data-level="dissatisfied"]');
    await page.waitForTimeout(500);
    out.pending_offline = await pending();
    out.status_offline = await page.textContent('#status');
    out.queue_offline = JSON.parse(await page.evaluate(() => localStorage.getItem('hallwatch.kiosk.queue')));
    await context.setOffline(false);
    await page.waitForFunction(() => window.hallwatchKiosk.pending() === 0, null, { timeout: 15000 });
    out.steps.push('queued tap resent');
    out.pending_after = await pending();
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
