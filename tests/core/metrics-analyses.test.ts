import { describe, expect, it } from 'vitest';
import { auditScores, type AuditSettings } from '../../src/core/audit';
import type { Table } from '../../src/core/data/table';
import { AuditConfigError } from '../../src/core/base/errors';
import { calibration } from '../../src/core/metrics/calibration';
import { eceInterval } from '../../src/core/metrics/ece-interval';
import { ALL_ROWS, disparityIntervals, newcombeDifference } from '../../src/core/metrics/disparity-intervals';
import { catalogMetric, metricValue } from '../../src/core/metrics/catalog';
import { confusionCounts } from '../../src/core/metrics/confusion';
import { DISPARITIES, disparity, ratesOf } from '../../src/core/metrics/fairness';
import { chooseThreshold, SWEEP_THRESHOLDS, thresholdSweep } from '../../src/core/metrics/curves';
import { intersectionIndex } from '../../src/core/metrics/groups';
import { twoProportionPower } from '../../src/core/metrics/power';
import { Random } from '../../src/core/base/random';

const u8 = (xs: number[]) => Uint8Array.from(xs);
const f64 = (xs: number[]) => Float64Array.from(xs);

describe('threshold policies', () => {
  const labels = u8([1, 1, 0, 1, 0, 0]);
  const scores = f64([0.9, 0.8, 0.7, 0.6, 0.3, 0.1]);

  it("Youden's J picks the threshold maximising TPR − FPR", () => {
    // t=0.8: TPR 2/3, FPR 0 → 0.667; t=0.6: TPR 1, FPR 1/3 → 0.667 (tie: higher threshold wins)
    const chosen = chooseThreshold({ policy: 'youden' }, labels, scores, 'test.csv');
    expect(chosen.threshold).toBe(0.8);
    expect(chosen.objective).toBeCloseTo(2 / 3, 15);
    expect(chosen.chosen_on).toBe('test.csv');
  });

  it('a target selection rate picks the closest achievable rate', () => {
    expect(chooseThreshold({ policy: 'selection_rate', target: 0.5 }, labels, scores, 'x').threshold).toBe(0.7);
    expect(chooseThreshold({ policy: 'selection_rate', target: 0 }, labels, scores, 'x').threshold).toBeGreaterThan(0.9);
  });

  it('cost-sensitive picks the cheapest threshold', () => {
    // FN cost 10, FP cost 1: t=0.6 → FP 1, FN 0 → cost 1; any higher t leaves an FN (≥ 10)
    expect(chooseThreshold({ policy: 'cost', cost_fp: 1, cost_fn: 10 }, labels, scores, 'x').threshold).toBe(0.6);
    // FP cost 10: nothing positive costs 3 FN = 3; t=0.8 → FN 1 = 1
    expect(chooseThreshold({ policy: 'cost', cost_fp: 10, cost_fn: 1 }, labels, scores, 'x').threshold).toBe(0.8);
  });
});

describe('threshold sweep', () => {
  it('agrees with confusion counts at every one of the 101 thresholds, edge values included', () => {
    const random = new Random(3, 'sweep-test');
    const n = 2000;
    const labels = Uint8Array.from({ length: n }, () => (random.next() < 0.4 ? 1 : 0));
    // Half the scores sit exactly on a threshold, where floor(p·100) is off by one (0.29·100 = 28.999…).
    const scores = Float64Array.from({ length: n }, (_, i) => (i % 2 ? random.int(101) / 100 : random.next()));
    const sweep = thresholdSweep(labels, scores);
    SWEEP_THRESHOLDS.forEach((t, k) => {
      const c = confusionCounts(labels, scores, t);
      expect(sweep.selection_rate[k]).toBe((c.tp + c.fp) / n);
      expect(sweep.tpr[k]).toBe(c.tp / (c.tp + c.fn));
      expect(sweep.fpr[k]).toBe(c.fp / (c.fp + c.tn));
    });
  });
});

describe('disparity intervals', () => {
  // Newcombe (Stat Med 1998;17:873–890), Table II, method 10 (hybrid score), 95%.
  it.each([
    [56, 70, 48, 80, 0.0524, 0.3339],
    [9, 10, 3, 10, 0.1705, 0.809],
    [5, 56, 0, 29, -0.0381, 0.1926],
    [0, 10, 0, 20, -0.1611, 0.2775],
    [10, 10, 0, 20, 0.6791, 1.0],
  ])('Newcombe %i/%i − %i/%i matches the published interval', (x1, n1, x2, n2, low, high) => {
    const i = newcombeDifference(x1, n1, x2, n2, 0.95);
    expect(i.low).toBeCloseTo(low, 4);
    expect(i.high).toBeCloseTo(high, 4);
  });

  const counts = { big: { tp: 300, fp: 100, tn: 500, fn: 100 }, tiny: { tp: 1, fp: 0, tn: 0, fn: 0 } };

  it('gives a one-row group the wide interval its one row allows, and names it as the small driver', () => {
    const { intervals, drivers } = disparityIntervals(counts, 0.95, 30);
    const d = intervals.demographic_parity_difference!;
    // Selection rates 1 (1 row) and 0.4: the estimate 0.6, but one row cannot rule out much.
    expect(d.low).toBeLessThan(0.1);
    expect(d.high).toBeGreaterThanOrEqual(0.6);
    expect(d.method).toMatch(/^Newcombe/);
    expect(drivers.demographic_parity_difference).toEqual({ rate: 'selection_rate', high_group: 'tiny', low_group: 'big', small_groups: ['tiny'] });
    expect(drivers.demographic_parity_difference_to_overall!.low_group).toBe(ALL_ROWS);
  });

  it('contains every estimate it reports', () => {
    const groups = { a: { tp: 40, fp: 12, tn: 30, fn: 9 }, b: { tp: 3, fp: 0, tn: 2, fn: 1 }, c: { tp: 120, fp: 80, tn: 300, fn: 40 }, d: { tp: 0, fp: 0, tn: 4, fn: 0 } };
    const { intervals } = disparityIntervals(groups, 0.95, 30);
    const rates = Object.fromEntries(Object.entries(groups).map(([g, c]) => [g, ratesOf(c)]));
    for (const definition of DISPARITIES) {
      const value = disparity(definition, rates);
      const i = intervals[definition.id];
      if (value === null) expect(i).toBeNull();
      else {
        expect(i!.low, definition.id).toBeLessThanOrEqual(value);
        expect(i!.high, definition.id).toBeGreaterThanOrEqual(value);
      }
    }
  });
});

describe('binomial draws', () => {
  it('draws binomials with the right mean and variance on both paths', () => {
    const random = new Random(1, 'binomial');
    for (const [n, p] of [[20, 0.3], [10_000, 0.4]]) {
      const draws = Array.from({ length: 4000 }, () => random.binomial(n, p));
      const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
      const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / draws.length;
      expect(Math.abs(mean - n * p)).toBeLessThan(4 * Math.sqrt((n * p * (1 - p)) / draws.length));
      expect(variance / (n * p * (1 - p))).toBeGreaterThan(0.9);
      expect(variance / (n * p * (1 - p))).toBeLessThan(1.1);
    }
  });
});

describe('ECE interval', () => {
  it('is the same for the same seed, lies below the inflated estimate for a calibrated model and is made by test inversion', () => {
    const random = new Random(5, 'ece');
    const n = 2000;
    const scores = Float64Array.from({ length: n }, () => random.next());
    const labels = Uint8Array.from(scores, (s) => (random.next() < s ? 1 : 0));
    const summary = calibration(labels, scores, { bins: 10 });
    const a = eceInterval(summary.table, summary.expected_calibration_error, 0.95, 1, 'ece');
    expect(eceInterval(summary.table, summary.expected_calibration_error, 0.95, 1, 'ece')).toEqual(a);
    expect(a!.method).toMatch(/^test inversion/);
    // The binned ECE of a calibrated model is pure noise; the interval reaches down towards the true 0.
    expect(a!.low).toBeLessThan(summary.expected_calibration_error! / 2);
    expect(eceInterval(summary.table, summary.expected_calibration_error, 0.95, 1, 'ece', 0)).toBeNull();
  });
});

describe('statistical power', () => {
  it('matches the two-proportion formula worked by hand', () => {
    // n 360 vs 1492, p 0.391, δ 0.05: se0 = 0.028653, se1 = 0.028428 → Φ(−0.2167) + Φ(−3.74) ≈ 0.4142
    expect(twoProportionPower(360, 1492, 0.391)).toBeCloseTo(0.4142, 3);
    expect(twoProportionPower(100_000, 100_000, 0.5)).toBeCloseTo(1, 6);
    expect(twoProportionPower(0, 10, 0.5)).toBeNull();
  });
});

describe('intersections', () => {
  const table: Table = {
    source: 't.csv',
    rowCount: 4,
    columns: [
      { kind: 'categorical', name: 'race', codes: Int32Array.from([0, 0, 1, 1]), dictionary: ['A', 'B'], missing: 0 },
      { kind: 'categorical', name: 'sex', codes: Int32Array.from([0, 1, 0, 0]), dictionary: ['F', 'M'], missing: 0 },
    ],
  };

  it('groups by combined values and lists combinations with no rows', () => {
    const index = intersectionIndex(table, ['race', 'sex']);
    expect(index.attribute).toBe('race × sex');
    expect(index.groups).toEqual(['A × F', 'A × M', 'B × F']);
    expect(index.rows.map((r) => Array.from(r))).toEqual([[0], [1], [2, 3]]);
    expect(index.emptyCells).toEqual(['B × M']);
  });
});

describe('metric catalog', () => {
  it('refuses an unknown id, listing close matches', () => {
    expect(() => catalogMetric('roc_acu')).toThrow(AuditConfigError);
    expect(() => catalogMetric('roc_acu')).toThrow(/^unknown metric: "roc_acu" \(did you mean roc_auc\?\)\. Valid ids: accuracy, /);
  });

  it('takes the worst attribute when none is named', () => {
    const result = {
      performance: { roc_auc: 0.8 },
      calibration: { expected_calibration_error: 0.02 },
      fairness: { race: { demographic_parity_ratio: 0.7, demographic_parity_difference: 0.2 }, sex: { demographic_parity_ratio: 0.9, demographic_parity_difference: 0.3 } },
    };
    expect(metricValue(result, 'roc_auc')).toEqual({ value: 0.8 });
    expect(metricValue(result, 'demographic_parity_ratio')).toEqual({ value: 0.7, attribute: 'race' });
    expect(metricValue(result, 'demographic_parity_difference')).toEqual({ value: 0.3, attribute: 'sex' });
    expect(metricValue(result, 'demographic_parity_difference', 'race')).toEqual({ value: 0.2, attribute: 'race' });
    expect(() => metricValue(result, 'min_group_size', 'age')).toThrow('metric "min_group_size": the audit has no protected attribute "age" (attributes: race, sex).');
  });
});

describe('auditScores', () => {
  const table: Table = {
    source: 'edge.csv',
    rowCount: 6,
    columns: [{ kind: 'categorical', name: 'g', codes: Int32Array.from([0, 0, 0, 1, 1, 1]), dictionary: ['a', 'b'], missing: 0 }],
  };
  const settings: AuditSettings = {
    target: 'y', positive_label: '1', positive_label_convention: '', protected_attributes: ['g'], features: null,
    threshold_policy: { policy: 'fixed', threshold: 0.5 }, scores_are_probabilities: true, seed: 1, confidence: 0.95, bootstrap_resamples: 50,
    calibration_bins: 10, calibration_binning: 'equal-width', min_group_size: 30, power_difference: 0.05, intersections: [], slices: ['g'], reference_groups: {},
  };

  it('survives all-same predictions and a single class in the target', () => {
    const result = auditScores(table, u8([1, 1, 1, 1, 1, 1]), f64([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]), settings);
    expect(result.performance.roc_auc).toBeNull();
    expect(result.performance.intervals.roc_auc).toBeNull();
    expect(result.performance.accuracy).toBe(1);
    expect(result.fairness.g.fpr_difference).toBeNull();
    expect(result.fairness.g.groups.a.null_reasons.fpr).toBe('no actual negatives in the group');
    expect(result.slices.g.slices.a.roc_auc).toBeNull();
  });

  it('leaves every calibration error out, overall and per group, where the scores are not probabilities', () => {
    // Raw scores (a decile score, a margin): no p(y=1) to bin. A group's ECE of these was |mean(y) − mean(score)|, e.g. 4.68 for deciles.
    const scores = f64([1, 7, 3, 9, 2, 8]);
    const result = auditScores(table, u8([0, 1, 0, 1, 0, 1]), scores, { ...settings, scores_are_probabilities: false, threshold_policy: { policy: 'fixed', threshold: 5 } });
    expect(result.calibration.expected_calibration_error).toBeNull();
    for (const group of ['a', 'b']) {
      expect(result.fairness.g.groups[group].expected_calibration_error).toBeNull();
      expect(result.fairness.g.groups[group].null_reasons.expected_calibration_error).toBe('not computed: the scores are not probabilities');
      expect(result.calibration.groups.g[group].expected_calibration_error).toBeNull();
    }
    const probabilities = auditScores(table, u8([0, 1, 0, 1, 0, 1]), f64([0.1, 0.7, 0.3, 0.9, 0.2, 0.8]), settings);
    // Group a: rows 0–2, labels 0, 1, 0 at p 0.1, 0.7, 0.3, one row to a bin: (0.1 + 0.3 + 0.3) / 3.
    expect(probabilities.fairness.g.groups.a.expected_calibration_error).toBeCloseTo((0.1 + 0.3 + 0.3) / 3, 12);
  });

  it('refuses an unknown reference group', () => {
    expect(() => auditScores(table, u8([1, 0, 1, 0, 1, 0]), f64([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), { ...settings, reference_groups: { g: 'c' } })).toThrow(
      'fairness.reference_groups: "g" has no group "c" (groups: a, b).',
    );
  });
});
