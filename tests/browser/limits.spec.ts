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
import { fixture } from '../support/fixtures';
import { download } from './app-files';

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

/** Records whether the audit ever started (its Cancel button or its stages appeared) from now on. */
async function watchForRun(page: import('@playwright/test').Page): Promise<() => Promise<boolean>> {
  await page.evaluate(() => {
    const seen = () => document.querySelector('[data-testid="cancel-audit"], [data-testid="stages"]') !== null;
    const w = window as unknown as { auditStarted: boolean };
    w.auditStarted = seen();
    new MutationObserver(() => (w.auditStarted ||= seen())).observe(document.body, { childList: true, subtree: true });
  });
  return () => page.evaluate(() => (window as unknown as { auditStarted: boolean }).auditStarted);
}

test('an audit whose scoring is over ?memory_budget_mb= is refused before it starts, naming the stage, its estimate, the budget and the fix', async ({ page }) => {
  const rf = JSON.parse(readFileSync(fixture('compas/rf.expected.json'), 'utf8')) as { features: string[] };
  await page.goto(`${PLAIN}?memory_budget_mb=1`);
  await page.getByTestId('file-input').setInputFiles([fixture('compas/rf.onnx'), fixture('compas/compas.csv')]);
  await expect(page.getByTestId('data-card')).toContainText('6,172 rows');
  await page.getByTestId('target-select').selectOption('two_year_recid');
  for (const feature of rf.features) await page.getByTestId('feature-columns').locator(`[data-column="${feature}"]`).check();
  const started = await watchForRun(page);
  await page.getByTestId('run-audit').click();
  // The core's estimate (tests/core/limits.test.ts pins its formula): 6,172 scores and margins (16 bytes each), the 6,172 rows × 5 inputs as a block and its copy (16 bytes a cell), the model 4× its 177,577 bytes: 1,302,820 bytes.
  await expect(page.getByTestId('error')).toHaveText(
    'Cannot audit: Scoring would need about 1.2 MiB of memory (6,172 rows × 5 model inputs, and a 173 KB model), more than the 1.0 MiB a stage may use: audit a sample of the rows (data.test_sample_size), or raise limits.stage_memory_mb (or ?memory_budget_mb= in the page address).',
  );
  expect(await started()).toBe(false);
  await expect(page.getByTestId('result-summary')).toHaveCount(0);
  await expect(page.getByTestId('run-audit')).toBeEnabled();
});

test('the metrics stage is budgeted too: a score-column audit over the budget is refused, and runs within a larger one', async ({ page }) => {
  await page.goto(`${PLAIN}?memory_budget_mb=1`);
  await page.getByTestId('file-input').setInputFiles(fixture('compas/compas.csv'));
  await expect(page.getByTestId('data-card')).toContainText('6,172 rows');
  await page.getByTestId('target-select').selectOption('two_year_recid');
  await page.getByTestId('score-column').selectOption('decile_score');
  await page.getByTestId('threshold').fill('5');
  const started = await watchForRun(page);
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('error')).toContainText('Cannot audit: The metrics would need about 2.0 MiB of memory (6,172 rows × 5 groupings');
  await expect(page.getByTestId('error')).toContainText('more than the 1.0 MiB a stage may use');
  expect(await started()).toBe(false);
  await expect(page.getByTestId('result-summary')).toHaveCount(0);

  // Within a budget that holds it, the same audit runs, under that budget.
  await page.goto(`${PLAIN}?memory_budget_mb=64`);
  await page.getByTestId('file-input').setInputFiles(fixture('compas/compas.csv'));
  await expect(page.getByTestId('data-card')).toContainText('6,172 rows');
  await page.getByTestId('target-select').selectOption('two_year_recid');
  await page.getByTestId('score-column').selectOption('decile_score');
  await page.getByTestId('threshold').fill('5');
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('result-summary')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
});

test('the pack of an audit run under ?memory_budget_mb= records the budget in the config it ran, so the CLI reruns the same audit', async ({ page }) => {
  const { strFromU8, unzipSync } = await import('fflate');
  await page.goto(`${PLAIN}?memory_budget_mb=64`);
  const config = 'data:\n  test: compas.csv\n  target: two_year_recid\n  score_column: decile_score\n  protected_attributes: [race]\nthreshold: 5\nbootstrap:\n  resamples: 0\n';
  await page.getByTestId('file-input').setInputFiles([{ name: 'audit.yaml', mimeType: 'text/yaml', buffer: Buffer.from(config) }, { name: 'compas.csv', mimeType: 'text/csv', buffer: readFileSync(fixture('compas/compas.csv')) }]);
  await expect(page.getByTestId('data-card')).toContainText('6,172 rows');
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('result-summary')).toBeVisible({ timeout: 60_000 });
  const pack = unzipSync(new Uint8Array(await download(page, 'export-pack')));
  // The dropped config did not say it: the pack holds the set-up's config, with the budget (it had none, and the CLI ran sections the app left out).
  expect(Object.keys(pack)).toContain('config-audit.setup.yaml');
  expect(strFromU8(pack['config-audit.setup.yaml'])).toContain('limits:\n  stage_memory_mb: 64\n');
});

test('a ?memory_budget_mb= that is not a whole number of MiB is refused with the fix', async ({ page }) => {
  await page.goto(`${PLAIN}?memory_budget_mb=lots`);
  await page.getByTestId('file-input').setInputFiles(fixture('compas/compas.csv'));
  await page.getByTestId('target-select').selectOption('two_year_recid');
  await page.getByTestId('score-column').selectOption('decile_score');
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('error')).toHaveText('Cannot audit: ?memory_budget_mb= in the page address must be a whole number of MiB from 1 to 1048576, got "lots": fix the address and run again.');
});
