/**
 * Whole multiclass and regression audits (core/audit/run.ts → task/run.ts) of the reference
 * models (tests/models/build_multiclass_regression.py): the audit scores the model itself,
 * so its metrics are compared with scikit-learn's metrics of the training library's own
 * predictions, to the predictions' agreement (float32 libraries; the metric code alone is
 * checked to 1e-9 in multiclass-metrics/regression-metrics). Also: how the task is chosen,
 * what is refused, explanations' local accuracy, determinism.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import type { AuditRequest, AuditResult } from '../../src/core/audit';
import { resultDigest } from '../../src/core/outputs/manifest';
import { runAnyAudit } from '../../src/core/audit/run';
import type { MulticlassAuditResult, RegressionAuditResult } from '../../src/core/task/result';
import { projectRoot } from '../support/fixtures';

const models = join(projectRoot, 'tests', 'models');
const file = (name: string) => ({ fileName: name, bytes: new Uint8Array(readFileSync(join(models, name))) });
const expectedOf = (name: string) => JSON.parse(readFileSync(join(models, name), 'utf8'));
type Nullable = number | null;

/** Equal within `tolerance` (relative above 1), or both null. */
function close(got: unknown, want: Nullable, tolerance: number, what: string) {
  if (want === null) return expect(got, what).toBeNull();
  expect(got, what).toBeTypeOf('number');
  expect(Math.abs((got as number) - want), `${what}: got ${got}, reference ${want}`).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(want)));
}

/** The Wilson score interval at 95% (z = 1.959963984540054), written out. */
function wilson(k: number, n: number): [number, number] {
  const z = 1.959963984540054;
  const p = k / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = ((z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n)));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

const request = (model: string, data: string, target: string, protectedAttributes: string[], extra: Partial<AuditRequest> = {}): AuditRequest => ({
  model: file(model),
  data: file(data),
  target,
  protectedAttributes,
  bootstrapResamples: 50,
  ...extra,
});

// Every rate (accuracy, a class's precision) is a count over rows: the same predicted classes give the same value.
const COUNTED = ['accuracy', 'balanced_accuracy', 'precision_macro', 'recall_macro', 'f1_macro', 'precision_weighted', 'recall_weighted', 'f1_weighted', 'precision_micro', 'recall_micro', 'f1_micro'];
const SCORED = ['roc_auc_ovr', 'roc_auc_ovr_weighted', 'log_loss', 'brier_score'];

describe('multiclass audits of the reference classifiers', () => {
  for (const [model, expectedFile, extra] of [
    ['mc3_xgb.json', 'mc3_xgb.expected.json', { classLabels: ['low', 'medium', 'high'] }],
    ['mc3_xgb_trees.onnx', 'mc3_xgb.expected.json', {}],
    ['mc5_linear.onnx', 'mc5_linear.expected.json', {}],
  ] as const) {
    it(`${model}: every metric, overall, per class and per group, as scikit-learn's of the library's predictions`, async () => {
      const want = expectedOf(expectedFile);
      const result = (await runAnyAudit(ort, request(model, want.data, want.target, want.protected, { features: want.features, ...extra }))) as MulticlassAuditResult;
      expect(result.task).toBe('multiclass');
      expect(result.settings.classes).toEqual(want.labels);
      expect(result.settings.task_source).toMatch(/^inferred: .* has \d classes and no positive label is set/);
      const m = want.metrics;
      for (const key of COUNTED) close(result.performance[key as keyof typeof result.performance], m[key], 1e-12, key);
      // Probabilities within 1e-6 of the library's: the score-based metrics follow to that order.
      for (const key of SCORED) close(result.performance[key as keyof typeof result.performance], m[key], 1e-5, key);
      expect(result.performance.confusion_matrix).toEqual(m.confusion_matrix);
      for (const label of want.labels) {
        for (const key of ['precision', 'recall', 'f1', 'support']) close(result.performance.per_class[label][key as 'f1'], m.per_class[label][key], 1e-12, `${label} ${key}`);
        close(result.performance.per_class[label].roc_auc, m.per_class[label].roc_auc, 1e-5, `${label} roc_auc`);
      }
      for (const key of ['top_label_ece', 'classwise_ece', 'max_classwise_ece']) close(result.calibration[key as 'top_label_ece'], m[key], 1e-5, key);
      for (const attribute of want.protected) {
        const got = result.fairness[attribute];
        const ref = m.fairness[attribute];
        expect(Object.keys(got.groups).sort()).toEqual(Object.keys(ref.groups).sort());
        for (const key of ['max_class_selection_rate_difference', 'equalized_odds_difference', 'accuracy_difference', 'f1_macro_difference']) close(got[key as 'accuracy_difference'], ref[key], 1e-12, `${attribute} ${key}`);
        for (const [group, g] of Object.entries(ref.groups as Record<string, { n: number; accuracy: number; selection_rate: Record<string, number> }>)) {
          expect(got.groups[group].n).toBe(g.n);
          close(got.groups[group].accuracy, g.accuracy, 1e-12, `${attribute}=${group} accuracy`);
          for (const label of want.labels) close(got.groups[group].selection_rate[label], g.selection_rate[label], 1e-12, `${attribute}=${group} selection rate of ${label}`);
          expect(got.groups[group].insufficient_samples).toBe(g.n < 30);
          // Wilson score intervals (z for 95%) of each class's selection rate, from the reference counts.
          for (const label of want.labels) {
            const interval = got.groups[group].intervals.selection_rate[label]!;
            const [low, high] = wilson(Math.round(g.selection_rate[label] * g.n), g.n);
            close(interval.low, low, 1e-9, `${attribute}=${group} ${label} selection low`);
            close(interval.high, high, 1e-9, `${attribute}=${group} ${label} selection high`);
          }
        }
        expect(got.min_group_size).toBe(Math.min(...Object.values(ref.groups as Record<string, { n: number }>).map((g) => g.n)));
      }
      // Every metric with an interval has its estimate inside it.
      for (const [key, interval] of Object.entries(result.performance.intervals)) {
        const value = result.performance[key as keyof typeof result.performance];
        if (interval && typeof value === 'number') expect(value, key).toBeGreaterThanOrEqual(interval.low - 1e-12);
        if (interval && typeof value === 'number') expect(value, key).toBeLessThanOrEqual(interval.high + 1e-12);
      }
    });
  }

  it('explains each row for its predicted class (TreeSHAP per class on the trees), with local accuracy, and a misclassified row for its label’s class too', async () => {
    const want = expectedOf('mc3_xgb.expected.json');
    const result = (await runAnyAudit(ort, request('mc3_xgb.json', want.data, want.target, want.protected, { classLabels: ['low', 'medium', 'high'], explainer: { rows: 40, backgroundRows: 50 } }))) as MulticlassAuditResult;
    const e = result.explanations!;
    expect(e.method).toBe('tree (interventional)');
    expect(e.rows).toHaveLength(40);
    expect(e.local_accuracy_error).toBeLessThan(1e-9);
    // The class each row is explained for is its most probable class (the expected file holds xgboost's probabilities).
    e.rows.forEach((row, i) => {
      const p = want.probabilities[row - 1] as number[];
      expect(e.classes![i]).toBe(want.labels[p.indexOf(Math.max(...p))]);
    });
    expect(e.denied!.length).toBeGreaterThan(0);
    for (const denied of e.denied!) expect(denied.class).not.toBe(e.classes![e.rows.indexOf(denied.row)]);
    expect(Object.keys(e.class_importance!)).toEqual(['low', 'medium', 'high']);
  });

  it('explains a forest of averaged class shares (ONNX post_transform NONE) in probabilities, as they are (they were labelled log-odds)', async () => {
    const want = expectedOf('onnx_rf_multiclass.expected.json');
    const result = (await runAnyAudit(ort, request('onnx_rf_multiclass.onnx', 'onnx_rf_multiclass.csv', 'housing', ['gender'], { features: want.features, includePredictions: true, explainer: { rows: 30, backgroundRows: 40 } }))) as MulticlassAuditResult;
    // The model's probabilities are scikit-learn's predict_proba (float32 sums).
    result.predictions!.forEach((row, i) => row.forEach((p, k) => expect(Math.abs(p - want.p[i][result.settings.classes!.indexOf(want.classes[k])])).toBeLessThan(1e-6)));
    const e = result.explanations!;
    expect(e.output).toBe('each class’s probability (the forest’s averaged share of the class), for the row’s predicted class');
    // Each row's values add up to scikit-learn's probability of the class it is explained for.
    e.rows.forEach((row, i) => {
      const k = want.classes.indexOf(e.classes![i]);
      expect(Math.abs(e.expected_values[i] + e.values[i].reduce((a, b) => a + b, 0) - want.p[row - 1][k])).toBeLessThan(1e-6);
    });
  });

  it('explains a LightGBM model with linear leaves by KernelSHAP, as a binary one (the audit stopped: "internal error: TreeSHAP does not apply to trees with linear leaves")', async () => {
    const want = expectedOf('lgbm_linear_multiclass.expected.json');
    const result = (await runAnyAudit(ort, request('lgbm_linear_multiclass.txt', 'lgbm_linear_multiclass.csv', 'housing', ['gender'], { includePredictions: true, explainer: { rows: 4, backgroundRows: 10 } }))) as MulticlassAuditResult;
    result.predictions!.forEach((row, i) => row.forEach((p, k) => expect(Math.abs(p - want.p[i][k])).toBeLessThan(1e-9)));
    expect(result.explanations!.method).toMatch(/^kernel/);
    expect(result.explanations!.local_accuracy_error).toBeLessThan(1e-9);
  });

  it('finds classes whose probabilities rank their rows below the others: class names given out of the model\'s order (no finding before)', async () => {
    const want = expectedOf('mc3_xgb.expected.json');
    const audit = (classLabels: string[]) => runAnyAudit(ort, request('mc3_xgb.json', want.data, want.target, want.protected, { classLabels, missingSections: { explainer: 'off', robustness: 'off' } })) as Promise<MulticlassAuditResult>;
    const swapped = (await audit(['high', 'medium', 'low'])).data.findings.filter((f) => f.check === 'inverted_scores');
    expect(swapped).toHaveLength(1);
    expect(swapped[0].severity).toBe('error');
    expect(swapped[0].message).toMatch(/^The one-vs-rest ROC AUC of classes "high" 0\.\d{3} \(interval 0\.\d{3}–0\.\d{3}\), "low" 0\.\d{3} \(interval 0\.\d{3}–0\.\d{3}\) are below 0\.5: .* Check that the class names \(model\.class_labels\) are in the model's output order/);
    expect((await audit(['low', 'medium', 'high'])).data.findings.filter((f) => f.check === 'inverted_scores')).toEqual([]);
  });

  it('says the calibration bins it used (calibration.bins was honoured, and the convention said 10)', async () => {
    const want = expectedOf('mc3_xgb.expected.json');
    const result = (await runAnyAudit(ort, request('mc3_xgb.json', want.data, want.target, want.protected, { classLabels: ['low', 'medium', 'high'], calibrationBins: 15, missingSections: { explainer: 'off', robustness: 'off' } }))) as MulticlassAuditResult;
    expect(result.calibration.bins).toBe(15);
    expect(result.conventions.ece).toMatch(/^15 equal-width bins \[b\/15, \(b\+1\)\/15\)/);
  });

  it('gives the same digest twice (seeded bootstrap, seeded background)', async () => {
    const want = expectedOf('mc5_linear.expected.json');
    const run = () => runAnyAudit(ort, request('mc5_linear.onnx', want.data, want.target, want.protected, { features: want.features, explainer: { rows: 5, backgroundRows: 10 } }));
    expect(resultDigest(await run())).toBe(resultDigest(await run()));
  });

  it('keeps the explanations within limits.stage_memory_mb, as a binary audit does (KernelSHAP ran past it)', async () => {
    const want = expectedOf('mc5_linear.expected.json');
    const result = await runAnyAudit(ort, request('mc5_linear.onnx', want.data, want.target, want.protected, { features: want.features, explainer: { rows: 20, backgroundRows: 1000 }, limits: { stageMemoryMb: 1 } }));
    expect(result.missing_sections.explainer).toMatch(/^The explanations would need about [\d.]+ MiB of memory \(\d+ coalitions × [\d,]+ background rows × \d+ columns per explained row, and 20 explained rows kept\), more than the 1\.0 MiB a stage may use: lower explainer\.background_samples/);
    expect(result).not.toHaveProperty('explanations');
    // The budget is recorded, as a binary result records it (it was not).
    expect(result.settings.limits).toEqual({ stage_memory_mb: 1, stage_seconds: null });
  });
});

describe('regression audits of the reference regressors', () => {
  for (const model of ['reg_xgb.json', 'reg_linear.onnx']) {
    it(`${model}: MAE, RMSE, R², median absolute error, MAPE and every group's, as scikit-learn's of the library's predictions`, async () => {
      const want = expectedOf(model.replace(/\.(json|onnx)$/, '.expected.json'));
      const result = (await runAnyAudit(ort, request(model, want.data, want.target, want.protected, { features: want.features }))) as RegressionAuditResult;
      expect(result.task).toBe('regression');
      // Predictions within float32 rounding of the library's (3e-7 relative): the metrics follow.
      const tolerance = 2e-6;
      for (const key of ['mae', 'rmse', 'r2', 'median_absolute_error', 'mape']) close(result.performance[key as 'mae'], want.metrics[key], tolerance, key);
      for (const attribute of want.protected) {
        const got = result.fairness[attribute];
        const ref = want.metrics.fairness[attribute];
        // Differences of group means carry the predictions' absolute rounding (2e-6 of their scale), not a relative one.
        const scale = Math.max(...want.predictions.map(Math.abs));
        for (const key of ['mean_prediction_difference', 'mae_difference', 'rmse_difference', 'wasserstein_distance']) close(got[key as 'mae_difference'], ref[key], (tolerance * scale) / Math.max(1, Math.abs(ref[key])), `${attribute} ${key}`);
        close(got.mean_outcome_difference, ref.mean_outcome_difference, 1e-12, `${attribute} mean_outcome_difference`);
        close(got.bounded_group_loss, ref.bounded_group_loss, tolerance, `${attribute} bounded_group_loss`);
        close(got.ks_statistic, ref.ks_statistic, 1e-12, `${attribute} ks_statistic`);
        for (const [group, g] of Object.entries(ref.groups as Record<string, { n: number; mean_outcome: number; mae: number }>)) {
          expect(got.groups[group].n).toBe(g.n);
          close(got.groups[group].mean_outcome, g.mean_outcome, 1e-12, `${attribute}=${group} mean outcome`);
          close(got.groups[group].mae, g.mae, tolerance, `${attribute}=${group} MAE`);
        }
      }
      expect(result.residuals.shown).toBe(want.predictions.length);
      result.residuals.predicted.forEach((p, i) => close(p, want.predictions[i], 1e-5, `prediction of row ${i + 1}`));
      expect(result.explanations!.local_accuracy_error).toBeLessThan(1e-6 * Math.max(...want.predictions.map(Math.abs)));
    });
  }

  it('audits the decision a regression feeds as a binary classifier of the thresholded outcome', async () => {
    const want = expectedOf('reg_xgb.expected.json');
    const result = (await runAnyAudit(ort, request('reg_xgb.json', want.data, want.target, want.protected, { threshold: 5000, positiveWhen: 'above' }))) as RegressionAuditResult;
    const d = result.decision_audit!;
    const y = (readFileSync(join(models, 'reg.csv'), 'utf8').trim().split('\n').slice(1)).map((line) => Number(line.split(',').at(-1)));
    const p = want.predictions as number[];
    // Independent count: positive outcome ≥ 5000, predicted positive when the prediction is ≥ 5000.
    let tp = 0;
    let tn = 0;
    y.forEach((v, i) => {
      if (v >= 5000 && p[i] >= 5000) tp++;
      if (v < 5000 && p[i] < 5000) tn++;
    });
    close(d.performance.accuracy, (tp + tn) / y.length, 1e-12, 'decision accuracy');
    close(d.performance.selection_rate, p.filter((v) => v >= 5000).length / p.length, 1e-12, 'decision selection rate');
    expect(result.settings.decision).toEqual({ threshold: 5000, positive_when: 'above' });
    // A regression's intervals are bootstrap ones: no class's Wilson or DeLong interval is spoken of (its report gave the multiclass conventions).
    expect(Object.keys(result.conventions).filter((k) => ['wilson', 'delong'].includes(k))).toEqual([]);
    expect(result.conventions.bootstrap).toMatch(/^MAE, RMSE, MSE, R², median absolute error, MAPE: percentile interval/);
    // Gates on the decision's binary metrics read them there (they were NOT_EVALUATED as "a binary metric and this is a regression audit").
    const { evaluatePolicy } = await import('../../src/core/config/policy');
    const facts = { seedGiven: true, strict: false, manifestWritten: true, gitCommit: null, today: '2026-12-06', modelId: 'reg_xgb.json' };
    const gates = { policy_name: 'p', gates: [{ name: 'accuracy', metric: 'accuracy', threshold: 0, comparison: 'greater_equal' as const, severity: 'error' as const }] };
    expect(evaluatePolicy(gates, 'h', result as never, facts).gates[0]).toMatchObject({ outcome: 'PASS', value: (tp + tn) / y.length });
  });

  it('gives a "below" decision\'s thresholds and recourse scores as predictions (they were negated: −5000, −4321)', async () => {
    const want = expectedOf('reg_xgb.expected.json');
    const result = (await runAnyAudit(ort, { ...request('reg_xgb.json', want.data, want.target, want.protected, { threshold: 5000, positiveWhen: 'below' }), recourse: { maxRows: 5 }, missingSections: { explainer: 'off', robustness: 'off' } })) as RegressionAuditResult;
    const d = result.decision_audit!;
    expect(d.threshold).toBe(5000);
    expect(d.threshold_selection.threshold).toBe(5000);
    const p = want.predictions as number[];
    expect(Math.max(...d.performance.curve.map((point) => point.threshold).filter(Number.isFinite))).toBeLessThanOrEqual(Math.max(...p) + 0.1);
    expect(Math.min(...d.performance.curve.map((point) => point.threshold).filter(Number.isFinite))).toBeGreaterThan(0);
    // Each searched row's score is xgboost's prediction for it (float32), above 5000: the adverse side of "positive at or below 5000".
    const rows = result.recourse!.rows;
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(Math.abs(row.score - p[row.row - 1])).toBeLessThan(1e-2);
      expect(row.score).toBeGreaterThan(5000);
      for (const c of row.counterfactuals) expect(c.score).toBeLessThanOrEqual(5000);
    }
    expect(result.recourse!.conventions).toMatch(/^Adverse decision: prediction > 5000 \(the default: recourse\.adverse is not set; set it to positive when the positive decision is the harm, a predicted default or reoffence\)\. /);
  });
});

describe('choosing the task, and what is refused', () => {
  const mc3 = () => expectedOf('mc3_xgb.expected.json');
  it('audits as multiclass a probability tensor that names no classes when model.class_labels names three (it asked for a positive label), with scikit-learn\'s figures', async () => {
    const want = JSON.parse(readFileSync(join(models, 'onnx_unnamed_probs.expected.json'), 'utf8')) as { classes: string[]; features: string[]; accuracy: number; f1_macro: number; roc_auc_ovr: number };
    const result = (await runAnyAudit(ort, request('onnx_unnamed_probs.onnx', 'onnx_unnamed_probs.csv', 'grade', ['group'], { features: want.features, classLabels: want.classes, explainer: { rows: 3, backgroundRows: 5 } }))) as MulticlassAuditResult;
    expect(result.task).toBe('multiclass');
    // The file declares the tensor [N, 3]: three classes, however they are named.
    expect(result.settings.task_source).toBe('inferred: onnx_unnamed_probs.onnx has 3 classes and no positive label is set (set a positive label or task: binary to audit one class against the rest)');
    for (const key of ['accuracy', 'f1_macro', 'roc_auc_ovr'] as const) expect(Math.abs((result.performance[key] as number) - want[key]), key).toBeLessThan(1e-9);
    // Without the names it is multiclass all the same, and the words of the target ask for them (it was audited as binary and asked for a positive label).
    await expect(runAnyAudit(ort, request('onnx_unnamed_probs.onnx', 'onnx_unnamed_probs.csv', 'grade', ['group'], { features: want.features }))).rejects.toThrow(
      'onnx_unnamed_probs.csv, column "grade": "high" (94 rows, first data row 1), "medium" (99 rows, first data row 3), "low" (107 rows, first data row 4) are not classes of the model, whose classes are 0, 1, 2 (output numbers: onnx_unnamed_probs.onnx names no classes, so they are 0…2 in training order). Name the classes in the model’s output order with model.class_labels (--class-labels A,B,C).',
    );
  });

  it('refuses reg:logistic against a target of many numbers (a share): it is read as a classifier, and the target was refused as "not binary" without saying why', async () => {
    const reg = expectedOf('reg_xgb.expected.json');
    const logistic = new TextEncoder().encode(readFileSync(join(models, 'reg_xgb.json'), 'utf8').replace('"name":"reg:squarederror"', '"name":"reg:logistic"'));
    await expect(runAnyAudit(ort, { ...request('reg_xgb.json', reg.data, reg.target, reg.protected), model: { fileName: 'share.json', bytes: logistic } })).rejects.toThrow(
      `share.json has the XGBoost objective reg:logistic, which is audited as a binary classifier's p(positive), and the target "${reg.target}" holds numbers of more than two values (shares?): a regression of a share is not audited. Audit it against the two-class outcome it predicts (--target), or audit its predictions as a score column (--score).`,
    );
  });

  it('says, for a regression objective and a target of two values, that the model may be a classifier trained with a custom objective', async () => {
    const reg = expectedOf('reg_xgb.expected.json');
    const result = (await runAnyAudit(ort, request('reg_xgb.json', reg.data, 'people_liable', reg.protected, { explainer: { rows: 3, backgroundRows: 5 } }))) as RegressionAuditResult;
    expect(result.settings.task_source).toBe('inferred: reg_xgb.json was trained with the regression objective reg:squarederror; the target "people_liable" holds two values at most — if the model is a classifier trained with a custom objective (saved as reg:squarederror), its output is a margin, not a prediction of the target, and these errors mean nothing');
  });

  it('reads a one-output model as p(positive) for a target of two values, and says how to audit it as a regression when its target is refused', async () => {
    const want = expectedOf('reg_linear.expected.json');
    // The regression data with its outcome cut to two amounts (0 or 5000): 5000 is no class of a model read as p(class 1).
    const csv = new TextDecoder().decode(file(want.data).bytes).trim().split('\n');
    const at = csv[0].split(',').indexOf(want.target);
    const amounts = csv.slice(1).map((line) => Number(line.split(',')[at]));
    const two = [csv[0], ...csv.slice(1).map((line) => line.split(',').map((cell, j) => (j === at ? (Number(cell) > 3000 ? '5000' : '0') : cell)).join(','))].join('\n');
    await expect(runAnyAudit(ort, { ...request('reg_linear.onnx', want.data, want.target, want.protected, { features: want.features }), data: { fileName: 'two.csv', bytes: new TextEncoder().encode(`${two}\n`) } })).rejects.toThrow(
      `two.csv, column "credit_amount": "5000" (${amounts.filter((a) => a > 3000).length} rows, first data row ${amounts.findIndex((a) => a > 3000) + 1}) is not a class of the model, whose classes are 0, 1 (reg_linear.onnx names no classes, so they are 0, 1 in training order), so the audit cannot tell which class its rows are. Code the target with the model's classes (0, 1), or name the model's classes in output order as the target writes them with model.class_labels (--class-labels A,B: class 0 first). Note: reg_linear.onnx has one numeric output and names no classes, so it is read as a binary classifier's p(positive) when the target holds two values at most; if it predicts a number, audit it as a regression (task: regression, --task regression).`,
    );
  });

  it('refuses text labels for a model that names no classes, naming the values and the fix', async () => {
    const want = mc3();
    await expect(runAnyAudit(ort, request('mc3_xgb.json', want.data, want.target, want.protected))).rejects.toThrow(
      'mc3_xgb.csv, column "risk_grade": "low" (287 rows, first data row 1), "medium" (123 rows, first data row 4), "high" (90 rows, first data row 5) are not classes of the model, whose classes are 0, 1, 2 (output numbers: mc3_xgb.json names no classes, so they are 0…2 in training order). Name the classes in the model’s output order with model.class_labels (--class-labels A,B,C).',
    );
  });
  it('keeps the one-vs-rest binary audit when a positive label is set, and says how the task was chosen', async () => {
    const want = mc3();
    const result = await runAnyAudit(ort, request('mc3_xgb_trees.onnx', want.data, want.target, want.protected, { features: want.features, positiveLabel: 'high', explainer: { rows: 5, backgroundRows: 5 } }));
    expect('task' in result).toBe(false);
  });
  it('audits one class of a model that names none against the rest, with the classes named by model.class_labels', async () => {
    const want = mc3();
    const result = (await runAnyAudit(ort, request('mc3_xgb.json', want.data, want.target, want.protected, { classLabels: ['low', 'medium', 'high'], positiveLabel: 'high', bootstrapResamples: 0, explainer: { rows: 5, backgroundRows: 5 } }))) as AuditResult;
    expect('task' in result).toBe(false);
    // The class's one-vs-rest AUC is scikit-learn's for that class.
    expect(Math.abs(result.performance.roc_auc! - want.metrics.per_class.high.roc_auc)).toBeLessThan(1e-6);
    expect(result.inputs.model.format !== 'score-column' && result.inputs.model.score_output).toBe('probability[:, 2] = p(class high), chosen by model.class_labels (low, medium, high); one-vs-rest: class high against the other 2 classes');
  });

  it('measures a multiclass prediction drift on the mix of predicted classes, and says what a stored reference cannot measure', async () => {
    const want = mc3();
    const csv = readFileSync(join(projectRoot, 'tests/models', want.data), 'utf8');
    const lines = csv.trimEnd().split('\n');
    // The reference: the rows the model predicts "low"; the batch: every row.
    const base = { ...request('mc3_xgb.json', want.data, want.target, want.protected, { classLabels: ['low', 'medium', 'high'], bootstrapResamples: 0 }), missingSections: { explainer: 'off', robustness: 'off' } };
    const first = (await runAnyAudit(ort, { ...base, includePredictions: true } as AuditRequest)) as MulticlassAuditResult & { predicted_classes?: string[] };
    expect(first.task).toBe('multiclass');
    const self = (await runAnyAudit(ort, { ...base, reference: { fileName: 'ref.csv', bytes: new TextEncoder().encode(csv) } })) as MulticlassAuditResult;
    expect(self.drift!.prediction).toMatchObject({ column: 'predicted class', kind: 'categorical', psi: 0 });
    const half = [lines[0], ...lines.slice(1).filter((_, i) => i % 2 === 0)].join('\n') + '\n';
    const shifted = (await runAnyAudit(ort, { ...base, reference: { fileName: 'half.csv', bytes: new TextEncoder().encode(half) } })) as MulticlassAuditResult;
    expect(shifted.drift!.prediction!.bins.map((b) => b.label).sort()).toEqual(['high', 'low', 'medium']);
    // Against stored distributions: no stored predictions of a multiclass model, said as such (it was left out without a word).
    const stored = (await runAnyAudit(ort, { ...base, referenceDistributions: { source: 'stored distributions of old.json', distributions: (first as unknown as { data: { distributions: Record<string, never> } }).data.distributions } })) as MulticlassAuditResult;
    expect(stored.drift!.prediction).toBeUndefined();
    expect(stored.drift!.prediction_not_measured).toBe("the reference (stored distributions of old.json) stores no distribution of a multiclass or regression model's predictions: give the reference file (--reference) to measure prediction drift");
    expect(stored.drift!.conventions).toContain('Label drift: not measured against stored distributions');
  });

  it('refuses a task the model contradicts, and settings these audits cannot honour', async () => {
    const want = mc3();
    const reg = expectedOf('reg_xgb.expected.json');
    await expect(runAnyAudit(ort, request('mc3_xgb_trees.onnx', want.data, want.target, want.protected, { features: want.features, task: 'regression' }))).rejects.toThrow('task: regression, but mc3_xgb_trees.onnx is a classifier. Set task to binary or multiclass, or choose the regression model.');
    // A regression of a kind not read is not called a classifier.
    const edited = (name: string, from: string | RegExp, to: string) => ({ fileName: name, bytes: new TextEncoder().encode(readFileSync(join(projectRoot, 'tests/models', name), 'utf8').replace(from, to)) });
    await expect(runAnyAudit(ort, { ...request('reg_xgb.json', reg.data, reg.target, reg.protected, { task: 'regression' }), model: edited('reg_xgb.json', /"reg:squarederror"/g, '"count:poisson"') })).rejects.toThrow(
      'task: regression, but reg_xgb.json has the XGBoost objective count:poisson, which is not a regression this audit reads (it reads reg:squarederror, reg:absoluteerror, reg:pseudohubererror, reg:quantileerror, reg:linear). Export the model to ONNX, or train it with one of those objectives.',
    );
    await expect(runAnyAudit(ort, { ...request('reg_xgb.json', reg.data, reg.target, reg.protected, { task: 'regression' }), model: edited('lgbm_decision_types.txt', /^objective=.*$/m, 'objective=regression') })).rejects.toThrow(
      'task: regression, but lgbm_decision_types.txt is a LightGBM model with the objective "regression": LightGBM regressors are not read yet. Convert the model to ONNX (onnxmltools.convert_lightgbm) and audit that file.',
    );
    await expect(runAnyAudit(ort, request('reg_xgb.json', reg.data, reg.target, reg.protected, { task: 'multiclass' }))).rejects.toThrow('task: multiclass, but reg_xgb.json is a regressor (objective reg:squarederror): it predicts a number, not a class. Set task: regression (--task regression).');
    await expect(runAnyAudit(ort, request('reg_xgb.json', reg.data, reg.target, reg.protected, { threshold: 5000 }))).rejects.toThrow('threshold 5000 is set for a regression: say whether the decision is positive when the prediction is above or below it with positive_when: above|below (--positive-when).');
    await expect(runAnyAudit(ort, request('mc3_xgb_trees.onnx', want.data, want.target, want.protected, { features: want.features, threshold: 0.4 }))).rejects.toThrow('threshold is set, but the predicted class is the most probable one; no threshold applies in a multiclass audit. Remove threshold, or audit a binary classifier (task: binary).');
    await expect(runAnyAudit(ort, request('mc3_xgb_trees.onnx', want.data, want.target, want.protected, { features: want.features, intersections: [['race', 'sex']] }))).rejects.toThrow('fairness.intersections is set, but intersections are not audited yet in a multiclass audit.');
    await expect(runAnyAudit(ort, request('reg_xgb.json', reg.data, reg.target, reg.protected, { features: ['age'] }))).rejects.toThrow(/^model\.features \(--features\) lists age, but reg_xgb\.json names its inputs itself and reads the columns .+; the list would be ignored\. Remove it, or list exactly those columns\.$/);
    // Settings these audits recorded and never read.
    await expect(runAnyAudit(ort, request('reg_xgb.json', reg.data, reg.target, reg.protected, { calibrationBins: 20 }))).rejects.toThrow('calibration.bins is set, but the calibration table is by deciles of the prediction in a regression audit. Remove calibration.bins, or audit a binary classifier (task: binary).');
    await expect(runAnyAudit(ort, request('reg_xgb.json', reg.data, reg.target, reg.protected, { positiveLabel: '1' }))).rejects.toThrow('data.positive_label is set, but a regression has no positive class (a decision says its positive side with positive_when) in a regression audit.');
    await expect(runAnyAudit(ort, request('mc3_xgb_trees.onnx', want.data, want.target, want.protected, { features: want.features, calibrationBinning: 'equal-frequency' }))).rejects.toThrow("calibration.binning: equal-frequency is set, but the calibration tables bin each class's probability in equal-width bins in a multiclass audit.");
    // A positive label under task: multiclass, recourse settings with no recourse search, and model.type: each was read nowhere.
    await expect(runAnyAudit(ort, request('mc3_xgb_trees.onnx', want.data, want.target, want.protected, { features: want.features, task: 'multiclass', positiveLabel: 'high' }))).rejects.toThrow('data.positive_label is set, but every class is audited, none against the rest, in a multiclass audit. Remove data.positive_label, or audit a binary classifier (task: binary).');
    await expect(runAnyAudit(ort, request('mc3_xgb_trees.onnx', want.data, want.target, want.protected, { features: want.features, recourse: { costs: { age: 5 }, maxRows: 10 } }))).rejects.toThrow('recourse.costs, recourse.max_rows are set, but no recourse is searched (a multiclass audit has no single adverse decision) in a multiclass audit.');
    await expect(runAnyAudit(ort, request('reg_xgb.json', reg.data, reg.target, reg.protected, { recourse: { adverse: 'positive' } }))).rejects.toThrow('recourse.adverse is set, but no recourse is searched without a decision (threshold and positive_when) in a regression audit.');
    await expect(runAnyAudit(ort, request('reg_xgb.json', reg.data, reg.target, reg.protected, { modelType: 'onnx' }))).rejects.toThrow('model.type: onnx, but reg_xgb.json is an XGBoost JSON model. Set model.type to xgboost or auto, or choose the model file the config means.');
    await expect(runAnyAudit(ort, request('mc3_xgb_trees.onnx', want.data, want.target, want.protected, { features: want.features, powerDifference: 0.1 }))).rejects.toThrow('fairness.power_difference is set, but the power of a parity test (of a binary decision) is not computed in a multiclass audit.');
    await expect(runAnyAudit(ort, request('reg_xgb.json', reg.data, 'gender', ['age_group']))).rejects.toThrow('reg.csv, column "gender": a regression target must hold numbers, but it holds text (row 1: "female"). Choose the outcome column, or audit a classifier with task: multiclass.');
    await expect(runAnyAudit(ort, request('mc3_xgb.json', want.data, want.target, want.protected, { classLabels: ['low', 'medium'] }))).rejects.toThrow('model.class_labels names 2 classes (low, medium), but mc3_xgb.json gives 3 probabilities per row. Name one class per output, in the model\'s output order.');
    await expect(runAnyAudit(ort, request('mc3_xgb_trees.onnx', want.data, want.target, want.protected, { features: want.features, classLabels: ['a', 'b', 'c'] }))).rejects.toThrow('model.class_labels (a, b, c) differ from the classes mc3_xgb_trees.onnx names (low, medium, high). Remove model.class_labels: the model\'s own labels are used.');
  });
});
