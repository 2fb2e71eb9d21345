import { ascendingOrder } from '../base/order';
import { sortScores, type SortedScores } from '../base/ranks';

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
 * ROC and precision-recall points (from the shared ascending `order`) at the distinct score values (every one when there are
 * at most {@link MAX_CURVE_POINTS}, else that many evenly spaced along the sorted scores,
 * always including both ends), plus the (0, 0) start above the highest score.
 */
export function curvePoints(labels: Uint8Array, scores: Float64Array, sorted: SortedScores = sortScores(labels, scores)): CurvePoint[] {
  // Walk the sorted arrays from the highest score down.
  const { scores: s, labels: y } = sorted;
  const n = s.length;
  let positives = 0;
  for (let k = 0; k < n; k++) positives += y[k];
  const negatives = n - positives;
  const cuts: number[] = [];
  for (let k = n - 1; k >= 0; k--) if (k === 0 || s[k - 1] !== s[k]) cuts.push(k);
  const keep = cuts.length <= MAX_CURVE_POINTS ? cuts : Array.from({ length: MAX_CURVE_POINTS }, (_, j) => cuts[Math.round((j * (cuts.length - 1)) / (MAX_CURVE_POINTS - 1))]);
  const points: CurvePoint[] = [{ threshold: Number.POSITIVE_INFINITY, tpr: 0, fpr: 0, precision: null }];
  let tp = 0;
  let k = n - 1;
  for (const cut of keep) {
    for (; k >= cut; k--) tp += y[k];
    const predicted = n - cut;
    points.push({
      threshold: s[cut],
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
  const groupOf = new Int32Array(labels.length).fill(rows ? -1 : 0);
  if (rows) for (const row of rows) groupOf[row] = 0;
  return thresholdSweepByGroup(labels, sweepBuckets(scores, thresholds), groupOf, 1, thresholds.length)[0];
}

/** The sweep bucket of each row: the highest k with thresholds[k] <= score, or −1. */
export function sweepBuckets(scores: Float64Array, thresholds: readonly number[] = SWEEP_THRESHOLDS): Int16Array {
  const k = thresholds.length;
  const buckets = new Int16Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    const p = scores[i];
    let lo = 0;
    let hi = k;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (thresholds[mid] <= p) lo = mid + 1;
      else hi = mid;
    }
    buckets[i] = lo - 1;
  }
  return buckets;
}

/** Sweep rates of every group of a partition in one pass over precomputed buckets. */
export function thresholdSweepByGroup(labels: Uint8Array, buckets: Int16Array, groupOf: Int32Array, groupCount: number, thresholdCount: number): SweepRates[] {
  const positivesAt = new Float64Array(groupCount * thresholdCount);
  const negativesAt = new Float64Array(groupCount * thresholdCount);
  const positives = new Float64Array(groupCount);
  const total = new Float64Array(groupCount);
  for (let i = 0; i < labels.length; i++) {
    const g = groupOf[i];
    if (g < 0) continue;
    total[g]++;
    const b = buckets[i];
    if (labels[i] === 1) {
      positives[g]++;
      if (b >= 0) positivesAt[g * thresholdCount + b]++;
    } else if (b >= 0) negativesAt[g * thresholdCount + b]++;
  }
  return Array.from({ length: groupCount }, (_, g) =>
    ratesFromBuckets(positivesAt.subarray(g * thresholdCount, (g + 1) * thresholdCount), negativesAt.subarray(g * thresholdCount, (g + 1) * thresholdCount), positives[g], total[g]),
  );
}

function ratesFromBuckets(positivesAt: Float64Array, negativesAt: Float64Array, positives: number, n: number): SweepRates {
  const k = positivesAt.length;
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
  /** The data the threshold was chosen on (a file name); null for a fixed threshold. */
  chosen_on: string | null;
  /** True when chosen on held-out data (data.validation), not on the audited file. */
  held_out: boolean;
  /** What the policy optimised, at the chosen threshold. */
  objective: number | null;
}

/** How a threshold was set, in words: "fixed", or the policy and the file it was chosen on (a limitation when that is the audited file). */
export function thresholdText(selection: ChosenThreshold): string {
  const policy = selection.policy;
  if (policy.policy === 'fixed') return `${selection.threshold}, fixed`;
  const how = policy.policy === 'youden' ? "Youden's J (max TPR − FPR)" : policy.policy === 'selection_rate' ? `a selection rate of ${policy.target}` : `least expected cost (false positive ${policy.cost_fp}, false negative ${policy.cost_fn})`;
  if (selection.held_out) return `${selection.threshold}, chosen by ${how} on the held-out validation file ${selection.chosen_on}`;
  return `${selection.threshold}, chosen by ${how} on ${selection.chosen_on}, the audited file itself: metrics at it are optimistic`;
}

/**
 * Applies a threshold policy to labelled scores. Candidates are the distinct score values
 * (predicted positive when p >= candidate) plus +∞ (nothing positive):
 * - `youden` maximises TPR − FPR (ties: the higher threshold);
 * - `selection_rate` picks the threshold whose selection rate is closest to the target
 *   (ties: the higher threshold);
 * - `cost` minimises cost_fp·FP + cost_fn·FN (ties: the higher threshold).
 */
export function chooseThreshold(policy: ThresholdPolicy, labels: Uint8Array, scores: Float64Array, chosenOn: string, sorted?: SortedScores, heldOut = false): ChosenThreshold {
  if (policy.policy === 'fixed') return { threshold: policy.threshold, policy, chosen_on: null, held_out: false, objective: null };
  const index = (sorted?.order ?? ascendingOrder(scores)).slice().reverse();
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
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i];
    if (score > highest) highest = score;
  }
  const threshold = Number.isFinite(best.threshold) ? best.threshold : nextUp(highest);
  return { threshold, policy, chosen_on: chosenOn, held_out: heldOut, objective: policy.policy === 'selection_rate' ? -best.value : policy.policy === 'cost' ? -best.value : best.value };
}


/** The smallest double above x (so that "p >= nextUp(max)" selects nothing). */
function nextUp(x: number): number {
  if (!Number.isFinite(x)) return 1;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigInt64(0);
  view.setBigInt64(0, x >= 0 ? bits + 1n : bits - 1n);
  return x === 0 ? Number.MIN_VALUE : view.getFloat64(0);
}
