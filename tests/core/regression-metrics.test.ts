import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GroupIndex } from '../../src/core/metrics/groups';
import { ksStatistic, permutationPValue, regressionFairness, regressionPerformance, wassersteinDistance } from '../../src/core/metrics/regression';
import { Random } from '../../src/core/base/random';
import { projectRoot } from '../support/fixtures';

// Regression metrics fed the training library's predictions (xgboost's for reg_xgb,
// scikit-learn's for reg_linear), against scikit-learn / scipy / numpy on the same
// predictions (tests/models/build_multiclass_regression.py → <model>.expected.json).
type Nullable = number | null;
interface GroupRef {
  n: number;
  mean_prediction: number;
  mean_outcome: number;
  mae: number;
  rmse: number;
  mse: number;
  r2: number;
  median_absolute_error: number;
  mape: number;
  calibration: { bin: number; n: number; mean_prediction: Nullable; mean_outcome: Nullable }[];
}
interface Reference {
  data: string;
  target: string;
  protected: string[];
  predictions: number[];
  metrics: Record<string, number> & {
    decile_edges: number[];
    fairness: Record<string, { groups: Record<string, GroupRef>; pairs: { groups: [string, string]; ks_statistic: number; ks_pvalue_scipy: number; wasserstein_distance: number }[] } & Record<string, Nullable>>;
  };
}

/** Equal within 1e-9, relative above 1 (credit amounts are in the thousands: 1e-9 absolute on an MSE of 4e6 is below one ulp). */
function close(got: Nullable | undefined, want: Nullable, what: string) {
  if (want === null) return expect(got, what).toBeNull();
  expect(got, what).toBeTypeOf('number');
  expect(Math.abs((got as number) - want), `${what}: got ${got}, reference ${want}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want)));
}

/** A CSV without quoted cells, as columns of strings (blank = ''). */
function readCsv(path: string): Record<string, string[]> {
  const [header, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  const names = header.split(',');
  const columns: Record<string, string[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (const line of lines) line.split(',').forEach((cell, c) => columns[names[c]].push(cell));
  return columns;
}

/** Rows of each value of a column, built here without the library's table code. */
function groupsOf(attribute: string, values: string[]): GroupIndex {
  const groups = [...new Set(values.map((v) => (v === '' ? '(missing)' : v)))].sort();
  const groupOf = Int32Array.from(values, (v) => groups.indexOf(v === '' ? '(missing)' : v));
  const rows = groups.map((_, g) => Uint32Array.from(values.flatMap((_, i) => (groupOf[i] === g ? [i] : []))));
  return { attribute, groups, rows, groupOf };
}

for (const name of ['reg_xgb', 'reg_linear']) {
  const reference = JSON.parse(readFileSync(join(projectRoot, 'tests/models', `${name}.expected.json`), 'utf8')) as Reference;
  const csv = readCsv(join(projectRoot, 'tests/models', reference.data));
  const y = Float64Array.from(csv[reference.target], Number);
  const predicted = Float64Array.from(reference.predictions);
  const m = reference.metrics;

  describe(`regression metrics of ${name} against scikit-learn and scipy`, () => {
    it('gives scikit-learn’s MAE, RMSE, R², median absolute error and MAPE', () => {
      const got = regressionPerformance(y, predicted);
      expect(got.n).toBe(m.n);
      for (const key of ['mae', 'rmse', 'r2', 'median_absolute_error', 'mape'] as const) close(got[key], m[key], key);
      expect(got.null_reasons).toEqual({});
    });

    for (const attribute of reference.protected) {
      it(`gives the reference group metrics, disparities, distances and decile calibration for ${attribute}`, () => {
        const want = m.fairness[attribute];
        const got = regressionFairness(y, predicted, groupsOf(attribute, csv[attribute]), { seed: 7, permutations: 200 });
        got.decile_edges.forEach((edge, k) => close(edge, m.decile_edges[k], `decile edge ${k}`));
        expect(Object.keys(got.groups)).toEqual(Object.keys(want.groups));
        for (const [group, w] of Object.entries(want.groups)) {
          const g = got.groups[group];
          expect(g.n).toBe(w.n);
          for (const key of ['mean_prediction', 'mean_outcome', 'mae', 'rmse', 'mse', 'r2', 'median_absolute_error', 'mape'] as const) close(g[key], w[key], `${group} ${key}`);
          expect(g.calibration.map((b) => b.n), `${group} decile counts`).toEqual(w.calibration.map((b) => b.n));
          g.calibration.forEach((b, k) => {
            close(b.mean_prediction, w.calibration[k].mean_prediction, `${group} decile ${k} mean prediction`);
            close(b.mean_outcome, w.calibration[k].mean_outcome, `${group} decile ${k} mean outcome`);
          });
        }
        for (const key of ['mean_prediction_difference', 'mean_prediction_ratio', 'mean_outcome_difference', 'mean_outcome_ratio', 'mae_difference', 'rmse_difference', 'bounded_group_loss'] as const) close(got[key], want[key], key);
        expect(got.pairs.map((p) => p.groups)).toEqual(want.pairs.map((p) => p.groups));
        got.pairs.forEach((pair, k) => {
          close(pair.ks_statistic, want.pairs[k].ks_statistic, `${pair.groups.join(' vs ')} KS`);
          close(pair.wasserstein_distance, want.pairs[k].wasserstein_distance, `${pair.groups.join(' vs ')} Wasserstein`);
        });
        close(got.ks_statistic.value, want.ks_statistic, 'worst-pair KS');
        close(got.wasserstein_distance.value, want.wasserstein_distance, 'worst-pair Wasserstein');
        for (const worst of [got.ks_statistic, got.wasserstein_distance]) {
          expect(worst.p_value).toBeGreaterThan(0);
          expect(worst.p_value).toBeLessThanOrEqual(1);
        }
      });
    }
  });
}

describe('permutation p-value of the KS statistic', () => {
  const reference = JSON.parse(readFileSync(join(projectRoot, 'tests/models/reg_linear.expected.json'), 'utf8')) as Reference;
  const csv = readCsv(join(projectRoot, 'tests/models', reference.data));
  const predicted = Float64Array.from(reference.predictions);
  const sample = (group: string) => Float64Array.from(predicted.filter((_, i) => csv.gender[i] === group)).sort();

  it('is the same for the same seed and agrees with scipy’s ks_2samp p-value within the Monte-Carlo error', () => {
    const [a, b] = [sample('female'), sample('male')];
    const scipy = reference.metrics.fairness.gender.pairs[0].ks_pvalue_scipy;
    const p = permutationPValue(a, b, ksStatistic, 2000, new Random(7, 'test'));
    expect(permutationPValue(a, b, ksStatistic, 2000, new Random(7, 'test'))).toBe(p);
    // Predictions of a linear model have no ties, so the permutation and scipy's test share
    // the null distribution; 4 standard errors of a 2,000-shuffle estimate.
    expect(Math.abs(p! - scipy)).toBeLessThan(4 * Math.sqrt((scipy * (1 - scipy)) / 2000) + 1 / 2001);
  });
});

describe('regression metrics where they are undefined', () => {
  it('gives MAPE null with the count when an outcome is ≤ 0, and R² null for a constant outcome', () => {
    const got = regressionPerformance(Float64Array.from([2, 0, -1]), Float64Array.from([1, 1, 1]));
    expect(got.mape).toBeNull();
    expect(got.null_reasons.mape).toBe('2 of 3 outcomes are ≤ 0; a percentage error needs a positive outcome');
    const constant = regressionPerformance(Float64Array.from([3, 3]), Float64Array.from([1, 2]));
    expect(constant.r2).toBeNull();
    expect(constant.null_reasons.r2).toContain('the outcome is the same on every row');
  });

  it('gives a metric that overflows a double null with the reason, never ∞ (null in JSON without a word) or an R² of 1', () => {
    // Errors of 1e200: their squares (1e400) are past the largest double (1.8e308); the absolute errors are not.
    const huge = regressionPerformance(Float64Array.from([1e200, 3e200, 5e200]), Float64Array.from([2e200, 2e200, 6e200]));
    for (const key of ['rmse', 'mse', 'r2'] as const) {
      expect(huge[key], key).toBeNull();
      expect(huge.null_reasons[key], key).toBe('the squared errors overflow a double (outcomes or predictions as large as 6.00e+200): rescale the outcome (e.g. to thousands) and audit again');
    }
    expect(huge.mae! / 1e200).toBeCloseTo(1, 12);
    expect(huge.mape).toBeCloseTo((1 + 1 / 3 + 1 / 5) / 3, 12);
    // Errors small enough to square, outcomes spread too far: the variance overflows, and 1 − x/∞ would read a perfect R².
    const spread = regressionPerformance(Float64Array.from([-1e160, 1e160]), Float64Array.from([-1e160 + 1e150, 1e160]));
    expect(spread.mse! / 5e299).toBeCloseTo(1, 4);
    expect(spread.r2).toBeNull();
    expect(spread.null_reasons.r2).toBe("the outcome's variance overflows a double (outcomes as large as 1.00e+160): rescale the outcome (e.g. to thousands) and audit again");
  });

  it('gives the group comparisons null with the reason when a group\'s errors overflow (its MSE was left out, and another group reported the worst)', () => {
    // Group a's errors are 1e200 (their squares overflow); group b's are 1 and 2.
    const y = Float64Array.from([1e200, 3e200, 5, 6]);
    const predicted = Float64Array.from([2e200, 2e200, 4, 8]);
    const fairness = regressionFairness(y, predicted, groupsOf('g', ['a', 'a', 'b', 'b']), { seed: 1, permutations: 0 });
    expect(fairness.groups.a.mse).toBeNull();
    expect(fairness.bounded_group_loss).toBeNull();
    expect(fairness.bounded_group_loss_group).toBeNull();
    expect(fairness.rmse_difference).toBeNull();
    expect(fairness.null_reasons.bounded_group_loss).toBe("a's MSE has no value (the squared errors overflow a double (outcomes or predictions as large as 3.00e+200): rescale the outcome (e.g. to thousands) and audit again)");
    // The absolute errors do not overflow: their spread stands (group a's MAE 1e200, b's 1.5).
    expect(fairness.mae_difference! / 1e200).toBeCloseTo(1, 12);
  });

  it('measures distances between distributions as their definitions say', () => {
    // F_a − F_b is 1/2 on [1, 2) and on [3, 4) and 0 elsewhere: KS 1/2, Wasserstein 1/2 + 1/2.
    expect(ksStatistic(Float64Array.from([1, 3]), Float64Array.from([2, 4]))).toBe(0.5);
    expect(wassersteinDistance(Float64Array.from([1, 3]), Float64Array.from([2, 4]))).toBe(1);
    expect(ksStatistic(new Float64Array(0), Float64Array.from([1]))).toBeNull();
  });

  it('refuses predictions that do not pair up with the outcomes', () => {
    expect(() => regressionPerformance(Float64Array.from([1, 2]), Float64Array.from([1]))).toThrow('1 predictions for 2 outcomes');
    expect(() => regressionPerformance(Float64Array.from([1, Number.NaN]), Float64Array.from([1, 2]))).toThrow('row 1: outcome NaN');
  });
});
