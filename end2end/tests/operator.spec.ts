// The operator's pages: the mesh topology with the embedded nodes, and join tokens.
import { expect, type Page } from '@playwright/test';
import { OPERATOR } from './accounts';
import { test } from './helpers';

async function logIn(page: Page) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(OPERATOR.email);
  await page.getByLabel('Password').fill(OPERATOR.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
}

test('the operator sees the embedded nodes in the topology and their trust', async ({ page }) => {
  await logIn(page);
  await page.getByRole('navigation').getByRole('link', { name: 'Nodes' }).click();
  await expect(page).toHaveURL(/\/nodes$/);

  const picture = page.getByTestId('topology');
  // Links appear with the nodes' first heartbeats after start: reload until they are reported.
  await expect(async () => {
    await page.reload();
    await expect(picture.locator('line')).toHaveCount(2, { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  for (const name of ['embedded-1', 'embedded-2', 'embedded-3']) {
    await expect(picture.locator(`g[data-node="${name}"]`)).toHaveCount(1);
    await expect(page.getByTestId('nodes-table').getByRole('link', { name })).toBeVisible();
  }

  await page.getByTestId('nodes-table').getByRole('link', { name: 'embedded-2' }).click();
  await expect(page.getByTestId('node-trust')).toHaveText('trusted');
  await expect(page.getByTestId('trust-history')).toContainText('attested by control plane');
  await expect(page.getByTestId('drops')).toContainText('bad signature');
});

test('the operator creates a join token, sees it once, and revokes it', async ({ page }) => {
  await logIn(page);
  await page.goto('/join-tokens');
  await page.getByLabel('Note').fill('e2e rack');
  await page.getByLabel('Expires in (hours)').fill('2');
  await page.getByRole('button', { name: 'Create token' }).click();

  const secret = page.getByTestId('join-token-secret');
  await expect(secret).toHaveText(/^w4jt_[A-Za-z0-9_-]{43}$/);
  const row = page.getByTestId('tokens-table').getByRole('row', { name: /e2e rack/ });
  await expect(row).toContainText('one-time');
  await expect(row).toContainText('active');

  await page.reload();
  await expect(page.getByTestId('join-token-secret')).toHaveCount(0);

  await row.getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByTestId('tokens-table').getByRole('row', { name: /e2e rack/ })).toContainText('revoked');
});

test('a developer cannot open the operator pages', async ({ page, request }) => {
  const email = `dev${Date.now()}@example.com`;
  await request.post('/api/v1/auth/signup', { data: { email, password: 'developer password 1' } });
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('developer password 1');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole('navigation').getByRole('link', { name: 'Nodes' })).toHaveCount(0);

  const response = await page.goto('/nodes');
  expect(response?.status()).toBe(403);
  await expect(page.getByRole('heading', { name: 'Operators only' })).toBeVisible();
});
