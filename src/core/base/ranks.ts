/**
 * Rank metrics over one shared ascending order of the scores: the scores and labels laid
 * out in that order once ({@link sortScores}), then ROC AUC with its DeLong standard error
 * and average precision for every group of a partition in one walk ({@link rankMetricsByGroup}).
 */
import { ascendingOrder } from './order';

/**
 * Scores and labels laid out in ascending score order once, so the rank walks below read
 * memory sequentially (gathering through `order` on every walk costs a cache miss per row:
 * ~10× slower at a million rows).
 */
export interface SortedScores {
  order: Uint32Array;
  scores: Float64Array;
  labels: Uint8Array;
}

/** Sorts scores once and lays labels out in the same order. */
export function sortScores(labels: Uint8Array, scores: Float64Array, order: Uint32Array = ascendingOrder(scores)): SortedScores {
  const n = order.length;
  const sortedScores = new Float64Array(n);
  const sortedLabels = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    sortedScores[k] = scores[order[k]];
    sortedLabels[k] = labels[order[k]];
  }
  return { order, scores: sortedScores, labels: sortedLabels };
}

/** ROC AUC (DeLong standard error) and average precision of one group. */
export interface RankMetrics {
  auc: number | null;
  standardError: number | null;
  averagePrecision: number | null;
}

/**
 * ROC AUC with its DeLong standard error, and average precision, for every group of a
 * partition at once, from one walk up the shared ascending order.
 * `groupOf[row]` is the row's group (−1: not in any). Per group, with ties counted half:
 * V10(positive) = (negatives below + ½ negatives tied)/n0, V01(negative) = (positives above
 * + ½ positives tied)/n1; AUC = mean V10; se² = var(V10)/n1 + var(V01)/n0 (DeLong 1988, via
 * midranks as in Sun & Xu 2014). Average precision: Σ (R_k − R_k−1)·P_k over the group's
 * distinct thresholds, scikit-learn's step rule.
 */
export function rankMetricsByGroup(sorted: SortedScores, groupOf: Int32Array, groupCount: number): RankMetrics[] {
  const { scores, labels, order } = sorted;
  const n = order.length;
  // The group of each position in score order (one gather; every walk below is sequential).
  const groupAt = new Int32Array(n);
  for (let k = 0; k < n; k++) groupAt[k] = groupOf[order[k]];
  const n1 = new Float64Array(groupCount);
  const n0 = new Float64Array(groupCount);
  for (let k = 0; k < n; k++) {
    const g = groupAt[k];
    if (g < 0) continue;
    if (labels[k] === 1) n1[g]++;
    else n0[g]++;
  }
  const negBelow = new Float64Array(groupCount);
  const posBelow = new Float64Array(groupCount);
  const posTie = new Float64Array(groupCount);
  const negTie = new Float64Array(groupCount);
  const sum10 = new Float64Array(groupCount);
  const sq10 = new Float64Array(groupCount);
  const sum01 = new Float64Array(groupCount);
  const sq01 = new Float64Array(groupCount);
  const ap = new Float64Array(groupCount);
  // Groups seen in the current tie block (a typed stack: resetting a JS array per block is slow).
  const touched = new Int32Array(groupCount);
  let touchedCount = 0;
  for (let start = 0; start < n; ) {
    const score = scores[start];
    if (start + 1 === n || scores[start + 1] !== score) {
      // A score no other row holds (most rows): the block's sums below with one row in it,
      // written out (pt or nt is 1, the other 0: the same operations, the same bits).
      const g = groupAt[start];
      if (g >= 0) {
        if (labels[start] === 1) {
          if (n0[g] > 0) {
            const v = negBelow[g] / n0[g];
            sum10[g] += v;
            sq10[g] += v * v;
          }
          ap[g] += (1 / n1[g]) * ((n1[g] - posBelow[g]) / (n1[g] + n0[g] - posBelow[g] - negBelow[g]));
          posBelow[g]++;
        } else {
          if (n1[g] > 0) {
            const v = (n1[g] - posBelow[g]) / n1[g];
            sum01[g] += v;
            sq01[g] += v * v;
          }
          negBelow[g]++;
        }
      }
      start++;
      continue;
    }
    let k = start;
    // `k === start`: the block's first score is always taken (a NaN, equal to nothing, is a block of its own).
    for (; k < n && (k === start || scores[k] === score); k++) {
      const g = groupAt[k];
      if (g < 0) continue;
      if (posTie[g] === 0 && negTie[g] === 0) touched[touchedCount++] = g;
      if (labels[k] === 1) posTie[g]++;
      else negTie[g]++;
    }
    // Every row of a group in one tie block shares its V10 (positives) or V01 (negatives).
    for (let t = 0; t < touchedCount; t++) {
      const g = touched[t];
      const pt = posTie[g];
      const nt = negTie[g];
      if (pt > 0 && n0[g] > 0) {
        const v = (negBelow[g] + 0.5 * nt) / n0[g];
        sum10[g] += pt * v;
        sq10[g] += pt * v * v;
      }
      if (nt > 0 && n1[g] > 0) {
        const v = (n1[g] - posBelow[g] - 0.5 * pt) / n1[g];
        sum01[g] += nt * v;
        sq01[g] += nt * v * v;
      }
      // Average precision, read bottom-up: at this block's threshold the group predicts
      // positive every row not below it; recall rises by pt/n1 there.
      if (pt > 0) ap[g] += (pt / n1[g]) * ((n1[g] - posBelow[g]) / (n1[g] + n0[g] - posBelow[g] - negBelow[g]));
      posBelow[g] += pt;
      negBelow[g] += nt;
      posTie[g] = 0;
      negTie[g] = 0;
    }
    touchedCount = 0;
    start = k;
  }

  return Array.from({ length: groupCount }, (_, g) => {
    if (n1[g] === 0) return { auc: null, standardError: null, averagePrecision: null };
    if (n0[g] === 0) return { auc: null, standardError: null, averagePrecision: ap[g] };
    const auc = sum10[g] / n1[g];
    const variance = (sq: number, count: number) => (count < 2 ? 0 : Math.max(0, (sq - count * auc * auc) / (count - 1)));
    return { auc, standardError: Math.sqrt(variance(sq10[g], n1[g]) / n1[g] + variance(sq01[g], n0[g]) / n0[g]), averagePrecision: ap[g] };
  });
}
