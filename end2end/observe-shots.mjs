// Screenshots of the observability pages at 1280 px, for a person to look at:
//   node observe-shots.mjs [base-url] [out-dir]
// Signs up the operator (the first account) when it can, and a developer. Not part of the suite.
import { chromium } from '@playwright/test';

const base = process.argv[2] ?? 'http://127.0.0.1:3000';
const out = process.argv[3] ?? '/tmp';
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const operator = { email: 'operator@example.com', password: 'operator password 123' };

async function session(signup) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log('page error', page.url(), e.message));
  const r = await page.request.post(base + '/api/v1/auth/signup', { data: signup });
  if (r.status() !== 201) await page.request.post(base + '/api/v1/auth/login', { data: signup });
  return page;
}
const shot = async (page, name, path) => {
  await page.goto(base + path);
  await page.locator('html[data-hydrated="true"]').waitFor({ timeout: 15000 }).catch(() => console.log('not hydrated', path));
  await page.screenshot({ path: `${out}/observe-${name}.png`, fullPage: true });
  console.log(name, path, page.url());
};

const op = await session(operator);
const dev = await session({ email: `look${Date.now()}@example.com`, password: 'correct horse battery staple' });
await shot(dev, 'traces-empty', '/traces');
await shot(dev, 'drops-developer', '/observability/drops');
await shot(op, 'drops', '/observability/drops');
await shot(op, 'traces-operator', '/traces');
await op.goto(base + '/nodes');
const node = await op.locator('[data-testid="nodes-table"] tbody tr a').first().getAttribute('href');
await shot(op, 'node', node);
await shot(op, 'node-metrics', node + '/metrics?window=day');
// A service of the developer's (no traffic): its metrics page empty.
const created = await dev.request.post(base + '/api/v1/services', {
  data: { slug: `look-${Date.now()}`, name: 'Look', kind: 'http', upstream_url: 'http://127.0.0.1:9/' },
});
console.log('service', created.status());
if (created.ok()) {
  const id = (await created.json()).id;
  await shot(dev, 'service', `/services/${id}`);
  await shot(dev, 'service-metrics', `/services/${id}/metrics`);
  await shot(dev, 'traces-filtered', `/traces?service=${id}&status=error&min_ms=100`);
}
await shot(dev, 'trace-missing', '/traces/00000000000000000000000000000000');
await browser.close();
console.log('screenshots written to', out);
