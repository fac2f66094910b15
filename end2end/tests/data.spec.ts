// The data pages as a developer uses them: a kv service's bucket in the KV browser (write a
// key, read it back, an edit from a stale page refused with the key's current revision, delete),
// and the event log (the platform's events about the account, a dead letter published again).
import { expect, type Page } from '@playwright/test';
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
