// What headless Chromium downloads on a first visit (empty cache) of a page of a running
// platform, until the portal has hydrated: every response with its transferred body bytes,
// Content-Encoding and Cache-Control, and the total. Used by scripts/bench-bundle.sh:
//   node first-visit.mjs [url]
// Not part of the test suite.
import { chromium } from '@playwright/test';

const url = process.argv[2] ?? 'http://127.0.0.1:3000/';
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage();
const responses = [];
page.on('requestfinished', (request) => responses.push(request));
const started = Date.now();
await page.goto(url);
await page.locator('html[data-hydrated="true"]').waitFor();
const hydrated = Date.now() - started;
await page.waitForLoadState('networkidle');

let total = 0;
console.log(`${'path'.padEnd(44)} ${'bytes'.padStart(10)} ${'encoding'.padEnd(9)} cache-control`);
for (const request of responses) {
  const response = await request.response();
  if (!response) continue;
  const sizes = await request.sizes();
  const headers = await response.allHeaders();
  total += sizes.responseBodySize;
  const path = new URL(request.url()).pathname;
  console.log(`${path.padEnd(44)} ${String(sizes.responseBodySize).padStart(10)} ` +
    `${(headers['content-encoding'] ?? '-').padEnd(9)} ${headers['cache-control'] ?? '-'}`);
}
console.log(`${'total (bodies as transferred)'.padEnd(44)} ${String(total).padStart(10)}`);
console.log(`Accept-Encoding sent: ${(await responses[0]?.allHeaders())?.['accept-encoding'] ?? '?'}`);
console.log(`hydrated after ${hydrated} ms`);
await browser.close();
