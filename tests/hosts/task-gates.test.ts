/**
 * Policy gates on multiclass and regression audits drive `plumbline audit`'s exit code as
 * on binary ones: 0 when the gates pass (or a gate is only not evaluated: REVIEW), 1 when an
 * error gate fails, 2 when the policy cannot be honoured (an unknown metric). Thresholds are
 * set around scikit-learn's values of the reference models (tests/models/*.expected.json).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-in-process';
import { projectRoot } from '../support/fixtures';

const models = join(projectRoot, 'tests', 'models');
const reg = JSON.parse(readFileSync(join(models, 'reg_xgb.expected.json'), 'utf8'));
const mc5 = JSON.parse(readFileSync(join(models, 'mc5_linear.expected.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'plumbline-task-gates-'));
const policy = (name: string, gates: string[]) => {
  writeFileSync(join(work, name), `policy_name: ${name}\ngates:\n${gates.map((g) => `  - ${g}\n`).join('')}`);
  return name;
};
const regression = (gates: string, out: string) =>
  runCli(['audit', '--model', join(models, 'reg_xgb.json'), '--data', join(models, 'reg.csv'), '--target', 'credit_amount', '--protected', 'gender,age_group', '--bootstrap', '50', '--policy-gates', gates, '--output', `${out}.json`], { cwd: work });
const decisionOf = (out: string) => JSON.parse(readFileSync(join(work, `${out}.json`), 'utf8')).policy_decision;

describe('regression gates', () => {
  const mae = reg.metrics.mae as number;
  const r2 = reg.metrics.r2 as number;
  it('exit 0 when MAE and R² meet their gates', async () => {
    const run = await regression(policy('pass.yaml', [`{name: MAE, metric: mae, threshold: ${mae + 100}, comparison: less_equal, severity: error}`, `{name: R2, metric: r2, threshold: ${r2 - 0.05}, comparison: greater_equal, severity: error}`]), 'pass');
    expect(run.code, run.stderr).toBe(0);
    const decision = decisionOf('pass');
    expect(decision.decision).toBe('PASS');
    expect(Math.abs(decision.gates[0].value - mae)).toBeLessThan(2e-6 * mae);
  });
  it('exit 1 when an error gate fails (worst attribute of a group metric)', async () => {
    const worst = Math.max(...Object.values(reg.metrics.fairness as Record<string, { mae_difference: number }>).map((f) => f.mae_difference));
    const run = await regression(policy('fail.yaml', [`{name: MAE, metric: mae, threshold: ${mae - 100}, comparison: less_equal, severity: error}`, `{name: MAE gap, metric: mae_difference, threshold: ${worst + 1}, comparison: less_equal, severity: error}`]), 'fail');
    expect(run.code).toBe(1);
    const decision = decisionOf('fail');
    expect(decision.decision).toBe('FAIL');
    expect(decision.gates.map((g: { outcome: string }) => g.outcome)).toEqual(['FAIL', 'PASS']);
    expect(decision.gates[1].attribute).toBe(Object.entries(reg.metrics.fairness as Record<string, { mae_difference: number }>).find(([, f]) => f.mae_difference === worst)![0]);
  });
  it('exit 2 for a metric no audit has, naming the close ones', async () => {
    const run = await regression(policy('typo.yaml', ['{name: MAE, metric: mea, threshold: 1, comparison: less_equal, severity: error}']), 'typo');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('typo.yaml: gates[0] ("MAE"): unknown metric: "mea" (did you mean mae');
  });
  it('a binary metric gated on a regression is not evaluated, says why, and asks for review (exit 0)', async () => {
    const run = await regression(policy('binary.yaml', ['{name: AUC, metric: roc_auc, threshold: 0.7, comparison: greater_equal, severity: error}']), 'binary');
    expect(run.code).toBe(0);
    const decision = decisionOf('binary');
    expect(decision.decision).toBe('REVIEW');
    expect(decision.gates[0]).toMatchObject({ outcome: 'NOT_EVALUATED', reason: 'roc_auc is a binary metric and this is a regression audit (its performance metrics: mae, rmse, mse, r2, median_absolute_error, mape)' });
  });
});

describe('multiclass gates', () => {
  it('gate the macro AUC and the worst class’s selection-rate difference', async () => {
    const auc = mc5.metrics.roc_auc_ovr as number;
    const worst = Math.max(...Object.values(mc5.metrics.fairness as Record<string, { max_class_selection_rate_difference: number }>).map((f) => f.max_class_selection_rate_difference));
    const gates = policy('mc.yaml', [`{name: AUC, metric: roc_auc_ovr, threshold: ${auc - 0.01}, comparison: greater_equal, severity: error}`, `{name: Class selection, metric: max_class_selection_rate_difference, threshold: ${worst - 0.001}, comparison: less_equal, severity: error}`]);
    const run = await runCli(['audit', '--model', join(models, 'mc5_linear.onnx'), '--data', join(models, 'mc5_linear.csv'), '--target', 'grade', '--protected', mc5.protected.join(','), '--features', mc5.features.join(','), '--bootstrap', '50', '--policy-gates', gates, '--output', 'mc.json'], { cwd: work });
    expect(run.code).toBe(1);
    const decision = decisionOf('mc');
    expect(decision.gates.map((g: { outcome: string }) => g.outcome)).toEqual(['PASS', 'FAIL']);
    expect(Math.abs(decision.gates[1].value - worst)).toBeLessThan(1e-12);
  });
});
