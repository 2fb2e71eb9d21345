/**
 * Robustness of multiclass and regression audits (task/robustness.ts) and recourse on a
 * regression's decision, checked against computations made here from the training
 * libraries' own outputs (tests/models/*.expected.json): the reweighted accuracy and MAE of
 * every demographic-shift scenario, the adverse decisions counted from xgboost's predictions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import type { AuditRequest } from '../../src/core/audit';
import { runAnyAudit } from '../../src/core/audit/run';
import type { MulticlassAuditResult, RegressionAuditResult } from '../../src/core/task/result';
import { projectRoot } from '../support/fixtures';

const models = join(projectRoot, 'tests', 'models');
const file = (name: string) => ({ fileName: name, bytes: new Uint8Array(readFileSync(join(models, name))) });
const expectedOf = (name: string) => JSON.parse(readFileSync(join(models, name), 'utf8'));
/** A CSV column's cells (the fixtures hold no quoted commas). */
const csvColumn = (name: string, column: string) => {
  const [header, ...rows] = readFileSync(join(models, name), 'utf8').trim().split('\n').map((l) => l.split(','));
  const at = header.indexOf(column);
  return rows.map((r) => r[at]);
};

/** Weights moving `group`'s share of `groups` to `to`, the others keeping their relative sizes. */
function weightsFor(groups: string[], group: string, to: number): number[] {
  const share = groups.filter((g) => g === group).length / groups.length;
  return groups.map((g) => (g === group ? to / share : (1 - to) / (1 - share)));
}

describe('robustness of a multiclass audit', () => {
  const want = expectedOf('mc3_xgb.expected.json');
  const request: AuditRequest = { model: file('mc3_xgb.json'), data: file(want.data), target: want.target, protectedAttributes: want.protected, classLabels: want.labels, bootstrapResamples: 0, explainer: { rows: 5, backgroundRows: 5 } };
  it('reweights each group’s share by ±δ: the shifted accuracy equals the weighted accuracy of xgboost’s classes', async () => {
    const result = (await runAnyAudit(ort, request)) as MulticlassAuditResult;
    const r = result.robustness!;
    const labels = csvColumn(want.data, want.target).map((v) => want.labels.indexOf(v));
    const predicted = (want.probabilities as number[][]).map((p) => p.indexOf(Math.max(...p)));
    expect(r.demographic_shift.scenarios.length).toBeGreaterThan(0);
    for (const scenario of r.demographic_shift.scenarios) {
      const w = weightsFor(csvColumn(want.data, scenario.attribute), scenario.group, scenario.to);
      const total = w.reduce((a, b) => a + b, 0);
      const accuracy = w.reduce((sum, wi, i) => sum + (predicted[i] === labels[i] ? wi : 0), 0) / total;
      expect(Math.abs((scenario.metrics.accuracy as number) - accuracy), `${scenario.attribute}=${scenario.group} → ${scenario.to}`).toBeLessThan(1e-12);
    }
    const worst = Math.max(...r.demographic_shift.scenarios.flatMap((s) => Object.values(s.degradation).filter((d): d is number => d !== null)));
    expect(r.max_shift_degradation).toBe(worst);
    // Noise of size 0 changes nothing; more noise changes more classes (seeded, so the same every run).
    expect(r.perturbation.map((p) => p.epsilon)).toEqual([0.01, 0.05, 0.1]);
    expect(r.perturbation[2].change_rate!).toBeGreaterThanOrEqual(r.perturbation[0].change_rate!);
    const still = (await runAnyAudit(ort, { ...request, robustness: { noise: [0] } })) as MulticlassAuditResult;
    expect(still.robustness!.perturbation[0]).toMatchObject({ change_rate: 0, mean_abs_change: 0, max_abs_change: 0 });
    expect(result.missing_sections.recourse).toContain('a multiclass audit has no single adverse decision');
  });
});

describe('robustness and recourse of a regression audit', () => {
  const want = expectedOf('reg_xgb.expected.json');
  const base: AuditRequest = { model: file('reg_xgb.json'), data: file(want.data), target: want.target, protectedAttributes: want.protected, bootstrapResamples: 0, explainer: { rows: 5, backgroundRows: 5 } };
  it('the shifted MAE is the weighted MAE of xgboost’s predictions; a declared proxy the model reads is changed', async () => {
    const result = (await runAnyAudit(ort, { ...base, robustness: { proxies: { age_group: 'age' } } })) as RegressionAuditResult;
    const r = result.robustness!;
    const y = csvColumn(want.data, want.target).map(Number);
    const p = want.predictions as number[];
    expect(r.demographic_shift.scenarios.length).toBeGreaterThan(0);
    for (const scenario of r.demographic_shift.scenarios) {
      const w = weightsFor(csvColumn(want.data, scenario.attribute), scenario.group, scenario.to);
      const total = w.reduce((a, b) => a + b, 0);
      const mae = w.reduce((sum, wi, i) => sum + wi * Math.abs(p[i] - y[i]), 0) / total;
      expect(Math.abs((scenario.metrics.mae as number) - mae) / mae, `${scenario.attribute}=${scenario.group}`).toBeLessThan(1e-6);
    }
    // Without a decision there is nothing to change, only a size of change.
    expect(r.perturbation.every((x) => x.change_rate === null)).toBe(true);
    const age = r.counterfactual_flips.find((f) => f.attribute === 'age_group')!;
    expect(age).toMatchObject({ applicable: true, changed: 'age' });
    expect(Object.keys(age.mean_abs_change).sort()).toEqual([...new Set(csvColumn(want.data, 'age_group'))].sort());
    expect(r.counterfactual_flips.find((f) => f.attribute === 'gender')!.applicable).toBe(false);
    expect(result.missing_sections.recourse).toBe('recourse searches counterfactuals that change a decision, and this regression feeds none: set threshold and positive_when (above|below) for the decision it feeds');
  });

  it('searches recourse for every prediction below the decision threshold, and each counterfactual crosses it', async () => {
    const result = (await runAnyAudit(ort, { ...base, threshold: 5000, positiveWhen: 'above' })) as RegressionAuditResult;
    const rec = result.recourse!;
    expect(rec.adverse_rows).toBe((want.predictions as number[]).filter((v) => v < 5000).length);
    expect(rec.rows.filter((r) => r.counterfactuals.length).length).toBeGreaterThan(0);
    for (const row of rec.rows) for (const cf of row.counterfactuals) expect(cf.score).toBeGreaterThanOrEqual(5000);
    expect(result.robustness!.perturbation.every((x) => x.change_rate !== null)).toBe(true);
  });
});

describe('reason codes of a regression’s decision', () => {
  it('name, for each explained prediction under the threshold, the columns pulling it down, strongest first, never a protected attribute', async () => {
    const want = expectedOf('reg_xgb.expected.json');
    const result = (await runAnyAudit(ort, { model: file('reg_xgb.json'), data: file(want.data), target: want.target, protectedAttributes: want.protected, bootstrapResamples: 0, threshold: 5000, positiveWhen: 'above', explainer: { rows: 30, backgroundRows: 20 }, missingSections: { robustness: 'off here', recourse: 'off here' } })) as RegressionAuditResult;
    const e = result.explanations!;
    const p = want.predictions as number[];
    // Every explained row predicted under 5000 (xgboost's own predictions) has its reasons; no other row.
    expect(e.reason_codes!.map((r) => r.row)).toEqual(e.rows.filter((row) => p[row - 1] < 5000));
    expect(e.reason_codes!.length).toBeGreaterThan(0);
    for (const code of e.reason_codes!) {
      const i = e.rows.indexOf(code.row);
      expect(Math.abs(code.score - p[code.row - 1])).toBeLessThan(1e-6 * 5000);
      expect(code.reasons.length).toBeLessThanOrEqual(4);
      // Each reason pulls the prediction down, in the order of its SHAP value, and is no protected attribute.
      const shaps = code.reasons.map((r) => r.shap);
      expect(shaps.every((v) => v < 0)).toBe(true);
      expect([...shaps].sort((a, b) => a - b)).toEqual(shaps);
      for (const reason of code.reasons) {
        expect(want.protected).not.toContain(reason.column);
        expect(reason.shap).toBe(e.values[i][e.columns.indexOf(reason.column)]);
      }
    }
  });
});
