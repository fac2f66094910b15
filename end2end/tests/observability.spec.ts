// Observability as a developer and the operator see it: register a service on a local
// upstream, call it a few times with an API key, then find those calls on the service's
// metrics page (a chart with bars, the totals, the window switch), in the traces list (filtered
// by a plain GET form) and on a trace's page (its hop timeline); the operator's mesh drops and
// node metrics pages render their charts. The `request` fixture carries no session cookie: the
// calls it makes are the key's.
import { expect, type Page } from '@playwright/test';
import type { Server } from 'node:http';

import { OPERATOR } from './accounts';
import { hydrated, registerService, signUp, startUpstream, stopUpstream, unique, test } from './helpers';

let upstream: Server;
let upstreamUrl: string;

test.beforeAll(async () => {
  ({ server: upstream, url: upstreamUrl } = await startUpstream());
});

test.afterAll(async () => stopUpstream(upstream));

/** Registers a service on the upstream and waits until a placement passes its health check;
 * answers its id. */
async function registerHealthyService(page: Page, slug: string): Promise<string> {
  await registerService(page, slug, upstreamUrl);
  const id = new URL(page.url()).pathname.split('/').pop() ?? '';
  expect(id).not.toBe('');
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
  await page.getByLabel('Name', { exact: true }).fill(`observe-${unique()}`);
  await page.getByRole('checkbox', { name: /^invoke\b/ }).check();
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = page.getByTestId('api-key-secret');
  await expect(secret).toHaveValue(/^w4k_/);
  return secret.inputValue();
}

test('a fresh account sees empty states, not errors', async ({ page }) => {
  await signUp(page, 'observe-empty');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Traces' }).click();
  await expect(page).toHaveURL(/\/traces$/);
  await expect(page.getByRole('heading', { name: 'Traces', level: 1 })).toBeVisible();
  await expect(page.getByTestId('traces-empty')).toContainText('No traces yet');
  await expect(page.getByTestId('trace-filter')).toBeVisible();
});

test('calls show up as a metrics chart, as traces and as a hop timeline', async ({ page, request }) => {
  // Placement and the first passing checks take a few seconds after registration.
  test.setTimeout(120_000);
  await signUp(page, 'observe');
  const slug = `observed-${unique()}`;
  const serviceId = await registerHealthyService(page, slug);
  const secret = await createInvokeKey(page);

  for (let n = 1; n <= 4; n++) {
    const response = await request.get(`/api/v1/invoke/${serviceId}/hello`, {
      headers: { Authorization: `Bearer ${secret}` },
    });
    expect(response.status()).toBe(200);
  }

  // The service page links to its metrics.
  await page.goto(`/services/${serviceId}`);
  await page.getByTestId('service-metrics-link').click();
  await expect(page).toHaveURL(new RegExp(`/services/${serviceId}/metrics$`));
  await expect(page.getByTestId('total-requests')).toHaveText('4');
  const requests = page.getByTestId('requests-chart').locator('svg');
  await expect(requests).toHaveAttribute('role', 'img');
  await expect(requests).toHaveAttribute('aria-label', /Requests per minute/);
  await expect(requests.locator('rect.segment').first()).toBeVisible();
  expect(Number(await requests.locator('rect.segment').first().getAttribute('height'))).toBeGreaterThan(0);
  const latency = page.getByTestId('latency-chart').locator('svg path.series-line');
  await expect(latency).toHaveCount(3);
  expect((await latency.first().getAttribute('d')) ?? '').toMatch(/^M/);

  // The window switch is a plain link.
  await page.getByTestId('window-switch').getByRole('link', { name: 'Last 24 hours' }).click();
  await expect(page).toHaveURL(/window=day$/);
  await expect(page.getByTestId('requests-chart').locator('svg')).toHaveAttribute('aria-label', /per 5 minutes/);

  // Traces: the filter is a GET form; the rows link to their timelines.
  await page.goto('/traces');
  await page.getByLabel('Service').selectOption(serviceId);
  await page.getByLabel('Status').selectOption('ok');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(new RegExp(`/traces\\?service=${serviceId}&status=ok`));
  const rows = page.getByTestId('traces-table').locator('tbody tr');
  await expect(rows).toHaveCount(4);
  await expect(rows.first()).toContainText('GET /hello');
  await expect(rows.first()).toContainText('200');

  await rows.first().locator('a').first().click();
  await expect(page).toHaveURL(/\/traces\/[0-9a-f]{32}$/);
  await expect(page.getByTestId('trace-summary').locator('dd').filter({ hasText: slug })).toHaveCount(1);
  const spans = page.getByTestId('timeline').locator('li.span-row');
  expect(await spans.count()).toBeGreaterThan(1);
  await expect(spans.first().locator('.span-bar')).toHaveAttribute('style', /left:\d+(\.\d+)?%;width:\d+(\.\d+)?%/);
  await expect(page.getByTestId('timeline').locator('li.span-row.failed')).toHaveCount(0);
});

test("the operator's drops and node metrics pages draw their charts", async ({ page }) => {
  const response = await page.request.post('/api/v1/auth/login', { data: OPERATOR });
  expect(response.status()).toBe(200);

  await page.goto('/observability/drops');
  await expect(page.getByRole('heading', { name: 'Mesh drops', level: 1 })).toBeVisible();
  await expect(page.getByTestId('drops-chart').locator('svg')).toHaveAttribute('role', 'img');
  await expect(page.getByTestId('drops-total')).toContainText('dropped');

  await page.goto('/nodes');
  await page.getByTestId('nodes-table').locator('tbody tr a').first().click();
  await page.getByTestId('node-metrics-link').click();
  await expect(page).toHaveURL(/\/nodes\/[^/]+\/metrics$/);
  await expect(page.getByTestId('node-totals')).toBeVisible();
  await expect(page.getByTestId('node-requests-chart').locator('svg')).toHaveAttribute('role', 'img');
  await expect(page.getByTestId('node-latency-chart').locator('svg')).toHaveAttribute('aria-label', /Latency/);
});

test('a developer is told the mesh drops are the operator’s', async ({ page }) => {
  await signUp(page, 'observe-dev');
  await page.goto('/observability/drops');
  await expect(page.getByRole('heading', { name: 'Operators only' })).toBeVisible();
});
