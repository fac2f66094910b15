// The marketplace end to end: a provider lists a healthy http service with a free plan and
// publishes it; another developer finds it by a word of its description, subscribes and sees
// the subscription; and a visitor without JavaScript can search the marketplace.
import { expect } from '@playwright/test';
import type { Server } from 'node:http';
import { hydrated, newPerson, registerService, signUp, startUpstream, stopUpstream, unique, test } from './helpers';

let upstream: Server;
let upstreamUrl: string;
/** A word only this run's listing has in its description (letters only: one search token). */
const word = `zephyr${unique().replace(/[^a-z]/g, '')}`;
let title: string;

test.beforeAll(async () => {
  ({ server: upstream, url: upstreamUrl } = await startUpstream());
});

test.afterAll(async () => stopUpstream(upstream));

test('a provider publishes a listing and another developer finds it and subscribes', async ({ browser }) => {
  // Placement and the first passing health checks take a few seconds.
  test.setTimeout(120_000);
  const a = await newPerson(browser);
  await signUp(a.page, 'provider');
  const slug = `radar-${unique()}`;
  await registerService(a.page, slug, upstreamUrl);

  // A: list it, add a free plan, publish (once the service is healthy).
  await a.page.getByRole('navigation').getByRole('link', { name: 'My listings' }).click();
  await expect(a.page).toHaveURL(/\/listings$/);
  await hydrated(a.page);
  await expect(a.page.getByText('You have no listings yet.')).toBeVisible();
  title = `Rain radar ${unique()}`;
  const form = a.page.getByTestId('new-listing-form');
  await form.getByLabel('Service').selectOption({ label: `Service ${slug} (${slug})` });
  await form.getByLabel('Category').selectOption('weather');
  await form.getByLabel('Title').fill(title);
  await form.getByLabel('Summary').fill('Where it rains, right now.');
  await form.getByLabel('Tags').fill('rain, radar');
  await form.getByLabel('Description (Markdown)').fill(`Nowcasts from the **${word}** network.`);
  await form.getByRole('button', { name: 'Create listing' }).click();

  const listing = a.page.getByTestId('my-listing').filter({ hasText: title });
  await expect(listing.getByTestId('my-listing-status')).toHaveText('Draft');
  await listing.getByText('Add plan', { exact: true }).first().click();
  await listing.getByLabel('Name', { exact: true }).fill('Hobby');
  await listing.getByLabel('Quota per month').fill('1000');
  await listing.getByTestId('add-plan').click();
  await expect(listing.getByTestId('plans-table')).toContainText('Hobby');
  await expect(listing.getByTestId('plans-table')).toContainText('Free');

  // Publishing needs a healthy placement: until the checks pass it is refused with a reason.
  const publish = listing.getByTestId('publish');
  await expect(async () => {
    if (await publish.isVisible()) await publish.click();
    await expect(listing.getByTestId('my-listing-status')).toHaveText('Published', { timeout: 2_000 });
  }).toPass({ timeout: 60_000, intervals: [1_000, 2_000] });

  // B: search by a word of the description, open, subscribe.
  const b = await newPerson(browser);
  await signUp(b.page, 'consumer');
  await b.page.getByRole('navigation').getByRole('link', { name: 'Marketplace' }).click();
  await expect(b.page).toHaveURL(/\/marketplace$/);
  await b.page.getByLabel('Search').fill(word);
  await b.page.getByRole('button', { name: 'Search' }).click();
  await expect(b.page).toHaveURL(new RegExp(`q=${word}`));
  await expect(b.page.getByLabel('Search')).toHaveValue(word);
  const card = b.page.getByTestId('listing-card');
  await expect(card).toHaveCount(1);
  await expect(card).toContainText(title);
  await expect(card).toContainText('Free plan');
  await card.getByRole('link', { name: title }).click();

  await expect(b.page.getByRole('heading', { level: 1 })).toHaveText(title);
  await expect(b.page.getByTestId('listing-description')).toContainText(word);
  await expect(b.page.getByTestId('curl')).toContainText('/api/v1/invoke/');
  await hydrated(b.page);
  const plan = b.page.getByTestId('plan').filter({ hasText: 'Hobby' });
  await plan.getByRole('button', { name: 'Subscribe' }).click();

  await expect(b.page).toHaveURL(/\/subscriptions$/);
  const row = b.page.getByTestId('subscription-row').filter({ hasText: title });
  await expect(row).toContainText('Hobby');
  await expect(row.getByTestId('subscription-status')).toHaveText('Active');
  await expect(row).toContainText('0 of 1,000');

  // A sees the subscriber.
  await a.page.reload();
  await expect(listing.getByTestId('subscribers-table')).toContainText('Active');

  await a.context.close();
  await b.context.close();
});

test.describe('before hydration (JavaScript disabled)', () => {
  test.use({ javaScriptEnabled: false });

  test('a visitor searches the marketplace and sees results', async ({ page }) => {
    // Needs the listing the test above published (the suite runs in order, one worker).
    test.skip(!title, 'the publishing test did not run');
    await page.goto('/marketplace');
    await expect(page.getByRole('navigation').getByRole('link', { name: 'Marketplace' })).toBeVisible();
    await page.getByLabel('Search').fill(word);
    await page.getByLabel('Only listings with a free plan').check();
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(page).toHaveURL(new RegExp(`q=${word}.*free=on`));
    await expect(page.getByTestId('listing-card')).toContainText(title);
    await expect(page.getByLabel('Only listings with a free plan')).toBeChecked();

    await page.goto(`/marketplace?q=nothingmatches${unique().replace(/[^a-z]/g, '')}`);
    await expect(page.getByTestId('results-empty')).toContainText('No listings match your search');
    await expect(page.locator('html[data-hydrated]')).toHaveCount(0);
  });
});
