// Takes screenshots of the main portal pages of a running platform, for a person to look at:
//   node screenshot.mjs [base-url] [out-dir]
// It signs up a throwaway account on the way. Not part of the test suite.
import { chromium } from '@playwright/test';

const base = process.argv[2] ?? 'http://127.0.0.1:3000';
const out = process.argv[3] ?? '/tmp';
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const shot = async (name) => page.screenshot({ path: `${out}/web4-${name}.png`, fullPage: true });

await page.goto(base + '/');
await shot('landing');
await page.goto(base + '/signup');
await page.locator('html[data-hydrated="true"]').waitFor();
await page.getByLabel('Email').fill('bad');
await page.getByLabel('Password').fill('short');
await page.getByRole('button', { name: 'Create account' }).click();
await page.locator('#password-help.field-error').waitFor();
await shot('signup-errors');
await page.getByLabel('Email').fill(`look${Date.now()}@example.com`);
await page.getByLabel('Password').fill('correct horse battery staple');
await page.getByRole('button', { name: 'Create account' }).click();
await page.waitForURL(/dashboard/);
await page.getByTestId('account-email').waitFor();
await shot('dashboard');
await page.goto(base + '/nope');
await shot('404');
await page.goto(base + '/login');
await shot('login');
await browser.close();
console.log('screenshots written to', out);
