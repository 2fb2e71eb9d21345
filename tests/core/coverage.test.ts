/**
 * Coverage of every interval method the reports print, against known truth.
 *
 * Wilson and the two-group disparity intervals (Newcombe, MOVER-R, a group against the
 * rest) are checked by exact enumeration over every outcome of the binomials (for groups up
 * to 300 rows; larger ones by simulation); the worst case over several groups, equalized
 * odds, the ROC AUC (logit DeLong) and the ECE (test inversion) by seeded simulation of
 * data with a known true value.
 *
 * The bar, per method: mean coverage over its grid of scenarios within 93–97% for a
 * nominal 95%, and no scenario below a floor (90%; discrete data make every method's
 * coverage oscillate with n and p, Wilson's included — Brown, Cai & DasGupta 2001). The
 * scenarios span groups of 5 to 5,000 rows, equal and unequal rates, rates near 0 and 1.
 *
 * The worst case over three or more comparisons (several groups, or TPR and FPR at once)
 * is held to a different upper edge, and this is a measured property, not a tuning: where
 * several pairs tie for the worst gap, the largest estimated gap is biased upward, so any
 * interval that keeps 95% where one pair dominates is conservative (97–99.5%) where pairs
 * tie. For those methods the bar is: no scenario under 95% − 2% and a mean of at most 98.5%.
 * What the test measured is written to tests/statistics/coverage.json for the README.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { calibration } from '../../src/core/metrics/calibration';
import { disparityIntervals, moverRatio, newcombeDifference } from '../../src/core/metrics/disparity-intervals';
import { eceInterval } from '../../src/core/metrics/ece-interval';
import { aucInterval, normalCdf, wilsonInterval } from '../../src/core/metrics/intervals';
import { rocAuc } from '../../src/core/metrics/ranking';
import { Random } from '../../src/core/base/random';

const LEVEL = 0.95;
const MEAN_BAND: [number, number] = [0.93, 0.97];
const FLOOR = 0.9;
const measured: Record<string, { scenario: string; coverage: number }[]> = {};

/** log of the binomial probabilities of 0…n successes. */
function binomialPmf(n: number, p: number): Float64Array {
  const pmf = new Float64Array(n + 1);
  if (p === 0 || p === 1) {
    pmf[p === 0 ? 0 : n] = 1;
    return pmf;
  }
  let logC = 0;
  for (let x = 0; x <= n; x++) {
    if (x > 0) logC += Math.log((n - x + 1) / x);
    pmf[x] = Math.exp(logC + x * Math.log(p) + (n - x) * Math.log(1 - p));
  }
  return pmf;
}

/** Exact coverage for two binomial groups: Σ P(x1) P(x2) 1[truth in interval(x1, x2)]. */
function exactTwoGroup(n1: number, p1: number, n2: number, p2: number, covers: (x1: number, x2: number) => boolean | null): number {
  const a = binomialPmf(n1, p1);
  const b = binomialPmf(n2, p2);
  let hit = 0;
  let defined = 0;
  for (let x1 = 0; x1 <= n1; x1++) {
    if (a[x1] < 1e-12) continue;
    for (let x2 = 0; x2 <= n2; x2++) {
      const w = a[x1] * b[x2];
      if (w < 1e-14) continue;
      const c = covers(x1, x2);
      if (c === null) continue;
      defined += w;
      if (c) hit += w;
    }
  }
  return hit / defined;
}

/**
 * The disparity intervals the audit reports for two groups of n1 and n2 rows with x1 and x2
 * selected, each computed once per group sizes: the rate pairs of a scenario grid share them
 * (only the true value differs), so each interval is computed once rather than once per pair.
 */
function twoGroupIntervals(n1: number, n2: number): (x1: number, x2: number) => ReturnType<typeof disparityIntervals>['intervals'] {
  const known = new Map<number, ReturnType<typeof disparityIntervals>['intervals']>();
  return (x1, x2) => {
    const key = x1 * (n2 + 1) + x2;
    let intervals = known.get(key);
    if (!intervals) {
      const counts = { a: { tp: x1, fp: 0, tn: n1 - x1, fn: 0 }, b: { tp: x2, fp: 0, tn: n2 - x2, fn: 0 } };
      intervals = disparityIntervals(counts, LEVEL, 30).intervals;
      known.set(key, intervals);
    }
    return intervals;
  };
}

function record(method: string, scenario: string, coverage: number) {
  (measured[method] ??= []).push({ scenario, coverage });
}

function expectCalibrated(method: string, band: [number, number] = MEAN_BAND, floor = FLOOR) {
  const rows = measured[method];
  const mean = rows.reduce((s, r) => s + r.coverage, 0) / rows.length;
  const low = rows.filter((r) => r.coverage < floor).map((r) => `${r.scenario}: ${r.coverage.toFixed(3)}`);
  expect(low, `${method}: scenarios under ${floor}`).toEqual([]);
  expect(mean, `${method}: mean coverage ${mean.toFixed(4)} over ${rows.length} scenarios`).toBeGreaterThanOrEqual(band[0]);
  expect(mean, `${method}: mean coverage ${mean.toFixed(4)} over ${rows.length} scenarios`).toBeLessThanOrEqual(band[1]);
}

const inside = (i: { low: number; high: number } | null, truth: number) => (i === null ? null : i.low <= truth + 1e-12 && truth <= i.high + 1e-12);
const SIZES = [5, 10, 30, 100, 300];
const PAIRS: [number, number][] = [[0.3, 0.3], [0.5, 0.5], [0.1, 0.1], [0.2, 0.5], [0.1, 0.15], [0.5, 0.9], [0.05, 0.2], [0.4, 0.45]];

describe('coverage of the 95% intervals', () => {
  afterAll(() => {
    const summary = Object.fromEntries(
      Object.entries(measured).map(([method, rows]) => [
        method,
        {
          scenarios: rows.length,
          mean: Number((rows.reduce((s, r) => s + r.coverage, 0) / rows.length).toFixed(4)),
          min: Number(Math.min(...rows.map((r) => r.coverage)).toFixed(4)),
          max: Number(Math.max(...rows.map((r) => r.coverage)).toFixed(4)),
          rows: rows.map((r) => ({ ...r, coverage: Number(r.coverage.toFixed(4)) })),
        },
      ]),
    );
    if (process.env.PLUMBLINE_WRITE_COVERAGE) writeFileSync('tests/statistics/coverage.json', `${JSON.stringify(summary, null, 1)}\n`);
  });

  it('Wilson (every group rate and overall rate): exact enumeration', () => {
    for (const n of [5, 10, 30, 100, 500, 5000]) {
      for (const p of [0.05, 0.1, 0.3, 0.5, 0.7, 0.9]) {
        const pmf = binomialPmf(n, p);
        let c = 0;
        for (let x = 0; x <= n; x++) if (inside(wilsonInterval(x, n, LEVEL), p)) c += pmf[x];
        record('wilson', `n=${n} p=${p}`, c);
      }
    }
    expectCalibrated('wilson');
  });

  it('Newcombe (difference of two groups, folded onto |p1 − p2|): exact enumeration', () => {
    for (const n1 of SIZES) {
      for (const n2 of SIZES.filter((n) => n >= n1)) {
        const intervalsOf = twoGroupIntervals(n1, n2);
        for (const [p1, p2] of PAIRS) {
          const truth = Math.abs(p1 - p2);
          const cov = exactTwoGroup(n1, p1, n2, p2, (x1, x2) => inside(intervalsOf(x1, x2).demographic_parity_difference, truth));
          record('newcombe', `n=${n1}/${n2} p=${p1}/${p2}`, cov);
        }
      }
    }
    expectCalibrated('newcombe');
  });

  it('MOVER-R (ratio of two groups, folded onto min / max): exact enumeration', () => {
    for (const n1 of SIZES) {
      for (const n2 of SIZES.filter((n) => n >= n1)) {
        const intervalsOf = twoGroupIntervals(n1, n2);
        for (const [p1, p2] of PAIRS) {
          const truth = Math.min(p1, p2) / Math.max(p1, p2);
          const cov = exactTwoGroup(n1, p1, n2, p2, (x1, x2) => inside(intervalsOf(x1, x2).demographic_parity_ratio, truth));
          record('mover-r', `n=${n1}/${n2} p=${p1}/${p2}`, cov);
        }
      }
    }
    expectCalibrated('mover-r');
    // The building blocks agree with their own definitions on a published example's counts.
    expect(newcombeDifference(56, 70, 48, 80, LEVEL).low).toBeCloseTo(0.0524, 4);
    expect(moverRatio(48, 80, 56, 70, LEVEL).low).toBeLessThan(0.75);
  });

  it('the worst case over several groups, equalized odds and the gap to the overall rate: simulation', () => {
    const random = new Random(2026, 'coverage/groups');
    const scenarios: { sizes: number[]; tpr: number[]; fpr: number[]; base: number }[] = [
      { sizes: [50, 50], tpr: [0.6, 0.6], fpr: [0.2, 0.2], base: 0.4 },
      { sizes: [30, 500], tpr: [0.5, 0.7], fpr: [0.1, 0.2], base: 0.3 },
      { sizes: [5000, 5000], tpr: [0.7, 0.72], fpr: [0.1, 0.1], base: 0.3 },
      { sizes: [20, 50, 200], tpr: [0.6, 0.6, 0.6], fpr: [0.2, 0.2, 0.2], base: 0.5 },
      { sizes: [20, 50, 200], tpr: [0.4, 0.6, 0.8], fpr: [0.1, 0.2, 0.3], base: 0.5 },
      { sizes: [100, 100, 100, 100, 100], tpr: [0.5, 0.5, 0.5, 0.5, 0.5], fpr: [0.2, 0.2, 0.2, 0.2, 0.2], base: 0.4 },
      { sizes: [100, 100, 100, 100, 100], tpr: [0.3, 0.5, 0.5, 0.5, 0.5], fpr: [0.2, 0.2, 0.2, 0.2, 0.4], base: 0.4 },
      { sizes: [300, 1000, 3000, 40], tpr: [0.6, 0.65, 0.7, 0.6], fpr: [0.15, 0.15, 0.2, 0.1], base: 0.35 },
      { sizes: [1000, 1000, 1000, 1000, 1000, 1000], tpr: [0.7, 0.7, 0.72, 0.7, 0.7, 0.7], fpr: [0.1, 0.1, 0.1, 0.1, 0.12, 0.1], base: 0.3 },
    ];
    const reps = 800;
    for (const s of scenarios) {
      const label = `sizes=${s.sizes.join('/')} tpr=${s.tpr.join('/')} fpr=${s.fpr.join('/')}`;
      // Known truth: expected counts per group, rates from them; the overall rate weights groups by expected size.
      const positives = s.sizes.map((n) => n * s.base);
      const negatives = s.sizes.map((n) => n * (1 - s.base));
      const sel = s.sizes.map((_, g) => s.base * s.tpr[g] + (1 - s.base) * s.fpr[g]);
      const spread = (v: number[]) => Math.max(...v) - Math.min(...v);
      const truthDp = spread(sel);
      const truthRatio = Math.min(...sel) / Math.max(...sel);
      const truthEo = Math.max(spread(s.tpr), spread(s.fpr));
      const overallTpr = s.tpr.reduce((a, t, g) => a + t * positives[g], 0) / positives.reduce((a, b) => a + b, 0);
      const overallFpr = s.fpr.reduce((a, f, g) => a + f * negatives[g], 0) / negatives.reduce((a, b) => a + b, 0);
      const truthEoOverall = Math.max(...s.tpr.map((t) => Math.abs(t - overallTpr)), ...s.fpr.map((f) => Math.abs(f - overallFpr)));
      const hits = { dp: [0, 0], ratio: [0, 0], eo: [0, 0], overall: [0, 0] };
      for (let r = 0; r < reps; r++) {
        const counts: Record<string, { tp: number; fp: number; tn: number; fn: number }> = {};
        s.sizes.forEach((n, g) => {
          const pos = random.binomial(n, s.base);
          const tp = random.binomial(pos, s.tpr[g]);
          const fp = random.binomial(n - pos, s.fpr[g]);
          counts[`g${g}`] = { tp, fn: pos - tp, fp, tn: n - pos - fp };
        });
        const { intervals } = disparityIntervals(counts, LEVEL, 30);
        // A group without positives (or negatives) leaves its TPR (FPR) undefined; the truth is then over the others, so skip such draws.
        if (Object.values(counts).some((c) => c.tp + c.fn === 0 || c.fp + c.tn === 0)) continue;
        for (const [key, id, truth] of [['dp', 'demographic_parity_difference', truthDp], ['ratio', 'demographic_parity_ratio', truthRatio], ['eo', 'equalized_odds_difference', truthEo], ['overall', 'equalized_odds_difference_to_overall', truthEoOverall]] as const) {
          const c = inside(intervals[id], truth);
          if (c === null) continue;
          hits[key][1]++;
          if (c) hits[key][0]++;
        }
      }
      record('worst case over groups (difference)', label, hits.dp[0] / hits.dp[1]);
      record('worst case over groups (ratio)', label, hits.ratio[0] / hits.ratio[1]);
      record('equalized odds (worst of TPR and FPR)', label, hits.eo[0] / hits.eo[1]);
      record('gap to the overall rate', label, hits.overall[0] / hits.overall[1]);
    }
    for (const m of ['worst case over groups (difference)', 'worst case over groups (ratio)', 'equalized odds (worst of TPR and FPR)', 'gap to the overall rate']) expectCalibrated(m, [0.95, 0.985], 0.93);
  });

  it('ROC AUC (DeLong standard error, logit scale): simulation with binormal scores', () => {
    const random = new Random(2026, 'coverage/auc');
    const reps = 1000;
    for (const [positives, negatives, shift] of [[20, 20, 1], [20, 80, 2], [30, 30, 2.5], [50, 50, 1], [100, 400, 0.5], [100, 100, 3], [500, 500, 1.5], [2000, 3000, 1]] as const) {
      const truth = normalCdf(shift / Math.SQRT2);
      let hit = 0;
      const labels = new Uint8Array(positives + negatives).fill(1, 0, positives);
      const scores = new Float64Array(positives + negatives);
      for (let r = 0; r < reps; r++) {
        for (let i = 0; i < scores.length; i++) scores[i] = (i < positives ? shift : 0) + random.normal();
        const auc = rocAuc(labels, scores)!;
        if (inside(aucInterval(auc.auc, auc.standardError, positives, negatives, LEVEL), truth)) hit++;
      }
      record('roc auc', `${positives}+${negatives} auc=${truth.toFixed(3)}`, hit / reps);
    }
    expectCalibrated('roc auc');
  });

  it('ECE (test inversion): simulation with a known calibration curve', () => {
    const random = new Random(2026, 'coverage/ece');
    const reps = 150;
    for (const shift of [0, 0.2, 0.6, 1]) {
      // y ~ Bernoulli(s + shift·s(1 − s)), s uniform: the true binned ECE is 0.1 Σ_b |mean of shift·s(1 − s) over bin b|.
      let truth = 0;
      for (let b = 0; b < 10; b++) {
        let m = 0;
        for (let k = 0; k < 1000; k++) {
          const s = (b + (k + 0.5) / 1000) / 10;
          m += shift * s * (1 - s);
        }
        truth += 0.1 * Math.abs(m / 1000);
      }
      for (const n of [200, 2000, 20000]) {
        let hit = 0;
        for (let r = 0; r < reps; r++) {
          const scores = Float64Array.from({ length: n }, () => random.next());
          const labels = Uint8Array.from(scores, (s) => (random.next() < s + shift * s * (1 - s) ? 1 : 0));
          const summary = calibration(labels, scores, { bins: 10 });
          if (inside(eceInterval(summary.table, summary.expected_calibration_error, LEVEL, r, 'coverage', 400), truth)) hit++;
        }
        record('ece', `n=${n} true ece=${truth.toFixed(4)}`, hit / reps);
      }
    }
    expectCalibrated('ece');
  });

});
