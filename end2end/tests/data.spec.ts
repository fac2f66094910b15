// The data pages as a developer uses them: a kv service's bucket in the KV browser (write a
// key, read it back, an edit from a stale page refused with the key's current revision, delete),
// the event log (the platform's events about the account, a dead letter published again), and
// a webhook endpoint receiving a signed delivery that its log then shows.
import { expect, type Page } from '@playwright/test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hydrated, signUp, test } from './helpers';

/** Registers a kv service called `slug` through the portal; ends on its page. */
async function registerKvService(page: Page, slug: string) {
  await page.goto('/services/new');
  await hydrated(page);
  await page.getByLabel('Slug').fill(slug);
  await page.getByLabel('Name', { exact: true }).fill('Session cache');
  await page.getByLabel('Kind').selectOption('kv');
  await page.getByRole('button', { name: 'Register service' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Session cache');
}

test('a kv service: write a key in the KV browser, read it back, a stale edit is refused with the current revision', async ({
  page,
  context,
}) => {
  await signUp(page, 'kv');
  await registerKvService(page, 'cache');
  await page.getByTestId('kv-bucket-link').getByRole('link', { name: 'Browse its keys' }).click();
  await expect(page).toHaveURL(/\/kv\/cache$/);
  await expect(page.getByTestId('no-keys')).toBeVisible();
  await hydrated(page);

  const create = page.getByTestId('kv-new');
  await create.getByLabel('Key').fill('greeting');
  await create.getByLabel('Value').fill('hello');
  await create.getByRole('button', { name: 'Create key' }).click();
  await expect(page).toHaveURL(/\/kv\/cache\?key=greeting$/);
  await expect(page.getByTestId('kv-revision')).toHaveText('1');
  await expect(page.getByTestId('kv-keys')).toContainText('greeting');
  await expect(page.getByTestId('kv-history')).toContainText('hello');

  // Someone else (another tab) changes the key after this page read it.
  const other = await context.newPage();
  await other.goto(page.url());
  await hydrated(other);
  await other.getByLabel('Value').fill('changed elsewhere');
  await other.getByTestId('kv-save').click();
  await expect(other.getByTestId('kv-revision')).toHaveText('2');

  // This page still edits revision 1: the write is refused and the current revision named.
  await page.getByLabel('Value').fill('my edit');
  await page.getByTestId('kv-save').click();
  await expect(page.getByRole('alert')).toContainText('The key is at revision 2, not 1: read it again and retry.');
  // The page shows what is there now, and saving again goes over revision 2.
  await expect(page.getByTestId('kv-revision')).toHaveText('2');
  await expect(page.getByTestId('kv-history')).toContainText('changed elsewhere');
  await page.getByLabel('Value').fill('my edit');
  await page.getByTestId('kv-save').click();
  await expect(page.getByTestId('kv-revision')).toHaveText('3');

  // A key that exists cannot be created again from the "New key" form.
  await page.getByRole('link', { name: 'New key' }).click();
  await expect(page).toHaveURL(/\/kv\/cache$/);
  await page.getByTestId('kv-new').getByLabel('Key').fill('greeting');
  await page.getByTestId('kv-new').getByLabel('Value').fill('again');
  await page.getByTestId('kv-new').getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByRole('alert')).toContainText('The key already holds a value (revision 3)');

  // Deleting leaves a tombstone in the history; the key no longer lists.
  await page.goto('/kv/cache?key=greeting');
  await hydrated(page);
  const remove = page.getByTestId('kv-delete');
  await remove.getByRole('checkbox').check();
  await remove.getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByTestId('no-keys')).toBeVisible();
  await page.goto('/kv/cache?key=greeting');
  await expect(page.getByTestId('kv-history')).toContainText('delete');
});

test('the events page shows the platform events and publishes a dead letter again', async ({ page, baseURL }) => {
  await signUp(page, 'events');
  await registerKvService(page, 'orders');
  const api = (path: string, data?: unknown) =>
    page.request.post(path, { data, headers: { Origin: baseURL ?? '' } });
  const me = await (await page.request.get('/api/v1/me')).json();
  const topic = `acct.${me.id}.orders`;

  // A consumer that gives up after one delivery, and a message it never acknowledges.
  const consumer = await api('/api/v1/events/consumers', {
    name: 'worker',
    filter: topic,
    deliver: { from: 'all' },
    ack_wait_ms: 100,
    max_deliver: 1,
  });
  expect(consumer.status()).toBe(201);
  expect((await api(`/api/v1/events/topics/${topic}/messages`, { data: '{"order":42}' })).status()).toBe(201);
  expect((await api('/api/v1/events/consumers/worker/fetch', { batch: 1 })).status()).toBe(200);
  await expect(async () => {
    await api('/api/v1/events/consumers/worker/fetch', { batch: 1 });
    await page.goto('/events');
    await expect(page.getByTestId('dead-letters-table')).toContainText(topic, { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });

  await page.getByRole('navigation').getByRole('link', { name: 'Events' }).click();
  await expect(page.getByTestId('topics-table')).toContainText('platform.service.registered');
  await expect(page.getByTestId('consumers-table')).toContainText('worker');
  await expect(page.getByTestId('dead-letters-table')).toContainText('not acknowledged after 1 delivery');
  await hydrated(page);
  await page.getByTestId('dead-letters-table').getByRole('button', { name: 'Publish again' }).click();
  await expect(page.getByTestId('republished')).toContainText(`on ${topic}`);
  // The consumer has the message to deliver again: its lag shows it.
  await expect(page.getByTestId('consumers-table').getByRole('row', { name: /worker/ })).toContainText('1');
});

test('a webhook: add an endpoint, its secret shown once, and a delivery in its log', async ({ page }) => {
  // A receiver on this machine that answers 204 to every delivery and keeps what it got.
  const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  try {
    await signUp(page, 'webhooks');
    await page.getByRole('navigation').getByRole('link', { name: 'Webhooks' }).click();
    await expect(page).toHaveURL(/\/webhooks$/);
    await hydrated(page);
    const form = page.getByTestId('new-webhook');
    await form.getByLabel('URL').fill(url);
    await form.getByLabel('Topics').fill('platform.service.>');
    await form.getByRole('button', { name: 'Add endpoint' }).click();
    await expect(page.getByTestId('webhook-secret-value')).toHaveValue(/^whsec_[A-Za-z0-9+/=]{30,}$/);
    await expect(page.getByTestId('webhooks-table')).toContainText(url);

    // Something happens on a matching topic: registering a service.
    await registerKvService(page, 'hooked');
    await expect.poll(() => received.length, { timeout: 15_000 }).toBeGreaterThan(0);
    const first = received[0];
    expect(first.headers['webhook-signature']).toMatch(/^v1,/);
    expect(JSON.parse(first.body).type).toBe('platform.service.registered');

    // The endpoint's log shows the delivery and the receiver's answer; the secret is not shown again.
    await page.goto('/webhooks');
    await expect(page.getByTestId('webhook-secret')).toHaveCount(0);
    await page.getByTestId('webhooks-table').getByRole('link', { name: url }).click();
    const deliveries = page.getByTestId('deliveries-table');
    await expect(deliveries).toContainText('platform.service.registered');
    await expect(deliveries).toContainText('succeeded');
    await expect(deliveries).toContainText('HTTP 204');
  } finally {
    server.close();
  }
});
