// Playwright drives Debian's Chromium (Playwright cannot download its own browser here)
// against the real server (the release build scripts/run.sh runs), started by `webServer`
// below on a fresh data directory.
import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const port = Number(process.env.E2E_PORT ?? 3137);
// Created once in the main process; workers inherit it through the environment.
process.env.WEB4_E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), 'web4-e2e-'));
const dataDir = process.env.WEB4_E2E_DATA_DIR;

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    { name: 'setup', testMatch: /setup\.ts/ },
    {
      name: 'chromium',
      dependencies: ['setup'],
      use: {
        browserName: 'chromium',
        launchOptions: {
          executablePath: '/usr/bin/chromium',
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        },
      },
    },
  ],
  webServer: {
    command: `../target/release/server serve --bind 127.0.0.1:${port} --egress-allow 127.0.0.0/8 --sign-ups-per-hour 1000 --data-dir ${dataDir} --site-root ../target/site`,
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    // Warnings and errors only: a failing run shows them, a passing one stays readable.
    env: { RUST_LOG: 'warn' },
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
