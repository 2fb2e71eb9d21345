/**
 * The CLI around multiclass and regression audits: what `audit` says on stderr, `inspect`,
 * `inspect-model` of a regressor, `diff` refusing audits of different kinds, `explain`
 * refusing a regressor, and a registry entry keeping the task's key figures.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-in-process';
import { projectRoot } from '../support/fixtures';

const models = join(projectRoot, 'tests', 'models');
const work = mkdtempSync(join(tmpdir(), 'plumbline-task-cli-'));
const reg = JSON.parse(readFileSync(join(models, 'reg_xgb.expected.json'), 'utf8'));
const regressionArgs = ['audit', '--model', join(models, 'reg_xgb.json'), '--data', join(models, 'reg.csv'), '--target', 'credit_amount', '--protected', 'gender,age_group', '--bootstrap', '50'];
const multiclassArgs = ['audit', '--model', join(models, 'mc3_xgb.json'), '--data', join(models, 'mc3_xgb.csv'), '--target', 'risk_grade', '--protected', 'sex,race', '--class-labels', 'low,medium,high', '--bootstrap', '50'];

describe('the CLI with multiclass and regression audits', () => {
  it('audit says which kind of audit ran, why, and its key figures; the registry keeps them', async () => {
    expect((await runCli(['registry', 'init', 'audits.db'], { cwd: work })).code).toBe(0);
    const run = await runCli([...regressionArgs, '--output', 'reg.json', '--registry', 'audits.db'], { cwd: work });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('plumbline: REGRESSION AUDIT of "credit_amount"');
    expect(run.stderr).toContain('Task inferred: reg_xgb.json was trained with the regression objective reg:squarederror.');
    expect(run.stderr).toMatch(/plumbline: MAE \d+\.\d{3}, RMSE \d+\.\d{3}, R² 0\.\d{3}/);
    const list = await runCli(['registry', 'list', 'audits.db'], { cwd: work });
    expect(list.stdout).toContain('multiclass / regression');
    expect(list.stdout).toContain(`MAE ${(reg.metrics.mae as number).toFixed(3)}, R² ${(reg.metrics.r2 as number).toFixed(3)}`);
    const shown = await runCli(['registry', 'show', 'audits.db', '1'], { cwd: work });
    expect(JSON.parse(shown.stdout).task).toBe('regression');
    // The CSV export and the monthly summary keep the regression's own figures (its row read blank, its trend all dashes).
    const csv = (await runCli(['registry', 'export', 'audits.db', '--csv'], { cwd: work })).stdout.trim().split('\n');
    const header = csv[0].split(',');
    const row = csv[1].split(',');
    const audited = JSON.parse(readFileSync(join(work, 'reg.json'), 'utf8')).performance;
    for (const id of ['mae', 'rmse', 'r2']) expect(Number(row[header.indexOf(id)]), id).toBe(audited[id]);
    const month = (JSON.parse(readFileSync(join(work, 'reg.manifest.json'), 'utf8')).created as string).slice(0, 7);
    const summary = (await runCli(['registry', 'summary', 'audits.db', '--month', month], { cwd: work })).stdout;
    expect(summary).toContain('Regression models:');
    expect(summary).toContain(`| reg_xgb | 1 | ${audited.mae.toFixed(3)} | ${audited.rmse.toFixed(3)} | ${audited.r2.toFixed(3)} |`);
  });

  it('inspect shows the task and the task’s metrics', async () => {
    const run = await runCli(['inspect', 'reg.json'], { cwd: work });
    expect(run.stdout.split('\n')[0]).toBe('model: reg_xgb.json  data: reg.csv (300 rows)  task: regression');
    expect(run.stdout).toMatch(/^ {2}mae +\d+\.\d{6}$/m);
  });

  it('diff refuses audits of different kinds', async () => {
    expect((await runCli([...multiclassArgs, '--output', 'mc.json'], { cwd: work })).code).toBe(0);
    const run = await runCli(['diff', 'reg.json', 'mc.json'], { cwd: work });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('plumbline: reg.json is a regression audit and mc.json a multiclass audit: their metrics cannot be compared. Diff two audits of the same kind.\n');
    // A binary audit refuses them as its baseline alike (it compared a regression's decision with a classifier's under the same names).
    const binary = ['audit', '--model', join(models, 'lgbm_ova.txt'), '--data', join(models, 'lgbm_ova.csv'), '--target', 'housing', '--positive-label', '2', '--protected', 'gender', '--bootstrap', '50'];
    for (const [file, kind] of [['reg.json', 'regression'], ['mc.json', 'multiclass']]) {
      expect(await runCli([...binary, '--baseline', file], { cwd: work })).toMatchObject({
        code: 2,
        stderr: `plumbline: ${file} is a ${kind} audit, and this is a binary audit: their metrics cannot be compared. Give the baseline result of a binary audit (the production model's, audited on the same rows with --predictions).\n`,
      });
    }
  });

  it('inspect-model reads a regressor as one, and explain points a regressor to the audit', async () => {
    const run = await runCli(['inspect-model', join(models, 'reg_xgb.json')], { cwd: work });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('classes: none (a regressor: one number per row)');
    expect(run.stdout).toContain('audit: regression (task: regression is inferred)');
    const mc = await runCli(['inspect-model', join(models, 'mc3_xgb.json')], { cwd: work });
    expect(mc.stdout).toContain('audit: multiclass (every class; task: multiclass is inferred), with the class names in output order from model.class_labels (--class-labels) when the target holds text');
    const explain = await runCli(['explain', '--model', join(models, 'reg_xgb.json'), '--data', join(models, 'reg.csv')], { cwd: work });
    expect(explain.code).toBe(2);
    expect(explain.stderr).toContain('reg_xgb.json is a regressor, and this explains a classifier\'s p(positive).');
  });

  it('--task and --positive-when take only their words', async () => {
    const run = await runCli([...regressionArgs, '--task', 'ordinal'], { cwd: work });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--task "ordinal" is not one of: binary, multiclass, regression.');
  });
});
