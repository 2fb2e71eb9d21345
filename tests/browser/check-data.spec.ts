import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, projectRoot } from '../support/fixtures';
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

/** `plumbline check-data` with these arguments, dated as the page is. */
function cli(args: string[]) {
  const run = spawnSync(process.execPath, [join(projectRoot, 'bin/plumbline.js'), 'check-data', ...args, '--json'], { encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: '1796342400' } });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as { metrics: Record<string, number | null> };
}

test('a CSV with personal data dropped alone names its columns, never a value', async ({ page }) => {
  const first = ['Maria', 'John', 'Aisha', 'Wei', 'Carlos', 'Anna', 'Omar', 'Lena', 'Pierre', 'Sofia'];
  const last = ['Novak', 'Haddad', 'Berg'];
  const rows = Array.from({ length: 30 }, (_, i) => `${first[i % 10]} ${last[Math.floor(i / 10)]},${first[i % 10].toLowerCase()}${i}@example.org,078-05-${String(1120 + i)},${i % 2}`);
  writeFileSync(join(work, 'customers.csv'), `customer,contact,ssn,approved\n${rows.join('\n')}\n`);
  const want = cli(['--data', join(work, 'customers.csv')]);
  expect(want.metrics.pii_columns).toBe(3);

  await page.goto(PLAIN);
  await dropFiles(page, [join(work, 'customers.csv')]);
  const report = page.getByTestId('data-check');
  await expect(report).toBeVisible({ timeout: 60_000 });
  await expect(report.locator('[data-metric="pii_columns"]')).toHaveAttribute('data-value', '3');
  for (const column of ['customer', 'contact', 'ssn']) await expect(report).toContainText(`${column} likely holds personal data`);
  const text = (await report.textContent()) ?? '';
  expect(text).not.toMatch(/@example|078-05|Novak/);
});

test('the flags and the data’s date are set on the page, as the CLI’s options', async ({ page }) => {
  const older = join(projectRoot, 'tests', 'statistics', 'compas_older.csv');
  const want = cli(['--data', older, '--reference', fixture('compas/train.csv'), '--target', 'two_year_recid', '--protected', 'race,sex', '--alpha', '0.01', '--missing-warn', '0.02', '--skew-warn', '1', '--data-date', '2026-11-20']);

  await page.goto(PLAIN);
  await dropFiles(page, [older, fixture('compas/train.csv')]);
  await expect(page.getByTestId('data-check')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('target-select')).toHaveValue('two_year_recid');
  for (const name of ['race', 'sex']) await page.getByTestId('protected-attributes').locator(`[data-column="${name}"]`).check();
  await page.getByTestId('flag-alpha').fill('2');
  await expect(page.getByTestId('flag-problem')).toHaveText('α must be a number between 0 and 1 (exclusive), got "2".');
  await expect(page.getByTestId('flag-apply')).toBeDisabled();
  await page.getByTestId('flag-alpha').fill('0.01');
  await page.getByTestId('flag-missing-warn').fill('2');
  await page.getByTestId('flag-skew-warn').fill('1');
  await page.getByTestId('flag-data-date').fill('2026-11-20');
  await page.getByTestId('flag-apply').click();
  const metrics = page.getByTestId('data-check-metrics');
  await expect(metrics.locator('[data-metric="data_age_days"]')).toHaveAttribute('data-value', '14');
  for (const [id, value] of Object.entries(want.metrics)) await expect(metrics.locator(`[data-metric="${id}"]`), id).toHaveAttribute('data-value', value === null ? 'null' : String(value));
});
