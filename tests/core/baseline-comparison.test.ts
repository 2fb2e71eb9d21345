import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareWithBaseline, type BaselineResult } from '../../src/core/comparison/baseline';
import { evaluatePolicy } from '../../src/core/config/policy';
import { mcnemar, pairedDelong, pairedSummary } from '../../src/core/comparison/paired';
import { groupIndex } from '../../src/core/metrics/groups';
import { parseCsv } from '../../src/core/data/csv';
import { binaryTarget } from '../../src/core/metrics/labels';
import { expected, fixture } from '../support/fixtures';
import { normalQuantile } from '../../src/core/metrics/intervals';

/** Paired tests computed by numpy / scipy (tests/statistics/build_paired.py). */
const reference = JSON.parse(readFileSync(join(__dirname, '..', 'statistics', 'paired.json'), 'utf8')) as Record<
  string,
  { champion: string; challenger: string; auc_a: number; auc_b: number; delong: { difference: number; standard_error: number; p_value: number; low: number; high: number }; accuracy_a: number; accuracy_b: number; mcnemar: { a_only: number; b_only: number; p_value: number } }
>;
const cases = { compas: { data: 'compas/test.csv', target: 'two_year_recid', attribute: 'race' }, german_credit: { data: 'german_credit/test.csv', target: 'good_credit', attribute: 'gender' } };

function load(name: keyof typeof cases) {
  const spec = cases[name];
  const table = parseCsv(readFileSync(fixture(spec.data), 'utf8'), { fileName: spec.data });
  const labels = binaryTarget(table, spec.target).labels;
  const ref = reference[name];
  const a = Float64Array.from(expected(ref.champion).predictions_p1);
  const b = Float64Array.from(expected(ref.challenger).predictions_p1);
  return { table, labels, a, b, ref, attribute: spec.attribute };
}

describe('paired tests against numpy / scipy', () => {
  for (const name of Object.keys(cases) as (keyof typeof cases)[]) {
    it(`DeLong's paired AUC test and McNemar's exact test on ${name}`, () => {
      const { labels, a, b, ref } = load(name);
      const delong = pairedDelong(labels, a, b)!;
      expect(delong.auc_a).toBeCloseTo(ref.auc_a, 12);
      expect(delong.auc_b).toBeCloseTo(ref.auc_b, 12);
      expect(Math.abs(delong.difference - ref.delong.difference)).toBeLessThan(1e-12);
      expect(Math.abs(delong.standard_error - ref.delong.standard_error)).toBeLessThan(1e-12);
      // Φ is Numerical Recipes' erfc fit (relative error < 1.2e-7).
      expect(Math.abs(delong.p_value - ref.delong.p_value)).toBeLessThan(1e-7);
      expect(Math.abs(delong.interval.low - ref.delong.low)).toBeLessThan(1e-8);
      expect(Math.abs(delong.interval.high - ref.delong.high)).toBeLessThan(1e-8);
      const correct = (s: Float64Array) => labels.map((y, i) => Number((s[i] >= 0.5 ? 1 : 0) === y));
      const test = mcnemar(correct(a), correct(b));
      expect(test.a_only).toBe(ref.mcnemar.a_only);
      expect(test.b_only).toBe(ref.mcnemar.b_only);
      expect(Math.abs(test.p_value - ref.mcnemar.p_value)).toBeLessThan(1e-12);
    });
  }
});

describe('paired bootstrap summary', () => {
  it('never claims p = 0 from finitely many resamples, and gives p = 1 to a difference that is always 0', () => {
    const positive = Array.from({ length: 199 }, (_, i) => 0.01 + i / 1000);
    expect(pairedSummary(positive)!.p_value).toBe(2 / 200);
    expect(pairedSummary(positive)!.interval.low).toBeGreaterThan(0);
    expect(pairedSummary(new Array(199).fill(0))).toEqual({ interval: { low: 0, high: 0 }, p_value: 1 });
    expect(pairedSummary(positive.slice(0, 19))).toBeNull();
  });
});

describe('compareWithBaseline', () => {
  const { table, labels, a, b, ref, attribute } = load('german_credit');
  const sha = 'f'.repeat(64);
  const result = (scores: Float64Array, auc: number, accuracy: number, extra: Partial<BaselineResult> = {}): BaselineResult => ({
    inputs: { model: { file: 'm', sha256: 'm' }, data: { file: 'test.csv', sha256: sha, rows: table.rowCount } },
    settings: { seed: 0 },
    threshold: 0.5,
    performance: { roc_auc: auc, accuracy, intervals: { roc_auc: { low: auc - 0.05, high: auc + 0.05 } } },
    calibration: {},
    fairness: {},
    predictions_p1: Array.from(scores),
    ...extra,
  });
  const champion = result(a, ref.auc_a, ref.accuracy_a);
  const challenger = result(b, ref.auc_b, ref.accuracy_b);
  const rows = { labels, scores: b, threshold: 0.5, groups: [groupIndex(table, attribute)] };
  const options = { rows, seed: 7, resamples: 200, confidence: 0.95 };
  const source = { file: 'champion.json', sha256: 'c'.repeat(64) };

  it('pairs the rows when the baseline scored the same data: DeLong for the AUC, McNemar for accuracy', () => {
    const comparison = compareWithBaseline(challenger, champion, source, options);
    expect(comparison.paired).toBe(true);
    expect(comparison.unpaired_reason).toBeNull();
    const auc = comparison.metrics.find((m) => m.id === 'roc_auc')!;
    expect(auc.change).toBeCloseTo(ref.delong.difference, 12);
    expect(auc.interval!.low).toBeCloseTo(ref.delong.low, 8);
    expect(auc.p_value).toBeCloseTo(ref.delong.p_value, 6);
    expect(auc.method).toBe('paired: DeLong’s test of two correlated AUCs');
    const accuracy = comparison.metrics.find((m) => m.id === 'accuracy')!;
    expect(accuracy.p_value).toBeCloseTo(ref.mcnemar.p_value, 12);
    expect(accuracy.method).toBe(`paired: McNemar’s exact test (${ref.mcnemar.a_only} rows only the baseline got right, ${ref.mcnemar.b_only} only this model); bootstrap interval, 200 paired resamples`);
    expect(accuracy.interval!.low).toBeLessThan(accuracy.change!);
    expect(accuracy.interval!.high).toBeGreaterThan(accuracy.change!);
    // Seeded: the same inputs give the same intervals.
    expect(compareWithBaseline(challenger, champion, source, options)).toEqual(comparison);
  });

  it('pairs a disparity through the bootstrap when both results hold it', () => {
    const fair = (scores: Float64Array) => {
      const index = groupIndex(table, attribute);
      const rate = (g: number) => index.rows[g].reduce((s, i) => s + Number(scores[i] >= 0.5), 0) / index.rows[g].length;
      const rates = index.groups.map((_, g) => rate(g));
      return { [attribute]: { demographic_parity_difference: Math.max(...rates) - Math.min(...rates) } };
    };
    const comparison = compareWithBaseline(result(b, ref.auc_b, ref.accuracy_b, { fairness: fair(b) }), result(a, ref.auc_a, ref.accuracy_a, { fairness: fair(a) }), source, options);
    const dp = comparison.metrics.find((m) => m.id === 'demographic_parity_difference' && m.attribute === attribute)!;
    expect(dp.method).toBe('paired bootstrap, 200 resamples of the same rows');
    expect(dp.interval!.low).toBeLessThanOrEqual(dp.change!);
    expect(dp.interval!.high).toBeGreaterThanOrEqual(dp.change!);
    // A group under min_group_size rows behind it: the row says so (2 rows drove a disparity's interval and p-value without a word).
    const flagged = (f: ReturnType<typeof fair>) => ({ [attribute]: { ...f[attribute], groups: { small: { insufficient_samples: true }, large: { insufficient_samples: false } } } });
    const small = compareWithBaseline(result(b, ref.auc_b, ref.accuracy_b, { fairness: flagged(fair(b)) }), result(a, ref.auc_a, ref.accuracy_a, { fairness: fair(a) }), source, options);
    expect(small.metrics.find((m) => m.id === 'demographic_parity_difference')!.method).toBe(
      `paired bootstrap, 200 resamples of the same rows; read with care: ${attribute}'s groups include small, under fairness.min_group_size rows, whose rates move the disparity more than their rows support`,
    );
  });

  it('falls back to unpaired intervals from both audits, saying why', () => {
    const other = { ...champion, inputs: { ...champion.inputs, data: { file: 'train.csv', sha256: 'a'.repeat(64), rows: 700 } } };
    const comparison = compareWithBaseline(challenger, other, source, options);
    expect(comparison.paired).toBe(false);
    expect(comparison.unpaired_reason).toBe("the baseline audited other data (train.csv, SHA-256 aaaaaaaaaaaa…; this audit's is ffffffffffff…)");
    const auc = comparison.metrics.find((m) => m.id === 'roc_auc')!;
    // Two intervals of half-width 0.05: se = hypot(0.05, 0.05) / z, so the change's half-width is 0.05·√2.
    expect(auc.interval!.high - auc.change!).toBeCloseTo(0.05 * Math.SQRT2, 12);
    expect(auc.method).toBe('unpaired: independent samples, normal approximation from each audit’s own interval');
    expect(compareWithBaseline(challenger, { ...champion, predictions_p1: undefined }, source, options).unpaired_reason).toBe(
      'the baseline result holds no per-row predictions (audit the baseline with --predictions to pair them)',
    );
    expect(compareWithBaseline(challenger, { ...champion, performance: { ...champion.performance, roc_auc: 0.5 } }, source, options).unpaired_reason).toBe(
      `the baseline's predictions with this audit's labels give ROC AUC 0.7773, not its stored 0.5000 (other labels or positive class)`,
    );
    // Each audit's interval is read at its own confidence: a baseline's 50% interval of half-width 0.05 is a standard error of 0.05 / z(0.75).
    const half = compareWithBaseline(challenger, { ...other, settings: { seed: 0, confidence: 0.5 } }, source, options).metrics.find((m) => m.id === 'roc_auc')!;
    const z = (c: number) => normalQuantile(1 - (1 - c) / 2);
    expect(half.interval!.high - half.change!).toBeCloseTo(z(0.95) * Math.hypot(0.05 / z(0.5), 0.05 / z(0.95)), 12);
    // A threshold that moved is said (a drop in accuracy was the threshold's, not the model's).
    expect(compareWithBaseline({ ...challenger, threshold: 0.3 }, champion, source, options).threshold_change).toEqual({ baseline: 0.5, current: 0.3 });
    expect(compareWithBaseline(challenger, champion, source, options).threshold_change).toBeUndefined();
    // Seeded samples of the same file are other rows unless size and seed agree (an unlabelled baseline has no AUC to catch it).
    const sampled = (seed: number, labels?: 'absent') => ({ ...champion, settings: { seed, test_sample_size: 1000 }, ...(labels ? { labels } : {}) });
    expect(compareWithBaseline({ ...challenger, settings: { seed: 2, test_sample_size: 1000 } }, sampled(1, 'absent'), source, options).unpaired_reason).toBe(
      'the two audits read different rows of test.csv: the baseline a seeded sample of 1000 rows (seed 1, without labels), this audit a seeded sample of 1000 rows (seed 2)',
    );
    expect(compareWithBaseline(challenger, sampled(0), source, options).unpaired_reason).toBe('the two audits read different rows of test.csv: the baseline a seeded sample of 1000 rows (seed 0), this audit every row');
    // Two stored results (plumbline diff) of the same data: why they are not paired, in those words (it said "this audit has no labelled rows").
    expect(compareWithBaseline(challenger, champion, source, { ...options, rows: null, noRows: 'plumbline diff compares two stored results' }).unpaired_reason).toBe('plumbline diff compares two stored results');
  });

  it('says when the two audits measure different outcomes, and leaves relative gates unevaluated', () => {
    const other = { ...champion, settings: { seed: 0, target: 'two_year_recid', positive_label: 1 } };
    const comparison = compareWithBaseline({ ...challenger, settings: { seed: 0, target: 'good_credit', positive_label: 1 } }, other, source, options);
    expect(comparison.different_outcome).toBe("the two audits measure different outcomes (the baseline's target two_year_recid, positive label 1; this audit's target good_credit, positive label 1): their metrics are not comparable");
    const gates = { policy_name: 'p', gates: [{ name: 'no drop', metric: 'roc_auc', threshold: 0.02, comparison: 'max_drop' as const, severity: 'error' as const }] };
    const facts = { seedGiven: true, strict: false, manifestWritten: true, gitCommit: null, today: '2026-12-06', modelId: 'm' };
    const gate = evaluatePolicy(gates, 'h', { ...challenger, comparison } as unknown as Parameters<typeof evaluatePolicy>[2], facts).gates[0];
    expect(gate).toMatchObject({ outcome: 'NOT_EVALUATED', reason: comparison.different_outcome });
    // A batch without labels (target '') measures no outcome: its label-free metrics stay comparable (relative gates on selection rates).
    expect(compareWithBaseline({ ...challenger, settings: { seed: 0, target: '', positive_label: 1 } }, other, source, { ...options, rows: null }).different_outcome).toBeUndefined();
    // The same target and positive label: nothing said.
    expect(compareWithBaseline({ ...challenger, settings: other.settings }, other, source, options).different_outcome).toBeUndefined();
    // A baseline audited without labels for the other class stores no ROC AUC to catch its p(0) beside these labels: not paired
    // (its DeLong and McNemar p-values were printed as paired tests).
    const flipped = { ...champion, labels: 'absent' as const, performance: { ...champion.performance, roc_auc: null }, settings: { seed: 0, target: 'good_credit', positive_label: 0 } };
    const unlabelled = compareWithBaseline({ ...challenger, settings: { seed: 0, target: 'good_credit', positive_label: 1 } }, flipped, source, options);
    expect(unlabelled.paired).toBe(false);
    expect(unlabelled.unpaired_reason).toBe("the two audits measure different outcomes (the baseline's target good_credit, positive label 0; this audit's target good_credit, positive label 1): their metrics are not comparable");
    expect(unlabelled.metrics.find((m) => m.id === 'accuracy')!.method).not.toContain('paired:');
    // Nor without a target at all (a batch audited without labels for class 0): it was paired, and parity compared p(0) with p(1).
    const noTarget = compareWithBaseline({ ...challenger, settings: { seed: 0, target: 'good_credit', positive_label: 1 } }, { ...flipped, settings: { seed: 0, target: '', positive_label: 0 } }, source, options);
    expect(noTarget.paired).toBe(false);
    expect(noTarget.different_outcome).toBe("the two audits score different classes (the baseline's positive label 0; this audit's 1): their metrics are not comparable");
  });
});
