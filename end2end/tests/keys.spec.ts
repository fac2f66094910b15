// API keys as a developer uses them: create one in the portal, call the Cloud API with it,
// see its secret shown once and never again, revoke it and see the API refuse it at once.
// The `request` fixture carries no session cookie: whatever it is allowed, the key allowed.
import { expect, type Page } from '@playwright/test';
import { hydrated, signUp as signUpAs, unique, test } from './helpers';


/** `w4k_` and 256 bits in base64url. */
const SECRET = /^w4k_[A-Za-z0-9_-]{43}$/;


/** Signs a fresh developer up through the portal (works with or without JavaScript). */
const signUp = (page: Page, javaScript = true) => signUpAs(page, 'keys', javaScript);

/** A scope's checkbox; its label is the scope's name and then what it allows. */
const scope = (page: Page, name: 'read' | 'write' | 'invoke') =>
  page.getByRole('checkbox', { name: new RegExp(`^${name}\\b`) });

/** The keys table's row of the key called `name`. */
const rowOf = (page: Page, name: string) =>
  page.getByTestId('keys-table').getByRole('row', { name: new RegExp(name) });

const bearer = (secret: string) => ({ Authorization: `Bearer ${secret}` });

test('a developer creates a key, calls the API with it, and revoking it locks the API out at once', async ({
  page,
  context,
  request,
}) => {
  await signUp(page);
  await page.getByRole('navigation').getByRole('link', { name: 'API keys' }).click();
  await expect(page).toHaveURL(/\/keys$/);
  await expect(page.getByText('You have no API keys yet.')).toBeVisible();
  await expect(page.getByTestId('keys-how-to')).toContainText('Authorization: Bearer w4k_');
  await hydrated(page);

  const name = `ci-${unique()}`;
  await page.getByLabel('Name', { exact: true }).fill(name);
  await scope(page, 'read').check();
  await scope(page, 'invoke').check();
  await page.getByRole('button', { name: 'Create key' }).click();

  // The secret, in full, with the warning that this is the only time.
  const created = page.getByTestId('created-key');
  await expect(created).toContainText('This is the only time the secret is shown — store it now.');
  await expect(created).toContainText('Scopes: read, invoke. Expires: never.');
  const secretInput = page.getByTestId('api-key-secret');
  await expect(secretInput).toHaveValue(SECRET);
  const secret = await secretInput.inputValue();
  const prefix = ((await page.getByTestId('created-prefix').textContent()) ?? '').trim();
  expect(prefix).toMatch(/^w4k_.{6}$/);
  expect(secret.startsWith(prefix)).toBe(true);

  // The Copy button puts it on the clipboard.
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.getByTestId('copy-secret').click();
  await expect(page.getByTestId('copy-status')).toHaveText('Copied to the clipboard.');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);

  // The list shows the key by its prefix, scopes and state.
  const row = rowOf(page, name);
  await expect(row.getByTestId('key-prefix')).toHaveText(`${prefix}…`);
  await expect(row).toContainText('read');
  await expect(row).toContainText('invoke');
  await expect(row.getByTestId('key-state')).toHaveText('active');

  // The key works on the Cloud API, within its scopes only.
  const listed = await request.get('/api/v1/services', { headers: bearer(secret) });
  expect(listed.status()).toBe(200);
  const write = await request.delete('/api/v1/keys/not-a-key', { headers: bearer(secret) });
  expect(write.status()).toBe(403);
  expect((await write.json()).error.code).toBe('missing_scope');

  // Shown once: after a reload the key is listed by its prefix, its secret is gone.
  await page.reload();
  await expect(row.getByTestId('key-prefix')).toHaveText(`${prefix}…`);
  await expect(page.getByTestId('created-key')).toHaveCount(0);
  await expect(page.getByTestId('api-key-secret')).toHaveCount(0);
  expect(await page.content()).not.toContain(secret);

  // Revoking takes the confirmation tick: the browser does not submit without it.
  await hydrated(page);
  const confirm = row.getByLabel(`I understand this revokes ${prefix}`);
  await expect(confirm).toHaveAttribute('required');
  await confirm.check();
  await row.getByRole('button', { name: 'Revoke' }).click();
  await expect(row.getByTestId('key-state')).toHaveText('revoked');
  await expect(row.getByRole('button', { name: 'Revoke' })).toHaveCount(0);

  // Refused at once, as revoked (not as unknown).
  const refused = await request.get('/api/v1/services', { headers: bearer(secret) });
  expect(refused.status()).toBe(401);
  expect((await refused.json()).error.code).toBe('api_key_revoked');
});

test.describe('before hydration (JavaScript disabled)', () => {
  test.use({ javaScriptEnabled: false });

  test('the key form posts, reports errors next to the fields, and shows the new secret once', async ({
    page,
    request,
  }) => {
    await signUp(page, false);
    await page.goto('/keys');

    // A key without a scope: the error comes back in the redirect's URL, next to the scopes.
    await page.getByLabel('Name', { exact: true }).fill('no scopes');
    await page.getByRole('button', { name: 'Create key' }).click();
    await expect(page).toHaveURL(/\/keys\?/);
    await expect(page.getByRole('alert')).toContainText('Please correct the highlighted fields.');
    await expect(page.locator('#scopes-help')).toHaveClass(/field-error/);
    await expect(page.locator('#scopes-help')).toContainText('Choose at least one scope');
    await expect(page.getByTestId('created-key')).toHaveCount(0);

    const name = `plain-${unique()}`;
    await page.getByLabel('Name', { exact: true }).fill(name);
    await scope(page, 'read').check();
    await page.getByLabel('Expires in days').fill('30');
    await page.getByRole('button', { name: 'Create key' }).click();

    // The redirect cannot carry the secret; the page after it shows it, from the session.
    await expect(page).toHaveURL(/\/keys$/);
    const created = page.getByTestId('created-key');
    await expect(created).toContainText('store it now');
    await expect(created).toContainText('Scopes: read. Expires: 2');
    const secret = await page.getByTestId('api-key-secret').inputValue();
    expect(secret).toMatch(SECRET);
    // No Copy button without JavaScript: the secret is in a read-only field to select.
    await expect(page.getByTestId('api-key-secret')).toHaveAttribute('readonly');
    await expect(page.getByTestId('copy-secret')).toBeHidden();
    const prefix = ((await page.getByTestId('created-prefix').textContent()) ?? '').trim();
    const row = rowOf(page, name);
    await expect(row.getByTestId('key-prefix')).toHaveText(`${prefix}…`);
    await expect(row.getByTestId('key-state')).toHaveText('active');

    const listed = await request.get('/api/v1/services', { headers: bearer(secret) });
    expect(listed.status()).toBe(200);

    // Once: the next load lists the key but no longer has its secret.
    await page.reload();
    await expect(row.getByTestId('key-prefix')).toHaveText(`${prefix}…`);
    await expect(page.getByTestId('created-key')).toHaveCount(0);
    expect(await page.content()).not.toContain(secret);

    // Revoking works as a plain form post too.
    await row.getByLabel(`I understand this revokes ${prefix}`).check();
    await row.getByRole('button', { name: 'Revoke' }).click();
    await expect(page).toHaveURL(/\/keys$/);
    await expect(row.getByTestId('key-state')).toHaveText('revoked');
    const refused = await request.get('/api/v1/services', { headers: bearer(secret) });
    expect(refused.status()).toBe(401);
    await expect(page.locator('html[data-hydrated]')).toHaveCount(0);
  });
});
