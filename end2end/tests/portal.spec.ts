// The portal as a person uses it: sign up, dashboard, log out, log in, mistakes, and the
// difference hydration makes.
import { expect } from '@playwright/test';
import { PASSWORD, hydrated, test, unique } from './helpers';

const freshEmail = () => `dev${unique()}@example.com`;

test('the landing page says what the platform is and leads to sign-up', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1 })).toContainText('developer platform');
  await page.getByRole('link', { name: 'Create an account' }).click();
  await expect(page).toHaveURL(/\/signup$/);
  await expect(page.getByRole('heading', { name: 'Create your account' })).toBeVisible();
});

test('a first visit loads only the main bundle; a section\'s code comes with its first page', async ({ page }) => {
  // `cargo leptos build --split`: the pages past the landing, log-in and sign-up ones are in
  // one chunk per section of the navigation, fetched when one of their pages is first shown.
  const wasm: string[] = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.endsWith('.wasm')) wasm.push(path);
  });
  await page.goto('/');
  await hydrated(page);
  expect(wasm.filter((path) => path.includes('/split_')), 'no section chunk on the landing page').toEqual([]);
  expect(wasm.length, 'the main bundle').toBe(1);

  await page.getByRole('navigation').getByRole('link', { name: 'Marketplace' }).click();
  await expect(page).toHaveURL(/\/marketplace$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Marketplace');
  expect(wasm.filter((path) => path.includes('/split_'))).toEqual([
    expect.stringMatching(/\/split_portal_marketplace\.[^/]+\.wasm$/),
  ]);
  // The page works once its code has come: a search answers.
  await page.getByRole('searchbox').fill('nothingmatchesthis');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByText('No listings match your search for “nothingmatchesthis”.')).toBeVisible();
});

test('sign up, see the dashboard, log out, log in again', async ({ page }) => {
  const email = freshEmail();
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();

  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('account-email')).toHaveText(email);
  await expect(page.getByTestId('account-role')).toHaveText('Developer');
  await expect(page.getByRole('navigation')).toContainText(email);

  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('navigation').getByRole('link', { name: 'Log in' })).toBeVisible();
  await expect(page.getByRole('navigation')).not.toContainText(email);

  await page.goto('/dashboard');
  await expect(page).toHaveURL(/\/login$/);
  await hydrated(page);
  await page.getByLabel('Email').fill(email.toUpperCase());
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('account-email')).toHaveText(email);
});

test('a wrong password shows an error and does not log in', async ({ page, request }) => {
  const email = freshEmail();
  const created = await request.post('/api/v1/auth/signup', { data: { email, password: PASSWORD } });
  expect(created.status()).toBe(201);

  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();

  await expect(page.getByRole('alert')).toHaveText('Incorrect email or password.');
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/dashboard');
  await expect(page).toHaveURL(/\/login$/);
});

test('sign-up validation errors appear next to the fields', async ({ page }) => {
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Email').fill('not-an-email');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();

  await expect(page.locator('#email-help')).toHaveText(/valid email address/);
  await expect(page.locator('#password-help')).toHaveText('Use at least 10 characters.');
  await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
  await expect(page).toHaveURL(/\/signup$/);
});

test('the show-password toggle works once the page is hydrated', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  const password = page.getByLabel('Password');
  await password.fill('visible now?');
  await expect(password).toHaveAttribute('type', 'password');

  await page.getByTestId('toggle-password').click();

  await expect(password).toHaveAttribute('type', 'text');
  await expect(page.getByTestId('toggle-password')).toHaveText('Hide');
  await expect(password).toHaveValue('visible now?');
});

test('an unknown page answers 404 with a way back', async ({ page }) => {
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await page.getByRole('link', { name: 'Back to the start' }).click();
  await expect(page).toHaveURL(/\/$/);
});

test.describe('before hydration (JavaScript disabled)', () => {
  test.use({ javaScriptEnabled: false });

  test('forms still sign up, log out and report a wrong password', async ({ page }) => {
    const email = freshEmail();
    await page.goto('/signup');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page).toHaveURL(/\/dashboard$/);
    await expect(page.getByTestId('account-email')).toHaveText(email);

    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto('/dashboard');
    await expect(page).toHaveURL(/\/login$/);

    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('alert')).toHaveText('Incorrect email or password.');
    await expect(page.locator('html[data-hydrated]')).toHaveCount(0);
  });
});
