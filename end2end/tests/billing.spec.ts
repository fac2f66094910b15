// Usage, billing and earnings as a developer sees them: register a priced service, call it
// three times with an API key, and find those calls on the usage chart and table, as a draft
// invoice line, and as earnings; then have the operator finalize the month and follow the
// invoice to its downloads and to the calls behind its line.
// The `request` fixture carries no session cookie: the calls it makes are the key's.
import { expect, type Page } from '@playwright/test';
import type { Server } from 'node:http';

import { OPERATOR } from './accounts';
import { hydrated, signUp as signUpAs, startUpstream, stopUpstream, unique, test } from './helpers';


/** The price the service is registered with: 3 calls cost 3.75 cents, billed as $0.04. */
const PRICE = '0.0125';

// The upstream API the platform's nodes call (as in services.spec.ts): its health check, and
// `/anything`, which answers any method with what it received.
let upstream: Server;
let upstreamUrl: string;

test.beforeAll(async () => {
  ({ server: upstream, url: upstreamUrl } = await startUpstream());
});

test.afterAll(async () => stopUpstream(upstream));


/** Signs a fresh developer up through the portal; ends on the dashboard. */
const signUp = (page: Page) => signUpAs(page, 'billing');

/** Registers a flat-priced http service in the portal and waits until a placement passes its
 * health check; answers the service's id. */
async function registerPricedService(page: Page, slug: string): Promise<string> {
  await page.goto('/services/new');
  await hydrated(page);
  await page.getByLabel('Slug').fill(slug);
  await page.getByLabel('Upstream URL').fill(upstreamUrl);
  await page.getByLabel('Health check path').fill('/health');
  await page.getByLabel('Health check interval (ms)').fill('1000');
  // The default timeout (2 s) would exceed the 1 s interval.
  await page.getByLabel('Health check timeout (ms)').fill('500');
  await page.getByLabel('Price per call (USD)').fill(PRICE);
  await page.getByLabel('Free calls per month').fill('0');
  await page.getByRole('button', { name: 'Register service' }).click();

  await expect(page).toHaveURL(/\/services\/(?!new$)[^/?#]+$/);
  const id = new URL(page.url()).pathname.split('/').pop() ?? '';
  expect(id).not.toBe('');
  // The nodes place the service and start checking it: reload until one placement passes.
  const placements = page.getByTestId('placements');
  await expect(async () => {
    await page.reload();
    await expect(placements).toContainText('passing', { timeout: 1_000 });
  }).toPass({ timeout: 45_000 });
  return id;
}

/** Creates an API key with the invoke scope in the portal; answers its secret. */
async function createInvokeKey(page: Page): Promise<string> {
  await page.goto('/keys');
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill(`billing-${unique()}`);
  await page.getByRole('checkbox', { name: /^invoke\b/ }).check();
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = page.getByTestId('api-key-secret');
  await expect(secret).toHaveValue(/^w4k_/);
  return secret.inputValue();
}

test('calls with a key show up as usage, as a draft invoice line, as earnings, and on the finalized invoice', async ({
  page,
  request,
  playwright,
  baseURL,
}) => {
  // Placement and the first passing checks take a few seconds after registration.
  test.setTimeout(120_000);
  await signUp(page);
  const slug = `priced-${unique()}`;
  const serviceId = await registerPricedService(page, slug);
  const secret = await createInvokeKey(page);

  // Three calls through the mesh, as a script would make them.
  for (let n = 1; n <= 3; n++) {
    const response = await request.post(`/api/v1/invoke/${serviceId}/anything`, {
      headers: { Authorization: `Bearer ${secret}` },
      data: { n },
    });
    expect(response.status()).toBe(200);
    expect((await response.json()).method).toBe('POST');
  }

  // Usage: the chart has every day of the range, the service in its legend with 3 calls, one
  // bar segment with its tooltip; the table has the row.
  await page.getByRole('navigation').getByRole('link', { name: 'Usage' }).click();
  await expect(page).toHaveURL(/\/usage$/);
  const chart = page.getByTestId('usage-chart');
  await expect(chart).toHaveAttribute('role', 'img');
  await expect(chart).toHaveAttribute('aria-label', /3 calls to 1 service/);
  await expect(chart.locator('g.day')).toHaveCount(30);
  await expect(chart.locator('rect.segment')).toHaveCount(1);
  await expect(chart.locator(`rect.segment[data-service="${slug}"] title`)).toHaveText(
    new RegExp(`^\\d{4}-\\d{2}-\\d{2} · ${slug}: 3 calls$`),
  );
  const legend = page.getByTestId('usage-legend').locator(`li[data-service="${slug}"]`);
  await expect(legend).toContainText(slug);
  await expect(legend).toContainText('3 calls');
  const usageRow = page.getByTestId('usage-table').locator('tbody tr').filter({ hasText: slug });
  await expect(usageRow).toHaveCount(1);
  await expect(usageRow.locator('td').nth(2)).toHaveText('3');
  await expect(page.getByTestId('usage-total-calls')).toHaveText('3');

  // The range switch is a plain link; the shorter range still has today's calls.
  await page.getByTestId('usage-range').getByRole('link', { name: '7 days' }).click();
  await expect(page).toHaveURL(/\/usage\?days=7$/);
  await expect(chart.locator('g.day')).toHaveCount(7);
  await expect(page.getByTestId('usage-range').getByRole('link', { name: '7 days' })).toHaveAttribute(
    'aria-current',
    'page',
  );
  await expect(legend).toContainText('3 calls');

  // Billing: this month's draft has the line, priced per call and rounded once.
  await page.getByRole('navigation').getByRole('link', { name: 'Billing' }).click();
  await expect(page).toHaveURL(/\/billing$/);
  const draft = page.getByTestId('draft-invoice');
  await expect(draft).toContainText(/Current period · \w+ \d{4} · draft, updates live/);
  const draftLine = draft.locator('tbody tr').filter({ hasText: slug });
  await expect(draftLine).toHaveCount(1);
  await expect(draftLine.getByTestId('line-quantity')).toHaveText('3');
  await expect(draftLine).toContainText('$0.0125');
  await expect(draftLine.getByTestId('line-amount')).toHaveText('$0.04');
  await expect(draft.getByTestId('invoice-total')).toHaveText('$0.04');
  await expect(page.getByTestId('invoices')).toContainText('No invoices yet.');
  await expect(page.getByTestId('pricing-explained')).toContainText('half to even');

  // Earnings: the developer called their own priced service, so they earned it, less the fee.
  await page.getByRole('navigation').getByRole('link', { name: 'Earnings' }).click();
  await expect(page).toHaveURL(/\/earnings$/);
  await expect(page.getByTestId('earnings-totals')).toContainText('Platform fee (20%)');
  await expect(page.getByTestId('earnings-billed')).toHaveText('$0.04');
  await expect(page.getByTestId('earnings-fee')).toHaveText('$0.01');
  await expect(page.getByTestId('earnings-net')).toHaveText('$0.03');
  const earned = page.getByTestId('earnings-table').locator('tbody tr').filter({ hasText: slug });
  await expect(earned.locator('td').nth(2)).toHaveText('3');
  await expect(earned).toContainText('open');

  // The operator finalizes this account's calls now, as the month-end scheduler would.
  const me = await page.request.get('/api/v1/me');
  expect(me.status()).toBe(200);
  const accountId: string = (await me.json()).id;
  const operator = await playwright.request.newContext({ baseURL });
  try {
    expect((await operator.post('/api/v1/auth/login', { data: OPERATOR })).status()).toBe(200);
    const finalized = await operator.post('/api/v1/billing/finalize', { data: { account_id: accountId } });
    expect(finalized.status()).toBe(200);
    expect(await finalized.json()).toHaveLength(1);
  } finally {
    await operator.dispose();
  }

  // The draft is empty now; the invoice is listed and leads to its page.
  await page.goto('/billing');
  await expect(page.getByTestId('draft-invoice')).toContainText('Nothing to pay for yet this month.');
  const listed = page.getByTestId('invoices-table').getByRole('link', { name: /^W4-\d{6}-\d{6}$/ });
  await expect(listed).toHaveCount(1);
  const number = ((await listed.textContent()) ?? '').trim();
  await listed.click();
  await expect(page).toHaveURL(/\/billing\/invoices\/[^/?#]+$/);
  const invoiceId = new URL(page.url()).pathname.split('/').pop() ?? '';
  await expect(page.getByTestId('invoice-number')).toHaveText(number);
  await expect(page.getByTestId('invoice-status')).toHaveText('finalized');
  const line = page.getByTestId('invoice-lines').locator('tbody tr').filter({ hasText: slug });
  await expect(line.getByTestId('line-quantity')).toHaveText('3');
  await expect(line.getByTestId('line-amount')).toHaveText('$0.04');

  // Downloads: the browser's session authenticates them, the router leaves them alone.
  const csvLink = page.getByTestId('download-csv');
  await expect(csvLink).toHaveAttribute('href', `/api/v1/invoices/${invoiceId}/export.csv`);
  await expect(page.getByTestId('download-json')).toHaveAttribute(
    'href',
    `/api/v1/invoices/${invoiceId}/export.json`,
  );
  await hydrated(page);
  const [download] = await Promise.all([page.waitForEvent('download'), csvLink.click()]);
  expect(download.suggestedFilename()).toBe(`${number}.csv`);
  const csv = await (await page.request.get(`/api/v1/invoices/${invoiceId}/export.csv`)).text();
  expect(csv).toContain(`,${slug},${serviceId},Calls,3,${PRICE},0.04,USD,1,3`);

  // The line leads to the three calls behind it.
  const eventsHref = await line.getByRole('link', { name: 'calls' }).getAttribute('href');
  expect(eventsHref).toBe(`/api/v1/invoices/${invoiceId}/lines/1/events`);
  const events = await page.request.get(eventsHref ?? '');
  expect(events.status()).toBe(200);
  const items: { service_id: string }[] = (await events.json()).items;
  expect(items).toHaveLength(3);
  expect(items.every((event) => event.service_id === serviceId)).toBe(true);

  // Someone else's (or no) invoice is a real 404.
  const missing = await page.goto('/billing/invoices/not-an-invoice');
  expect(missing?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'No such invoice' })).toBeVisible();
});

test('a new account sees friendly empty states on usage, billing and earnings', async ({ page }) => {
  await signUp(page);
  await page.goto('/usage');
  await expect(page.getByTestId('usage-empty')).toContainText('No calls in the last 30 days.');
  await expect(page.getByTestId('usage-empty').getByRole('link', { name: 'API keys' })).toHaveAttribute(
    'href',
    '/keys',
  );
  await page.goto('/billing');
  await expect(page.getByTestId('draft-invoice')).toContainText('Nothing to pay for yet this month.');
  await expect(page.getByTestId('invoices')).toContainText('No invoices yet.');
  await page.goto('/earnings');
  await expect(page.getByTestId('earnings-empty')).toContainText(
    'Earnings appear here when others (or you) call your priced services.',
  );
});
