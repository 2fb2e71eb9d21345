/**
 * Confidence-based performance estimation (CBPE), as NannyML defines it for a binary
 * classifier: when p(y=1) is calibrated, a row predicted positive is a true positive with
 * probability p and a false positive with probability 1 − p (and a row predicted negative
 * a false negative with probability p, a true negative with 1 − p). Summing these gives
 * the expected confusion counts, and the metrics built from them are estimates of the
 * metrics the labels would give — without any label.
 *
 * Conventions: predicted positive when p >= threshold (the audit's); a metric whose
 * expected denominator is 0 is null. The ROC AUC estimate follows NannyML's
 * `_estimate_roc_auc`: one point per distinct score t, with expected TP = Σ_{p >= t} p,
 * FP = Σ_{p >= t} (1 − p), FN = Σ_{p < t} p, TN = Σ_{p < t} (1 − p), joined by the
 * trapezoid rule; as in NannyML, no point is added at (0, 0). Unlike NannyML's default, the
 * scores are not recalibrated on the reference: the audit checks their calibration there
 * instead and states it as the estimate's assumption.
 */
import { gather } from '../base/rows';

/** Expected confusion counts (real numbers, not whole counts). */
export interface ExpectedConfusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** The CBPE estimates of one set of rows. */
export interface CbpeEstimate {
  n: number;
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  roc_auc: number | null;
  expected_confusion_matrix: ExpectedConfusion;
  /** Why an estimate is null, by metric. */
  null_reasons: Record<string, string>;
}

/** The estimated metric ids, in the order reports show them. */
export const ESTIMATED_METRICS = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc'] as const;

/**
 * Expected confusion counts of `rows` (all rows when omitted): E[TP] = Σ p over rows
 * predicted positive, E[FP] = Σ (1 − p) over them, E[FN] = Σ p and E[TN] = Σ (1 − p) over
 * rows predicted negative.
 */
export function expectedConfusion(scores: Float64Array, threshold: number, rows?: Uint32Array): ExpectedConfusion {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  const n = rows ? rows.length : scores.length;
  for (let k = 0; k < n; k++) {
    const p = scores[rows ? rows[k] : k];
    if (p >= threshold) {
      tp += p;
      fp += 1 - p;
    } else {
      fn += p;
      tn += 1 - p;
    }
  }
  return { tp, fp, tn, fn };
}

/**
 * NannyML's estimated ROC AUC of `rows` (see the module comment): the area under the
 * expected ROC curve, from (0, 0) (as current NannyML prepends it; leaving it out biases the
 * estimate low for coarse scores) through a point at each distinct score; null when the
 * expected positives or negatives are 0 (every p is 0, or every p is 1).
 */
export function estimatedRocAuc(scores: Float64Array, rows?: Uint32Array): number | null {
  const values = rows ? gather(scores, rows) : Float64Array.from(scores);
  values.sort();
  const n = values.length;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += values[i];
  const negatives = n - positives;
  if (n === 0 || !(positives > 0) || !(negatives > 0)) return null;
  // Walking the thresholds from the highest score down: TP and FP grow; a point at each distinct score.
  let tp = 0;
  let fp = 0;
  let area = 0;
  let previous: [number, number] = [0, 0];
  for (let i = n - 1; i >= 0; ) {
    const t = values[i];
    while (i >= 0 && values[i] === t) {
      tp += values[i];
      fp += 1 - values[i];
      i--;
    }
    const point: [number, number] = [fp / negatives, tp / positives];
    area += ((point[0] - previous[0]) * (point[1] + previous[1])) / 2;
    previous = point;
  }
  return area;
}

/** CBPE accuracy, precision, recall, F1 and ROC AUC of `rows` (all rows when omitted) at `threshold`. */
export function cbpeEstimate(scores: Float64Array, threshold: number, rows?: Uint32Array): CbpeEstimate {
  const c = expectedConfusion(scores, threshold, rows);
  const n = rows ? rows.length : scores.length;
  const null_reasons: Record<string, string> = {};
  const share = (numerator: number, denominator: number, id: string, why: string) => {
    if (denominator > 0) return numerator / denominator;
    null_reasons[id] = why;
    return null;
  };
  const roc = estimatedRocAuc(scores, rows);
  if (roc === null) null_reasons.roc_auc = n === 0 ? 'no rows' : 'the scores give no expected positives or no expected negatives, or a single distinct score';
  return {
    n,
    accuracy: share(c.tp + c.tn, n, 'accuracy', 'no rows'),
    precision: share(c.tp, c.tp + c.fp, 'precision', 'no row predicted positive'),
    recall: share(c.tp, c.tp + c.fn, 'recall', 'no expected positives (every p is 0)'),
    f1: share(2 * c.tp, 2 * c.tp + c.fp + c.fn, 'f1', 'no expected true positive, false positive or false negative'),
    roc_auc: roc,
    expected_confusion_matrix: c,
    null_reasons,
  };
}
