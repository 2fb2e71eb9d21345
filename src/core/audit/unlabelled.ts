/**
 * Audits without labels: a production batch scored before any outcome is known. What needs
 * no label is measured exactly as in a labelled audit, under the same keys (selection rates
 * per group, demographic parity, the four-fifths rule, drift, data quality); what needs the
 * outcome is set to null and listed in `missing_sections` with the reason; performance is
 * estimated by CBPE (metrics/cbpe) under `estimated_performance`, overall and per group,
 * with the calibration it assumes checked on a labelled reference when there is one.
 */
import type { AuditMetrics } from './index';
import type { DataProfile } from '../analyses/profile/profile';
import { findColumn, type Table } from '../data/table';
import { AuditConfigError, quote } from '../base/errors';
import { gather } from '../base/rows';
import { calibration, type Binning } from '../metrics/calibration';
import { cbpeEstimate, type CbpeEstimate } from '../metrics/cbpe';
import { DISPARITIES, GROUP_RATES, type AttributeFairness, type GroupMetrics } from '../metrics/fairness';
import type { BinaryTarget } from '../metrics/labels';
import type { GroupIndex } from '../metrics/groups';
import type { ThresholdPolicy } from '../metrics/curves';
import { performance } from '../metrics/performance';
import { formatNumber } from '../base/format';

/** How every reason for a label-dependent section starts. */
export const NO_LABELS = 'not computed without labels';

/**
 * Why the audited data has no labels, or null when it has: no target configured, or a
 * target column empty on every row (a production batch exported before the outcome). A
 * target named but absent from the file is not "no labels": it is likely a typo, and the
 * audit refuses it (binaryTarget names the close matches) rather than pass every label gate
 * unevaluated.
 */
export function labelsAbsence(table: Table, target: string, declared = false): string | null {
  if (!target) return 'no target column was configured (data.target / --target)';
  const column = findColumn(table, target);
  if (!column) return declared ? `${table.source} has no target column ${quote(target)}, and is declared a batch without outcomes (data.unlabelled / --no-labels)` : null;
  if (table.rowCount > 0 && column.missing === table.rowCount) return `the target column ${quote(target)} is empty on all ${table.rowCount} rows of ${table.source}`;
  // Declared: the column's cells (a placeholder, outcomes not yet known) are not read as outcomes.
  if (declared) return `${table.source} is declared a batch without outcomes (data.unlabelled / --no-labels): its column ${quote(target)} is not read as the target`;
  return null;
}

/**
 * Stands in for the target of an unlabelled audit so the label-free computations can run
 * unchanged: every label 0. Nothing computed from these labels reaches the result —
 * {@link withoutLabels} keeps only the values that do not read them.
 */
export function placeholderTarget(rows: number, positiveLabel: string | undefined, why: string): BinaryTarget {
  const positive = positiveLabel ?? '1';
  return {
    labels: new Uint8Array(rows),
    positiveLabel: positive,
    negativeLabel: `not ${positive}`,
    convention: `no labels (${why}); scores are read as p(${positive})`,
  };
}

/**
 * Refuses what an unlabelled audit cannot honour: a threshold policy that is fitted on
 * labels (Youden, cost) without a labelled validation file, and a validation file with no
 * target to read its labels from.
 */
export function checkUnlabelledRequest(why: string, fileName: string, policy: ThresholdPolicy | undefined, validation: string | undefined, target: string): void {
  if (validation !== undefined && !target) {
    throw new AuditConfigError(`data.validation (${validation}) is labelled through data.target, and no target is configured. Set data.target (--target) to the column holding the outcome in ${validation}.`);
  }
  if (policy && (policy.policy === 'youden' || policy.policy === 'cost') && validation === undefined) {
    throw new AuditConfigError(`The threshold policy ${policy.policy} is fitted on labels, and ${fileName} has none (${why}). Fit it on held-out labelled data with data.validation (--validation FILE), or use a fixed threshold or {policy: selection_rate, target: R}, which need no labels.`);
  }
}

/** The notice every output of an unlabelled audit opens with. */
export function labelsNotice(why: string): string {
  return `NO LABELS: ${why}. This audit measures what needs no outcome (selection rates and demographic parity per group, score distributions, drift, data quality); performance is ESTIMATED from the model's confidence (CBPE), not measured, and every metric that needs the outcome is listed as not computed.`;
}

/** The reasons an unlabelled audit records in `missing_sections`, one per label-dependent part. */
export function unlabelledSections(why: string): Record<string, string> {
  const head = `${NO_LABELS} (${why})`;
  return {
    performance: `${head}: accuracy, balanced accuracy, precision, recall, specificity, F1, ROC AUC, average precision, log loss, Brier score and the base rate need the true outcome; the selection rate is measured, and CBPE estimates of accuracy, precision, recall, F1 and ROC AUC are under estimated_performance`,
    calibration: `${head}: calibration compares the scores with outcomes`,
    'fairness.label_metrics': `${head}: base rate, TPR, FPR, FNR, TNR, precision, NPV, accuracy and ROC AUC per group, and the disparities built from them (equal opportunity, equalized odds, predictive parity, FPR, FNR and accuracy differences), need the outcome; selection rates, demographic parity and the four-fifths rule are measured`,
    slice_summary: `${head}: a slice's ROC AUC needs the outcome`,
    robustness: `${head}: the demographic-shift scenarios re-weight labelled rows (perturbation stability and consistency are left out with them)`,
    'data.class_balance': `${head}: the class balance is the outcome's`,
    'data.leakage': `${head}: the leakage check ranks the outcome by each column`,
  };
}

/** Disparities that read selection rates only: measured without labels. */
const LABEL_FREE = new Set(['demographic_parity_difference', 'demographic_parity_ratio', 'demographic_parity_difference_to_overall']);

function maskGroup(m: GroupMetrics, reason: string): GroupMetrics {
  const out: GroupMetrics = {
    n: m.n,
    selection_rate: m.selection_rate,
    confusion: null as unknown as GroupMetrics['confusion'],
    roc_auc: null,
    expected_calibration_error: null,
    intervals: { selection_rate: m.intervals.selection_rate ?? null },
    null_reasons: { ...(m.null_reasons.selection_rate ? { selection_rate: m.null_reasons.selection_rate } : {}) },
    insufficient_samples: m.insufficient_samples,
  };
  for (const id of GROUP_RATES) {
    if (id === 'selection_rate') continue;
    out[id] = null;
    out.null_reasons[id] = reason;
  }
  out.null_reasons.roc_auc = reason;
  out.null_reasons.expected_calibration_error = reason;
  return out;
}

function maskAttribute<T extends AttributeFairness>(f: T, reason: string): T {
  const out = { ...f, groups: Object.fromEntries(Object.entries(f.groups).map(([g, m]) => [g, maskGroup(m, reason)])) } as T & { not_computed: Record<string, string> };
  out.not_computed = {};
  for (const d of DISPARITIES) {
    for (const id of d.aggregation === 'difference' ? [d.id, `${d.id}_to_overall`] : [d.id]) {
      if (LABEL_FREE.has(id) || !(id in f)) continue;
      (out as Record<string, unknown>)[id] = null;
      out.not_computed[id] = reason;
    }
  }
  for (const key of ['intervals', 'drivers'] as const) {
    const values = (f as Record<string, unknown>)[key] as Record<string, unknown> | undefined;
    if (values) (out as Record<string, unknown>)[key] = Object.fromEntries(Object.entries(values).map(([id, v]) => [id, LABEL_FREE.has(id) ? v : null]));
  }
  return out;
}

/**
 * The metrics of an unlabelled audit: every value that reads labels set to null (with its
 * reason), every value that reads only scores and groups kept as computed — so they are
 * the labelled audit's numbers, under the same keys.
 */
export function withoutLabels(metrics: AuditMetrics, why: string): AuditMetrics {
  const reason = `${NO_LABELS} (${why})`;
  const p = metrics.performance;
  const nulls = (length: number) => Array.from({ length }, () => null);
  const sweep = (rates: AuditMetrics['threshold_sweep']['overall']) => ({ selection_rate: rates.selection_rate, tpr: nulls(rates.tpr.length), fpr: nulls(rates.fpr.length), precision: nulls(rates.precision.length), accuracy: nulls(rates.accuracy.length) });
  return {
    ...metrics,
    performance: {
      accuracy: null,
      balanced_accuracy: null,
      precision: null,
      recall: null,
      specificity: null,
      f1: null,
      roc_auc: null,
      average_precision: null,
      log_loss: null,
      brier_score: null,
      base_rate: null,
      selection_rate: p.selection_rate,
      confusion_matrix: null as unknown as AuditMetrics['performance']['confusion_matrix'],
      intervals: { selection_rate: p.intervals.selection_rate ?? null },
      curve: [],
    },
    calibration: { expected_calibration_error: null, maximum_calibration_error: null, bins: metrics.calibration.bins, binning: reason, table: [], intervals: { expected_calibration_error: null }, groups: {} },
    fairness: Object.fromEntries(Object.entries(metrics.fairness).map(([a, f]) => [a, maskAttribute(f, reason)])),
    intersections: Object.fromEntries(Object.entries(metrics.intersections).map(([a, f]) => [a, maskAttribute(f, reason)])),
    slices: {},
    slice_summary: { max_slice_auc_gap: null, underperforming_slice_count: null as unknown as number, underperforming: [], too_small: null as unknown as number, rule: reason },
    threshold_sweep: {
      thresholds: metrics.threshold_sweep.thresholds,
      overall: sweep(metrics.threshold_sweep.overall),
      groups: Object.fromEntries(Object.entries(metrics.threshold_sweep.groups).map(([a, groups]) => [a, Object.fromEntries(Object.entries(groups).map(([g, r]) => [g, sweep(r)]))])),
    },
  };
}

/** The data profile of an unlabelled audit: no class balance and no leakage check (both read the outcome). */
export function withoutLabelData(data: DataProfile): DataProfile {
  return { ...data, target: { counts: {}, imbalance_ratio: null }, leakage: [], findings: data.findings.filter((f) => f.check !== 'class_imbalance' && f.check !== 'leakage') };
}

/** A score distribution: quartiles (linear interpolation) and a histogram. */
export interface ScoreSummary {
  n: number;
  mean: number | null;
  min: number | null;
  q1: number | null;
  median: number | null;
  q3: number | null;
  max: number | null;
  /** Counts per bin between `edges` ([e_k, e_k+1), the last bin closed). */
  histogram: number[];
}

/** The score distribution overall and per group of each protected attribute. */
export interface ScoreDistribution {
  edges: number[];
  overall: ScoreSummary;
  groups: Record<string, Record<string, ScoreSummary>>;
  conventions: string;
}

function quantile(sorted: Float64Array, q: number): number {
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(sorted.length - 1, lower + 1);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

function summarize(scores: Float64Array, edges: number[], rows?: Uint32Array): ScoreSummary {
  const values = rows ? gather(scores, rows) : Float64Array.from(scores);
  values.sort();
  const bins = edges.length - 1;
  const histogram = new Array<number>(bins).fill(0);
  let sum = 0;
  const low = edges[0];
  const width = (edges[bins] - low) / bins;
  for (const v of values) {
    sum += v;
    histogram[width > 0 ? Math.min(bins - 1, Math.max(0, Math.floor((v - low) / width))) : 0]++;
  }
  const n = values.length;
  if (n === 0) return { n, mean: null, min: null, q1: null, median: null, q3: null, max: null, histogram };
  return { n, mean: sum / n, min: values[0], q1: quantile(values, 0.25), median: quantile(values, 0.5), q3: quantile(values, 0.75), max: values[n - 1], histogram };
}

/** Score distributions overall and per group: 10 equal-width bins on [0, 1] for probabilities, else on [min, max]. */
export function scoreDistribution(scores: Float64Array, indexes: GroupIndex[], probabilities: boolean): ScoreDistribution {
  let low = 0;
  let high = 1;
  if (!probabilities) {
    low = Number.POSITIVE_INFINITY;
    high = Number.NEGATIVE_INFINITY;
    for (const s of scores) {
      if (s < low) low = s;
      if (s > high) high = s;
    }
    if (!Number.isFinite(low)) [low, high] = [0, 1];
  }
  const edges = Array.from({ length: 11 }, (_, k) => (k === 10 ? high : low + ((high - low) * k) / 10));
  return {
    edges,
    overall: summarize(scores, edges),
    groups: Object.fromEntries(indexes.map((index) => [index.attribute, Object.fromEntries(index.groups.map((g, k) => [g, summarize(scores, edges, index.rows[k])]))])),
    conventions: `Quartiles by linear interpolation (numpy's default); histogram of 10 equal-width bins on ${probabilities ? 'p(positive) in [0, 1]' : 'the scores\' range'}, [e_k, e_k+1), the last bin closed.`,
  };
}

/** A labelled reference the calibration assumption is checked on. */
export interface CalibrationReference {
  source: string;
  labels: Uint8Array;
  scores: Float64Array;
  bins: number;
  binning: Binning;
}

/** The calibration check behind the estimates. */
export interface CalibrationCheck {
  status: 'checked' | 'unchecked';
  /** The labelled reference it was checked on. */
  reference: string | null;
  rows: number | null;
  expected_calibration_error: number | null;
  binning: string | null;
  /** On the reference: the measured metrics and CBPE's estimates of them (how well CBPE does where the truth is known). */
  on_reference: { measured: Record<string, number | null>; estimated: Record<string, number | null> } | null;
  /** Why it is unchecked. */
  reason: string | null;
}

/** The `estimated_performance` section of an unlabelled result. */
export interface EstimatedPerformance extends CbpeEstimate {
  estimated: true;
  method: string;
  threshold: number;
  groups: Record<string, Record<string, CbpeEstimate & { insufficient_samples: boolean }>>;
  calibration_check: CalibrationCheck;
  /** The assumption the estimates rest on, in words (shown next to them in every output). */
  assumption: string;
  conventions: string;
}

const METHOD = 'CBPE (confidence-based performance estimation, as NannyML defines it): expected confusion counts from the probabilities';

/**
 * CBPE estimates overall and per group of each protected attribute, with the calibration
 * they assume checked on `reference` (a labelled reference) or, when there is none, the
 * reason it is unchecked.
 */
export function estimatedPerformance(scores: Float64Array, threshold: number, indexes: GroupIndex[], minGroupSize: number, reference: CalibrationReference | string): EstimatedPerformance {
  const overall = cbpeEstimate(scores, threshold);
  const groups = Object.fromEntries(indexes.map((index) => [index.attribute, Object.fromEntries(index.groups.map((g, k) => [g, { ...cbpeEstimate(scores, threshold, index.rows[k]), insufficient_samples: index.rows[k].length < minGroupSize }]))]));
  let check: CalibrationCheck;
  let assumption: string;
  if (typeof reference === 'string') {
    check = { status: 'unchecked', reference: null, rows: null, expected_calibration_error: null, binning: null, on_reference: null, reason: reference };
    assumption = `The estimates assume the scores are calibrated probabilities; this is UNCHECKED: ${reference}. Give a labelled reference (data.train / data.reference / --reference, holding the target column) to check it.`;
  } else {
    const summary = calibration(reference.labels, reference.scores, { bins: reference.bins, binning: reference.binning });
    const measured = performance(reference.labels, reference.scores, threshold);
    const estimated = cbpeEstimate(reference.scores, threshold);
    const pick = (source: Record<string, unknown>) => Object.fromEntries(['accuracy', 'precision', 'recall', 'f1', 'roc_auc'].map((id) => [id, (source[id] as number | null) ?? null]));
    check = { status: 'checked', reference: reference.source, rows: reference.labels.length, expected_calibration_error: summary.expected_calibration_error, binning: summary.binning, on_reference: { measured: pick(measured as unknown as Record<string, unknown>), estimated: pick(estimated as unknown as Record<string, unknown>) }, reason: null };
    assumption = `The estimates assume the scores are as well calibrated on this data as on the labelled reference ${reference.source}, where the expected calibration error is ${formatNumber(summary.expected_calibration_error)} (${reference.labels.length} rows, ${reference.bins} bins, ${summary.binning}); on it CBPE estimates accuracy ${formatNumber(estimated.accuracy)} against the measured ${formatNumber(measured.accuracy)}, ROC AUC ${formatNumber(estimated.roc_auc)} against ${formatNumber(measured.roc_auc)}. If the relation between the inputs and the outcome has changed since (concept drift), the estimates are wrong and nothing without labels can tell.`;
  }
  return {
    ...overall,
    estimated: true,
    method: METHOD,
    threshold,
    groups,
    calibration_check: check,
    assumption,
    conventions: `Predicted positive when p >= ${threshold}. E[TP] = Σ p and E[FP] = Σ (1 − p) over rows predicted positive, E[FN] = Σ p and E[TN] = Σ (1 − p) over rows predicted negative; accuracy (E[TP] + E[TN]) / n, precision E[TP] / (E[TP] + E[FP]), recall E[TP] / (E[TP] + E[FN]), F1 2E[TP] / (2E[TP] + E[FP] + E[FN]); ROC AUC: trapezoids through one point per distinct score (expected TPR, FPR at p >= t), no point at (0, 0), as NannyML's estimator. A null estimate has an empty expected denominator. The scores are not recalibrated.`,
  };
}
