/**
 * Threshold-free metrics of scores against binary labels: ROC AUC (with DeLong variance),
 * average precision, log loss and Brier score. Each works over `rows` (all rows when
 * omitted) and returns null when the metric is undefined (a single class present).
 */

function select(rows: Uint32Array | undefined, n: number): Uint32Array {
  return rows ?? Uint32Array.from({ length: n }, (_, i) => i);
}

/** Midranks (1-based, ties get the mean rank) of `values`. */
function midranks(values: Float64Array): Float64Array {
  const n = values.length;
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]] === values[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

/** ROC AUC with its DeLong standard error. */
export interface AucEstimate {
  auc: number;
  /** DeLong (1988) standard error; 0 when a class has a single row. */
  standardError: number;
}

/**
 * ROC AUC: the probability that a random positive scores above a random negative, ties
 * counted half (Mann–Whitney), with the DeLong et al. (1988) standard error computed from
 * midranks (Sun & Xu 2014). Null when either class is absent.
 */
export function rocAuc(labels: Uint8Array, scores: Float64Array, rows?: Uint32Array): AucEstimate | null {
  const index = select(rows, labels.length);
  let positives = 0;
  for (const i of index) positives += labels[i];
  const negatives = index.length - positives;
  if (positives === 0 || negatives === 0) return null;
  const positiveScores = new Float64Array(positives);
  const negativeScores = new Float64Array(negatives);
  const all = new Float64Array(index.length);
  let p = 0;
  let q = 0;
  for (let k = 0; k < index.length; k++) {
    const i = index[k];
    all[k] = scores[i];
    if (labels[i] === 1) positiveScores[p++] = scores[i];
    else negativeScores[q++] = scores[i];
  }
  const rankAll = midranks(all);
  const rankPositive = midranks(positiveScores);
  const rankNegative = midranks(negativeScores);
  const v10 = new Float64Array(positives);
  const v01 = new Float64Array(negatives);
  p = 0;
  q = 0;
  for (let k = 0; k < index.length; k++) {
    if (labels[index[k]] === 1) {
      v10[p] = (rankAll[k] - rankPositive[p]) / negatives;
      p++;
    } else {
      v01[q] = 1 - (rankAll[k] - rankNegative[q]) / positives;
      q++;
    }
  }
  let auc = 0;
  for (const v of v10) auc += v;
  auc /= positives;
  const variance = (values: Float64Array, mean: number) => {
    if (values.length < 2) return 0;
    let sum = 0;
    for (const v of values) sum += (v - mean) ** 2;
    return sum / (values.length - 1);
  };
  const standardError = Math.sqrt(variance(v10, auc) / positives + variance(v01, auc) / negatives);
  return { auc, standardError };
}

/**
 * Average precision as scikit-learn computes it: Σ_k (R_k − R_{k−1})·P_k over the distinct
 * score thresholds in decreasing order (no interpolation). Null without positives.
 */
export function averagePrecision(labels: Uint8Array, scores: Float64Array, rows?: Uint32Array): number | null {
  const index = Uint32Array.from(select(rows, labels.length)).sort((a, b) => scores[b] - scores[a]);
  let positives = 0;
  for (const i of index) positives += labels[i];
  if (positives === 0) return null;
  let tp = 0;
  let seen = 0;
  let previousRecall = 0;
  let ap = 0;
  for (let k = 0; k < index.length; k++) {
    tp += labels[index[k]];
    seen++;
    const lastOfTie = k + 1 === index.length || scores[index[k + 1]] !== scores[index[k]];
    if (!lastOfTie) continue;
    const recall = tp / positives;
    ap += (recall - previousRecall) * (tp / seen);
    previousRecall = recall;
  }
  return ap;
}

/** Probabilities are clipped to [ε, 1−ε] before the logarithm, as scikit-learn 1.2 does. */
export const LOG_LOSS_EPSILON = 1e-15;

/** Mean negative log-likelihood of the labels under p(positive) (natural log, clipped). */
export function logLoss(labels: Uint8Array, scores: Float64Array, rows?: Uint32Array): number | null {
  const index = select(rows, labels.length);
  if (index.length === 0) return null;
  let sum = 0;
  for (const i of index) {
    const p = Math.min(1 - LOG_LOSS_EPSILON, Math.max(LOG_LOSS_EPSILON, scores[i]));
    sum -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return sum / index.length;
}

/** Brier score: mean squared difference between p(positive) and the 0/1 label. */
export function brierScore(labels: Uint8Array, scores: Float64Array, rows?: Uint32Array): number | null {
  const index = select(rows, labels.length);
  if (index.length === 0) return null;
  let sum = 0;
  for (const i of index) sum += (scores[i] - labels[i]) ** 2;
  return sum / index.length;
}
