import { AuditConfigError, closeMatches, quote } from '../errors';
import { DISPARITIES } from './fairness';

/** Which way a metric is better: a gate without an attribute takes the worst value across attributes. */
export type Direction = 'higher_is_better' | 'lower_is_better' | 'neutral';

/** A metric id usable in policy gates, with where to find it in a result. */
export interface CatalogMetric {
  id: string;
  label: string;
  section: 'performance' | 'calibration' | 'fairness' | 'robustness' | 'drift' | 'recourse' | 'input_fidelity' | 'slice_summary' | 'estimated_performance';
  direction: Direction;
  definition: string;
}

const performanceMetrics: CatalogMetric[] = [
  ['accuracy', 'Accuracy', 'higher_is_better', '(TP+TN)/n at the threshold.'],
  ['balanced_accuracy', 'Balanced accuracy', 'higher_is_better', '(TPR+TNR)/2 at the threshold.'],
  ['precision', 'Precision', 'higher_is_better', 'TP/(TP+FP) at the threshold.'],
  ['recall', 'Recall', 'higher_is_better', 'TP/(TP+FN) at the threshold.'],
  ['specificity', 'Specificity', 'higher_is_better', 'TN/(TN+FP) at the threshold.'],
  ['f1', 'F1', 'higher_is_better', '2TP/(2TP+FP+FN) at the threshold.'],
  ['roc_auc', 'ROC AUC', 'higher_is_better', 'P(score of a positive > score of a negative), ties half; DeLong standard error, interval on the logit scale.'],
  ['average_precision', 'Average precision', 'higher_is_better', 'Σ (R_k − R_k−1)·P_k over distinct thresholds (scikit-learn).'],
  ['log_loss', 'Log loss', 'lower_is_better', 'Mean −log p of the true class, p clipped to [1e-15, 1−1e-15].'],
  ['brier_score', 'Brier score', 'lower_is_better', 'Mean (p − y)².'],
  ['base_rate', 'Base rate', 'neutral', 'Share of positive labels.'],
  ['selection_rate', 'Selection rate', 'neutral', 'Share predicted positive (p >= threshold).'],
].map(([id, label, direction, definition]) => ({ id, label, section: 'performance', direction: direction as Direction, definition }));

const calibrationMetrics: CatalogMetric[] = [
  { id: 'expected_calibration_error', label: 'Expected calibration error', section: 'calibration', direction: 'lower_is_better', definition: 'Σ_b (n_b/n)·|mean(y) − mean(p)| over equal-width bins of p(y=1), last bin closed.' },
  { id: 'maximum_calibration_error', label: 'Maximum calibration error', section: 'calibration', direction: 'lower_is_better', definition: 'max_b |mean(y) − mean(p)| over non-empty bins.' },
];

const fairnessMetrics: CatalogMetric[] = [
  ...DISPARITIES.flatMap((d): CatalogMetric[] => {
    const base: CatalogMetric = { id: d.id, label: d.label, section: 'fairness', direction: d.aggregation === 'ratio' ? 'higher_is_better' : 'lower_is_better', definition: d.definition };
    if (d.aggregation !== 'difference') return [base];
    return [base, { ...base, id: `${d.id}_to_overall`, label: `${d.label} to overall`, definition: `Largest |group rate − overall rate| for ${d.rates.join(' and ')}.` }];
  }),
  { id: 'min_group_size', label: 'Smallest group', section: 'fairness', direction: 'higher_is_better', definition: 'Rows in the smallest group of the attribute.' },
  { id: 'statistical_power', label: 'Statistical power', section: 'fairness', direction: 'higher_is_better', definition: 'Smallest power, over the groups compared with the reference group (the configured one, else the largest), of a two-proportion z-test to detect the stated difference in selection rate at α = 0.05.' },
];

const laterMetrics: CatalogMetric[] = [
  { id: 'max_shift_degradation', label: 'Worst degradation under demographic shift', section: 'robustness', direction: 'lower_is_better', definition: 'Largest drop of a metric when a group’s share moves by ±δ.' },
  { id: 'max_psi', label: 'Largest PSI', section: 'drift', direction: 'lower_is_better', definition: 'Largest population stability index over the features against the reference.' },
  { id: 'drifted_feature_share', label: 'Share of drifted features', section: 'drift', direction: 'lower_is_better', definition: 'Share of features with PSI above the major-drift threshold.' },
  { id: 'unknown_category_share', label: 'Rows with an unseen category', section: 'input_fidelity', direction: 'lower_is_better', definition: 'Largest share of rows, over the model inputs whose categories the model lists, holding a value the model never saw (missing cells not counted).' },
  { id: 'max_slice_auc_gap', label: 'Largest slice AUC gap', section: 'slice_summary', direction: 'lower_is_better', definition: 'Largest overall ROC AUC − slice ROC AUC over the slices (fairness.slice_columns) with at least min_group_size rows.' },
  { id: 'underperforming_slice_count', label: 'Underperforming slices', section: 'slice_summary', direction: 'lower_is_better', definition: 'Slices with at least min_group_size rows whose ROC AUC is more than 0.1 below the overall.' },
  { id: 'recourse_feasible_share', label: 'Denied rows with a feasible recourse', section: 'recourse', direction: 'higher_is_better', definition: 'Share of adverse decisions with at least one feasible counterfactual.' },
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

/** Every metric id a gate can name. */
export const METRIC_CATALOG: ReadonlyMap<string, CatalogMetric> = new Map([...performanceMetrics, ...calibrationMetrics, ...fairnessMetrics, ...laterMetrics, ...estimatedMetrics].map((m) => [m.id, m]));

/** The catalog entry of a metric id; throws `unknown metric: <id>` with close matches. */
export function catalogMetric(id: string): CatalogMetric {
  const metric = METRIC_CATALOG.get(id);
  if (metric) return metric;
  const ids = [...METRIC_CATALOG.keys()];
  const close = closeMatches(id, ids);
  throw new AuditConfigError(`unknown metric: ${quote(id)}${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}. Valid ids: ${ids.join(', ')}.`);
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
  missing_sections?: Record<string, string>;
}

/**
 * The value of a metric in a result. A fairness metric without `attribute` is the worst
 * across attributes (by its direction), and says which attribute that was.
 */
export function metricValue(result: MetricSource, id: string, attribute?: string): { value: number | null; attribute?: string; reason?: string } {
  const metric = catalogMetric(id);
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
    return typeof value === 'number' ? { value } : { value: null, reason: `${id} has no value in this audit` };
  }
  const attributes = attribute ? [attribute] : Object.keys(result.fairness);
  if (attribute && !(attribute in result.fairness)) {
    throw new AuditConfigError(`metric ${quote(id)}: the audit has no protected attribute ${quote(attribute)} (attributes: ${Object.keys(result.fairness).join(', ') || 'none'}).`);
  }
  let worst: { value: number | null; attribute?: string; reason?: string } = { value: null };
  for (const name of attributes) {
    const value = (result.fairness[name] as Record<string, unknown>)[id];
    // An audit without labels says why a label metric is missing (unlabelled.ts).
    const notComputed = (result.fairness[name] as { not_computed?: Record<string, string> }).not_computed?.[id];
    if (notComputed && worst.value === null) worst = { value: null, reason: notComputed };
    if (typeof value !== 'number') continue;
    const worse = worst.value === null || (metric.direction === 'higher_is_better' ? value < worst.value : value > worst.value);
    if (worse) worst = { value, attribute: name };
  }
  return worst;
}
