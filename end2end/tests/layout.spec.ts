// The portal's layout at a phone's width (360×740) and a laptop's (1280×800): the navigation
// fits (one line on the laptop, a menu on the phone that works without JavaScript), no page
// scrolls sideways, and a screenshot of the dashboard at each width is kept with the results.
import { expect, type Page } from '@playwright/test';

import { OPERATOR } from './accounts';
import { PASSWORD, hydrated, unique, test } from './helpers';

const PHONE = { width: 360, height: 740 };
const LAPTOP = { width: 1280, height: 800 };

/** The pages every account has (the operator's come on top). */
const PAGES = [
  '/',
  '/dashboard',
  '/traces',
  '/services',
  '/services/new',
  '/keys',
  '/docs',
  '/kv',
  '/events',
  '/webhooks',
  '/marketplace',
  '/subscriptions',
  '/listings',
  '/usage',
  '/billing',
  '/earnings',
];
const OPERATOR_PAGES = ['/nodes', '/join-tokens', '/observability/drops'];

/** Logs the page's context in as a fresh developer (the API sets the session cookie). */
async function asDeveloper(page: Page) {
  const email = `layout-${unique()}@example.com`;
  const response = await page.request.post('/api/v1/auth/signup', { data: { email, password: PASSWORD } });
  expect(response.status()).toBe(201);
}

/** Logs the page's context in as the operator: the widest navigation. */
async function asOperator(page: Page) {
  const response = await page.request.post('/api/v1/auth/login', { data: OPERATOR });
  expect(response.status()).toBe(200);
}

/** The page does not scroll sideways: nothing is wider than the viewport. */
async function expectNoSidewaysScroll(page: Page, path: string) {
  const { scrollWidth, width } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  expect(scrollWidth, `${path} is ${scrollWidth}px wide in a ${width}px viewport`).toBeLessThanOrEqual(width);
}

/** Every visible link and button of the navigation sits on one line, inside the viewport. */
async function expectNavOnOneLine(page: Page) {
  const nav = page.getByRole('navigation', { name: 'Main' });
  const navBox = await nav.boundingBox();
  expect(navBox).not.toBeNull();
  const items = nav.locator('a:visible, button:visible');
  const boxes = await items.evaluateAll((elements) =>
    elements.map((e) => {
      const r = e.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, right: r.right, height: r.height };
    }),
  );
  expect(boxes.length).toBeGreaterThan(3);
  const tallest = Math.max(...boxes.map((b) => b.height));
  // One line: the navigation is as tall as its tallest item, and every item overlaps it.
  expect(navBox!.height).toBeLessThanOrEqual(tallest + 1);
  const middle = navBox!.y + navBox!.height / 2;
  for (const box of boxes) {
    expect(box.top).toBeLessThanOrEqual(middle);
    expect(box.bottom).toBeGreaterThanOrEqual(middle);
    expect(box.right).toBeLessThanOrEqual(LAPTOP.width);
  }
}

/** Saves a full-page screenshot of the dashboard with the test's results. */
async function screenshotDashboard(page: Page, name: string) {
  await page.goto('/dashboard');
  await expect(page.getByTestId('card-services')).toBeVisible();
  const path = test.info().outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await test.info().attach(name, { path, contentType: 'image/png' });
}

test.describe('at 1280×800', () => {
  test.use({ viewport: LAPTOP });

  test('the navigation is one line and no page scrolls sideways', async ({ page }) => {
    await asDeveloper(page);
    for (const path of PAGES) {
      await page.goto(path);
      await expectNavOnOneLine(page);
      await expectNoSidewaysScroll(page, path);
    }
    await expect(page.getByTestId('menu-toggle')).toBeHidden();
    await screenshotDashboard(page, 'dashboard-1280');
  });

  test("the operator's longer navigation is one line too, the current page marked", async ({ page }) => {
    await asOperator(page);
    for (const path of [...OPERATOR_PAGES, '/dashboard']) {
      await page.goto(path);
      await expectNavOnOneLine(page);
      await expectNoSidewaysScroll(page, path);
    }
    await page.goto('/nodes');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link', { name: 'Nodes' })).toHaveAttribute('aria-current', 'page');
    await expect(nav.locator('[aria-current="page"]')).toHaveCount(1);
  });

  test('a visitor gets the same one line', async ({ page }) => {
    await page.goto('/');
    await expectNavOnOneLine(page);
    await expectNoSidewaysScroll(page, '/');
  });
});

test.describe('at 360×740', () => {
  test.use({ viewport: PHONE });

  test('no page scrolls sideways', async ({ page }) => {
    await asOperator(page);
    for (const path of [...PAGES, ...OPERATOR_PAGES]) {
      await page.goto(path);
      await expectNoSidewaysScroll(page, path);
      // The menu is folded: only its toggle shows.
      await expect(page.getByTestId('menu-toggle')).toBeVisible();
      await expect(page.getByRole('navigation').getByRole('link', { name: 'Billing' })).toBeHidden();
    }
    await screenshotDashboard(page, 'dashboard-360');
  });

  test('a visitor sees no sideways scroll either', async ({ page }) => {
    for (const path of ['/', '/login', '/signup', '/marketplace', '/docs']) {
      await page.goto(path);
      await expectNoSidewaysScroll(page, path);
    }
  });

  test('the menu opens and a link in it navigates, then it is folded again', async ({ page }) => {
    await asDeveloper(page);
    await page.goto('/dashboard');
    await hydrated(page);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await page.getByTestId('menu-toggle').click();
    await expect(nav.getByRole('link', { name: 'Billing' })).toBeVisible();
    await expect(nav.getByText('Money', { exact: true })).toBeVisible();
    await expectNoSidewaysScroll(page, 'the open menu');
    await nav.getByRole('link', { name: 'Billing' }).click();
    await expect(page).toHaveURL(/\/billing$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Billing' })).toBeVisible();
    await expect(nav.getByRole('link', { name: 'Billing' })).toBeHidden();
  });
});

test.describe('at 360×740 without JavaScript', () => {
  test.use({ viewport: PHONE, javaScriptEnabled: false });

  test('the menu still opens and its links still work', async ({ page }) => {
    await asDeveloper(page);
    await page.goto('/dashboard');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await page.getByTestId('menu-toggle').click();
    await expect(nav.getByRole('link', { name: 'API keys' })).toBeVisible();
    await nav.getByRole('link', { name: 'API keys' }).click();
    await expect(page).toHaveURL(/\/keys$/);
    await expect(page.getByRole('heading', { level: 1, name: 'API keys' })).toBeVisible();
    await expect(nav.getByRole('link', { name: 'API keys' })).toBeHidden();
  });
});
