/// <reference lib="dom" />
// page.evaluate callbacks run in the page, with the DOM.
import { expect, test } from '@playwright/test';
import { expected } from '../support/fixtures';

const PLAIN = 'http://127.0.0.1:4173/';
const rf = expected('compas/rf.expected.json');

test('once loaded, the built app works with the network cut: the service worker serves every asset and the demo audit runs', async ({ page, context }) => {
  await page.goto(PLAIN);
  // The service worker installs (precaching every asset, both .wasm binaries included) and takes control.
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  await expect.poll(() => page.evaluate(() => Boolean(navigator.serviceWorker.controller)), { timeout: 30_000 }).toBe(true);
  const cached = await page.evaluate(async () => {
    const names = await caches.keys();
    const cache = await caches.open(names.find((n) => n.startsWith('plumbline-'))!);
    return (await cache.keys()).map((r) => new URL(r.url).pathname);
  });
  expect(cached.some((path) => /ort-wasm.*\.wasm$/.test(path))).toBe(true);
  expect(cached.some((path) => /sql-wasm.*\.wasm$/.test(path))).toBe(true);
  expect(cached).toContain('/demo/compas-rf.onnx');

  await context.setOffline(true);
  try {
    await page.reload();
    // The network really is cut: a file the service worker did not precache cannot be fetched.
    expect(await page.evaluate(() => fetch('/not-precached.txt').then(() => 'fetched', () => 'failed'))).toBe('failed');
    await page.getByTestId('run-demo').click();
    await expect(page.getByTestId('result-summary')).toBeVisible({ timeout: 60_000 });
    const auc = Number(await page.locator('[data-metric="roc_auc"]:not([data-attribute])').first().getAttribute('data-value'));
    expect(Math.abs(auc - rf.performance.roc_auc)).toBeLessThan(1e-6);
    await page.screenshot({ path: 'test-results/offline-demo.png' });
  } finally {
    await context.setOffline(false);
  }
});
