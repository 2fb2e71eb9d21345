import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, projectRoot } from '../fixtures';
import { download, dropFiles } from './app-files';

const PLAIN = 'http://127.0.0.1:4173/?source_date_epoch=1796342400';
const work = mkdtempSync(join(tmpdir(), 'plumbline-data-check-'));

test('a CSV dropped alone gives the data check, with the CLI’s numbers and the data policy’s decision', async ({ page }) => {
  writeFileSync(join(work, 'data-policy.yaml'), 'policy_name: Data policy\ngates:\n  - {name: No duplicates, metric: duplicate_rows, threshold: 0, comparison: less_equal, severity: error}\n  - {name: No personal data, metric: pii_columns, threshold: 0, comparison: less_equal, severity: error}\n');
  const cli = spawnSync(process.execPath, [join(projectRoot, 'bin/plumbline.js'), 'check-data', '--data', fixture('compas/test.csv'), '--target', 'two_year_recid', '--protected', 'race,sex', '--policy-gates', join(work, 'data-policy.yaml'), '--json'], {
    encoding: 'utf8',
    env: { ...process.env, SOURCE_DATE_EPOCH: '1796342400' },
  });
  expect(cli.status, cli.stderr).toBe(1);
  const want = JSON.parse(cli.stdout);

  await page.goto(PLAIN);
  await dropFiles(page, [fixture('compas/test.csv')]);
  await expect(page.getByTestId('data-check')).toBeVisible({ timeout: 60_000 });
  // The set-up's target and protected attributes, as the CLI was given them.
  await expect(page.getByTestId('target-select')).toHaveValue('two_year_recid');
  const attributes = page.getByTestId('protected-attributes');
  for (const name of ['race', 'sex']) await attributes.locator(`[data-column="${name}"]`).check();
  await dropFiles(page, [join(work, 'data-policy.yaml')]);
  await expect(page.getByTestId('data-decision')).toHaveAttribute('data-value', 'FAIL');
  for (const [id, value] of Object.entries(want.metrics as Record<string, number | null>)) {
    if (id === 'data_age_days') continue;
    await expect(page.locator(`[data-testid="data-check-metrics"] [data-metric="${id}"]`), id).toHaveAttribute('data-value', value === null ? 'null' : String(value));
  }
  await expect(page.getByTestId('data-check')).toContainText('129 rows repeat an earlier row exactly.');
  const saved = JSON.parse((await download(page, 'data-check-json')).toString('utf8'));
  expect(saved.metrics).toEqual(want.metrics);
  expect(saved.policy_decision.gates.map((g: { outcome: string }) => g.outcome)).toEqual(want.policy_decision.gates.map((g: { outcome: string }) => g.outcome));
  await page.screenshot({ path: 'test-results/data-check.png', fullPage: true });
});
