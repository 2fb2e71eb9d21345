/**
 * Fairness of a multiclass classifier per protected group: accuracy, macro F1, per-class
 * selection rates and one-vs-rest TPR/FPR, and their disparities across groups with
 * worst-class aggregates (conventions in {@link MULTICLASS_CONVENTIONS}).
 */
import { extent } from './fairness';
import type { GroupIndex } from './groups';
import { checkShape, classAverages, MULTICLASS_CONVENTIONS, multiclassConfusion, multiclassPerformance, predictedClasses, type MulticlassPerformance } from './multiclass';

// Re-exported so a reader of this module finds the conventions its numbers follow.
export { MULTICLASS_CONVENTIONS };

/** One group's multiclass fairness metrics; the per-class records are keyed by label. */
export interface MulticlassGroupMetrics {
  n: number;
  accuracy: number | null;
  f1_macro: number | null;
  selection_rate: Record<string, number | null>;
  tpr: Record<string, number | null>;
  fpr: Record<string, number | null>;
  /** `tpr.<label>` or `fpr.<label>`: why it is null. */
  null_reasons: Record<string, string>;
  /** Every performance metric of the overall result on the group's rows, under the same names. */
  performance: MulticlassPerformance;
}

/** Disparities of one class across the groups (max − min where defined; null with fewer than two). */
export interface ClassDisparity {
  selection_rate_difference: number | null;
  tpr_difference: number | null;
  fpr_difference: number | null;
  /** max(ΔTPR, ΔFPR) of the class. */
  equalized_odds_difference: number | null;
}

/** Multiclass fairness of one protected attribute, with worst-class aggregates. */
export interface MulticlassAttributeFairness {
  groups: Record<string, MulticlassGroupMetrics>;
  by_class: Record<string, ClassDisparity>;
  /** The largest per-class selection-rate difference, and its class. */
  max_class_selection_rate_difference: number | null;
  max_class_selection_rate_difference_class: string | null;
  /** The largest per-class equalized-odds difference (one-vs-rest), and its class. */
  equalized_odds_difference: number | null;
  equalized_odds_difference_class: string | null;
  accuracy_difference: number | null;
  f1_macro_difference: number | null;
}

/** max − min of the defined values; null with fewer than two. */
function spread(values: (number | null)[]): number | null {
  const defined = values.filter((v): v is number => v !== null);
  if (defined.length < 2) return null;
  const [min, max] = extent(defined);
  return max - min;
}

/** The largest defined value of a class record and its class; nulls when none is defined. */
function worstClass(byClass: Record<string, ClassDisparity>, key: keyof ClassDisparity): [number | null, string | null] {
  let worst: [number | null, string | null] = [null, null];
  for (const [label, disparity] of Object.entries(byClass)) {
    const value = disparity[key];
    if (value !== null && (worst[0] === null || value > worst[0])) worst = [value, label];
  }
  return worst;
}

/** {@link multiclassPerformance} of the rows of one group (its labels and probability rows, in row order). */
export function groupPerformance(labels: Int32Array, probabilities: Float64Array, classes: readonly string[], rows: Uint32Array): MulticlassPerformance {
  const C = classes.length;
  const groupLabels = new Int32Array(rows.length);
  const groupProbabilities = new Float64Array(rows.length * C);
  rows.forEach((row, i) => {
    groupLabels[i] = labels[row];
    groupProbabilities.set(probabilities.subarray(row * C, (row + 1) * C), i * C);
  });
  return multiclassPerformance(groupLabels, groupProbabilities, classes);
}

/**
 * Per-group performance (every overall metric, on the group's rows), accuracy, macro F1, per-class selection rates and one-vs-rest TPR/FPR, the
 * per-class disparities across groups and their worst class (see
 * {@link MULTICLASS_CONVENTIONS}). Groups come from {@link GroupIndex}; every group is kept.
 */
export function multiclassFairness(labels: Int32Array, probabilities: Float64Array, classes: readonly string[], index: GroupIndex): MulticlassAttributeFairness {
  const C = classes.length;
  checkShape(labels, probabilities, C);
  const predicted = predictedClasses(probabilities, C);
  const groups: Record<string, MulticlassGroupMetrics> = {};
  index.groups.forEach((group, g) => {
    const rows = index.rows[g];
    const confusion = multiclassConfusion(labels, predicted, C, rows);
    const n = rows.length;
    const metrics: MulticlassGroupMetrics = { n, accuracy: null, f1_macro: classAverages(confusion).f1.macro, selection_rate: {}, tpr: {}, fpr: {}, null_reasons: {}, performance: groupPerformance(labels, probabilities, classes, rows) };
    let correct = 0;
    classes.forEach((label, k) => {
      let actual = 0;
      let chosen = 0;
      for (let j = 0; j < C; j++) {
        actual += confusion[k][j];
        chosen += confusion[j][k];
      }
      const tp = confusion[k][k];
      correct += tp;
      metrics.selection_rate[label] = n === 0 ? null : chosen / n;
      metrics.tpr[label] = actual === 0 ? null : tp / actual;
      metrics.fpr[label] = n - actual === 0 ? null : (chosen - tp) / (n - actual);
      if (actual === 0) metrics.null_reasons[`tpr.${label}`] = 'no row of the class in the group';
      if (n - actual === 0) metrics.null_reasons[`fpr.${label}`] = 'every row of the group is of the class';
    });
    metrics.accuracy = n === 0 ? null : correct / n;
    groups[group] = metrics;
  });
  const all = Object.values(groups);
  const byClass: Record<string, ClassDisparity> = {};
  for (const label of classes) {
    const tpr = spread(all.map((m) => m.tpr[label]));
    const fpr = spread(all.map((m) => m.fpr[label]));
    byClass[label] = {
      selection_rate_difference: spread(all.map((m) => m.selection_rate[label])),
      tpr_difference: tpr,
      fpr_difference: fpr,
      equalized_odds_difference: tpr === null && fpr === null ? null : Math.max(tpr ?? -Infinity, fpr ?? -Infinity),
    };
  }
  const [selection, selectionClass] = worstClass(byClass, 'selection_rate_difference');
  const [odds, oddsClass] = worstClass(byClass, 'equalized_odds_difference');
  return {
    groups,
    by_class: byClass,
    max_class_selection_rate_difference: selection,
    max_class_selection_rate_difference_class: selectionClass,
    equalized_odds_difference: odds,
    equalized_odds_difference_class: oddsClass,
    accuracy_difference: spread(all.map((m) => m.accuracy)),
    f1_macro_difference: spread(all.map((m) => m.f1_macro)),
  };
}
