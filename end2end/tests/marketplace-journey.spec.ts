// The marketplace as two people use it, end to end: A publishes an API with a free and a paid
// plan; B finds it by a word of its description, subscribes to the paid plan, calls it with
// an API key and sees the usage and the bill at the plan's price; A sees B as a subscriber and
// the earnings; B changes plan and keeps calling with the same key; B reviews, A replies, and
// B sees the reply. A screenshot of each main page is attached to the test's results.
import { expect, type Page, type TestInfo } from '@playwright/test';
import type { Server } from 'node:http';
import { hydrated, newPerson, registerService, signUp, startUpstream, stopUpstream, unique, test } from './helpers';

let upstream: Server;
let upstreamUrl: string;

test.beforeAll(async () => {
  ({ server: upstream, url: upstreamUrl } = await startUpstream());
});

test.afterAll(async () => stopUpstream(upstream));

/** Saves a full-page screenshot of `page` as a test artifact called `name`. */
async function shot(page: Page, testInfo: TestInfo, name: string) {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

/** Adds a plan to `listing` on /listings. */
async function addPlan(page: Page, title: string, fields: { name: string; price?: string; quota?: string }) {
  const listing = page.getByTestId('my-listing').filter({ hasText: title });
  const details = listing.locator('details').filter({ hasText: 'Add plan' }).first();
  if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open))) {
    await details.locator('summary').click();
  }
  await listing.getByLabel('Name', { exact: true }).fill(fields.name);
  await listing.getByLabel('Price per call (USD)').fill(fields.price ?? '');
  await listing.getByLabel('Quota per month').fill(fields.quota ?? '');
  await listing.getByTestId('add-plan').click();
  await expect(listing.getByTestId('plans-table')).toContainText(fields.name);
}

/** Creates an API key with the invoke scope; answers its secret. */
async function createInvokeKey(page: Page): Promise<string> {
  await page.goto('/keys');
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill(`journey-${unique()}`);
  await page.getByRole('checkbox', { name: /^invoke\b/ }).check();
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = page.getByTestId('api-key-secret');
  await expect(secret).toHaveValue(/^w4k_/);
  return secret.inputValue();
}

test('two people: publish, find, subscribe, call, bill, earn, change plan, review and reply', async ({
  browser,
  request,
}, testInfo) => {
  // Placement and the first passing health checks take a few seconds.
  test.setTimeout(180_000);
  const word = `quasar${unique().replace(/[^a-z]/g, '')}`;
  const title = `Star catalogue ${unique()}`;

  // A: an http service, listed with a free and a paid plan, published once healthy.
  const a = await newPerson(browser);
  await signUp(a.page, 'journey-provider');
  const slug = `stars-${unique()}`;
  await registerService(a.page, slug, upstreamUrl);
  await a.page.goto('/listings');
  await hydrated(a.page);
  const form = a.page.getByTestId('new-listing-form');
  await form.getByLabel('Service').selectOption({ label: `Service ${slug} (${slug})` });
  await form.getByLabel('Category').selectOption('data');
  await form.getByLabel('Title').fill(title);
  await form.getByLabel('Summary').fill('Every star, by position and brightness.');
  await form.getByLabel('Tags').fill('astronomy, stars');
  await form.getByLabel('Description (Markdown)').fill(`Positions from the **${word}** survey.`);
  await form.getByRole('button', { name: 'Create listing' }).click();
  const mine = a.page.getByTestId('my-listing').filter({ hasText: title });
  await expect(mine.getByTestId('my-listing-status')).toHaveText('Draft');
  await addPlan(a.page, title, { name: 'Hobby', quota: '1000' });
  await addPlan(a.page, title, { name: 'Pro', price: '0.01', quota: '100' });
  await expect(mine.getByTestId('plans-table')).toContainText('$0.01');
  const publish = mine.getByTestId('publish');
  await expect(async () => {
    if (await publish.isVisible()) await publish.click();
    await expect(mine.getByTestId('my-listing-status')).toHaveText('Published', { timeout: 2_000 });
  }).toPass({ timeout: 60_000, intervals: [1_000, 2_000] });

  // B: finds it by a word of its description, subscribes to the paid plan.
  const b = await newPerson(browser);
  await signUp(b.page, 'journey-consumer');
  await b.page.goto('/marketplace');
  await b.page.getByLabel('Search').fill(word);
  await b.page.getByRole('button', { name: 'Search' }).click();
  const card = b.page.getByTestId('listing-card');
  await expect(card).toHaveCount(1);
  await expect(card).toContainText(title);
  await shot(b.page, testInfo, 'browse');
  await card.getByRole('link', { name: title }).click();
  await expect(b.page.getByRole('heading', { level: 1 })).toHaveText(title);
  await hydrated(b.page);
  const curl = (await b.page.getByTestId('curl').textContent()) ?? '';
  const invokePath = /\/api\/v1\/invoke\/(.+)\/…/.exec(curl)?.[1];
  expect(invokePath).toBeTruthy();
  await shot(b.page, testInfo, 'listing');
  await b.page.getByTestId('plan').filter({ hasText: 'Pro' }).getByRole('button', { name: 'Subscribe' }).click();
  await expect(b.page).toHaveURL(/\/subscriptions$/);
  const row = b.page.getByTestId('subscription-row').filter({ hasText: title });
  await expect(row.getByTestId('subscription-status')).toHaveText('Active');
  await expect(row.getByTestId('subscription-plan')).toContainText('Pro');

  // B calls it twice with an API key, as a script would.
  const secret = await createInvokeKey(b.page);
  const call = () =>
    request.get(`/api/v1/invoke/${invokePath}/hello`, { headers: { Authorization: `Bearer ${secret}` } });
  for (let n = 0; n < 2; n++) {
    const response = await call();
    expect(response.status()).toBe(200);
    expect(await response.json()).toEqual({ hello: 'mesh' });
  }

  // B sees the usage against the quota and what it cost, and the bill at the plan's price.
  await b.page.goto('/subscriptions');
  await hydrated(b.page);
  await expect(row.getByTestId('usage-calls')).toContainText('2 of 100 calls');
  await expect(row.getByTestId('usage-spent')).toContainText('$0.02');
  await shot(b.page, testInfo, 'subscriptions');
  await b.page.goto('/billing');
  await expect(b.page.getByTestId('draft-invoice')).toContainText('$0.02');
  await shot(b.page, testInfo, 'billing');

  // A sees B by email, on the paid plan, and the earnings.
  await a.page.goto('/listings');
  const subscriber = mine.getByTestId('subscriber-row');
  await expect(subscriber).toHaveCount(1);
  await expect(subscriber.getByTestId('subscriber-email')).toContainText('journey-consumer-');
  await expect(subscriber).toContainText('Pro');
  await expect(subscriber.getByTestId('subscriber-status')).toHaveText('Active');
  await shot(a.page, testInfo, 'my-listings');
  await a.page.goto('/earnings');
  await expect(a.page.getByTestId('earnings-billed')).toHaveText('$0.02');
  await shot(a.page, testInfo, 'earnings');

  // B changes to the free plan: at once, and the same key keeps working.
  await b.page.goto('/subscriptions');
  await hydrated(b.page);
  await row.getByLabel('Change plan').selectOption({ label: 'Hobby — Free' });
  await row.getByTestId('change-plan').click();
  await expect(row.getByTestId('subscription-plan')).toContainText('Hobby');
  const again = await call();
  expect(again.status()).toBe(200);

  // B sets a cap and removes it again.
  await row.getByLabel('Monthly spending cap (USD)').fill('5');
  await row.getByTestId('set-cap').click();
  await expect(row.getByTestId('usage-spent')).toContainText('of $5.00');
  await row.getByTestId('remove-cap').click();
  await expect(row.getByTestId('usage-spent')).toContainText('(no cap)');

  // B reviews it.
  await row.getByRole('link', { name: title }).click();
  await expect(b.page.getByRole('heading', { level: 1 })).toHaveText(title);
  await hydrated(b.page);
  const reviewForm = b.page.getByTestId('review-form');
  await reviewForm.getByLabel('Rating').selectOption('4');
  await reviewForm.getByLabel('Your review').fill('Precise positions, fast answers.');
  await reviewForm.getByTestId('post-review').click();
  await expect(b.page.getByTestId('review')).toContainText('Precise positions, fast answers.');
  await expect(b.page.getByTestId('rating-summary')).toContainText('4.0 out of 5 · 1 review');

  // A replies, once.
  await a.page.goto(b.page.url());
  await hydrated(a.page);
  const review = a.page.getByTestId('review').filter({ hasText: 'Precise positions' });
  await review.getByLabel(/^Reply/).fill('Thank you — more surveys soon.');
  await review.getByTestId('post-reply').click();
  await expect(review.getByTestId('review-reply')).toContainText('Thank you — more surveys soon.');
  await expect(review.getByTestId('post-reply')).toHaveCount(0);

  // B sees the reply.
  await b.page.reload();
  await expect(b.page.getByTestId('review-reply')).toContainText('Thank you — more surveys soon.');

  await a.context.close();
  await b.context.close();
});
