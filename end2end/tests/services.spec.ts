// Services as a developer uses them: register an HTTP API, watch its placements turn healthy,
// call it through the mesh with "try it", fix a mistake in the form, and delete a service.
import { expect, type Page } from '@playwright/test';
import type { Server } from 'node:http';
import { PASSWORD, hydrated, signUp as signUpAs, startUpstream, stopUpstream, unique, test } from './helpers';


/** The service page's address (an id, never the registration form). */
const SERVICE_URL = /\/services\/(?!new$)[^/?#]+$/;

// A small upstream API the platform's nodes call: its health check, and one JSON endpoint
// that marks its answers so the test can tell they really came from here.
let upstream: Server;
let upstreamUrl: string;

test.beforeAll(async () => {
  ({ server: upstream, url: upstreamUrl } = await startUpstream());
});

test.afterAll(async () => stopUpstream(upstream));


/** Signs a fresh developer up through the portal; ends on the dashboard. */
const signUp = (page: Page) => signUpAs(page, 'svc');

test('a developer registers an http service, sees it healthy and calls it through the mesh', async ({ page }) => {
  // Placement and the first passing checks take a few seconds after registration.
  test.setTimeout(90_000);
  // The pages run under a nonce-based script CSP: nothing of ours may be refused by it.
  const refused: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
  });
  await signUp(page);

  await page.getByRole('navigation').getByRole('link', { name: 'Services' }).click();
  await expect(page).toHaveURL(/\/services$/);
  await expect(page.getByText('You have no services yet.')).toBeVisible();
  await page.getByRole('link', { name: 'Register a service' }).click();
  await expect(page).toHaveURL(/\/services\/new$/);

  const slug = `hello-${unique()}`;
  await page.getByLabel('Slug').fill(slug);
  await page.getByLabel('Name', { exact: true }).fill('Hello mesh');
  await page.getByLabel('Kind').selectOption('http');
  await page.getByLabel('Upstream URL').fill(upstreamUrl);
  await page.getByLabel('Allowed methods').fill('GET');
  await page.getByLabel('Health check path').fill('/health');
  await page.getByLabel('Health check interval (ms)').fill('1000');
  // The default timeout (2 s) would exceed the 1 s interval.
  await page.getByLabel('Health check timeout (ms)').fill('500');
  await page.getByRole('button', { name: 'Register service' }).click();

  await expect(page).toHaveURL(SERVICE_URL);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Hello mesh');
  await expect(page.getByTestId('service-status')).toHaveText('active');
  await expect(page.getByTestId('invoke-path')).toContainText('/api/v1/invoke/');

  // The nodes place the service and start checking it: reload until one placement passes.
  const placements = page.getByTestId('placements');
  await expect(async () => {
    await page.reload();
    await expect(placements).toContainText('passing', { timeout: 1_000 });
  }).toPass({ timeout: 45_000 });
  await expect(placements).toContainText('embedded-');

  await hydrated(page);
  const tryIt = page.getByTestId('try-it');
  await tryIt.getByLabel('Method').selectOption('GET');
  await tryIt.getByLabel('Path').fill('/hello');
  await tryIt.getByRole('button', { name: 'Send' }).click();

  await expect(page.getByTestId('try-status')).toHaveText('200');
  await expect(page.getByTestId('try-body')).toContainText('"hello":"mesh"');
  await expect(page.getByTestId('try-headers')).toContainText(/x-upstream/i);
  await expect(page.getByTestId('try-route')).toContainText('embedded-');
  await expect(page.getByTestId('try-latency')).toHaveText(/^\d+ ms$/);

  // The proxy secret: explained, and shown once when rotated.
  const proxy = page.getByTestId('proxy-secret');
  await expect(proxy).toContainText('x-web4-proxy-secret');
  await proxy.getByRole('button', { name: 'Rotate and show the secret' }).click();
  await expect(page.getByTestId('proxy-secret-value')).toHaveValue(/^w4ps_[A-Za-z0-9_-]{43}$/);
  expect(refused).toEqual([]);

  // The list shows it too, healthy.
  await page.goto('/services');
  const row = page.getByTestId('services-table').getByRole('row', { name: /Hello mesh/ });
  await expect(row).toContainText(slug);
  await expect(row).toContainText('passing');
  await expect(row).toContainText(/[1-9]\/\d healthy/);
  await expect(row).toContainText('active');
});

test('the registration form shows the server validation next to the fields and keeps what was typed', async ({
  page,
}) => {
  await signUp(page);
  await page.goto('/services/new');
  await hydrated(page);

  const slug = page.getByLabel('Slug');
  // The browser's own pattern check would stop "Bad Slug!" before it is sent; without it,
  // the server's validation has to answer.
  await slug.evaluate((input) => input.removeAttribute('pattern'));
  await slug.fill('Bad Slug!');
  await page.getByLabel('Name', { exact: true }).fill('Keeps its name');
  await page.getByLabel('Description').fill('Typed before the mistake.');
  // A valid URL to the browser, but not an http(s) upstream.
  await page.getByLabel('Upstream URL').fill('ftp://x');
  await page.getByLabel('Health check path').fill('/health');
  await page.getByRole('button', { name: 'Register service' }).click();

  await expect(page.getByRole('alert')).toContainText('Please correct the highlighted fields.');
  await expect(slug).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#slug-help')).toHaveClass(/field-error/);
  await expect(page.locator('#slug-help')).not.toBeEmpty();
  await expect(page.getByLabel('Upstream URL')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#upstream_url-help')).toHaveClass(/field-error/);
  await expect(page.getByLabel('Name', { exact: true })).toHaveAttribute('aria-invalid', 'false');

  // Nothing typed is lost.
  await expect(page).toHaveURL(/\/services\/new$/);
  await expect(slug).toHaveValue('Bad Slug!');
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('Keeps its name');
  await expect(page.getByLabel('Description')).toHaveValue('Typed before the mistake.');
  await expect(page.getByLabel('Upstream URL')).toHaveValue('ftp://x');
  await expect(page.getByLabel('Health check path')).toHaveValue('/health');
});

test('a service is deleted only once deactivated and confirmed, and then leaves the list', async ({ page }) => {
  await signUp(page);
  await page.goto('/services/new');
  await hydrated(page);
  const slug = `bye-${unique()}`;
  await page.getByLabel('Slug').fill(slug);
  await page.getByLabel('Upstream URL').fill(upstreamUrl);
  await page.getByRole('button', { name: 'Register service' }).click();
  await expect(page).toHaveURL(SERVICE_URL);
  const serviceUrl = page.url();
  await expect(page.getByTestId('service-status')).toHaveText('active');

  const confirm = page.getByLabel(`I understand this deletes ${slug}`);
  const deleteButton = page.getByRole('button', { name: 'Delete service' });
  // The confirmation is required: the browser does not submit without it.
  await expect(confirm).toHaveAttribute('required');

  // An active service cannot be deleted: the server says why.
  await confirm.check();
  await deleteButton.click();
  await expect(page.getByTestId('delete-error')).toContainText(/deactivate/i);
  await expect(page).toHaveURL(serviceUrl);

  await page.getByRole('button', { name: 'Deactivate', exact: true }).click();
  await expect(page.getByTestId('service-status')).toHaveText('inactive');
  await expect(page.getByRole('button', { name: 'Activate', exact: true })).toBeVisible();
  await expect(page.getByTestId('delete-error')).toHaveCount(0);

  await confirm.check();
  await deleteButton.click();
  await expect(page).toHaveURL(/\/services$/);
  await expect(page.getByText('You have no services yet.')).toBeVisible();
  await expect(page.getByText(slug)).toHaveCount(0);

  // Its page is gone for real.
  const response = await page.goto(serviceUrl);
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'No such service' })).toBeVisible();
});

test.describe('before hydration (JavaScript disabled)', () => {
  test.use({ javaScriptEnabled: false });

  test('the registration form posts, reports errors from the server and lands on the service', async ({
    page,
  }) => {
    await page.goto('/signup');
    await page.getByLabel('Email').fill(`svc-nojs-${unique()}@example.com`);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page).toHaveURL(/\/dashboard$/);

    await page.goto('/services/new');
    const slug = `plain-${unique()}`;
    await page.getByLabel('Slug').fill(slug);
    await page.getByLabel('Upstream URL').fill('ftp://x');
    await page.getByRole('button', { name: 'Register service' }).click();
    // The error comes back in the redirect's URL and renders next to its field.
    await expect(page).toHaveURL(/\/services\/new\?/);
    await expect(page.getByRole('alert')).toContainText('Please correct the highlighted fields.');
    await expect(page.getByLabel('Upstream URL')).toHaveAttribute('aria-invalid', 'true');

    await page.getByLabel('Slug').fill(slug);
    await page.getByLabel('Upstream URL').fill(upstreamUrl);
    await page.getByRole('button', { name: 'Register service' }).click();
    await expect(page).toHaveURL(SERVICE_URL);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(slug);
    await expect(page.locator('html[data-hydrated]')).toHaveCount(0);
  });
});
