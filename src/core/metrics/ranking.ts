import { ascendingOrder } from '../base/order';
import { rankMetricsByGroup, sortScores, type SortedScores } from '../base/ranks';
import { log } from '../base/math';

/**
 * Threshold-free metrics of scores against binary labels: ROC AUC (with DeLong variance),
 * average precision, log loss and Brier score. Each works over `rows` (all rows when
 * omitted) and returns null when the metric is undefined (a single class present).
 */

/** ROC AUC with its DeLong standard error. */
export interface AucEstimate {
  auc: number;
  /** DeLong (1988) standard error; 0 when a class has a single row. */
  standardError: number;
}

function rankMetricsOf(labels: Uint8Array, scores: Float64Array, rows: Uint32Array | undefined, sorted?: SortedScores) {
  const groupOf = new Int32Array(labels.length).fill(rows ? -1 : 0);
  if (rows) for (const row of rows) groupOf[row] = 0;
  return rankMetricsByGroup(sorted ?? sortScores(labels, scores, ascendingOrder(scores, rows)), groupOf, 1)[0];
}

/**
 * ROC AUC: the probability that a random positive scores above a random negative, ties
 * counted half (Mann–Whitney), with the DeLong et al. (1988) standard error. Null when
 * either class is absent. `sorted` (from {@link sortScores}) saves the sort.
 */
export function rocAuc(labels: Uint8Array, scores: Float64Array, rows?: Uint32Array, sorted?: SortedScores): AucEstimate | null {
  const metrics = rankMetricsOf(labels, scores, rows, sorted);
  return metrics.auc === null ? null : { auc: metrics.auc, standardError: metrics.standardError! };
}

/**
 * Average precision as scikit-learn computes it: Σ_k (R_k − R_{k−1})·P_k over the distinct
 * score thresholds in decreasing order (no interpolation). Null without positives.
 */
export function averagePrecision(labels: Uint8Array, scores: Float64Array, rows?: Uint32Array, sorted?: SortedScores): number | null {
  return rankMetricsOf(labels, scores, rows, sorted).averagePrecision;
}

/**
 * Probabilities are clipped to [ε, 1−ε] before the logarithm with ε the double's epsilon
 * (2⁻⁵²), as scikit-learn's log_loss does from 1.2 (eps='auto': the dtype's epsilon) and as
 * the multiclass log loss does; it was 1e-15, scikit-learn's earlier default.
 */
export const LOG_LOSS_EPSILON = 2 ** -52;

/** Mean negative log-likelihood of the labels under p(positive) (natural log, clipped). */
export function logLoss(labels: Uint8Array, scores: Float64Array, rows?: Uint32Array): number | null {
  const n = rows ? rows.length : labels.length;
  if (n === 0) return null;
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const i = rows ? rows[k] : k;
    const p = Math.min(1 - LOG_LOSS_EPSILON, Math.max(LOG_LOSS_EPSILON, scores[i]));
    sum -= labels[i] === 1 ? log(p) : log(1 - p);
  }
  return sum / n;
}

/** Brier score: mean squared difference between p(positive) and the 0/1 label. */
export function brierScore(labels: Uint8Array, scores: Float64Array, rows?: Uint32Array): number | null {
  const n = rows ? rows.length : labels.length;
  if (n === 0) return null;
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const i = rows ? rows[k] : k;
    sum += (scores[i] - labels[i]) * (scores[i] - labels[i]);
  }
  return sum / n;
}
