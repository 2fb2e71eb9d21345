import { confusionCounts } from './confusion';

/** One point of a ROC or precision-recall curve, at "predicted positive when p >= threshold". */
export interface CurvePoint {
  threshold: number;
  tpr: number;
  fpr: number;
  precision: number | null;
}

/** Most points kept per curve: enough for a chart, bounded for a million rows. */
export const MAX_CURVE_POINTS = 256;

/**
 * ROC and precision-recall points at the distinct score values (every one when there are
 * at most {@link MAX_CURVE_POINTS}, else that many evenly spaced along the sorted scores,
 * always including both ends), plus the (0, 0) start above the highest score.
 */
export function curvePoints(labels: Uint8Array, scores: Float64Array, rows?: Uint32Array): CurvePoint[] {
  const index = rows ? Uint32Array.from(rows) : Uint32Array.from({ length: labels.length }, (_, i) => i);
  index.sort((a, b) => scores[b] - scores[a]);
  let positives = 0;
  for (const i of index) positives += labels[i];
  const negatives = index.length - positives;
  const cuts: number[] = [];
  for (let k = 0; k < index.length; k++) {
    if (k + 1 === index.length || scores[index[k + 1]] !== scores[index[k]]) cuts.push(k);
  }
  const keep = cuts.length <= MAX_CURVE_POINTS ? cuts : Array.from({ length: MAX_CURVE_POINTS }, (_, j) => cuts[Math.round((j * (cuts.length - 1)) / (MAX_CURVE_POINTS - 1))]);
  const points: CurvePoint[] = [{ threshold: Number.POSITIVE_INFINITY, tpr: 0, fpr: 0, precision: null }];
  let tp = 0;
  let k = 0;
  for (const cut of keep) {
    for (; k <= cut; k++) tp += labels[index[k]];
    const predicted = cut + 1;
    points.push({
      threshold: scores[index[cut]],
      tpr: positives === 0 ? 0 : tp / positives,
      fpr: negatives === 0 ? 0 : (predicted - tp) / negatives,
      precision: tp / predicted,
    });
  }
  return points;
}

/** The thresholds of the sweep: 0, 0.01, …, 1 (101 values). */
export const SWEEP_THRESHOLDS: readonly number[] = Array.from({ length: 101 }, (_, k) => k / 100);

/** Rates at every sweep threshold (null where undefined). */
export interface SweepRates {
  selection_rate: (number | null)[];
  tpr: (number | null)[];
  fpr: (number | null)[];
  precision: (number | null)[];
  accuracy: (number | null)[];
}

/** 101 evenly spaced thresholds from the lowest to the highest score (for scores that are not probabilities). */
export function sweepThresholdsFor(scores: Float64Array): number[] {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const s of scores) {
    if (s < low) low = s;
    if (s > high) high = s;
  }
  if (!Number.isFinite(low)) return [...SWEEP_THRESHOLDS];
  return Array.from({ length: 101 }, (_, k) => (k === 100 ? high : low + ((high - low) * k) / 100));
}

/**
 * Rates at each sweep threshold (default 0, 0.01, …, 1) in one pass: each row is counted
 * in the bucket of the highest threshold it reaches (p >= t_k, found by binary search),
 * then suffix sums give the counts at every threshold.
 */
export function thresholdSweep(labels: Uint8Array, scores: Float64Array, rows?: Uint32Array, thresholds: readonly number[] = SWEEP_THRESHOLDS): SweepRates {
  const k = thresholds.length;
  const positivesAt = new Float64Array(k);
  const negativesAt = new Float64Array(k);
  const n = rows ? rows.length : labels.length;
  let positives = 0;
  for (let j = 0; j < n; j++) {
    const i = rows ? rows[j] : j;
    const p = scores[i];
    // Highest b with thresholds[b] <= p, or -1.
    let lo = 0;
    let hi = k;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (thresholds[mid] <= p) lo = mid + 1;
      else hi = mid;
    }
    const b = lo - 1;
    if (labels[i] === 1) {
      positives++;
      if (b >= 0) positivesAt[b]++;
    } else if (b >= 0) negativesAt[b]++;
  }
  const negatives = n - positives;
  const rates: SweepRates = { selection_rate: [], tpr: [], fpr: [], precision: [], accuracy: [] };
  const tpAt = new Float64Array(k);
  const fpAt = new Float64Array(k);
  let tp = 0;
  let fp = 0;
  for (let b = k - 1; b >= 0; b--) {
    tp += positivesAt[b];
    fp += negativesAt[b];
    tpAt[b] = tp;
    fpAt[b] = fp;
  }
  for (let b = 0; b < k; b++) {
    const predicted = tpAt[b] + fpAt[b];
    rates.selection_rate.push(n === 0 ? null : predicted / n);
    rates.tpr.push(positives === 0 ? null : tpAt[b] / positives);
    rates.fpr.push(negatives === 0 ? null : fpAt[b] / negatives);
    rates.precision.push(predicted === 0 ? null : tpAt[b] / predicted);
    rates.accuracy.push(n === 0 ? null : (tpAt[b] + negatives - fpAt[b]) / n);
  }
  return rates;
}

/** A decision-threshold policy. */
export type ThresholdPolicy =
  | { policy: 'fixed'; threshold: number }
  | { policy: 'youden' }
  | { policy: 'selection_rate'; target: number }
  | { policy: 'cost'; cost_fp: number; cost_fn: number };

/** The threshold a policy chose, and on what. */
export interface ChosenThreshold {
  threshold: number;
  policy: ThresholdPolicy;
  /** The data the threshold was chosen on (a file name). */
  chosen_on: string;
  /** What the policy optimised, at the chosen threshold. */
  objective: number | null;
}

/**
 * Applies a threshold policy to labelled scores. Candidates are the distinct score values
 * (predicted positive when p >= candidate) plus +∞ (nothing positive):
 * - `youden` maximises TPR − FPR (ties: the higher threshold);
 * - `selection_rate` picks the threshold whose selection rate is closest to the target
 *   (ties: the higher threshold);
 * - `cost` minimises cost_fp·FP + cost_fn·FN (ties: the higher threshold).
 */
export function chooseThreshold(policy: ThresholdPolicy, labels: Uint8Array, scores: Float64Array, chosenOn: string): ChosenThreshold {
  if (policy.policy === 'fixed') return { threshold: policy.threshold, policy, chosen_on: chosenOn, objective: null };
  const index = Uint32Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let positives = 0;
  for (const i of index) positives += labels[i];
  const negatives = index.length - positives;
  const objective = (tp: number, fp: number, predicted: number): number => {
    switch (policy.policy) {
      case 'youden':
        return (positives ? tp / positives : 0) - (negatives ? fp / negatives : 0);
      case 'selection_rate':
        return -Math.abs(predicted / Math.max(1, index.length) - policy.target);
      case 'cost':
        return -(policy.cost_fp * fp + policy.cost_fn * (positives - tp));
    }
  };
  let best = { threshold: Number.POSITIVE_INFINITY, value: objective(0, 0, 0) };
  let tp = 0;
  for (let k = 0; k < index.length; k++) {
    tp += labels[index[k]];
    if (k + 1 < index.length && scores[index[k + 1]] === scores[index[k]]) continue;
    const value = objective(tp, k + 1 - tp, k + 1);
    // A gain below 1e-12 is float noise (1 − 1/3 vs 2/3), not a better threshold.
    if (value > best.value + 1e-12) best = { threshold: scores[index[k]], value };
  }
  let highest = Number.NEGATIVE_INFINITY;
  for (const score of scores) if (score > highest) highest = score;
  const threshold = Number.isFinite(best.threshold) ? best.threshold : nextUp(highest);
  return { threshold, policy, chosen_on: chosenOn, objective: policy.policy === 'selection_rate' ? -best.value : policy.policy === 'cost' ? -best.value : best.value };
}

/** Confusion counts at a chosen threshold (re-exported for callers of this module). */
export { confusionCounts };

/** The smallest double above x (so that "p >= nextUp(max)" selects nothing). */
function nextUp(x: number): number {
  if (!Number.isFinite(x)) return 1;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigInt64(0);
  view.setBigInt64(0, x >= 0 ? bits + 1n : bits - 1n);
  return x === 0 ? Number.MIN_VALUE : view.getFloat64(0);
}
