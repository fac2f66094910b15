// Helpers the end-to-end specs share (a plain module: not a test file).
import { expect, test as base, type Browser, type Page } from '@playwright/test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const PASSWORD = 'correct horse battery staple';

// Uncaught errors in the pages of the running test. A panic in the wasm (a hydration mismatch,
// say) kills the app while the server's HTML still looks right, and a later step may even pass.
const pageErrors: string[] = [];

/** Records `page`'s uncaught errors for the running test (the `page` fixture and
 * `newPerson`'s pages are watched already). */
export function watchErrors(page: Page) {
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
}

/** Playwright's `test`, failing any test during which a page had an uncaught error. */
export const test = base.extend<{ noPageErrors: void }>({
  page: async ({ page }, use) => {
    watchErrors(page);
    await use(page);
  },
  noPageErrors: [
    async ({}, use) => {
      pageErrors.length = 0;
      await use();
      expect(pageErrors, 'uncaught errors in the page').toEqual([]);
    },
    { auto: true },
  ],
});

let counter = 0;
/** A string no other test of this run uses. */
export const unique = () => `${Date.now().toString(36)}-${counter++}`;

/** Waits until the wasm bundle has hydrated the page (the app marks <html>). */
export async function hydrated(page: Page) {
  await expect(page.locator('html[data-hydrated="true"]')).toHaveCount(1);
}

/** Signs a fresh developer up through the portal (with or without JavaScript); ends on the
 * dashboard. */
export async function signUp(page: Page, prefix: string, javaScript = true) {
  await page.goto('/signup');
  if (javaScript) await hydrated(page);
  await page.getByLabel('Email').fill(`${prefix}-${unique()}@example.com`);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
}

/** A small upstream API the platform's nodes call: `/health`; `GET /hello`, a JSON answer
 * marked `x-upstream: yes`; and `/anything`, which answers any method with what it received. */
export async function startUpstream(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    // Tolerates a doubled slash from joining the upstream URL and the invoke's path.
    const path = new URL(req.url ?? '/', 'http://upstream').pathname.replace(/\/{2,}/g, '/');
    if (path === '/health') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    } else if (req.method === 'GET' && path === '/hello') {
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
      res.end(JSON.stringify({ hello: 'mesh' }));
    } else if (path === '/anything') {
      let received = 0;
      req.on('data', (chunk: Buffer) => (received += chunk.length));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, received }));
      });
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not here');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Stops an upstream from [`startUpstream`]. */
export async function stopUpstream(server: Server) {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A fresh browser context (its own session): another person. */
export async function newPerson(browser: Browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  watchErrors(page);
  return { context, page };
}

/** Registers an http service on `upstreamUrl` through the portal, checked every second;
 * ends on its page. */
export async function registerService(page: Page, slug: string, upstreamUrl: string) {
  await page.goto('/services/new');
  await hydrated(page);
  await page.getByLabel('Slug').fill(slug);
  await page.getByLabel('Name', { exact: true }).fill(`Service ${slug}`);
  await page.getByLabel('Kind').selectOption('http');
  await page.getByLabel('Upstream URL').fill(upstreamUrl);
  await page.getByLabel('Health check path').fill('/health');
  await page.getByLabel('Health check interval (ms)').fill('1000');
  await page.getByLabel('Health check timeout (ms)').fill('500');
  await page.getByRole('button', { name: 'Register service' }).click();
  await expect(page).toHaveURL(/\/services\/(?!new$)[^/?#]+$/);
}
