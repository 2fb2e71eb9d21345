/// <reference lib="dom" />
// page.evaluate callbacks run in the page, with the DOM.
/**
 * The browser keeps its promises on resources (issue 28): Cancel stops a large load within
 * one chunk, and an audit whose memory estimate is over the stage budget is refused, naming
 * the stage, before any work starts.
 */
import { expect, test } from '@playwright/test';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from '../fixtures';

const PLAIN = 'http://127.0.0.1:4173/';
const work = mkdtempSync(join(tmpdir(), 'plumbline-limits-'));
test.afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A CSV of about `megabytes` MB: the COMPAS test rows repeated, written 4 MB at a time. */
function largeCsv(name: string, megabytes: number): string {
  const [header, ...rows] = readFileSync(fixture('compas/test.csv'), 'utf8').trim().split('\n');
  const lines: string[] = [];
  for (let size = 0, i = 0; size < 4 * 2 ** 20; i++) {
    const line = rows[i % rows.length];
    lines.push(line);
    size += line.length + 1;
  }
  const block = Buffer.from(`${lines.join('\n')}\n`);
  const path = join(work, name);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, `${header}\n`);
    for (let written = 0; written < megabytes * 2 ** 20; written += block.length) writeSync(fd, block);
  } finally {
    closeSync(fd);
  }
  return path;
}

test('Cancel during the load of a large CSV stops the worker within one chunk (2 s), and the app is ready again', async ({ page }) => {
  const path = largeCsv('large.csv', 400);
  await page.goto(PLAIN);
  await page.getByTestId('file-input').setInputFiles(path);
  // Mid-load: some rows read, far from the end.
  await expect(page.getByTestId('load-progress')).toContainText(/Reading large\.csv: [\d.]+ MB of 4\d\d\.\d MB · [1-9][\d,]* rows/, { timeout: 30_000 });
  const before = await page.getByTestId('load-progress').textContent();
  const started = Date.now();
  await page.getByTestId('load-cancel').click();
  // The page says so only once the worker's load has ended: this is the worker stopping.
  await expect(page.getByTestId('error')).toContainText('Cancelled: Reading large.csv was cancelled.', { timeout: 10_000 });
  const stoppedMs = Date.now() - started;
  test.info().annotations.push({ type: 'cancel', description: `stopped ${stoppedMs} ms after Cancel (${before?.replace(/\s*Cancel$/, '')})` });
  expect(stoppedMs, `cancelled after ${stoppedMs} ms (${before})`).toBeLessThan(2000);
  await expect(page.getByTestId('load-progress')).toHaveCount(0);
  await expect(page.getByTestId('data-card')).toHaveCount(0);
  await expect(page.getByTestId('run-demo')).toBeEnabled();
  // Ready again: the worker is free for the next file at once.
  await page.getByTestId('file-input').setInputFiles(fixture('compas/test.csv'));
  await expect(page.getByTestId('data-card')).toContainText('test.csv', { timeout: 5_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
});
