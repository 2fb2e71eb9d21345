import { defineConfig } from '@playwright/test';

/** Debian's Chromium (Playwright's own browser download does not work offline). */
const chromium = process.env.PLUMBLINE_CHROMIUM ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: 'tests/browser',
  timeout: 120_000,
  workers: 1,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: chromium,
      // Without the background-networking flags Chromium tries to reach Google at start.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-default-apps'],
    },
  },
  webServer: [
    { command: 'node scripts/serve.mjs dist 4173', url: 'http://127.0.0.1:4173/', reuseExistingServer: false },
    { command: 'node scripts/serve.mjs dist 4174 --isolated', url: 'http://127.0.0.1:4174/', reuseExistingServer: false },
  ],
});
