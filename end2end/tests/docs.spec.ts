// The API reference as a visitor reads it: rendered from the platform's own OpenAPI document,
// with a curl command per endpoint against this very server, and nothing loaded from outside.
import { expect } from '@playwright/test';
import { test } from './helpers';

test('the API reference lists every endpoint with a curl command against this server', async ({ page, baseURL }) => {
  const outside: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(baseURL!)) outside.push(r.url());
  });
  await page.goto('/docs');
  await expect(page.getByRole('heading', { level: 1, name: 'Web4 Platform Cloud API' })).toBeVisible();
  await expect(page.locator('html[data-hydrated="true"]')).toHaveCount(1);

  const endpoints = page.getByTestId('endpoint');
  expect(await endpoints.count()).toBeGreaterThanOrEqual(30);
  const createKey = page.locator('#post-api-v1-keys');
  await expect(createKey).toContainText('POST');
  await expect(createKey).toContainText('An API key with the write scope, or the portal session');
  await expect(createKey.getByTestId('curl')).toContainText(`curl -X POST "${baseURL}/api/v1/keys"`);
  await expect(createKey.getByTestId('curl')).toContainText('Authorization: Bearer $WEB4_API_KEY');
  const signup = page.locator('#post-api-v1-auth-signup');
  await expect(signup).toContainText('None (public)');
  await expect(signup.getByTestId('curl')).not.toContainText('Authorization');

  // The document it is rendered from is served by the platform itself.
  const doc = await page.request.get('/api/v1/openapi.json');
  expect(doc.ok()).toBeTruthy();
  const json = await doc.json();
  expect(json.paths['/api/v1/keys']).toBeTruthy();
  expect(outside).toEqual([]);
});
