/** The built app served on localhost and a headless Debian Chromium, for the browser bench entries. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { chromium, type Browser } from '@playwright/test';

/** Where Chromium is (Debian's; Playwright's own download does not work here). */
export const CHROMIUM = process.env.PLUMBLINE_CHROMIUM ?? '/usr/bin/chromium';

/** Serves dist/ on `port` (cross-origin isolated when asked) and launches Chromium; `close` stops both. */
export async function startApp(root: string, port: number, isolated: boolean): Promise<{ browser: Browser; url: string; close: () => Promise<void> }> {
  const server = spawn(process.execPath, [join(root, 'scripts/serve.mjs'), join(root, 'dist'), String(port), ...(isolated ? ['--isolated'] : [])], { stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  return {
    browser,
    url: `http://127.0.0.1:${port}/`,
    close: async () => {
      await browser.close();
      server.kill();
    },
  };
}
