import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultDigest } from '../../src/core/outputs/manifest';
import { expected, fixture, projectRoot } from '../support/fixtures';
import { dropFiles } from './app-files';

const PLAIN = 'http://127.0.0.1:4173/';
const rf = expected('compas/rf.expected.json');

/** compas/test.csv without its target column: a production batch scored before any outcome. */
function batchFile(): string {
  const lines = readFileSync(fixture('compas/test.csv'), 'utf8').trim().split('\n');
  const at = lines[0].split(',').indexOf('two_year_recid');
  const dir = join(projectRoot, 'test-results', 'unlabelled');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'batch.csv');
  writeFileSync(path, `${lines.map((line) => line.split(',').filter((_, i) => i !== at).join(',')).join('\n')}\n`);
  return path;
}

test('a model and an unlabelled CSV dropped: the NO LABELS notice, and the CLI’s estimates', async ({ page }) => {
  const batch = batchFile();
  await page.goto(PLAIN);
  await dropFiles(page, [fixture('compas/rf.onnx'), batch]);
  await expect(page.getByTestId('data-card')).toContainText('1,852 rows');
  // No column looks like a target: the set-up audits without labels.
  await expect(page.getByTestId('target-select')).toHaveValue('');
  const attributes = page.getByTestId('protected-attributes');
  for (const name of ['sex', 'race']) await attributes.locator(`[data-column="${name}"]`).uncheck();
  for (const name of ['race', 'sex']) await attributes.locator(`[data-column="${name}"]`).check();
  for (const feature of rf.features!) await page.getByTestId('feature-columns').locator(`[data-column="${feature}"]`).check();
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('labels-notice')).toHaveText(
    "NO LABELS: no target column was configured (data.target / --target). This audit measures what needs no outcome (selection rates and demographic parity per group, score distributions, drift, data quality); performance is ESTIMATED from the model's confidence (CBPE), not measured, and every metric that needs the outcome is listed as not computed.",
    { timeout: 60_000 },
  );

  const cli = spawnSync(process.execPath, [join(projectRoot, 'bin/plumbline.js'), 'audit', '--model', fixture('compas/rf.onnx'), '--data', batch, '--protected', 'race,sex', '--features', rf.features!.join(',')], { encoding: 'utf8', maxBuffer: 1 << 26 });
  expect(cli.status, cli.stderr).toBe(0);
  expect(cli.stderr).toContain('plumbline: NO LABELS: no target column was configured');
  const result = JSON.parse(cli.stdout);
  for (const id of ['accuracy', 'precision', 'recall', 'f1', 'roc_auc']) {
    const shown = await page.locator(`[data-metric="estimated_${id}"]:not([data-attribute])`).first().getAttribute('data-value');
    expect(Number(shown), id).toBe(result.estimated_performance[id]);
    const group = await page.locator(`[data-metric="estimated_${id}"][data-attribute="race"][data-group="Caucasian"]`).getAttribute('data-value');
    expect(Number(group), `race/Caucasian ${id}`).toBe(result.estimated_performance.groups.race.Caucasian[id]);
  }
  // The label metrics show no value, never a number.
  await expect(page.locator('[data-metric="roc_auc"]:not([data-attribute])').first()).toHaveAttribute('data-value', 'null');
  await page.getByTestId('tab-performance').click();
  await expect(page.getByTestId('labels-notice-performance')).toBeVisible();
  await page.screenshot({ path: 'test-results/unlabelled-performance.png', fullPage: true });
  await expect(page.getByTestId('result-digest')).toHaveText(resultDigest(result));
});
