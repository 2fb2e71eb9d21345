import { expect, test, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resultDigest } from '../../src/core/outputs/manifest';
import { fixture, projectRoot } from '../support/fixtures';
import { dropFiles } from './app-files';

// Multiclass and regression audits in the app: the same numbers and the same result digest as the CLI's for the same files and choices.
const PLAIN = 'http://127.0.0.1:4173/';
const models = join(projectRoot, 'tests', 'models');
const work = mkdtempSync(join(tmpdir(), 'plumbline-task-'));

/** The CLI's result for the same files and settings (its own defaults: the app sets no other). */
function cliResult(name: string, args: string[]) {
  const output = join(work, name, 'result.json');
  const run = spawnSync(process.execPath, [join(projectRoot, 'bin', 'plumbline.js'), 'audit', ...args, '--output', output], { encoding: 'utf8', cwd: work, maxBuffer: 1 << 26 });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(readFileSync(output, 'utf8'));
}

/** Every key figure the app shows equals the CLI's number (null as null), and the digests are equal. */
async function expectSameResult(page: Page, result: Record<string, any>, ids: string[]) {
  await expect(page.getByTestId('result-digest')).toHaveText(resultDigest(result));
  const figures = page.getByTestId('task-figures');
  for (const id of ids) {
    const expected = id in result.performance ? result.performance[id] : result.calibration[id];
    expect(expected, `${id} is in the CLI's result`).not.toBeUndefined();
    await expect(figures.locator(`[data-metric="${id}"]`), id).toHaveAttribute('data-value', expected === null ? 'null' : String(expected));
  }
}

const MULTICLASS = ['accuracy', 'balanced_accuracy', 'roc_auc_ovr', 'roc_auc_ovr_weighted', 'f1_macro', 'f1_weighted', 'precision_macro', 'recall_macro', 'log_loss', 'brier_score', 'top_label_ece', 'max_classwise_ece'];
const REGRESSION = ['mae', 'rmse', 'r2', 'median_absolute_error', 'mape'];

test('a multiclass ONNX model and its data dropped: the task notice, the CLI’s numbers and digest', async ({ page }) => {
  const features = ['duration_months', 'credit_amount', 'age', 'installment_rate', 'residence_years', 'existing_credits'];
  const result = cliResult('mc5', ['--model', join(models, 'mc5_linear.onnx'), '--data', join(models, 'mc5_linear.csv'), '--target', 'grade', '--protected', 'gender,age_group', '--features', features.join(',')]);
  expect(result.task).toBe('multiclass');

  await page.goto(PLAIN);
  await dropFiles(page, [join(models, 'mc5_linear.onnx'), join(models, 'mc5_linear.csv')]);
  await page.getByTestId('target-select').selectOption('grade');
  await expect(page.getByTestId('task-select')).toHaveValue('');
  const attributes = page.getByTestId('protected-attributes');
  await expect(attributes.locator('[data-column="gender"]')).toBeChecked();
  await expect(attributes.locator('[data-column="age_group"]')).toBeChecked();
  for (const feature of features) await page.getByTestId('feature-columns').locator(`[data-column="${feature}"]`).check();
  // The model names its classes: none are asked for.
  await expect(page.getByTestId('class-labels')).toHaveCount(0);
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('task-notice')).toHaveText(result.task_notice, { timeout: 120_000 });
  await expectSameResult(page, result, MULTICLASS);
  for (const label of result.settings.classes) {
    await expect(page.getByTestId('per-class').locator(`[data-class="${label}"] [data-metric="f1"]`)).toHaveAttribute('data-value', String(result.performance.per_class[label].f1));
  }
  await expect(page.getByTestId('confusion-matrix').locator('[data-class="A"] [data-predicted="A"]')).toHaveAttribute('data-value', String(result.performance.confusion_matrix[0][0]));
  const group = page.locator('[data-metric="accuracy"][data-attribute="gender"][data-group="male"]');
  await expect(group).toHaveAttribute('data-value', String(result.fairness.gender.groups.male.accuracy));
  // Robustness in accuracy lost, and the top-label reliability diagram drawn from the result.
  await expect(page.locator('[data-metric="max_shift_degradation"]')).toHaveAttribute('data-value', String(result.robustness.max_shift_degradation));
  await expect(page.locator('[data-chart="top-label-reliability"] svg')).toBeVisible();
  await page.screenshot({ path: 'test-results/task-multiclass.png', fullPage: true });
});

test('an XGBoost regressor and its data dropped: the CLI’s numbers, group tables and digest', async ({ page }) => {
  const result = cliResult('reg', ['--model', join(models, 'reg_xgb.json'), '--data', join(models, 'reg.csv'), '--target', 'credit_amount', '--protected', 'gender,age_group']);
  expect(result.task).toBe('regression');

  await page.goto(PLAIN);
  await dropFiles(page, [join(models, 'reg_xgb.json'), join(models, 'reg.csv')]);
  await page.getByTestId('target-select').selectOption('credit_amount');
  await expect(page.getByTestId('protected-attributes').locator('[data-column="age_group"]')).toBeChecked();
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('task-notice')).toHaveText(result.task_notice, { timeout: 120_000 });
  await expectSameResult(page, result, REGRESSION);
  for (const [group, g] of Object.entries(result.fairness.age_group.groups) as [string, { mae: number; insufficient_samples: boolean }][]) {
    const row = page.getByTestId('group-table').and(page.locator('[data-attribute="age_group"]')).locator(`tr[data-group="${group}"]`);
    await expect(row.locator('[data-metric="mae"]')).toHaveAttribute('data-value', String(g.mae));
    if (g.insufficient_samples) await expect(row).toContainText('(small)');
  }
  await expect(page.locator('[data-metric="wasserstein_distance"][data-attribute="age_group"]')).toHaveAttribute('data-value', String(result.fairness.age_group.wasserstein_distance));
  // The small-group note names the configured size (fairness.min_group_size), not the smallest group's.
  expect(result.fairness.age_group.small_groups.length, 'reg.csv has a small age group').toBeGreaterThan(0);
  await expect(page.locator('[data-testid="small-groups"][data-attribute="age_group"]')).toHaveText(`Under ${result.settings.min_group_size} rows (fairness.min_group_size; too few to judge): ${result.fairness.age_group.small_groups.join(', ')}.`);
  await page.screenshot({ path: 'test-results/task-regression.png', fullPage: true });
});

test('a regressor whose prediction feeds a decision: charts, robustness, the decision audit and recourse equal the CLI’s', async ({ page }) => {
  const result = cliResult('reg-decision', ['--model', join(models, 'reg_xgb.json'), '--data', join(models, 'reg.csv'), '--target', 'credit_amount', '--protected', 'gender,age_group', '--task', 'regression', '--threshold', '5000', '--positive-when', 'above']);
  expect(result.settings.decision).toEqual({ threshold: 5000, positive_when: 'above' });
  expect(result.robustness, 'the CLI ran the robustness tests').toBeDefined();
  expect(result.recourse, 'the CLI ran the recourse search').toBeDefined();

  await page.goto(PLAIN);
  await dropFiles(page, [join(models, 'reg_xgb.json'), join(models, 'reg.csv')]);
  await page.getByTestId('target-select').selectOption('credit_amount');
  await page.getByTestId('task-select').selectOption('regression');
  const attributes = page.getByTestId('protected-attributes');
  await expect(attributes.locator('[data-column="gender"]')).toBeChecked();
  await expect(attributes.locator('[data-column="age_group"]')).toBeChecked();
  await page.getByTestId('positive-when').selectOption('above');
  await page.getByTestId('decision-threshold').fill('5000');
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('task-notice')).toHaveText(result.task_notice, { timeout: 120_000 });
  await expectSameResult(page, result, REGRESSION);

  await expect(page.locator('[data-metric="max_shift_degradation"]')).toHaveAttribute('data-value', String(result.robustness.max_shift_degradation));
  await expect(page.getByTestId('recourse-summary').locator('[data-metric="recourse_feasible_share"]')).toHaveAttribute('data-value', String(result.recourse.recourse_feasible_share));
  await expect(page.getByTestId('decision-audit').locator('[data-metric="decision_accuracy"]')).toHaveAttribute('data-value', String(result.decision_audit.performance.accuracy));
  // Each noise level's decision-change rate, and the recourse of each age group, as the CLI has them.
  for (const r of result.robustness.perturbation as { epsilon: number; change_rate: number | null }[]) {
    await expect(page.getByTestId('perturbation').locator(`tr[data-epsilon="${r.epsilon}"] [data-metric="change_rate"]`)).toHaveAttribute('data-value', String(r.change_rate));
  }
  for (const [group, g] of Object.entries(result.recourse.groups.age_group) as [string, { feasible_share: number | null }][]) {
    await expect(page.locator(`[data-metric="recourse_feasible_share"][data-attribute="age_group"][data-group="${group}"]`)).toHaveAttribute('data-value', String(g.feasible_share));
  }
  for (const flip of result.robustness.counterfactual_flips as { attribute: string; applicable: boolean }[]) {
    await expect(page.getByTestId(flip.applicable ? 'counterfactual-flips' : 'counterfactual-not-applicable').and(page.locator(`[data-attribute="${flip.attribute}"]`))).toBeVisible();
  }

  // The report's charts, drawn from the result in the page.
  for (const chart of ['predicted-actual', 'residuals', 'decile-calibration', 'importance']) {
    await expect(page.locator(`[data-chart="${chart}"] svg`), chart).toBeVisible();
  }
  await page.screenshot({ path: 'test-results/task-regression-decision.png', fullPage: true });
});

test('a dropped regression config with a decision (positive_when) and no task: the CLI’s audit with its decision (the app dropped the decision without a word)', async ({ page }) => {
  const dir = join(work, 'reg-config');
  spawnSync('mkdir', ['-p', dir]);
  const config = join(dir, 'reg-decision.yaml');
  writeFileSync(config, `model:\n  path: ${join(models, 'reg_xgb.json')}\ndata:\n  test: ${join(models, 'reg.csv')}\n  target: credit_amount\n  protected_attributes: [gender, age_group]\nthreshold: 5000\npositive_when: above\nbootstrap:\n  resamples: 50\nrobustness:\n  enabled: false\nrecourse:\n  enabled: false\n`);
  const result = cliResult('reg-config', ['--config', config]);
  expect(result.settings.decision).toEqual({ threshold: 5000, positive_when: 'above' });

  await page.goto(PLAIN);
  await dropFiles(page, [join(models, 'reg_xgb.json'), join(models, 'reg.csv'), config]);
  // The decision shows, and the binary threshold does not (edits to it were dropped).
  await expect(page.getByTestId('positive-when')).toHaveValue('above');
  await expect(page.getByTestId('decision-threshold')).toHaveValue('5000');
  await expect(page.getByTestId('threshold')).toHaveCount(0);
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('task-notice')).toHaveText(result.task_notice, { timeout: 120_000 });
  await expectSameResult(page, result, REGRESSION);
  await expect(page.getByTestId('decision-audit').locator('[data-metric="decision_accuracy"]')).toHaveAttribute('data-value', String(result.decision_audit.performance.accuracy));
});

test('an XGBoost 3-class model that names no classes: refused with the class-names message until they are typed, then the CLI’s audit', async ({ page }) => {
  const result = cliResult('mc3', ['--model', join(models, 'mc3_xgb.json'), '--data', join(models, 'mc3_xgb.csv'), '--target', 'risk_grade', '--protected', 'sex,race', '--class-labels', 'low,medium,high']);
  expect(result.settings.classes).toEqual(['low', 'medium', 'high']);

  await page.goto(PLAIN);
  await dropFiles(page, [join(models, 'mc3_xgb.json'), join(models, 'mc3_xgb.csv')]);
  await page.getByTestId('target-select').selectOption('risk_grade');
  await expect(page.getByTestId('protected-attributes').locator('[data-column="sex"]')).toBeChecked();
  await expect(page.getByTestId('protected-attributes').locator('[data-column="race"]')).toBeChecked();
  await expect(page.getByTestId('class-labels')).toBeVisible();
  await page.getByTestId('run-audit').click();
  const error = page.getByTestId('error');
  await expect(error).toContainText('are not classes of the model, whose classes are 0, 1, 2', { timeout: 60_000 });
  await expect(error).toContainText('model.class_labels');
  await expect(page.getByTestId('class-labels-hint')).toBeVisible();
  await expect(page.getByTestId('task-notice')).toHaveCount(0);

  await page.getByTestId('class-labels').fill('low, medium, high');
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('task-notice')).toHaveText(result.task_notice, { timeout: 120_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expectSameResult(page, result, MULTICLASS);
});

test('an XGBoost binary model that names no classes, a target of words: refused until the class names are typed, then the CLI’s audit and its rows', async ({ page }) => {
  // xgb_numeric.json learned good_credit 1 = good; the same rows with the target written as words.
  const [header, ...rows] = readFileSync(fixture('german_credit/test.csv'), 'utf8').trim().split('\n');
  const at = header.split(',').indexOf('good_credit');
  const worded = join(work, 'worded.csv');
  writeFileSync(worded, [header, ...rows.map((row) => row.split(',').map((cell, k) => (k === at ? (cell === '1' ? 'good' : 'bad') : cell)).join(','))].join('\n') + '\n');
  const model = fixture('german_credit/xgb_numeric.json');

  await page.goto(PLAIN);
  await dropFiles(page, [model, worded]);
  await page.getByTestId('target-select').selectOption('good_credit');
  const attributes = page.getByTestId('protected-attributes');
  const checked = await attributes.locator('input:checked').evaluateAll((inputs) => inputs.map((input) => input.getAttribute('data-column')!));
  expect(checked.length).toBeGreaterThan(0);
  await page.getByTestId('positive-label').fill('bad');
  await expect(page.getByTestId('class-labels')).toBeVisible();
  await page.getByTestId('run-audit').click();
  const error = page.getByTestId('error');
  await expect(error).toContainText('the model names no classes, so its single output is p(class 1)', { timeout: 60_000 });
  await expect(page.getByTestId('class-labels-hint')).toBeVisible();

  const result = cliResult('worded', ['--model', model, '--data', worded, '--target', 'good_credit', '--protected', checked.join(','), '--positive-label', 'bad', '--class-labels', 'bad,good']);
  await page.getByTestId('class-labels').fill('bad, good');
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('result-digest')).toHaveText(resultDigest(result), { timeout: 120_000 });
  // The row explorer opens the model as the audit did: row 1 scores p(bad) = 1 − xgboost's p(good).
  const want = JSON.parse(readFileSync(fixture('german_credit/xgb_numeric.expected.json'), 'utf8')) as { predictions_p1: number[] };
  await page.getByTestId('tab-rows').click();
  await page.getByTestId('row-number').fill('1');
  await page.getByTestId('row-show').click();
  const score = page.locator('[data-metric="row_score"]');
  await expect(score).toBeVisible({ timeout: 60_000 });
  expect(Math.abs(Number(await score.getAttribute('data-value')) - (1 - want.predictions_p1[0]))).toBeLessThan(1e-6);

  // A model that names its own classes (0, 1) in its place: the field goes, and the names typed for the other model do not reach the audit (the CLI's refusal without --class-labels).
  await dropFiles(page, [fixture('german_credit/xgb.onnx')]);
  await expect(page.getByTestId('class-labels')).toHaveCount(0);
  await page.getByTestId('run-audit').click();
  await expect(error).toHaveText(/xgb\.onnx: the positive label "bad" is not one of the model's class labels \(0, 1\)/, { timeout: 60_000 });
});

test('an XGBoost model refused as a classifier keeps its own reason in the app, not a regressor’s', async ({ page }) => {
  const json = JSON.parse(readFileSync(fixture('german_credit/xgb_numeric.json'), 'utf8'));
  const poisson = join(work, 'poisson.json');
  writeFileSync(poisson, JSON.stringify({ ...json, learner: { ...json.learner, objective: { name: 'count:poisson' } } }));
  await page.goto(PLAIN);
  await dropFiles(page, [poisson]);
  await expect(page.getByTestId('error')).toContainText('poisson.json: the XGBoost objective "count:poisson" predicts exp(margin) (a log link)', { timeout: 60_000 });
});
