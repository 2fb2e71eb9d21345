import { AuditConfigError, closeMatches, quote } from '../base/errors';
import { DISPARITIES, smallGroupDisparity, type GroupMetrics } from './fairness';

/** What kind of model an audit treats the file as. */
export type AuditTask = 'binary' | 'multiclass' | 'regression';

/** Which way a metric is better: a gate without an attribute takes the worst value across attributes. */
export type Direction = 'higher_is_better' | 'lower_is_better' | 'neutral';

/** A metric id usable in policy gates, with where to find it in a result. */
export interface CatalogMetric {
  id: string;
  label: string;
  section: 'performance' | 'calibration' | 'fairness' | 'robustness' | 'drift' | 'recourse' | 'input_fidelity' | 'slice_summary' | 'estimated_performance';
  direction: Direction;
  definition: string;
  /** The audits that compute it (default: binary only). */
  tasks?: readonly AuditTask[];
  /** The values it can take (lowest, highest); absent where its units vary (a regression's relative degradation). */
  range?: readonly [number, number];
}

const ALL_TASKS: readonly AuditTask[] = ['binary', 'multiclass', 'regression'];
const CLASSIFIERS: readonly AuditTask[] = ['binary', 'multiclass'];

const performanceMetrics: CatalogMetric[] = [
  ['accuracy', 'Accuracy', 'higher_is_better', '(TP+TN)/n at the threshold; multiclass: share of rows whose most probable class is the label.'],
  ['balanced_accuracy', 'Balanced accuracy', 'higher_is_better', '(TPR+TNR)/2 at the threshold; multiclass: mean recall over the classes present in the labels.'],
  ['precision', 'Precision', 'higher_is_better', 'TP/(TP+FP) at the threshold.'],
  ['recall', 'Recall', 'higher_is_better', 'TP/(TP+FN) at the threshold.'],
  ['specificity', 'Specificity', 'higher_is_better', 'TN/(TN+FP) at the threshold.'],
  ['f1', 'F1', 'higher_is_better', '2TP/(2TP+FP+FN) at the threshold.'],
  ['roc_auc', 'ROC AUC', 'higher_is_better', 'P(score of a positive > score of a negative), ties half; DeLong standard error, interval on the logit scale.'],
  ['average_precision', 'Average precision', 'higher_is_better', 'Σ (R_k − R_k−1)·P_k over distinct thresholds (scikit-learn).'],
  ['log_loss', 'Log loss', 'lower_is_better', 'Mean −log p of the true class, p clipped to [2⁻⁵², 1−2⁻⁵²] (scikit-learn’s eps=\'auto\' for doubles); multiclass: rows renormalised.'],
  ['brier_score', 'Brier score', 'lower_is_better', 'Mean (p − y)²; multiclass: mean over rows of Σ_k (p_k − [y = k])² (0 to 2).'],
  ['base_rate', 'Base rate', 'neutral', 'Share of positive labels.'],
  ['selection_rate', 'Selection rate', 'neutral', 'Share predicted positive (p >= threshold).'],
].map(([id, label, direction, definition]) => ({ id, label, section: 'performance', direction: direction as Direction, definition, ...(['accuracy', 'balanced_accuracy', 'log_loss', 'brier_score'].includes(id) ? { tasks: CLASSIFIERS } : {}) }));

/** Multiclass performance, named as scikit-learn names its scorers (see metrics/multiclass). */
const multiclassPerformance: CatalogMetric[] = [
  ['roc_auc_ovr', 'ROC AUC (macro one-vs-rest)', 'Mean over classes of the ROC AUC of p(class) against all other classes; null when a class is absent.'],
  ['roc_auc_ovr_weighted', 'ROC AUC (weighted one-vs-rest)', 'The one-vs-rest ROC AUCs averaged with weights = class support.'],
  ['f1_macro', 'F1 (macro)', 'Mean of the per-class F1 (classes equal).'],
  ['f1_weighted', 'F1 (weighted)', 'Per-class F1 averaged with weights = class support.'],
  ['f1_micro', 'F1 (micro)', 'F1 of the pooled counts (equals accuracy).'],
  ['precision_macro', 'Precision (macro)', 'Mean of the per-class precision.'],
  ['precision_weighted', 'Precision (weighted)', 'Per-class precision weighted by support.'],
  ['recall_macro', 'Recall (macro)', 'Mean of the per-class recall (equals balanced accuracy over present classes).'],
  ['recall_weighted', 'Recall (weighted)', 'Per-class recall weighted by support (equals accuracy).'],
].map(([id, label, definition]) => ({ id, label, section: 'performance', direction: 'higher_is_better', definition, tasks: ['multiclass'] }));

/** Regression performance (see metrics/regression). */
const regressionPerformance: CatalogMetric[] = [
  ['mae', 'Mean absolute error', 'lower_is_better', 'Mean |y − ŷ|, in the target’s units.'],
  ['rmse', 'Root mean squared error', 'lower_is_better', '√(mean (y − ŷ)²), in the target’s units.'],
  ['mse', 'Mean squared error', 'lower_is_better', 'Mean (y − ŷ)².'],
  ['r2', 'R²', 'higher_is_better', '1 − Σ(y − ŷ)² / Σ(y − ȳ)²; null when the outcome is constant.'],
  ['median_absolute_error', 'Median absolute error', 'lower_is_better', 'Median |y − ŷ|.'],
  ['mape', 'Mean absolute percentage error', 'lower_is_better', 'Mean |y − ŷ| / y; null when any outcome is ≤ 0.'],
].map(([id, label, direction, definition]) => ({ id, label, section: 'performance', direction: direction as Direction, definition, tasks: ['regression'] }));

/** Multiclass calibration and fairness, worst class first. */
const multiclassOther: CatalogMetric[] = [
  { id: 'top_label_ece', label: 'Top-label ECE', section: 'calibration', direction: 'lower_is_better', definition: 'ECE of the highest probability against whether the predicted class is the label (equal-width bins).', tasks: ['multiclass'] },
  { id: 'classwise_ece', label: 'Classwise ECE (mean)', section: 'calibration', direction: 'lower_is_better', definition: 'Mean over classes of the ECE of p(class) against [y = class].', tasks: ['multiclass'] },
  { id: 'max_classwise_ece', label: 'Classwise ECE (worst class)', section: 'calibration', direction: 'lower_is_better', definition: 'Largest per-class ECE of p(class) against [y = class].', tasks: ['multiclass'] },
  { id: 'max_class_selection_rate_difference', label: 'Selection-rate difference (worst class)', section: 'fairness', direction: 'lower_is_better', definition: 'Over the classes, the largest max − min across groups of the share of rows predicted that class.', tasks: ['multiclass'] },
  // The binary audit computes it too (a disparity of its groups' accuracy).
  { id: 'accuracy_difference', label: 'Accuracy difference', section: 'fairness', direction: 'lower_is_better', definition: 'max − min of the groups’ accuracy.', tasks: CLASSIFIERS },
  { id: 'f1_macro_difference', label: 'Macro-F1 difference', section: 'fairness', direction: 'lower_is_better', definition: 'max − min of the groups’ macro F1.', tasks: ['multiclass'] },
];

/** Regression fairness (see metrics/regression). */
const regressionFairness: CatalogMetric[] = [
  ['mean_prediction_difference', 'Mean prediction difference', 'lower_is_better', 'max − min of the groups’ mean prediction.'],
  ['mean_prediction_ratio', 'Mean prediction ratio', 'higher_is_better', 'min / max of the groups’ mean prediction (null unless all are > 0).'],
  ['mean_outcome_difference', 'Mean outcome difference', 'neutral', 'max − min of the groups’ mean outcome (the data’s, not the model’s).'],
  ['mae_difference', 'MAE difference', 'lower_is_better', 'max − min of the groups’ mean absolute error.'],
  ['rmse_difference', 'RMSE difference', 'lower_is_better', 'max − min of the groups’ root mean squared error.'],
  ['bounded_group_loss', 'Bounded group loss', 'lower_is_better', 'The largest group mean squared error.'],
  ['ks_statistic', 'Prediction distribution gap (KS)', 'lower_is_better', 'Largest Kolmogorov–Smirnov statistic between two groups’ predictions (permutation p-value in the result).'],
  ['wasserstein_distance', 'Prediction distribution gap (Wasserstein)', 'lower_is_better', 'Largest Wasserstein-1 distance between two groups’ predictions, in the target’s units.'],
].map(([id, label, direction, definition]) => ({ id, label, section: 'fairness', direction: direction as Direction, definition, tasks: ['regression'] }));

const calibrationMetrics: CatalogMetric[] = [
  { id: 'expected_calibration_error', label: 'Expected calibration error', section: 'calibration', direction: 'lower_is_better', definition: 'Σ_b (n_b/n)·|mean(y) − mean(p)| over equal-width bins of p(y=1), last bin closed.' },
  { id: 'maximum_calibration_error', label: 'Maximum calibration error', section: 'calibration', direction: 'lower_is_better', definition: 'max_b |mean(y) − mean(p)| over non-empty bins.' },
];

const fairnessMetrics: CatalogMetric[] = [
  ...DISPARITIES.flatMap((d): CatalogMetric[] => {
    const base: CatalogMetric = { id: d.id, label: d.label, section: 'fairness', direction: d.aggregation === 'ratio' ? 'higher_is_better' : 'lower_is_better', definition: d.definition };
    if (d.aggregation !== 'difference') return [base];
    // The _to_overall variants are the binary audit's (a multiclass audit computes none).
    const toOverall: CatalogMetric = { ...base, id: `${d.id}_to_overall`, label: `${d.label} to overall`, definition: `Largest |group rate − overall rate| for ${d.rates.join(' and ')}.` };
    if (d.id === 'equalized_odds_difference') base.tasks = CLASSIFIERS;
    return [base, toOverall];
  }),
  { id: 'min_group_size', label: 'Smallest group', section: 'fairness', direction: 'higher_is_better', definition: 'Rows in the smallest group of the attribute.', tasks: ALL_TASKS },
  { id: 'statistical_power', label: 'Statistical power', section: 'fairness', direction: 'higher_is_better', definition: 'Smallest power, over the groups compared with the reference group (the configured one, else the largest), of a two-proportion z-test to detect the stated difference in selection rate at α = 0.05.' },
];

const laterMetrics: CatalogMetric[] = [
  { id: 'max_shift_degradation', label: 'Worst degradation under demographic shift', section: 'robustness', direction: 'lower_is_better', definition: 'Largest drop of a metric when a group’s share moves by ±δ (a regression: the largest relative rise of MAE or RMSE).', tasks: ALL_TASKS },
  { id: 'max_psi', label: 'Largest PSI', section: 'drift', direction: 'lower_is_better', definition: 'Largest population stability index against the reference over the compared columns (every column both files hold but the target, model inputs or not).', tasks: ALL_TASKS },
  { id: 'drifted_feature_share', label: 'Share of drifted features', section: 'drift', direction: 'lower_is_better', definition: 'Share of the compared columns (every column both files hold but the target) with PSI above the major-drift threshold.', tasks: ALL_TASKS },
  { id: 'unknown_category_share', label: 'Rows with an unseen category', section: 'input_fidelity', direction: 'lower_is_better', definition: 'Largest share of rows, over the model inputs whose categories the model lists, holding a value the model never saw (missing cells not counted).', tasks: ALL_TASKS },
  { id: 'max_slice_auc_gap', label: 'Largest slice AUC gap', section: 'slice_summary', direction: 'lower_is_better', definition: 'Largest overall ROC AUC − slice ROC AUC over the slices (fairness.slice_columns) with at least min_group_size rows.' },
  { id: 'underperforming_slice_count', label: 'Underperforming slices', section: 'slice_summary', direction: 'lower_is_better', definition: 'Slices with at least min_group_size rows whose ROC AUC is more than 0.1 below the overall.' },
  { id: 'recourse_feasible_share', label: 'Denied rows with a feasible recourse', section: 'recourse', direction: 'higher_is_better', definition: 'Share of adverse decisions with at least one feasible counterfactual (a regression: of the decision it feeds).', tasks: ['binary', 'regression'] },
];

/** CBPE estimates of an audit without labels (see metrics/cbpe): gateable as `estimated_<metric>`, read from `estimated_performance.<metric>`. */
const estimatedMetrics: CatalogMetric[] = [
  ['accuracy', 'Accuracy', '(E[TP] + E[TN]) / n'],
  ['precision', 'Precision', 'E[TP] / (E[TP] + E[FP])'],
  ['recall', 'Recall', 'E[TP] / (E[TP] + E[FN])'],
  ['f1', 'F1', '2E[TP] / (2E[TP] + E[FP] + E[FN])'],
  ['roc_auc', 'ROC AUC', 'area under the expected ROC curve (expected TPR and FPR at each distinct score, NannyML’s estimator)'],
].map(([id, label, formula]) => ({
  id: `estimated_${id}`,
  label: `${label} (estimated)`,
  section: 'estimated_performance',
  direction: 'higher_is_better',
  definition: `ESTIMATED without labels by CBPE: ${formula}, with E[TP] = Σ p and E[FP] = Σ (1 − p) over rows predicted positive, E[FN] = Σ p and E[TN] = Σ (1 − p) over the rest; valid as far as the scores are calibrated. Only in audits without labels.`,
}));

/**
 * The metrics not between 0 and 1, with their ranges: errors in the target's units, counts,
 * PSI (the rest are shares, rates, AUCs, calibration errors and their differences and ratios).
 */
const RANGES: Readonly<Record<string, readonly [number, number] | null>> = {
  ...Object.fromEntries(
    ['log_loss', 'mae', 'rmse', 'mse', 'median_absolute_error', 'mape', 'mean_prediction_difference', 'mean_outcome_difference', 'mae_difference', 'rmse_difference', 'bounded_group_loss', 'wasserstein_distance', 'min_group_size', 'max_psi', 'underperforming_slice_count'].map((id) => [id, [0, Number.POSITIVE_INFINITY]]),
  ),
  brier_score: [0, 2],
  r2: [Number.NEGATIVE_INFINITY, 1],
  max_slice_auc_gap: [-1, 1],
  // A drop of a share in a classifier's audit, a relative rise of an error in a regression's.
  max_shift_degradation: null,
};

/** Every metric id a gate can name. */
export const METRIC_CATALOG: ReadonlyMap<string, CatalogMetric> = new Map(
  [...performanceMetrics, ...calibrationMetrics, ...fairnessMetrics, ...laterMetrics, ...estimatedMetrics, ...multiclassPerformance, ...regressionPerformance, ...multiclassOther, ...regressionFairness].map((m) => {
    const range = m.id in RANGES ? RANGES[m.id] : ([0, 1] as const);
    return [m.id, range ? { ...m, range } : m];
  }),
);

/** The catalog entry of a metric id; throws `unknown metric: <id>` with close matches. */
export function catalogMetric(id: string): CatalogMetric {
  const metric = METRIC_CATALOG.get(id);
  if (metric) return metric;
  const ids = [...METRIC_CATALOG.keys()];
  const close = closeMatches(id, ids);
  throw new AuditConfigError(`unknown metric: ${quote(id)}${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}. Valid ids: ${ids.join(', ')}.`);
}

/**
 * Names of quantities the outputs show that no gate can name: the per-group rates that have
 * no catalog entry, and the multiclass micro averages (equal to accuracy, so not gateable).
 * With {@link METRIC_CATALOG} this is the one place a metric's name is written.
 */
export const RATE_LABELS: Readonly<Record<string, string>> = {
  tpr: 'TPR',
  fpr: 'FPR',
  fnr: 'FNR',
  tnr: 'TNR',
  npv: 'NPV',
  precision_micro: 'Precision (micro)',
  recall_micro: 'Recall (micro)',
};

/**
 * The name every output (app, PDF, HTML report, model card) gives a metric: the catalog's
 * label, else {@link RATE_LABELS}'. An id in neither is a programming error and throws.
 */
export function metricLabel(id: string): string {
  const label = METRIC_CATALOG.get(id)?.label ?? RATE_LABELS[id];
  if (label === undefined) throw new Error(`metricLabel: no label for metric id ${quote(id)}: add it to METRIC_CATALOG or RATE_LABELS (src/core/metrics/catalog.ts)`);
  return label;
}

/** The catalog's definition of a metric, or undefined for an id without a catalog entry. */
export function metricDefinition(id: string): string | undefined {
  return METRIC_CATALOG.get(id)?.definition;
}

/** What {@link metricValue} reads from: the sections of an audit result. */
export interface MetricSource {
  performance: object;
  calibration: object;
  fairness: Record<string, object>;
  robustness?: object;
  drift?: object;
  recourse?: object;
  input_fidelity?: object;
  slice_summary?: object;
  /** CBPE estimates (audits without labels). */
  estimated_performance?: object;
  /** 'absent' in an audit without labels. */
  labels?: string;
  /** 'multiclass' or 'regression' (absent: binary). */
  task?: string;
  missing_sections?: Record<string, string>;
}

/** A metric's value in a result, or why it has none. */
export interface MetricReading {
  value: number | null;
  /** The attribute a group metric was read for (the worst one, when the gate named none). */
  attribute?: string;
  reason?: string;
  /** A binary disparity that turns on groups under the minimum size (see {@link smallGroupDisparity}). */
  small?: { groups: { name: string; n: number }[]; without: number | null };
}

/**
 * The value of a metric in a result. A fairness metric without `attribute` is the worst
 * across attributes (by its direction), and says which attribute that was.
 */
export function metricValue(result: MetricSource, id: string, attribute?: string): MetricReading {
  const metric = catalogMetric(id);
  const task = (result.task ?? 'binary') as AuditTask;
  const tasks = metric.tasks ?? ['binary'];
  // A regression feeding a decision (positive_when) holds that decision's binary audit: its binary metrics are read there.
  const decision = (result as { decision_audit?: MetricSource }).decision_audit;
  if (task === 'regression' && !tasks.includes(task) && tasks.includes('binary') && decision) return metricValue({ ...decision, task: 'binary' }, id, attribute);
  if (!tasks.includes(task)) {
    const alternatives = [...METRIC_CATALOG.values()].filter((m) => m.section === metric.section && (m.tasks ?? ['binary']).includes(task)).map((m) => m.id);
    return { value: null, reason: `${id} is ${tasks.length === 1 ? `a ${tasks[0]}` : `a ${tasks.join(' or ')}`} metric and this is a ${task} audit${alternatives.length ? ` (its ${metric.section} metrics: ${alternatives.slice(0, 8).join(', ')})` : ''}` };
  }
  if (metric.section === 'estimated_performance') {
    const section = result.estimated_performance as Record<string, unknown> | undefined;
    if (!section) {
      const why = result.missing_sections?.estimated_performance;
      return { value: null, reason: why ?? (result.labels === 'absent' ? 'no estimate was made' : `the audit has labels, so performance is measured, not estimated: gate on ${id.replace(/^estimated_/, '')} instead`) };
    }
    const value = section[id.replace(/^estimated_/, '')];
    const reasons = section.null_reasons as Record<string, string> | undefined;
    return typeof value === 'number' ? { value } : { value: null, reason: reasons?.[id.replace(/^estimated_/, '')] ?? `${id} has no value in this audit` };
  }
  if (metric.section !== 'fairness') {
    const section = result[metric.section] as Record<string, unknown> | undefined;
    if (!section) return { value: null, reason: `the ${metric.section} analysis did not run` };
    const value = section[id];
    // The section's own reason where it gives one (a MAPE with outcomes ≤ 0, an R² of a constant outcome).
    const why = (section.null_reasons as Record<string, string> | undefined)?.[id];
    return typeof value === 'number' ? { value } : { value: null, reason: why ? `${id} has no value: ${why}` : `${id} has no value in this audit` };
  }
  const attributes = attribute ? [attribute] : Object.keys(result.fairness);
  if (attribute && !(attribute in result.fairness)) {
    throw new AuditConfigError(`metric ${quote(id)}: the audit has no protected attribute ${quote(attribute)} (attributes: ${Object.keys(result.fairness).join(', ') || 'none'}).`);
  }
  let worst: MetricReading = { value: null };
  for (const name of attributes) {
    const value = (result.fairness[name] as Record<string, unknown>)[id];
    // An audit without labels says why a label metric is missing (unlabelled.ts).
    const notComputed = (result.fairness[name] as { not_computed?: Record<string, string> }).not_computed?.[id];
    if (notComputed && worst.value === null) worst = { value: null, reason: notComputed };
    if (typeof value !== 'number') continue;
    const worse = worst.value === null || (metric.direction === 'higher_is_better' ? value < worst.value : value > worst.value);
    if (worse) worst = { value, attribute: name };
  }
  const groups = worst.attribute && result.task === undefined ? (result.fairness[worst.attribute] as { groups?: Record<string, GroupMetrics> }).groups : undefined;
  const small = groups ? smallGroupDisparity(id, groups) : null;
  return small ? { ...worst, small } : worst;
}
