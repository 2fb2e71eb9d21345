import { describe, expect, it } from 'vitest';
import { calibration } from '../../src/core/metrics/calibration';
import { confusionCounts, f1Score, RATE_METRICS, ratio } from '../../src/core/metrics/confusion';
import { attributeFairness } from '../../src/core/metrics/fairness';
import { aucInterval, normalQuantile, wilsonInterval } from '../../src/core/metrics/intervals';
import { averagePrecision, brierScore, logLoss, rocAuc } from '../../src/core/metrics/ranking';

// Hand-computed cases: each expected number is worked out in the comment beside it.
const u8 = (xs: number[]) => Uint8Array.from(xs);
const f64 = (xs: number[]) => Float64Array.from(xs);

describe('ROC AUC', () => {
  it('counts ties half', () => {
    // positives {0.5, 0.8}, negatives {0.5, 0.2}: pairs (0.5,0.5)=½, (0.5,0.2)=1, (0.8,·)=1+1 → 3.5/4
    expect(rocAuc(u8([1, 1, 0, 0]), f64([0.5, 0.8, 0.5, 0.2]))!.auc).toBe(0.875);
  });

  it('is ½ when every score is the same, and undefined with a single class', () => {
    expect(rocAuc(u8([1, 0, 1, 0]), f64([0.3, 0.3, 0.3, 0.3]))!.auc).toBe(0.5);
    expect(rocAuc(u8([1, 1, 1]), f64([0.1, 0.5, 0.9]))).toBeNull();
  });

  it('has DeLong standard error 0 for a perfect separation', () => {
    // V10 = (1, 1), V01 = (1, 1): both variances are 0.
    const estimate = rocAuc(u8([1, 1, 0, 0]), f64([0.9, 0.8, 0.2, 0.1]))!;
    expect(estimate.auc).toBe(1);
    expect(estimate.standardError).toBe(0);
  });

  it('gives an AUC with DeLong se 0 (a perfect or inverted split, constant scores) the score interval under the largest variance an AUC can have, narrowing as the rows grow', () => {
    const z = normalQuantile(0.975);
    // Van Dantzig's bound A(1 − A)/k, k = min(m, n): (Â − A)² = z²·A(1 − A)/k at Â = 1 gives A = k/(k + z²).
    for (const [m, n] of [[10, 10], [100, 100], [1000, 1000], [30, 500]] as const) {
      const k = Math.min(m, n);
      const perfect = aucInterval(1, 0, m, n);
      expect(perfect.high).toBe(1);
      expect(perfect.low).toBeCloseTo(k / (k + z * z), 12);
      const inverted = aucInterval(0, 0, m, n);
      expect(inverted.low).toBe(0);
      expect(inverted.high).toBeCloseTo((z * z) / (k + z * z), 12);
    }
    // Constant scores: Â = ½, the roots of (½ − A)² = z²·A(1 − A)/k.
    const k = 100;
    const half = aucInterval(0.5, 0, 100, 400);
    const root = (sign: number) => (2 * k * 0.5 + z * z + sign * z * Math.sqrt(z * z + 4 * k * 0.25)) / (2 * (k + z * z));
    expect(half.low).toBeCloseTo(root(-1), 12);
    expect(half.high).toBeCloseTo(root(1), 12);
  });

  it('matches the DeLong variance worked by hand', () => {
    // positives 0.9, 0.4; negatives 0.6, 0.1. V10 = (1, 0.5), V01 = (1 − 0.5, 1 − 1) = (0.5, 0)
    // AUC = 0.75; S10 = var(1, .5) = 0.125; S01 = var(.5, 0) = 0.125; se² = .125/2 + .125/2 = 0.125
    const estimate = rocAuc(u8([1, 0, 1, 0]), f64([0.9, 0.6, 0.4, 0.1]))!;
    expect(estimate.auc).toBe(0.75);
    expect(estimate.standardError).toBeCloseTo(Math.sqrt(0.125), 15);
  });
});

describe('average precision, log loss, Brier', () => {
  it('steps over distinct thresholds (scikit-learn convention)', () => {
    // sorted: 0.9(1) 0.8(0) 0.7(1) 0.1(0): recall .5 @ P 1, recall 1 @ P 2/3 → .5·1 + .5·2/3
    expect(averagePrecision(u8([1, 0, 1, 0]), f64([0.9, 0.8, 0.7, 0.1]))).toBeCloseTo(0.5 + 1 / 3, 15);
    // a tie between a positive and a negative is one threshold: recall 1 @ P ½
    expect(averagePrecision(u8([1, 0]), f64([0.5, 0.5]))).toBe(0.5);
    expect(averagePrecision(u8([0, 0]), f64([0.5, 0.5]))).toBeNull();
  });

  it('clips p in log loss as scikit-learn 1.2 does (eps=\'auto\': the double\'s epsilon), at and near 0 and 1 (tests/statistics/build_log_loss_clip.py)', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { projectRoot } = await import('../support/fixtures');
    const reference = JSON.parse(readFileSync(join(projectRoot, 'tests/statistics/log_loss_clip.json'), 'utf8')) as { cases: { labels: number[]; p: number[]; log_loss: number }[] };
    for (const { labels, p, log_loss } of reference.cases) expect(Math.abs(logLoss(u8(labels), f64(p))! - log_loss), JSON.stringify(p)).toBeLessThan(1e-12);
  });

  it('is the mean squared error of p', () => {
    expect(brierScore(u8([1, 0]), f64([0.75, 0.5]))).toBe((0.0625 + 0.25) / 2);
  });
});

describe('rates and undefined denominators', () => {
  it('predicted positive means score >= threshold', () => {
    expect(confusionCounts(u8([1, 0, 1]), f64([0.5, 0.5, 0.49]), 0.5)).toEqual({ tp: 1, fp: 1, tn: 0, fn: 1 });
  });

  it('returns null, not 0, for an empty denominator', () => {
    const counts = confusionCounts(u8([0, 0]), f64([0.1, 0.2]), 0.5);
    expect(ratio(RATE_METRICS.tpr.parts(counts))).toBeNull();
    expect(ratio(RATE_METRICS.precision.parts(counts))).toBeNull();
    expect(ratio(RATE_METRICS.fpr.parts(counts))).toBe(0);
    expect(f1Score(counts)).toBeNull();
  });
});

describe('fairness aggregation', () => {
  const options = { threshold: 0.5, confidence: 0.95, minGroupSize: 3, bins: 10, probabilities: true };
  // group a: labels 1,1,0 scores .9,.2,.6 → TP1 FN1 FP1 TN0: sel 2/3, tpr ½, fpr 1
  // group b: labels 0,0   scores .7,.1    → FP1 TN1:       sel ½,  tpr null, fpr ½
  const labels = u8([1, 1, 0, 0, 0]);
  const scores = f64([0.9, 0.2, 0.6, 0.7, 0.1]);
  const index = { attribute: 'g', groups: ['a', 'b'], rows: [Uint32Array.from([0, 1, 2]), Uint32Array.from([3, 4])], groupOf: Int32Array.from([0, 0, 0, 1, 1]) };
  const result = attributeFairness(labels, scores, index, options);

  it('leaves a group without positives out of TPR differences', () => {
    expect(result.groups.b.tpr).toBeNull();
    expect(result.equal_opportunity_difference).toBeNull();
    // ΔTPR undefined, ΔFPR = 1 − ½
    expect(result.equalized_odds_difference).toBe(0.5);
  });

  it('computes parity difference and ratio and flags small groups', () => {
    expect(result.demographic_parity_difference).toBeCloseTo(2 / 3 - 1 / 2, 15);
    expect(result.demographic_parity_ratio).toBeCloseTo(0.5 / (2 / 3), 15);
    expect(result.min_group_size).toBe(2);
    expect(result.groups.a.insufficient_samples).toBe(false);
    expect(result.groups.b.insufficient_samples).toBe(true);
    // four-fifths: reference a (largest), ratio b = 0.75 < 0.8
    expect(result.four_fifths_rule.reference_group).toBe('a');
    expect(result.four_fifths_rule.violations).toEqual(['b']);
  });

  it('holds the four-fifths rule against the highest selection rate (EEOC), not the largest group', () => {
    // Group big: 10 rows, 4 selected; group small: 4 rows, 3 selected. Rates counted from the rows below.
    const selected = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0];
    const scoresEeoc = f64(selected.map((s) => (s ? 0.9 : 0.1)));
    const labelsEeoc = u8(selected.map((_, i) => i % 2));
    const rows = (from: number, to: number) => Uint32Array.from({ length: to - from }, (_, k) => from + k);
    const eeocIndex = { attribute: 'g', groups: ['big', 'small'], rows: [rows(0, 10), rows(10, 14)], groupOf: Int32Array.from(selected.map((_, i) => (i < 10 ? 0 : 1))) };
    const rate = (from: number, to: number) => selected.slice(from, to).reduce((a, b) => a + b, 0) / (to - from);
    const eeoc = attributeFairness(labelsEeoc, scoresEeoc, eeocIndex, options).four_fifths_rule;
    expect(eeoc.reference_group).toBe('small');
    expect(eeoc.basis).toBe('the group with the highest selection rate (EEOC Uniform Guidelines)');
    expect(eeoc.ratios.big).toBe(rate(0, 10) / rate(10, 14));
    expect(eeoc.violations).toEqual(['big']);
    // A configured reference group replaces it, and says so.
    const configured = attributeFairness(labelsEeoc, scoresEeoc, eeocIndex, { ...options, referenceGroups: { g: 'big' } }).four_fifths_rule;
    expect([configured.reference_group, configured.basis, configured.violations]).toEqual(['big', 'the configured reference group (fairness.reference_groups)', []]);
  });
});

describe('calibration', () => {
  it('puts p = 1 in the last bin and an edge value in the bin above', () => {
    // p 0.1 → bin 1 ([0.1, 0.2)), p 1 → bin 9 (closed), p 0.95 → bin 9
    const summary = calibration(u8([0, 1, 1]), f64([0.1, 1, 0.95]), { bins: 10 });
    expect(summary.table[1].n).toBe(1);
    expect(summary.table[9].n).toBe(2);
    // bin 1: |0 − 0.1| = 0.1, weight 1/3; bin 9: |1 − 0.975| = 0.025, weight 2/3
    expect(summary.expected_calibration_error).toBeCloseTo(0.1 / 3 + (0.025 * 2) / 3, 15);
    expect(summary.maximum_calibration_error).toBeCloseTo(0.1, 15);
  });
});

describe('equal-frequency calibration', () => {
  it('puts edges at the sorted scores of rank ⌊k·n/B⌋ and merges duplicates', () => {
    // scores sorted .1 .2 .2 .4 .5 .6, B = 3: edges 0, s[2] = .2, s[4] = .5
    const summary = calibration(u8([0, 0, 1, 1, 0, 1]), f64([0.4, 0.1, 0.2, 0.6, 0.2, 0.5]), { bins: 3, binning: 'equal-frequency' });
    expect(summary.table.map((b) => [b.lower, b.upper, b.n])).toEqual([[0, 0.2, 1], [0.2, 0.5, 3], [0.5, 1, 2]]);
    // bins: {.1:0} gap .1 ; {.4:0,.2:1,.2:0} mean p .2667 vs 1/3 ; {.6:1,.5:1} mean .55 vs 1
    expect(summary.expected_calibration_error).toBeCloseTo((0.1 + 3 * Math.abs(1 / 3 - 0.8 / 3) + 2 * 0.45) / 6, 15);
    expect(summary.binning).toMatch(/^equal-frequency/);
    // Duplicate edges merge: all scores equal → one bin.
    expect(calibration(u8([0, 1]), f64([0.3, 0.3]), { bins: 5, binning: 'equal-frequency' }).table).toHaveLength(1);
  });
});

describe('intervals', () => {
  it('uses the standard normal quantile', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 8);
  });

  it('gives the Wilson interval worked by hand', () => {
    // 0 of 10 at 95%: low 0, high = z²/(n + z²) = 3.8415/13.8415
    const z2 = normalQuantile(0.975) ** 2;
    expect(wilsonInterval(0, 10)!.low).toBe(0);
    expect(wilsonInterval(0, 10)!.high).toBeCloseTo(z2 / (10 + z2), 12);
    expect(wilsonInterval(0, 0)).toBeNull();
  });
});

describe('performance metrics that are undefined', () => {
  it('are null with the reason (they were bare nulls): a single class, nothing predicted positive, scores that are not probabilities', async () => {
    const { performance } = await import('../../src/core/metrics/performance');
    const negativesOnly = performance(u8([0, 0, 0, 0]), f64([0.2, 0.7, 0.4, 0.9]), 0.5);
    expect(negativesOnly.null_reasons).toEqual({
      recall: 'the data holds no positive rows, so recall divides by 0',
      balanced_accuracy: 'the data holds no positive rows: balanced accuracy averages the recall of both classes',
      roc_auc: 'the data holds no positive rows: ROC AUC ranks positive rows against negative ones',
      average_precision: 'the data holds no positive rows, so average precision is undefined',
    });
    // f1 is 0 here (2·0 / (0 + 2 + 0)): defined, so no reason.
    expect(negativesOnly.f1).toBe(0);
    const positivesOnly = performance(u8([1, 1, 1]), f64([0.1, 0.2, 0.3]), 0.5);
    expect(positivesOnly.null_reasons).toMatchObject({ precision: 'no row is predicted positive (no score reaches the threshold), so precision divides by 0', specificity: 'the data holds no negative rows, so specificity divides by 0', roc_auc: 'the data holds no negative rows: ROC AUC ranks positive rows against negative ones' });
    const deciles = performance(u8([1, 0, 1, 0]), f64([8, 3, 6, 2]), 5, 0.95, false);
    expect(deciles.null_reasons).toEqual({ log_loss: 'not computed: the scores are not probabilities', brier_score: 'not computed: the scores are not probabilities' });
    // Every metric that has a value has no reason.
    expect(performance(u8([1, 0, 1, 0]), f64([0.8, 0.3, 0.6, 0.2]), 0.5)).not.toHaveProperty('null_reasons');
  });
});
