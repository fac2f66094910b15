// Runs before every other test: the first account on the fresh platform is its operator.
import { test as setup, expect } from '@playwright/test';

import { OPERATOR } from './accounts';

setup('the first account becomes the operator', async ({ request }) => {
  const response = await request.post('/api/v1/auth/signup', { data: OPERATOR });
  expect(response.status()).toBe(201);
  expect((await response.json()).role).toBe('operator');
});
