import { balancedAccuracy, confusionCounts, f1Score, RATE_METRICS, ratio, type ConfusionCounts } from './confusion';
import { aucInterval, wilsonInterval, type Interval } from './intervals';
import { rankMetricsByGroup, type SortedScores } from '../base/ranks';
import { averagePrecision, brierScore, logLoss, rocAuc } from './ranking';

/** Overall performance at one threshold. Keys follow the fixtures' `performance` section. */
export interface PerformanceMetrics {
  accuracy: number | null;
  balanced_accuracy: number | null;
  precision: number | null;
  recall: number | null;
  specificity: number | null;
  f1: number | null;
  roc_auc: number | null;
  average_precision: number | null;
  log_loss: number | null;
  brier_score: number | null;
  base_rate: number | null;
  selection_rate: number | null;
  confusion_matrix: ConfusionCounts;
  /** Wilson intervals for rates, DeLong for ROC AUC. */
  intervals: Record<string, Interval | null>;
  /** Why a metric is null (present only when one is). */
  null_reasons?: Record<string, string>;
}

/** Why each null metric of `metrics` is null, from its confusion counts. */
function nullReasons(metrics: Omit<PerformanceMetrics, 'null_reasons'>, probabilities: boolean): Record<string, string> {
  const { tp, fp, tn, fn } = metrics.confusion_matrix;
  const single = tp + fn === 0 ? 'the data holds no positive rows' : fp + tn === 0 ? 'the data holds no negative rows' : 'no rows';
  const why: Record<string, string> = {
    accuracy: 'no rows',
    base_rate: 'no rows',
    selection_rate: 'no rows',
    precision: 'no row is predicted positive (no score reaches the threshold), so precision divides by 0',
    recall: 'the data holds no positive rows, so recall divides by 0',
    specificity: 'the data holds no negative rows, so specificity divides by 0',
    balanced_accuracy: `${single}: balanced accuracy averages the recall of both classes`,
    f1: 'no positive rows and none predicted positive',
    roc_auc: `${single}: ROC AUC ranks positive rows against negative ones`,
    average_precision: 'the data holds no positive rows, so average precision is undefined',
    log_loss: probabilities ? 'no rows' : 'not computed: the scores are not probabilities',
    brier_score: probabilities ? 'no rows' : 'not computed: the scores are not probabilities',
  };
  return Object.fromEntries(Object.entries(why).filter(([key]) => (metrics as unknown as Record<string, unknown>)[key] === null));
}

/**
 * Performance of scores against labels at `threshold` (predicted positive when score >=
 * threshold). With `probabilities` false (raw scores), log loss and Brier are null.
 */
export function performance(labels: Uint8Array, scores: Float64Array, threshold: number, confidence = 0.95, probabilities = true, sorted?: SortedScores): PerformanceMetrics {
  const confusion = confusionCounts(labels, scores, threshold);
  // One rank walk gives both AUC and average precision.
  const rank = sorted ? rankMetricsByGroup(sorted, new Int32Array(labels.length), 1)[0] : null;
  const auc = rank ? (rank.auc === null ? null : { auc: rank.auc, standardError: rank.standardError! }) : rocAuc(labels, scores);
  const rate = (id: keyof typeof RATE_METRICS) => {
    const parts = RATE_METRICS[id].parts(confusion);
    return { value: ratio(parts), interval: wilsonInterval(parts.numerator, parts.denominator, confidence) };
  };
  const accuracy = rate('accuracy');
  const precision = rate('precision');
  const recall = rate('tpr');
  const specificity = rate('tnr');
  const baseRate = rate('base_rate');
  const selectionRate = rate('selection_rate');
  const metrics = {
    accuracy: accuracy.value,
    balanced_accuracy: balancedAccuracy(confusion),
    precision: precision.value,
    recall: recall.value,
    specificity: specificity.value,
    f1: f1Score(confusion),
    roc_auc: auc?.auc ?? null,
    average_precision: rank ? rank.averagePrecision : averagePrecision(labels, scores),
    // Log loss and Brier score need probabilities; a raw score (e.g. a decile) has neither.
    log_loss: probabilities ? logLoss(labels, scores) : null,
    brier_score: probabilities ? brierScore(labels, scores) : null,
    base_rate: baseRate.value,
    selection_rate: selectionRate.value,
    confusion_matrix: confusion,
    intervals: {
      accuracy: accuracy.interval,
      precision: precision.interval,
      recall: recall.interval,
      specificity: specificity.interval,
      base_rate: baseRate.interval,
      selection_rate: selectionRate.interval,
      roc_auc: auc ? aucInterval(auc.auc, auc.standardError, confusion.tp + confusion.fn, confusion.fp + confusion.tn, confidence) : null,
    },
  };
  const reasons = nullReasons(metrics, probabilities);
  return Object.keys(reasons).length ? { ...metrics, null_reasons: reasons } : metrics;
}
