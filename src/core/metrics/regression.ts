/**
 * Metrics of a regression model: outcomes y and predictions ŷ as Float64Arrays. Keys follow
 * scikit-learn's names (`mae`, `rmse`, `r2`, `median_absolute_error`, `mape`). A metric that
 * is undefined is `null` with its reason in `null_reasons`, never 0. Fairness per protected
 * group: mean prediction and outcome, error disparities, bounded group loss, the distance
 * between groups' prediction distributions (Kolmogorov–Smirnov, Wasserstein) with a seeded
 * permutation p-value, and calibration by decile of prediction.
 */
import { median } from '../base/math';
import { Random } from '../base/random';
import { gather } from '../base/rows';
import { extent } from './fairness';
import type { GroupIndex } from './groups';

/** The conventions every regression number follows, written next to them in a result. */
export const REGRESSION_CONVENTIONS = {
  metrics: 'MAE, RMSE = √(mean squared error), R² = 1 − SS_res/SS_tot (null when the outcome is constant; scikit-learn reports 1 or 0 there), median absolute error, MAPE = mean |y − ŷ|/y',
  mape: 'null when any outcome is ≤ 0: a percentage error needs a positive outcome (scikit-learn divides by max(|y|, ε) instead, which explodes near 0 and flips sign below it)',
  groups: 'per group mean prediction, mean outcome, MAE, RMSE, MSE, R², median absolute error, MAPE (the overall definitions on the group’s rows); differences max − min over groups; ratios min/max, null unless every group mean is > 0; bounded group loss = the largest group MSE',
  distribution:
    'for every pair of groups the two-sample Kolmogorov–Smirnov statistic sup|F₁ − F₂| and the Wasserstein-1 distance ∫|F₁ − F₂| of their predictions; the attribute’s value is the worst pair, whose permutation p-value = (1 + #{permuted ≥ observed})/(1 + permutations), group labels of the pair’s rows shuffled',
  calibration:
    'deciles of all rows’ predictions: interior edges at the 10%…90% quantiles (linear interpolation, as numpy), a prediction in bin b when e_b ≤ ŷ < e_b+1 (on an edge it goes to the bin above; tied edges leave a bin empty); per group and bin the mean prediction and mean outcome',
} as const;

/** Overall regression performance, keyed as scikit-learn names its metrics. */
export interface RegressionPerformance {
  n: number;
  mae: number | null;
  rmse: number | null;
  mse: number | null;
  r2: number | null;
  median_absolute_error: number | null;
  mape: number | null;
  null_reasons: Record<string, string>;
}

/** Checks that outcomes and predictions pair up and are numbers. */
function checkPairs(y: Float64Array, predicted: Float64Array): void {
  if (y.length !== predicted.length) throw new RangeError(`regression metrics need one prediction per outcome: ${predicted.length} predictions for ${y.length} outcomes`);
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i]) || !Number.isFinite(predicted[i])) throw new RangeError(`row ${i}: outcome ${y[i]} and prediction ${predicted[i]} must both be finite numbers`);
  }
}

/** Mean of the values at `rows` (all when omitted); NaN without rows. */
function meanOf(values: Float64Array, rows?: Uint32Array): number {
  const n = rows ? rows.length : values.length;
  let sum = 0;
  for (let k = 0; k < n; k++) sum += values[rows ? rows[k] : k];
  return sum / n;
}

/**
 * MAE, RMSE, MSE, R², median absolute error and MAPE over `rows` (all when omitted); see
 * {@link REGRESSION_CONVENTIONS}. Every metric is null without rows.
 */
export function regressionPerformance(y: Float64Array, predicted: Float64Array, rows?: Uint32Array): RegressionPerformance {
  checkPairs(y, predicted);
  const n = rows ? rows.length : y.length;
  const nullReasons: Record<string, string> = {};
  if (n === 0) {
    for (const key of ['mae', 'rmse', 'mse', 'r2', 'median_absolute_error', 'mape']) nullReasons[key] = 'no rows';
    return { n, mae: null, rmse: null, mse: null, r2: null, median_absolute_error: null, mape: null, null_reasons: nullReasons };
  }
  const yMean = meanOf(y, rows);
  const errors = new Float64Array(n);
  let absolute = 0;
  let squared = 0;
  let total = 0;
  let percent = 0;
  let nonPositive = 0;
  for (let k = 0; k < n; k++) {
    const i = rows ? rows[k] : k;
    const error = y[i] - predicted[i];
    errors[k] = Math.abs(error);
    absolute += Math.abs(error);
    squared += error * error;
    total += (y[i] - yMean) * (y[i] - yMean);
    if (y[i] > 0) percent += Math.abs(error) / y[i];
    else nonPositive++;
  }
  if (total === 0) nullReasons.r2 = 'the outcome is the same on every row, so R² (which divides by its variance) is undefined';
  if (nonPositive > 0) nullReasons.mape = `${nonPositive} of ${n} outcomes are ≤ 0; a percentage error needs a positive outcome`;
  const values: Record<'mae' | 'rmse' | 'mse' | 'r2' | 'median_absolute_error' | 'mape', number | null> = {
    mae: absolute / n,
    rmse: Math.sqrt(squared / n),
    mse: squared / n,
    // A variance past the largest double would make R² 1 − x/∞ = 1 whatever the errors.
    r2: total === 0 ? null : Number.isFinite(total) ? 1 - squared / total : Number.NaN,
    median_absolute_error: median(errors),
    mape: nonPositive > 0 ? null : percent / n,
  };
  // A sum past the largest double (outcomes or errors near 1e154 and beyond, squared) is not a number to report.
  const what = (key: keyof typeof values) =>
    key === 'mape' ? 'the percentage errors overflow a double (a large error beside an outcome near 0' : key === 'r2' && Number.isFinite(squared) ? "the outcome's variance overflows a double (outcomes" : `the ${key === 'mae' || key === 'median_absolute_error' ? 'errors' : 'squared errors'} overflow a double (outcomes or predictions`;
  for (const key of Object.keys(values) as (keyof typeof values)[]) {
    const value = values[key];
    if (value !== null && !Number.isFinite(value)) {
      values[key] = null;
      nullReasons[key] = key === 'mape' ? `${what(key)}): rescale the outcome or leave MAPE out` : `${what(key)} as large as ${largest(y, predicted, rows)}): rescale the outcome (e.g. to thousands) and audit again`;
    }
  }
  return { n, ...values, null_reasons: nullReasons };
}

/** The largest magnitude among the outcomes and predictions of `rows`, written as a number (for a message). */
function largest(y: Float64Array, predicted: Float64Array, rows?: Uint32Array): string {
  let most = 0;
  const n = rows ? rows.length : y.length;
  for (let k = 0; k < n; k++) {
    const i = rows ? rows[k] : k;
    most = Math.max(most, Math.abs(y[i]), Math.abs(predicted[i]));
  }
  return most.toExponential(2);
}

/** Two-sample Kolmogorov–Smirnov statistic sup_x |F_a(x) − F_b(x)| of two ascending-sorted samples; null if either is empty. */
export function ksStatistic(a: Float64Array, b: Float64Array): number | null {
  if (a.length === 0 || b.length === 0) return null;
  let i = 0;
  let j = 0;
  let worst = 0;
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i] : b[j];
    while (i < a.length && a[i] <= x) i++;
    while (j < b.length && b[j] <= x) j++;
    worst = Math.max(worst, Math.abs(i / a.length - j / b.length));
  }
  return worst;
}

/** Wasserstein-1 distance ∫ |F_a − F_b| dx of two ascending-sorted samples (scipy's wasserstein_distance); null if either is empty. */
export function wassersteinDistance(a: Float64Array, b: Float64Array): number | null {
  if (a.length === 0 || b.length === 0) return null;
  let i = 0;
  let j = 0;
  let distance = 0;
  let previous = Math.min(a[0], b[0]);
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i] : b[j];
    distance += Math.abs(i / a.length - j / b.length) * (x - previous);
    previous = x;
    while (i < a.length && a[i] <= x) i++;
    while (j < b.length && b[j] <= x) j++;
  }
  return distance;
}

/** A statistic of two ascending-sorted samples. */
export type TwoSampleStatistic = (a: Float64Array, b: Float64Array) => number | null;

/**
 * Permutation p-value of a two-sample statistic: the pooled values are shuffled
 * (Fisher–Yates from `random`) and split into samples of the original sizes `permutations`
 * times; p = (1 + #{permuted ≥ observed·(1 − 1e−12)})/(1 + permutations), the tolerance
 * keeping ties that differ only by rounding. Null if either sample is empty.
 */
export function permutationPValue(a: Float64Array, b: Float64Array, statistic: TwoSampleStatistic, permutations: number, random: Random): number | null {
  const observed = statistic(a, b);
  if (observed === null) return null;
  const pooled = new Float64Array(a.length + b.length);
  pooled.set(a);
  pooled.set(b, a.length);
  let atLeast = 0;
  for (let p = 0; p < permutations; p++) {
    for (let k = pooled.length - 1; k > 0; k--) {
      const swap = random.int(k + 1);
      const value = pooled[k];
      pooled[k] = pooled[swap];
      pooled[swap] = value;
    }
    const value = statistic(pooled.slice(0, a.length).sort(), pooled.slice(a.length).sort());
    if (value !== null && value >= observed * (1 - 1e-12)) atLeast++;
  }
  return (1 + atLeast) / (1 + permutations);
}

/** The 10%…90% quantiles of the predictions with numpy's linear interpolation (its default). */
export function decileEdges(predicted: Float64Array, bins = 10): number[] {
  const sorted = Float64Array.from(predicted).sort();
  const edges: number[] = [];
  for (let q = 1; q < bins; q++) {
    const position = (sorted.length - 1) * (q / bins);
    const below = Math.floor(position);
    const t = position - below;
    const a = sorted[below];
    const b = sorted[Math.min(below + 1, sorted.length - 1)];
    // numpy's _lerp: from the nearer end, so t = 1 gives b exactly.
    edges.push(t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t);
  }
  return edges;
}

/** One decile of prediction within a group; means are null in an empty bin. */
export interface DecileCalibration {
  bin: number;
  n: number;
  mean_prediction: number | null;
  mean_outcome: number | null;
}

/** One group's regression metrics. */
export interface RegressionGroupMetrics {
  n: number;
  mean_prediction: number;
  mean_outcome: number;
  /** Null, with the reason, where the group's errors overflow a double. */
  mae: number | null;
  rmse: number | null;
  mse: number | null;
  r2: number | null;
  median_absolute_error: number | null;
  mape: number | null;
  calibration: DecileCalibration[];
  /** Why a metric of the group is null (as {@link RegressionPerformance}'s). */
  null_reasons: Record<string, string>;
}

/** Distance between two groups' prediction distributions. */
export interface GroupPairDistance {
  groups: [string, string];
  ks_statistic: number;
  wasserstein_distance: number;
}

/** The worst pair of a distance, with its permutation p-value. */
export interface WorstPair {
  value: number | null;
  groups: [string, string] | null;
  p_value: number | null;
}

/** Regression fairness of one protected attribute (see {@link REGRESSION_CONVENTIONS}). */
export interface RegressionAttributeFairness {
  groups: Record<string, RegressionGroupMetrics>;
  pairs: GroupPairDistance[];
  mean_prediction_difference: number | null;
  mean_prediction_ratio: number | null;
  mean_outcome_difference: number | null;
  mean_outcome_ratio: number | null;
  mae_difference: number | null;
  rmse_difference: number | null;
  /** The largest group MSE, and its group. */
  /** Null, with the reason, where a group's MSE has no value (its errors overflow a double). */
  bounded_group_loss: number | null;
  bounded_group_loss_group: string | null;
  ks_statistic: WorstPair;
  wasserstein_distance: WorstPair;
  /** Interior decile edges of all rows' predictions. */
  decile_edges: number[];
  null_reasons: Record<string, string>;
}

/** Options of {@link regressionFairness}. */
export interface RegressionFairnessOptions {
  /** The audit's seed; the permutations draw from the stream `regression-distribution:<attribute>`. */
  seed: number;
  /** Shuffles for each worst pair's p-value (0: no p-value). */
  permutations: number;
}

/** max − min and min/max of group values; the ratio is null unless every value is > 0. */
function differenceAndRatio(values: number[]): [number | null, number | null] {
  if (values.length < 2) return [null, null];
  const [min, max] = extent(values);
  return [max - min, min > 0 ? min / max : null];
}

/**
 * Per-group mean prediction and outcome, MAE, RMSE, MSE, R², median absolute error, MAPE
 * and decile calibration; their
 * disparities; bounded group loss; KS and Wasserstein distances between every pair of
 * groups' predictions, the worst pair of each with a seeded permutation p-value. See
 * {@link REGRESSION_CONVENTIONS}. Every group of the index is kept.
 */
export function regressionFairness(y: Float64Array, predicted: Float64Array, index: GroupIndex, options: RegressionFairnessOptions): RegressionAttributeFairness {
  checkPairs(y, predicted);
  const edges = decileEdges(predicted);
  const binOf = (value: number) => {
    let b = 0;
    while (b < edges.length && edges[b] <= value) b++;
    return b;
  };
  const groups: Record<string, RegressionGroupMetrics> = {};
  const sortedPredictions: Float64Array[] = [];
  index.groups.forEach((group, g) => {
    const rows = index.rows[g];
    const performance = regressionPerformance(y, predicted, rows);
    const count = new Float64Array(edges.length + 1);
    const predictionSum = new Float64Array(edges.length + 1);
    const outcomeSum = new Float64Array(edges.length + 1);
    for (const row of rows) {
      const b = binOf(predicted[row]);
      count[b]++;
      predictionSum[b] += predicted[row];
      outcomeSum[b] += y[row];
    }
    groups[group] = {
      n: rows.length,
      mean_prediction: meanOf(predicted, rows),
      mean_outcome: meanOf(y, rows),
      mae: performance.mae,
      rmse: performance.rmse,
      mse: performance.mse,
      r2: performance.r2,
      median_absolute_error: performance.median_absolute_error,
      mape: performance.mape,
      null_reasons: performance.null_reasons,
      calibration: Array.from(count, (n, bin) => ({ bin, n, mean_prediction: n === 0 ? null : predictionSum[bin] / n, mean_outcome: n === 0 ? null : outcomeSum[bin] / n })),
    };
    sortedPredictions.push(gather(predicted, rows).sort());
  });
  const all = Object.values(groups);
  const pairs: GroupPairDistance[] = [];
  let worstKs = -1;
  let worstWasserstein = -1;
  for (let a = 0; a < index.groups.length; a++) {
    for (let b = a + 1; b < index.groups.length; b++) {
      const pair: GroupPairDistance = {
        groups: [index.groups[a], index.groups[b]],
        ks_statistic: ksStatistic(sortedPredictions[a], sortedPredictions[b])!,
        wasserstein_distance: wassersteinDistance(sortedPredictions[a], sortedPredictions[b])!,
      };
      if (worstKs < 0 || pair.ks_statistic > pairs[worstKs].ks_statistic) worstKs = pairs.length;
      if (worstWasserstein < 0 || pair.wasserstein_distance > pairs[worstWasserstein].wasserstein_distance) worstWasserstein = pairs.length;
      pairs.push(pair);
    }
  }
  const random = new Random(options.seed, `regression-distribution:${index.attribute}`);
  const worstPair = (at: number, key: 'ks_statistic' | 'wasserstein_distance', statistic: TwoSampleStatistic): WorstPair => {
    if (at < 0) return { value: null, groups: null, p_value: null };
    const [a, b] = pairs[at].groups.map((group) => sortedPredictions[index.groups.indexOf(group)]);
    return { value: pairs[at][key], groups: pairs[at].groups, p_value: options.permutations > 0 ? permutationPValue(a, b, statistic, options.permutations, random) : null };
  };
  const [meanPredictionDifference, meanPredictionRatio] = differenceAndRatio(all.map((g) => g.mean_prediction));
  const [meanOutcomeDifference, meanOutcomeRatio] = differenceAndRatio(all.map((g) => g.mean_outcome));
  const nullReasons: Record<string, string> = {};
  // A group whose errors overflow has no MSE, RMSE or MAE: the worst group and the spreads are unknown, not those of the others.
  const unknown = (key: 'mse' | 'rmse' | 'mae') => {
    const at = all.findIndex((g) => g[key] === null);
    return at < 0 ? null : `${index.groups[at]}'s ${key.toUpperCase()} has no value (${all[at].null_reasons[key] ?? 'no rows'})`;
  };
  let worstLoss = 0;
  all.forEach((g, k) => ((g.mse ?? -1) > (all[worstLoss].mse ?? -1) ? (worstLoss = k) : 0));
  for (const [key, why] of [['bounded_group_loss', unknown('mse')], ['rmse_difference', unknown('rmse')], ['mae_difference', unknown('mae')]] as const) if (why) nullReasons[key] = why;
  if (index.groups.length < 2) {
    for (const key of ['mean_prediction_difference', 'mean_outcome_difference', 'mae_difference', 'rmse_difference', 'ks_statistic', 'wasserstein_distance']) nullReasons[key] = 'a single group: nothing to compare';
  }
  if (meanPredictionRatio === null && index.groups.length >= 2) nullReasons.mean_prediction_ratio = 'a group’s mean prediction is ≤ 0, so a ratio of means is not meaningful';
  if (meanOutcomeRatio === null && index.groups.length >= 2) nullReasons.mean_outcome_ratio = 'a group’s mean outcome is ≤ 0, so a ratio of means is not meaningful';
  return {
    groups,
    pairs,
    mean_prediction_difference: meanPredictionDifference,
    mean_prediction_ratio: meanPredictionRatio,
    mean_outcome_difference: meanOutcomeDifference,
    mean_outcome_ratio: meanOutcomeRatio,
    mae_difference: nullReasons.mae_difference ? null : differenceAndRatio(all.map((g) => g.mae!))[0],
    rmse_difference: nullReasons.rmse_difference ? null : differenceAndRatio(all.map((g) => g.rmse!))[0],
    bounded_group_loss: nullReasons.bounded_group_loss ? null : all[worstLoss].mse,
    bounded_group_loss_group: nullReasons.bounded_group_loss ? null : index.groups[worstLoss],
    ks_statistic: worstPair(worstKs, 'ks_statistic', ksStatistic),
    wasserstein_distance: worstPair(worstWasserstein, 'wasserstein_distance', wassersteinDistance),
    decile_edges: edges,
    null_reasons: nullReasons,
  };
}
