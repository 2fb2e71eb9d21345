/**
 * Metrics of a multiclass classifier: C classes, labels as class indices (0…C−1) and the
 * model's probabilities as a row-major n×C matrix. Keys follow scikit-learn's scorer names
 * (`accuracy`, `balanced_accuracy`, `f1_macro`, `roc_auc_ovr`, …) so users can compare.
 * A metric that is undefined is `null` with its reason in `null_reasons`, never 0 — except
 * inside the scikit-learn averages, whose convention (see {@link MULTICLASS_CONVENTIONS})
 * is kept so the numbers compare.
 */
import { log } from '../base/math';
import { calibration, type CalibrationSummary } from './calibration';
import { extent } from './fairness';
import { rocAuc } from './ranking';
import { entriesAt, flags } from '../base/rows';

/** How the multiclass ECEs are computed, with `bins` equal-width bins (calibration.bins). */
export function multiclassEceConvention(bins: number): string {
  return `${bins} equal-width bins [b/${bins}, (b+1)/${bins}), the last closed at 1; ECE = Σ_b (n_b/n)·|mean(hit) − mean(confidence)|. Top-label: confidence = highest probability, hit = predicted class is the label. Classwise: per class k, confidence = p_k, hit = [y = k]; classwise_ece is the mean over classes (Kull et al. 2019), max_classwise_ece the worst`;
}

/** The conventions every multiclass number follows, written next to them in a result. */
export const MULTICLASS_CONVENTIONS = {
  predicted_class: 'the class of highest probability; ties go to the lowest class index',
  averages:
    'as scikit-learn 1.2 with labels=None and zero_division=0: macro and weighted averages run over the classes present in the labels or the predictions; a class never predicted counts precision 0 there, a class without rows counts recall 0 (per_class shows them as null); micro = accuracy',
  balanced_accuracy: 'mean recall over the classes present in the labels',
  roc_auc_ovr: 'mean of the one-vs-rest ROC AUCs (p of the class against all others); _weighted weights each by its support; null when a class is absent or holds every row',
  log_loss: 'probabilities clipped to [ε, 1−ε] with ε = 2⁻⁵² (float64 machine epsilon, scikit-learn 1.2 on float64), each row renormalised to sum 1, mean of −ln p(true class)',
  brier_score: 'mean over rows of Σ_k (p_k − [y = k])² (range 0 to 2)',
  ece: multiclassEceConvention(10),
  groups:
    'performance = every overall metric on the group’s rows; per class k one-vs-rest: TPR_k = share of the group’s class-k rows predicted k, FPR_k = share of its other rows predicted k (null when the denominator is empty), selection rate_k = share of the group predicted k; differences are max − min over the groups where defined, equalized odds of a class = max(ΔTPR, ΔFPR), the attribute’s value is the worst class',
} as const;

/** float64 machine epsilon, the clip of scikit-learn 1.2's log_loss on float64 input. */
export const MULTICLASS_LOG_LOSS_EPSILON = 2 ** -52;

/** Checks that `probabilities` is n×C for n labels, each label a class index; throws a RangeError naming the row otherwise. */
export function checkShape(labels: Int32Array, probabilities: Float64Array, classCount: number): void {
  if (classCount < 2 || probabilities.length !== labels.length * classCount) {
    throw new RangeError(`multiclass metrics need an n×C probability matrix: ${probabilities.length} probabilities for ${labels.length} rows and ${classCount} classes`);
  }
  for (let i = 0; i < labels.length; i++) {
    if (!(labels[i] >= 0 && labels[i] < classCount)) throw new RangeError(`row ${i}: label ${labels[i]} is not a class index 0…${classCount - 1}`);
  }
}

/** The predicted class of each row: the class of highest probability, ties to the lowest index. */
export function predictedClasses(probabilities: Float64Array, classCount: number): Int32Array {
  const n = probabilities.length / classCount;
  const predicted = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < classCount; k++) if (probabilities[i * classCount + k] > probabilities[i * classCount + best]) best = k;
    predicted[i] = best;
  }
  return predicted;
}

/** Confusion matrix over `rows` (all when omitted): entry [true][predicted] counts rows, as scikit-learn. */
export function multiclassConfusion(labels: Int32Array, predicted: Int32Array, classCount: number, rows?: Uint32Array): number[][] {
  const matrix = Array.from({ length: classCount }, () => new Array<number>(classCount).fill(0));
  const n = rows ? rows.length : labels.length;
  for (let k = 0; k < n; k++) {
    const i = rows ? rows[k] : k;
    matrix[labels[i]][predicted[i]]++;
  }
  return matrix;
}

/** One class's one-vs-rest metrics; null where undefined (see the result's `null_reasons`). */
export interface ClassMetrics {
  roc_auc: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  support: number;
}

/** Threshold-free and argmax metrics of a multiclass classifier, keyed as scikit-learn's scorers. */
export interface MulticlassPerformance {
  n: number;
  accuracy: number | null;
  balanced_accuracy: number | null;
  precision_macro: number | null;
  precision_weighted: number | null;
  precision_micro: number | null;
  recall_macro: number | null;
  recall_weighted: number | null;
  recall_micro: number | null;
  f1_macro: number | null;
  f1_weighted: number | null;
  f1_micro: number | null;
  roc_auc_ovr: number | null;
  roc_auc_ovr_weighted: number | null;
  log_loss: number | null;
  brier_score: number | null;
  /** By class label, in output order. */
  per_class: Record<string, ClassMetrics>;
  /** [true class][predicted class], in output order. */
  confusion_matrix: number[][];
  /** Why a metric is null: `<metric>` or `per_class.<label>.<metric>`. */
  null_reasons: Record<string, string>;
}

/** Averages of precision, recall and F1 from a confusion matrix (scikit-learn's, see {@link MULTICLASS_CONVENTIONS}). */
export interface ClassAverages {
  precision: { macro: number | null; weighted: number | null; micro: number | null };
  recall: { macro: number | null; weighted: number | null; micro: number | null };
  f1: { macro: number | null; weighted: number | null; micro: number | null };
  /** Per class, null where undefined. */
  perClass: { precision: (number | null)[]; recall: (number | null)[]; f1: (number | null)[]; support: number[] };
}

/**
 * Precision, recall and F1 per class and their macro, weighted and micro averages from a
 * confusion matrix. Per class: precision = TP/(TP+FP) (null when never predicted), recall
 * = TP/(TP+FN) (null without rows), F1 = 2TP/(2TP+FP+FN) (null when the class is in
 * neither). Averages run over the classes in the labels or the predictions, an undefined
 * value counting 0 (scikit-learn, zero_division=0); weighted uses the support. Null for an
 * empty matrix.
 */
export function classAverages(confusion: number[][]): ClassAverages {
  const C = confusion.length;
  const precision: (number | null)[] = [];
  const recall: (number | null)[] = [];
  const f1: (number | null)[] = [];
  const support: number[] = [];
  let n = 0;
  let correct = 0;
  const present: number[] = [];
  for (let k = 0; k < C; k++) {
    let rowSum = 0;
    let columnSum = 0;
    for (let j = 0; j < C; j++) {
      rowSum += confusion[k][j];
      columnSum += confusion[j][k];
    }
    const tp = confusion[k][k];
    n += rowSum;
    correct += tp;
    support.push(rowSum);
    precision.push(columnSum === 0 ? null : tp / columnSum);
    recall.push(rowSum === 0 ? null : tp / rowSum);
    f1.push(rowSum + columnSum === 0 ? null : (2 * tp) / (rowSum + columnSum));
    if (rowSum + columnSum > 0) present.push(k);
  }
  const averages = (values: (number | null)[]) => {
    if (n === 0) return { macro: null, weighted: null, micro: null };
    let macro = 0;
    let weighted = 0;
    for (const k of present) {
      macro += values[k] ?? 0;
      weighted += (values[k] ?? 0) * support[k];
    }
    return { macro: macro / present.length, weighted: weighted / n, micro: correct / n };
  };
  return { precision: averages(precision), recall: averages(recall), f1: averages(f1), perClass: { precision, recall, f1, support } };
}

/** Column k of a row-major n×C matrix. */
export function classColumn(probabilities: Float64Array, classCount: number, k: number): Float64Array {
  const n = probabilities.length / classCount;
  const column = new Float64Array(n);
  for (let i = 0; i < n; i++) column[i] = probabilities[i * classCount + k];
  return column;
}

/** One-vs-rest labels of class k: 1 where the label is k. */
function oneVsRest(labels: Int32Array, k: number): Uint8Array {
  return flags(labels.length, (i) => labels[i] === k);
}

/** Multiclass log loss (see {@link MULTICLASS_CONVENTIONS}): clipped, rows renormalised; null without rows. */
export function multiclassLogLoss(labels: Int32Array, probabilities: Float64Array, classCount: number): number | null {
  const n = labels.length;
  if (n === 0) return null;
  const clip = (p: number) => Math.min(1 - MULTICLASS_LOG_LOSS_EPSILON, Math.max(MULTICLASS_LOG_LOSS_EPSILON, p));
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let rowSum = 0;
    for (let k = 0; k < classCount; k++) rowSum += clip(probabilities[i * classCount + k]);
    sum -= log(clip(probabilities[i * classCount + labels[i]]) / rowSum);
  }
  return sum / n;
}

/** Multiclass Brier score: mean over rows of Σ_k (p_k − [y = k])², range 0…2; null without rows. */
export function multiclassBrier(labels: Int32Array, probabilities: Float64Array, classCount: number): number | null {
  const n = labels.length;
  if (n === 0) return null;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < classCount; k++) {
      const gap = probabilities[i * classCount + k] - (labels[i] === k ? 1 : 0);
      sum += gap * gap;
    }
  }
  return sum / n;
}

/**
 * Performance of a multiclass classifier (see {@link MULTICLASS_CONVENTIONS}).
 * @param labels the true class index of each row.
 * @param probabilities row-major n×C, column k = p(class k).
 * @param classes the class labels in output order (the keys of `per_class`).
 */
export function multiclassPerformance(labels: Int32Array, probabilities: Float64Array, classes: readonly string[]): MulticlassPerformance {
  const C = classes.length;
  checkShape(labels, probabilities, C);
  const n = labels.length;
  const predicted = predictedClasses(probabilities, C);
  const confusion = multiclassConfusion(labels, predicted, C);
  const averages = classAverages(confusion);
  const nullReasons: Record<string, string> = {};
  const perClass: Record<string, ClassMetrics> = {};
  let recallSum = 0;
  let recallCount = 0;
  let aucMacro = 0;
  let aucWeighted = 0;
  let aucDefined = n > 0;
  classes.forEach((label, k) => {
    const support = averages.perClass.support[k];
    const auc = rocAuc(oneVsRest(labels, k), classColumn(probabilities, C, k))?.auc ?? null;
    perClass[label] = { roc_auc: auc, precision: averages.perClass.precision[k], recall: averages.perClass.recall[k], f1: averages.perClass.f1[k], support };
    const key = `per_class.${label}`;
    if (auc === null) {
      nullReasons[`${key}.roc_auc`] = support === 0 ? 'no row of the class' : 'every row is of the class';
      aucDefined = false;
    } else {
      aucMacro += auc / C;
      aucWeighted += n === 0 ? 0 : (auc * support) / n;
    }
    if (averages.perClass.precision[k] === null) nullReasons[`${key}.precision`] = 'the class is never predicted';
    if (averages.perClass.recall[k] === null) nullReasons[`${key}.recall`] = 'no row of the class';
    else {
      recallSum += averages.perClass.recall[k]!;
      recallCount++;
    }
    if (averages.perClass.f1[k] === null) nullReasons[`${key}.f1`] = 'the class is neither in the labels nor predicted';
  });
  if (!aucDefined) {
    nullReasons.roc_auc_ovr = n === 0 ? 'no rows' : 'a class has no rows or holds every row, so its one-vs-rest AUC is undefined';
    nullReasons.roc_auc_ovr_weighted = nullReasons.roc_auc_ovr;
  }
  if (n === 0) for (const key of ['accuracy', 'balanced_accuracy', 'log_loss', 'brier_score']) nullReasons[key] = 'no rows';
  let correct = 0;
  for (let k = 0; k < C; k++) correct += confusion[k][k];
  return {
    n,
    accuracy: n === 0 ? null : correct / n,
    balanced_accuracy: recallCount === 0 ? null : recallSum / recallCount,
    precision_macro: averages.precision.macro,
    precision_weighted: averages.precision.weighted,
    precision_micro: averages.precision.micro,
    recall_macro: averages.recall.macro,
    recall_weighted: averages.recall.weighted,
    recall_micro: averages.recall.micro,
    f1_macro: averages.f1.macro,
    f1_weighted: averages.f1.weighted,
    f1_micro: averages.f1.micro,
    roc_auc_ovr: aucDefined ? aucMacro : null,
    roc_auc_ovr_weighted: aucDefined ? aucWeighted : null,
    log_loss: multiclassLogLoss(labels, probabilities, C),
    brier_score: multiclassBrier(labels, probabilities, C),
    per_class: perClass,
    confusion_matrix: confusion,
    null_reasons: nullReasons,
  };
}

/**
 * Expected calibration error of confidences against 0/1 hits with `bins` equal-width bins
 * [b/B, (b+1)/B), the last closed at 1: Σ_b (n_b/n)·|mean(hit) − mean(confidence)|. Null
 * without rows.
 */
export function binnedEce(confidence: Float64Array, hit: Uint8Array, bins = 10): number | null {
  const n = confidence.length;
  if (n === 0) return null;
  const count = new Float64Array(bins);
  const confidenceSum = new Float64Array(bins);
  const hitSum = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(confidence[i] * bins)));
    count[b]++;
    confidenceSum[b] += confidence[i];
    hitSum[b] += hit[i];
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b] > 0) ece += (count[b] / n) * Math.abs(hitSum[b] / count[b] - confidenceSum[b] / count[b]);
  return ece;
}

/** Top-label and classwise calibration errors (see {@link MULTICLASS_CONVENTIONS}). */
export interface MulticlassCalibration {
  top_label_ece: number | null;
  classwise_ece: number | null;
  max_classwise_ece: number | null;
  /** Each class's ECE of p_k against [y = k], by label. */
  classwise_ece_per_class: Record<string, number | null>;
  bins: number;
}

/** Top-label ECE (confidence = highest probability, hit = argmax is right) and classwise ECE (mean and worst class). */
export function multiclassCalibration(labels: Int32Array, probabilities: Float64Array, classes: readonly string[], bins = 10): MulticlassCalibration {
  const C = classes.length;
  checkShape(labels, probabilities, C);
  const predicted = predictedClasses(probabilities, C);
  const top = entriesAt(probabilities, C, predicted);
  const perClass: Record<string, number | null> = {};
  const values: number[] = [];
  classes.forEach((label, k) => {
    const value = binnedEce(classColumn(probabilities, C, k), oneVsRest(labels, k), bins);
    perClass[label] = value;
    if (value !== null) values.push(value);
  });
  return {
    top_label_ece: binnedEce(top, flags(predicted.length, (i) => predicted[i] === labels[i]), bins),
    classwise_ece: values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length,
    max_classwise_ece: values.length === 0 ? null : extent(values)[1],
    classwise_ece_per_class: perClass,
    bins,
  };
}

/** Reliability diagrams of a multiclass classifier: top-label, and one per class (one-vs-rest). */
export interface MulticlassReliability {
  /** Confidence = the highest probability, observed = whether the predicted class is the label. */
  top_label: CalibrationSummary;
  /** Per class k, by label: confidence = p_k, observed = [y = k]. */
  classwise: Record<string, CalibrationSummary>;
}

/**
 * The reliability tables behind {@link multiclassCalibration}'s ECEs, in the binary audit's
 * form ({@link calibration}: equal-width bins, Wilson intervals of each bin's observed rate),
 * so the same reliability diagram draws them: each table's `expected_calibration_error` is
 * the matching top-label or classwise ECE.
 */
export function multiclassReliability(labels: Int32Array, probabilities: Float64Array, classes: readonly string[], options: { bins?: number; confidence?: number } = {}): MulticlassReliability {
  const C = classes.length;
  checkShape(labels, probabilities, C);
  const predicted = predictedClasses(probabilities, C);
  const top = entriesAt(probabilities, C, predicted);
  const hits = flags(predicted.length, (i) => predicted[i] === labels[i]);
  const classwise: Record<string, CalibrationSummary> = {};
  classes.forEach((label, k) => {
    const table = calibration(oneVsRest(labels, k), classColumn(probabilities, C, k), options);
    classwise[label] = { ...table, binning: table.binning.replace('p(y=1)', `p(class ${label})`) };
  });
  // The top label's table bins the highest class probability against whether that class was right.
  const topTable = calibration(hits, top, options);
  return { top_label: { ...topTable, binning: topTable.binning.replace('p(y=1)', 'the highest class probability (observed: that class is the label)') }, classwise };
}
