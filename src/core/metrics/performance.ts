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
  return {
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
}
