/**
 * The metric part of an audit: performance, calibration, fairness with intervals and power,
 * intersections, slices and the threshold sweep, from labels and scores alone.
 */
import { AuditConfigError, quote } from '../base/errors';
import { eceInterval } from '../metrics/ece-interval';
import { ll144Tables } from '../metrics/ll144';
import { disparityIntervals } from '../metrics/disparity-intervals';
import { calibration, type CalibrationSummary } from '../metrics/calibration';
import { confusionCounts, f1Score } from '../metrics/confusion';
import { chooseThreshold, curvePoints, SWEEP_THRESHOLDS, sweepBuckets, sweepThresholdsFor, thresholdSweepByGroup } from '../metrics/curves';
import { attributeFairness, powerAgainstReference } from '../metrics/fairness';
import { groupIndex, intersectionIndex, sliceIndex, type GroupIndex } from '../metrics/groups';
import { rankMetricsByGroup, sortScores } from '../base/ranks';
import { performance } from '../metrics/performance';
import type { Table } from '../data/table';
import { SLICE_AUC_GAP, type AttributeAudit, type AuditMetrics, type AuditSettings, type SliceResult, type SliceSummary, type ThresholdFit } from './result';

/** What {@link auditScores} reads. */
export interface MetricsRequest {
  table: Table;
  labels: Uint8Array;
  scores: Float64Array;
  settings: AuditSettings;
  fit?: ThresholdFit;
}

/**
 * Where the metrics are computed (a host's pool, beside the drift, explanations and data
 * profile): the metrics {@link auditScores} gives here, or null when they are to be computed here.
 */
export type MetricsRunner = (request: MetricsRequest, signal?: AbortSignal) => Promise<AuditMetrics> | null;

/** The columns {@link auditScores} reads: the protected attributes, intersections, slices and LL144's columns (their names; missing ones too). */
export function metricsColumns(settings: AuditSettings): string[] {
  const { ll144 } = settings;
  return [...new Set([...settings.protected_attributes, ...settings.intersections.flat(), ...settings.slices, ...(ll144?.sex ? [ll144.sex] : []), ...(ll144?.race_ethnicity ? [ll144.race_ethnicity] : [])])];
}

/**
 * Performance, calibration, fairness (with intersections, slices, bootstrap intervals,
 * power) and the threshold sweep of given scores: pure, synchronous, no model. Every
 * random draw comes from the settings' seed.
 */
export function auditScores(table: Table, labels: Uint8Array, scores: Float64Array, settings: AuditSettings, fit?: ThresholdFit): AuditMetrics {
  // One sort of the scores serves every rank metric, curve and threshold policy below.
  const sorted = sortScores(labels, scores);
  const chosen = fit ? chooseThreshold(settings.threshold_policy, fit.labels, fit.scores, fit.source, undefined, true) : chooseThreshold(settings.threshold_policy, labels, scores, table.source, sorted);
  const threshold = chosen.threshold;
  const probabilities = settings.scores_are_probabilities;
  const options = { threshold, confidence: settings.confidence, minGroupSize: settings.min_group_size, bins: settings.calibration_bins, binning: settings.calibration_binning, probabilities, referenceGroups: settings.reference_groups };
  const overall = performance(labels, scores, threshold, settings.confidence, probabilities, sorted);
  const indexes = new Map<string, GroupIndex>(settings.protected_attributes.map((attribute) => [attribute, groupIndex(table, attribute)]));
  for (const [attribute, reference] of Object.entries(settings.reference_groups)) {
    const index = indexes.get(attribute);
    if (!index) throw new AuditConfigError(`fairness.reference_groups names ${quote(attribute)}, which is not a protected attribute (${settings.protected_attributes.join(', ')}).`);
    if (!index.groups.includes(reference)) {
      throw new AuditConfigError(`fairness.reference_groups: ${quote(attribute)} has no group ${quote(reference)} (groups: ${index.groups.join(', ')}).`);
    }
  }

  const fairness: Record<string, AttributeAudit> = {};
  for (const [attribute, index] of indexes) {
    const base = attributeFairness(labels, scores, index, options, sorted);
    const counts = Object.fromEntries(Object.entries(base.groups).map(([group, metrics]) => [group, metrics.confusion]));
    // Each group against the reference group (linear in the groups, not every pair).
    const { statistical_power, power } = powerAgainstReference(index, overall.selection_rate ?? 0.5, settings.power_difference, settings.reference_groups[attribute]);
    fairness[attribute] = {
      ...base,
      ...disparityIntervals(counts, settings.confidence, settings.min_group_size),
      statistical_power,
      power,
    };
  }

  const intersections: AuditMetrics['intersections'] = {};
  for (const combination of settings.intersections) {
    const index = intersectionIndex(table, combination);
    const base = attributeFairness(labels, scores, index, options, sorted);
    intersections[index.attribute] = {
      ...base,
      empty_cells: index.emptyCells,
      small_cells: index.groups.filter((_, g) => index.rows[g].length < settings.min_group_size),
    };
  }

  const slices: AuditMetrics['slices'] = {};
  for (const column of settings.slices) {
    // A protected attribute's slices are its groups: reuse their AUC instead of another rank walk.
    const index = indexes.get(column) ?? sliceIndex(table, column);
    const known = fairness[column]?.groups;
    const ranks = known ? null : rankMetricsByGroup(sorted, index.groupOf, index.groups.length);
    const result: Record<string, SliceResult> = {};
    index.groups.forEach((group, g) => {
      const rows = index.rows[g];
      const auc = known ? known[group].roc_auc : ranks![g].auc;
      const gap = auc !== null && overall.roc_auc !== null ? overall.roc_auc - auc : null;
      const small = rows.length < settings.min_group_size;
      result[group] = {
        n: rows.length,
        roc_auc: auc,
        f1: f1Score(confusionCounts(labels, scores, threshold, rows)),
        insufficient_samples: small,
        auc_gap: gap,
        underperforming: gap !== null && gap > SLICE_AUC_GAP && !small,
      };
    });
    slices[column] = { overall_roc_auc: overall.roc_auc, slices: result };
  }
  const sized = Object.entries(slices).flatMap(([column, s]) => Object.entries(s.slices).map(([slice, r]) => ({ column, slice, ...r })));
  const gaps = sized.filter((r) => !r.insufficient_samples && r.auc_gap !== null).map((r) => r.auc_gap as number);
  const underperforming = sized
    .filter((r) => r.underperforming)
    .map((r) => ({ column: r.column, slice: r.slice, n: r.n, roc_auc: r.roc_auc as number, auc_gap: r.auc_gap as number }))
    .sort((a, b) => b.auc_gap - a.auc_gap || a.column.localeCompare(b.column) || a.slice.localeCompare(b.slice));
  const sliceSummary: SliceSummary = {
    max_slice_auc_gap: gaps.length ? gaps.reduce((m, v) => (v > m ? v : m), -Infinity) : null,
    underperforming_slice_count: underperforming.length,
    underperforming,
    too_small: sized.filter((r) => r.insufficient_samples).length,
    rule: `A slice underperforms when its ROC AUC is more than ${SLICE_AUC_GAP} below the overall AUC and it has at least ${settings.min_group_size} rows (fairness.min_group_size); slices of ${settings.slices.join(', ') || 'no column'}.`,
  };

  const sweepThresholds = probabilities ? SWEEP_THRESHOLDS : sweepThresholdsFor(scores);
  const buckets = sweepBuckets(scores, sweepThresholds);
  const sweepGroups: AuditMetrics['threshold_sweep']['groups'] = {};
  for (const [attribute, index] of indexes) {
    const rates = thresholdSweepByGroup(labels, buckets, index.groupOf, index.groups.length, sweepThresholds.length);
    sweepGroups[attribute] = Object.fromEntries(index.groups.map((group, g) => [group, rates[g]]));
  }

  const calibrationOptions = { bins: settings.calibration_bins, confidence: settings.confidence, binning: settings.calibration_binning };
  const notCalibrated: CalibrationSummary = { expected_calibration_error: null, maximum_calibration_error: null, bins: settings.calibration_bins, binning: 'not computed: the scores are not probabilities', table: [] };
  const calibrationSummary = probabilities ? calibration(labels, scores, calibrationOptions) : notCalibrated;
  const calibrationGroups: Record<string, Record<string, CalibrationSummary>> = {};
  for (const [attribute, index] of indexes) {
    calibrationGroups[attribute] = Object.fromEntries(index.groups.map((group, g) => [group, probabilities ? calibration(labels, scores, { ...calibrationOptions, rows: index.rows[g] }) : notCalibrated]));
  }
  return {
    threshold,
    threshold_selection: chosen,
    n: table.rowCount,
    performance: { ...overall, curve: curvePoints(labels, scores, sorted) },
    calibration: {
      ...calibrationSummary,
      intervals: { expected_calibration_error: probabilities ? eceInterval(calibrationSummary.table, calibrationSummary.expected_calibration_error, settings.confidence, settings.seed, 'calibration/ece', settings.bootstrap_resamples) : null },
      groups: calibrationGroups,
    },
    fairness,
    intersections,
    slices,
    slice_summary: sliceSummary,
    ll144: settings.ll144 ? ll144Tables(table, scores, threshold, settings.ll144) : null,
    threshold_sweep: { thresholds: sweepThresholds, overall: thresholdSweepByGroup(labels, buckets, new Int32Array(labels.length), 1, sweepThresholds.length)[0], groups: sweepGroups },
  };
}
