/**
 * Confusion counts and the rates built from them. Convention: a row is predicted
 * positive when its score is >= the threshold. A rate whose denominator is empty is
 * `null` (undefined), never 0: a group with no positives has no true-positive rate.
 */

/** Counts of one confusion matrix. */
export interface ConfusionCounts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/**
 * Confusion counts over `rows` (all rows when omitted).
 * @param labels 1 for the positive class, 0 otherwise.
 * @param scores p(positive) per row.
 */
export function confusionCounts(labels: Uint8Array, scores: Float64Array, threshold: number, rows?: Uint32Array): ConfusionCounts {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  const n = rows ? rows.length : labels.length;
  for (let k = 0; k < n; k++) {
    const i = rows ? rows[k] : k;
    const predicted = scores[i] >= threshold;
    if (labels[i] === 1) {
      if (predicted) tp++;
      else fn++;
    } else if (predicted) fp++;
    else tn++;
  }
  return { tp, fp, tn, fn };
}

/** A rate as numerator over denominator, with the counts kept for intervals. */
export interface RateParts {
  numerator: number;
  denominator: number;
}

/** numerator / denominator, or null when the denominator is empty. */
export function ratio({ numerator, denominator }: RateParts): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

/** A rate metric defined by the confusion counts it divides. */
export interface RateMetric {
  id: string;
  label: string;
  /** One-sentence definition with its convention, shown in tooltips and the report. */
  definition: string;
  parts: (c: ConfusionCounts) => RateParts;
}

/** The rate metrics, by id. Each is numerator/denominator of confusion counts. */
export const RATE_METRICS = {
  selection_rate: {
    id: 'selection_rate',
    label: 'Selection rate',
    definition: 'Share of rows predicted positive (score >= threshold): (TP+FP)/n.',
    parts: (c) => ({ numerator: c.tp + c.fp, denominator: c.tp + c.fp + c.tn + c.fn }),
  },
  base_rate: {
    id: 'base_rate',
    label: 'Base rate',
    definition: 'Share of rows whose true label is positive: (TP+FN)/n.',
    parts: (c) => ({ numerator: c.tp + c.fn, denominator: c.tp + c.fp + c.tn + c.fn }),
  },
  accuracy: {
    id: 'accuracy',
    label: 'Accuracy',
    definition: 'Share of rows predicted correctly: (TP+TN)/n.',
    parts: (c) => ({ numerator: c.tp + c.tn, denominator: c.tp + c.fp + c.tn + c.fn }),
  },
  tpr: {
    id: 'tpr',
    label: 'True positive rate (recall)',
    definition: 'Share of actual positives predicted positive: TP/(TP+FN); not defined without positives.',
    parts: (c) => ({ numerator: c.tp, denominator: c.tp + c.fn }),
  },
  fpr: {
    id: 'fpr',
    label: 'False positive rate',
    definition: 'Share of actual negatives predicted positive: FP/(FP+TN); not defined without negatives.',
    parts: (c) => ({ numerator: c.fp, denominator: c.fp + c.tn }),
  },
  fnr: {
    id: 'fnr',
    label: 'False negative rate',
    definition: 'Share of actual positives predicted negative: FN/(TP+FN); not defined without positives.',
    parts: (c) => ({ numerator: c.fn, denominator: c.tp + c.fn }),
  },
  tnr: {
    id: 'tnr',
    label: 'True negative rate (specificity)',
    definition: 'Share of actual negatives predicted negative: TN/(FP+TN); not defined without negatives.',
    parts: (c) => ({ numerator: c.tn, denominator: c.fp + c.tn }),
  },
  precision: {
    id: 'precision',
    label: 'Precision (PPV)',
    definition: 'Share of predicted positives that are positive: TP/(TP+FP); not defined when nothing is predicted positive.',
    parts: (c) => ({ numerator: c.tp, denominator: c.tp + c.fp }),
  },
  npv: {
    id: 'npv',
    label: 'Negative predictive value',
    definition: 'Share of predicted negatives that are negative: TN/(TN+FN); not defined when nothing is predicted negative.',
    parts: (c) => ({ numerator: c.tn, denominator: c.tn + c.fn }),
  },
} satisfies Record<string, RateMetric>;

/** Id of a rate metric. */
export type RateMetricId = keyof typeof RATE_METRICS;

/** F1 = 2·precision·recall/(precision+recall); null when either is undefined, 0 when both are 0. */
export function f1Score(c: ConfusionCounts): number | null {
  const denominator = 2 * c.tp + c.fp + c.fn;
  return denominator === 0 ? null : (2 * c.tp) / denominator;
}

/** Balanced accuracy = (TPR + TNR)/2; null when either class is absent. */
export function balancedAccuracy(c: ConfusionCounts): number | null {
  const tpr = ratio(RATE_METRICS.tpr.parts(c));
  const tnr = ratio(RATE_METRICS.tnr.parts(c));
  return tpr === null || tnr === null ? null : (tpr + tnr) / 2;
}
