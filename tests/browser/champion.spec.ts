import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resultDigest } from '../../src/core/outputs/manifest';
import { fixture, projectRoot } from '../support/fixtures';
import { download, dropFiles } from './app-files';

/** The app dated as the CLI below (SOURCE_DATE_EPOCH 2026-12-04): waivers and dates are judged on it. */
const PLAIN = 'http://127.0.0.1:4173/?source_date_epoch=1796342400';
const work = mkdtempSync(join(tmpdir(), 'plumbline-champion-'));

function plumbline(args: string[]) {
  const run = spawnSync(process.execPath, [join(projectRoot, 'bin', 'plumbline.js'), ...args], { encoding: 'utf8', cwd: work, env: { ...process.env, SOURCE_DATE_EPOCH: '1796342400' } });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

test('a challenger audited against the champion’s dropped result: the CLI’s paired comparison and relative-gate decision', async ({ page }) => {
  writeFileSync(
    join(work, 'challenger.yaml'),
    'model:\n  path: xgb.onnx\ndata:\n  test: test.csv\n  target: good_credit\n  positive_label: 1\n  protected_attributes: [gender]\nrandom_seed: 3\naudit_profile: quickstart\nmetadata:\n  model_id: credit_xgb\n',
  );
  writeFileSync(
    join(work, 'promotion.yaml'),
    'policy_name: Promotion\ngates:\n  - {name: AUC must not drop, metric: roc_auc, threshold: 0.01, comparison: max_drop, severity: error}\n  - {name: Parity must not rise, metric: demographic_parity_difference, threshold: 0.05, comparison: max_increase, severity: warning}\nwaivers:\n  - {gate: AUC must not drop, model: "credit_*", reason: recalibration planned, approved_by: CRO, expires: 2027-06-30}\n',
  );
  const champion = plumbline(['audit', '--model', fixture('german_credit/logreg_zipmap.onnx'), '--data', fixture('german_credit/test.csv'), '--target', 'good_credit', '--protected', 'gender', '--seed', '3', '--predictions', '--output', join(work, 'champion', 'result.json')]);
  expect(champion.code, champion.stderr).toBe(0);
  const cli = plumbline(['audit', '--config', 'challenger.yaml', '--model', fixture('german_credit/xgb.onnx'), '--data', fixture('german_credit/test.csv'), '--baseline', join(work, 'champion', 'result.json'), '--policy-gates', 'promotion.yaml', '--output', join(work, 'cli', 'result.json')]);
  expect(cli.code, cli.stderr).toBe(0);
  const cliResult = JSON.parse(readFileSync(join(work, 'cli', 'result.json'), 'utf8'));
  expect(cliResult.policy_decision.decision).toBe('REVIEW');

  await page.goto(PLAIN);
  await dropFiles(page, [fixture('german_credit/xgb.onnx'), fixture('german_credit/test.csv'), join(work, 'challenger.yaml'), join(work, 'promotion.yaml')]);
  await expect(page.getByTestId('target-select')).toHaveValue('good_credit');
  // A result dropped while setting up an audit is its baseline.
  await dropFiles(page, [join(work, 'champion', 'result.json')]);
  await expect(page.getByTestId('baseline')).toContainText('Baseline: result.json (logreg_zipmap.onnx, test.csv)');
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('result-summary')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('decision')).toHaveAttribute('data-value', 'REVIEW');
  await expect(page.locator('[data-gate="AUC must not drop"]')).toHaveAttribute('data-outcome', 'WAIVED');
  await expect(page.getByTestId('waiver-AUC must not drop')).toHaveText(' by CRO until 2027-06-30: recalibration planned');
  await expect(page.getByTestId('policy-notice')).toHaveText('Gate "AUC must not drop" failed and is waived: recalibration planned (approved by CRO, expires 2027-06-30).');
  await expect(page.getByTestId('baseline-comparison')).toContainText('Both models scored the same test.csv rows: paired tests');
  await expect(page.locator('[data-change="roc_auc"]')).toContainText('paired: DeLong’s test of two correlated AUCs');
  await page.screenshot({ path: 'test-results/champion-summary.png', fullPage: true });
  const appResult = JSON.parse((await download(page, 'export-json')).toString('utf8'));
  expect(appResult.comparison).toEqual(cliResult.comparison);
  expect(appResult.policy_decision).toEqual(cliResult.policy_decision);
  await expect(page.getByTestId('result-digest')).toHaveText(resultDigest(cliResult));
});
