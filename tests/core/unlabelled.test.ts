/**
 * Audits without labels (core/audit/unlabelled.ts, metrics/cbpe.ts): the label-free numbers equal
 * the labelled audit's; CBPE is checked against an independent transliteration of its
 * definition (NannyML's), against simulation (labels drawn from the probabilities
 * themselves, where the scores are calibrated by construction), and its error against
 * the truth is measured on COMPAS with the random forest (ECE 0.026 in rf.expected.json:
 * reasonably calibrated).
 */
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { runAudit, type AuditRequest, type AuditResult } from '../../src/core/audit';
import { evaluatePolicy, parsePolicy, type RunFacts } from '../../src/core/config/policy';
import { AuditConfigError } from '../../src/core/base/errors';
import { metricValue } from '../../src/core/metrics/catalog';
import { expected, fixtureBytes } from '../support/fixtures';

ort.env.wasm.numThreads = 1;
const want = expected('compas/rf.expected.json');
const encoder = new TextEncoder();

/** compas/test.csv with the target column removed, or emptied. */
function withoutTarget(mode: 'removed' | 'emptied'): Uint8Array {
  const lines = new TextDecoder().decode(fixtureBytes('compas/test.csv')).trim().split('\n');
  const at = lines[0].split(',').indexOf('two_year_recid');
  const out = lines.map((line, i) => {
    const cells = line.split(',');
    if (mode === 'removed') cells.splice(at, 1);
    else if (i > 0) cells[at] = '';
    return cells.join(',');
  });
  return encoder.encode(`${out.join('\n')}\n`);
}

const request = (overrides: Partial<AuditRequest> = {}): AuditRequest => ({
  model: { fileName: 'rf.onnx', bytes: fixtureBytes('compas/rf.onnx') },
  data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') },
  reference: { fileName: 'train.csv', bytes: fixtureBytes('compas/train.csv') },
  target: 'two_year_recid',
  protectedAttributes: ['race', 'sex'],
  features: want.features,
  bootstrapResamples: 0,
  explainer: { rows: 5, backgroundRows: 20 },
  missingSections: { recourse: 'turned off (recourse.enabled: false)' },
  ...overrides,
});
const unlabelledData = { fileName: 'batch.csv', bytes: withoutTarget('removed') };

const labelled = runAudit(ort, request({ includePredictions: true }));
// A production batch without its outcome column, declared so (data.unlabelled / --no-labels); the reference still holds the labels.
const unlabelled = runAudit(ort, request({ data: unlabelledData, unlabelled: true }));

/** CBPE's expected confusion counts and expected-ROC AUC, computed directly from the probabilities (independent of metrics/cbpe.ts). */
function referenceCbpe(p: number[], threshold: number) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const v of p) {
    if (v >= threshold) {
      tp += v;
      fp += 1 - v;
    } else {
      fn += v;
      tn += 1 - v;
    }
  }
  // The area under the expected ROC curve from (0, 0), as a sum over pairs rather than a
  // sweep: each row's positive mass p_i against every row's negative mass 1 − p_j, counted
  // when it scores higher, half when equal (a row with itself too).
  const n = p.length;
  let positives = 0;
  for (const v of p) positives += v;
  const negatives = n - positives;
  let pairs = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (p[i] > p[j]) pairs += p[i] * (1 - p[j]);
  else if (p[i] === p[j]) pairs += (p[i] * (1 - p[j])) / 2;
  const area = pairs / (positives * negatives);
  return { accuracy: (tp + tn) / n, precision: tp / (tp + fp), recall: tp / (tp + fn), f1: (2 * tp) / (2 * tp + fp + fn), roc_auc: area, confusion: { tp, fp, tn, fn } };
}

const METRICS = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc'] as const;

describe('an unlabelled audit of the COMPAS test set (target column removed)', () => {
  it('gives the labelled audit’s selection rates and demographic parity, under the same keys', async () => {
    const [l, u] = await Promise.all([labelled, unlabelled]);
    expect(u.labels).toBe('absent');
    expect(l.labels).toBeUndefined();
    expect(u.performance.selection_rate).toBe(l.performance.selection_rate);
    expect(u.performance.intervals.selection_rate).toEqual(l.performance.intervals.selection_rate);
    for (const attribute of ['race', 'sex']) {
      const [lf, uf] = [l.fairness[attribute], u.fairness[attribute]];
      for (const [group, m] of Object.entries(lf.groups)) {
        expect(uf.groups[group].selection_rate, `${attribute}.${group}`).toBe(m.selection_rate);
        expect(uf.groups[group].n).toBe(m.n);
        expect(uf.groups[group].intervals.selection_rate).toEqual(m.intervals.selection_rate);
        expect(uf.groups[group].tpr).toBeNull();
        expect(uf.groups[group].null_reasons.tpr).toMatch(/^not computed without labels \(batch\.csv has no target column "two_year_recid", and is declared a batch without outcomes/);
      }
      for (const key of ['demographic_parity_difference', 'demographic_parity_ratio', 'demographic_parity_difference_to_overall', 'statistical_power', 'min_group_size']) {
        expect(uf[key], `${attribute}.${key}`).toBe(lf[key]);
      }
      expect(uf.four_fifths_rule).toEqual(lf.four_fifths_rule);
      expect(uf.intervals.demographic_parity_difference).toEqual(lf.intervals.demographic_parity_difference);
      expect(uf.equal_opportunity_difference).toBeNull();
      expect(uf.equalized_odds_difference).toBeNull();
      expect(uf.intervals.equalized_odds_difference).toBeNull();
    }
    // The rows' sweep of selection rates is label-free too.
    expect(u.threshold_sweep.groups.race).toEqual(Object.fromEntries(Object.entries(l.threshold_sweep.groups.race).map(([g, r]) => [g, { ...r, tpr: r.tpr.map(() => null), fpr: r.fpr.map(() => null), precision: r.precision.map(() => null), accuracy: r.accuracy.map(() => null) }])));
    // Drift of the features and the predictions needs no label.
    expect(u.drift!.columns.map((c) => [c.column, c.psi])).toEqual(l.drift!.columns.filter((c) => c.column !== 'two_year_recid').map((c) => [c.column, c.psi]));
    expect(u.drift!.prediction!.psi).toBe(l.drift!.prediction!.psi);
  });

  it('says why, at the top, and lists every label section as not computed', async () => {
    const u = await unlabelled;
    const why = 'batch.csv has no target column "two_year_recid", and is declared a batch without outcomes (data.unlabelled / --no-labels)';
    expect(u.labels_notice).toBe(
      `NO LABELS: ${why}. This audit measures what needs no outcome (selection rates and demographic parity per group, score distributions, drift, data quality); performance is ESTIMATED from the model's confidence (CBPE), not measured, and every metric that needs the outcome is listed as not computed.`,
    );
    expect(Object.keys(u.missing_sections).sort()).toEqual(['calibration', 'data.class_balance', 'data.leakage', 'fairness.label_metrics', 'performance', 'recourse', 'robustness', 'slice_summary']);
    expect(u.missing_sections.performance).toBe(
      `not computed without labels (${why}): accuracy, balanced accuracy, precision, recall, specificity, F1, ROC AUC, average precision, log loss, Brier score and the base rate need the true outcome; the selection rate is measured, and CBPE estimates of accuracy, precision, recall, F1 and ROC AUC are under estimated_performance`,
    );
    expect(u.performance.roc_auc).toBeNull();
    expect(u.calibration.expected_calibration_error).toBeNull();
    expect(u.data.target.counts).toEqual({});
    expect(u.estimated_performance!.estimated).toBe(true);
  });

  it('with an empty target column, or none configured, says so', async () => {
    const emptied = await runAudit(ort, request({ data: { fileName: 'batch.csv', bytes: withoutTarget('emptied') }, explainer: { rows: 1, backgroundRows: 5 } }));
    expect(emptied.labels_notice).toMatch(/^NO LABELS: the target column "two_year_recid" is empty on all 1852 rows of batch\.csv\. /);
    const none = await runAudit(ort, request({ target: '', data: unlabelledData, reference: undefined, explainer: { rows: 1, backgroundRows: 5 } }));
    expect(none.labels_notice).toMatch(/^NO LABELS: no target column was configured \(data\.target \/ --target\)\. /);
    expect(none.estimated_performance!.calibration_check).toMatchObject({ status: 'unchecked', reason: 'no reference data was given (data.train, data.reference, --reference or --reference-result)' });
    expect(none.estimated_performance!.assumption).toBe(
      'The estimates assume the scores are calibrated probabilities; this is UNCHECKED: no reference data was given (data.train, data.reference, --reference or --reference-result). Give a labelled reference (data.train / data.reference / --reference, holding the target column) to check it.',
    );
    // A target named but absent is a typo until declared otherwise: refused, never an audit whose label gates all go unevaluated.
    await expect(runAudit(ort, request({ target: 'two_year_recd', explainer: { rows: 1, backgroundRows: 5 } }))).rejects.toThrow(
      new AuditConfigError('test.csv: no target column "two_year_recd" (close matches: two_year_recid). Choose the column that holds the true outcome, or, for a batch scored before any outcome is known, audit it without labels (--no-labels / data.unlabelled: true).'),
    );
  });

  it('honours the declaration when the batch holds a target column (placeholder outcomes): not read (--no-labels was ignored, a labelled audit of the placeholders)', async () => {
    const declared = await runAudit(ort, request({ unlabelled: true }));
    expect(declared.labels).toBe('absent');
    expect(declared.labels_notice).toMatch(/^NO LABELS: test\.csv is declared a batch without outcomes \(data\.unlabelled \/ --no-labels\): its column "two_year_recid" is not read as the target\. /);
    const labelledResult = await labelled;
    expect(declared.performance.selection_rate).toBe(labelledResult.performance.selection_rate);
    expect(declared.performance.roc_auc).toBeNull();
  });

  it('refuses a threshold policy fitted on labels, and a validation file without a target', async () => {
    await expect(runAudit(ort, request({ data: unlabelledData, unlabelled: true, thresholdPolicy: { policy: 'youden' } }))).rejects.toThrow(
      new AuditConfigError('The threshold policy youden is fitted on labels, and batch.csv has none (batch.csv has no target column "two_year_recid", and is declared a batch without outcomes (data.unlabelled / --no-labels)). Fit it on held-out labelled data with data.validation (--validation FILE), or use a fixed threshold or {policy: selection_rate, target: R}, which need no labels.'),
    );
    await expect(runAudit(ort, request({ target: '', data: unlabelledData, thresholdPolicy: { policy: 'youden' }, validation: { fileName: 'val.csv', bytes: fixtureBytes('compas/train.csv') } }))).rejects.toThrow(
      new AuditConfigError('data.validation (val.csv) is labelled through data.target, and no target is configured. Set data.target (--target) to the column holding the outcome in val.csv.'),
    );
  });

  it('CBPE equals an independent transliteration of NannyML’s estimator, overall and per group', async () => {
    const [l, u] = await Promise.all([labelled, unlabelled]);
    const p = l.predictions_p1!;
    const e = u.estimated_performance!;
    const mine = referenceCbpe(p, u.threshold);
    for (const id of METRICS) expect(Math.abs(e[id]! - mine[id]), id).toBeLessThan(1e-9);
    for (const k of ['tp', 'fp', 'tn', 'fn'] as const) expect(Math.abs(e.expected_confusion_matrix[k] - mine.confusion[k])).toBeLessThan(1e-7);
    const lines = new TextDecoder().decode(fixtureBytes('compas/test.csv')).trim().split('\n').slice(1).map((line) => line.split(','));
    for (const [attribute, column] of [['race', 1], ['sex', 0]] as const) {
      for (const [group, estimate] of Object.entries(e.groups[attribute])) {
        const rows = p.filter((_, i) => lines[i][column] === group);
        expect(estimate.n).toBe(rows.length);
        const theirs = referenceCbpe(rows, u.threshold);
        for (const id of ['accuracy', 'precision', 'recall', 'f1'] as const) {
          if (Number.isFinite(theirs[id])) expect(Math.abs(estimate[id]! - theirs[id]), `${attribute}.${group}.${id}`).toBeLessThan(1e-9);
          else expect(estimate[id]).toBeNull();
        }
        if (new Set(rows).size >= 2) expect(Math.abs(estimate.roc_auc! - theirs.roc_auc), `${attribute}.${group}.roc_auc`).toBeLessThan(1e-9);
      }
    }
  });

  it('CBPE is unbiased where the scores are calibrated by construction (labels drawn from p): simulation', async () => {
    const l = await labelled;
    const p = l.predictions_p1!;
    const e = (await unlabelled).estimated_performance!;
    // mulberry32, seeded: labels y ~ Bernoulli(p) make the scores exactly calibrated.
    let state = 20240601;
    const random = () => {
      state = (state + 0x6d2b79f5) | 0;
      let z = Math.imul(state ^ (state >>> 15), 1 | state);
      z = (z + Math.imul(z ^ (z >>> 7), 61 | z)) ^ z;
      return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
    };
    const draws = 400;
    const sums = { accuracy: 0, precision: 0, recall: 0, f1: 0, roc_auc: 0 };
    const order = p.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
    for (let d = 0; d < draws; d++) {
      const y = p.map((v) => (random() < v ? 1 : 0));
      let tp = 0, fp = 0, tn = 0, fn = 0;
      p.forEach((v, i) => (v >= l.threshold ? (y[i] ? tp++ : fp++) : y[i] ? fn++ : tn++));
      // Mann–Whitney AUC with ties counted half.
      let rankSum = 0;
      let positives = 0;
      for (let i = 0; i < order.length; ) {
        let j = i;
        while (j < order.length && order[j][0] === order[i][0]) j++;
        const midRank = (i + 1 + j) / 2;
        for (let k = i; k < j; k++) if (y[order[k][1]]) { rankSum += midRank; positives++; }
        i = j;
      }
      const negatives = p.length - positives;
      sums.roc_auc += (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
      sums.accuracy += (tp + tn) / p.length;
      sums.precision += tp / (tp + fp);
      sums.recall += tp / (tp + fn);
      sums.f1 += (2 * tp) / (2 * tp + fp + fn);
    }
    for (const id of METRICS) {
      const simulated = sums[id] / draws;
      // NannyML's AUC has no point at (0, 0); the forest's ties make that a small, known shortfall.
      expect(Math.abs(e[id]! - simulated), `${id}: CBPE ${e[id]} vs simulated mean ${simulated}`).toBeLessThan(id === 'roc_auc' ? 0.01 : 0.003);
    }
  });

  it('estimates COMPAS performance within 0.05 of the truth (rf: ECE 0.026), and reports the error', async () => {
    const [l, u] = await Promise.all([labelled, unlabelled]);
    expect(want.calibration.expected_calibration_error).toBeLessThan(0.03);
    const e = u.estimated_performance!;
    const rows: { metric: string; true: number; estimated: number; error: number }[] = METRICS.map((id) => ({ metric: id as string, true: l.performance[id]!, estimated: e[id]!, error: e[id]! - l.performance[id]! }));
    for (const attribute of ['race', 'sex']) {
      for (const [group, g] of Object.entries(e.groups[attribute])) {
        const truth = l.fairness[attribute].groups[group];
        if (truth.n < 100) continue;
        rows.push({ metric: `${attribute}=${group} accuracy`, true: truth.accuracy as number, estimated: g.accuracy!, error: g.accuracy! - (truth.accuracy as number) });
      }
    }
    console.log('CBPE error against the labelled audit (compas/rf.onnx on test.csv):');
    console.table(rows.map((r) => ({ ...r, true: r.true.toFixed(4), estimated: r.estimated.toFixed(4), error: r.error.toFixed(4) })));
    for (const r of rows.slice(0, METRICS.length)) expect(Math.abs(r.error), r.metric).toBeLessThan(0.05);
    for (const r of rows.slice(METRICS.length)) expect(Math.abs(r.error), r.metric).toBeLessThan(0.08);
    // The calibration check is the labelled audit of the reference, as measured.
    const train = await runAudit(ort, request({ data: { fileName: 'train.csv', bytes: fixtureBytes('compas/train.csv') }, reference: undefined, explainer: { rows: 1, backgroundRows: 5 } }));
    expect(e.calibration_check.status).toBe('checked');
    expect(e.calibration_check.expected_calibration_error).toBe(train.calibration.expected_calibration_error);
    for (const id of METRICS) expect(e.calibration_check.on_reference!.measured[id]).toBe(train.performance[id]);
  });

  it('gates: estimated_<metric> evaluated, label metrics NOT_EVALUATED with the reason; estimated gates on a labelled audit say why', async () => {
    const [l, u] = await Promise.all([labelled, unlabelled]);
    const policy = parsePolicy(
      `policy_name: p\ngates:\n  - {name: Est AUC, metric: estimated_roc_auc, threshold: 0.6, comparison: greater_equal, severity: error}\n  - {name: AUC, metric: roc_auc, threshold: 0.6, comparison: greater_equal, severity: error}\n  - {name: EO, metric: equal_opportunity_difference, threshold: 0.2, comparison: less_equal, severity: error}\n  - {name: DP, metric: demographic_parity_difference, attr: sex, threshold: 0.5, comparison: less_equal, severity: error}\n`,
      'p.yaml',
    );
    const facts = { seedGiven: true, strict: false, manifestWritten: false, gitCommit: null, today: '2026-01-01', modelId: null } as unknown as RunFacts;
    const gates = evaluatePolicy(policy, 'h', u as AuditResult, facts).gates;
    expect(gates[0]).toMatchObject({ outcome: 'PASS', value: u.estimated_performance!.roc_auc });
    expect(gates[1]).toMatchObject({ outcome: 'NOT_EVALUATED', reason: u.missing_sections.performance });
    expect(gates[2]).toMatchObject({ outcome: 'NOT_EVALUATED', reason: 'not computed without labels (batch.csv has no target column "two_year_recid", and is declared a batch without outcomes (data.unlabelled / --no-labels))' });
    expect(gates[3]).toMatchObject({ outcome: 'PASS', value: l.fairness.sex.demographic_parity_difference });
    expect(metricValue(l, 'estimated_accuracy')).toEqual({ value: null, reason: 'the audit has labels, so performance is measured, not estimated: gate on accuracy instead' });
  });
});
