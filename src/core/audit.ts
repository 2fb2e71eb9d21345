import { compareWithBaseline, type BaselineComparison, type BaselineResult } from './comparison/baseline';
import { loadTableBytes, type LoadedTable } from './data/read';
import { profileTable, summarizeData, type DataProfile, type DataSummary } from './data/profile';
import { categoricalDrift, checkReferenceTable, driftFromStored, driftReport, numericDrift, withThresholds, type DriftReport, type StoredDistribution } from './drift/drift';
import { demographicShift, type ShiftReport } from './robustness/shift';
import { recourse, RECOURSE_DEFAULTS, type ProxyFlag, type RecourseReport, type RecourseSettings } from './recourse/recourse';
import { consistency, counterfactualFlips, perturbationStability, type NoiseResult } from './robustness/stability';
import { stratifiedSample } from './data/sample';
import { findColumn, requireColumn, takeRows, type DeclaredType, type Table } from './data/table';
import { AuditConfigError, ConfigError, isPlumblineError, ModelLoadError, quote } from './errors';
import { sha256Hex } from './hash';
import { eceInterval, type EceInterval } from './metrics/ece-interval';
import { checkLl144, ll144Tables, type Ll144Result, type Ll144Settings } from './metrics/ll144';
import { disparityIntervals, type DisparityDriver, type DisparityInterval } from './metrics/disparity-intervals';
import { calibration, type Binning, type CalibrationSummary } from './metrics/calibration';
import { confusionCounts, f1Score } from './metrics/confusion';
import { chooseThreshold, curvePoints, SWEEP_THRESHOLDS, sweepBuckets, sweepThresholdsFor, thresholdSweepByGroup, type ChosenThreshold, type CurvePoint, type SweepRates, type ThresholdPolicy } from './metrics/curves';
import { attributeFairness, powerAgainstReference, type AttributeFairness } from './metrics/fairness';
import { checkIntersection, checkProtectedAttribute, groupIndex, intersectionIndex, sliceIndex, type GroupIndex } from './metrics/groups';
import { rankMetricsByGroup, sortScores } from './metrics/order';
import { binaryTarget, type BinaryTarget } from './metrics/labels';
import { performance, type PerformanceMetrics } from './metrics/performance';
import type { OrtRuntime } from './model/onnx-scorer';
import type { ClassChoice } from './model/classes';
import type { PolicyDecision } from './config/policy';
import { fidelityFindings, inputFidelity, type InputFidelity } from './model/fidelity';
import { modelFormatOf, openModel, type Classifier, type ModelFormatId, type ModelSummary, type OnnxScoreRunner, type TreeMarginRunner } from './model/classifier';
import { explainTable, type ExplainMethod, type ExplainResult } from './explain/explain';
import type { TreeShapRunner } from './explain/treeshap';
import { adverseActionReasons, globalImportance, REASON_STABILITY_ROWS, type AdverseActionReasons } from './explain/outputs';
import { Random } from './random';
import { TOOL_VERSION } from './version';
import type { AuditTask } from './task/result';
import { checkUnlabelledRequest, estimatedPerformance, labelsAbsence, labelsNotice, NO_LABELS, placeholderTarget, scoreDistribution, unlabelledSections, withoutLabelData, withoutLabels, type CalibrationReference, type EstimatedPerformance, type ScoreDistribution } from './unlabelled';
import { checkStageMemory, DEFAULT_STAGE_MEMORY_MB, driftEstimate, explainFix, recourseEstimate, robustnessEstimate, withStageBudget, type StageEstimate, type StageLimits } from './limits';

/** Rows of the perturbation test's seeded sample, of the consistency test's neighbour pool, and model evaluations per recourse row. */
const PERTURBATION_ROWS = 100_000;
const CONSISTENCY_POOL = 20_000;
const RECOURSE_EVALUATIONS = 2000;


/** The robustness section of a result. */
export interface RobustnessReport {
  demographic_shift: ShiftReport;
  /** The gate metric: the largest worsening of any metric under any shift scenario. */
  max_shift_degradation: number | null;
  perturbation: NoiseResult[] | null;
  consistency: ReturnType<typeof consistency> | null;
  counterfactual_flips: Awaited<ReturnType<typeof counterfactualFlips>>[];
  conventions: string;
}

/** The explanations section of a result. */
export type AuditExplanations = ExplainResult & { global_importance: { column: string; mean_abs_shap: number }[]; adverse_action?: AdverseActionReasons };

/** The config keys that get a section that failed to run going, added to its reason when the reason names none. */
const SECTION_FIXES: Record<string, string> = {
  explainer: 'In the audit config, set explainer.type: kernel (KernelSHAP works for every model the audit scores), or explainer.enabled: false to leave explanations out.',
};

/** Why drift is missing when no reference file was given. */
export const NO_REFERENCE = 'no reference data was given (data.train, data.reference, --reference or --reference-result)';

/** Why a section is missing when nobody asked for it (left out, or not possible for a score column), as opposed to one that failed to run. */
const NOT_ASKED = [NO_REFERENCE, 'disabled in the config', 'a score-column audit has no model', NO_LABELS];

/** Whether a missing section's reason says it failed to run (a host shows those where people look: the CLI's stderr). */
export function sectionFailed(why: string): boolean {
  return !NOT_ASKED.some((reason) => why.startsWith(reason));
}

/** A file the user supplied, as bytes plus the name shown in messages. */
export interface InputFile {
  fileName: string;
  bytes: Uint8Array;
}

/** A data file the host has already read (streamed in chunks, with progress) into a table. */
export interface LoadedInput {
  fileName: string;
  loaded: LoadedTable;
}

/** A data file: its bytes, or the table a host read from it. */
export type DataInput = InputFile | LoadedInput;

/** The table of a data input, reading its bytes when the host has not. */
export function loadInput(input: DataInput, csv: AuditRequest['csv']): LoadedTable {
  return 'loaded' in input ? input.loaded : loadTableBytes(input.bytes, input.fileName, csv);
}

/** What to audit and how. */
export interface AuditRequest {
  /** The model file (ONNX, XGBoost JSON or LightGBM text); omit for a score-only audit. */
  model?: InputFile;
  /** A column of the data holding the score (score-only audit, no model). */
  scoreColumn?: string;
  data: DataInput;
  /** Reference data (usually the training file) for drift and as the explainer's background. */
  reference?: DataInput;
  /** Quantile bins of numeric PSI (drift.psi_bins; default 10). */
  driftBins?: number;
  /** The model file's format as the config names it (model.type); checked against the file's bytes. */
  modelType?: 'onnx' | 'xgboost' | 'lightgbm';
  /** PSI thresholds of the drift levels (default minor 0.1, major 0.2). */
  driftThresholds?: { minor: number; major: number };
  /** Reference-free drift: the column distributions stored in an earlier result (`data.distributions`). */
  referenceDistributions?: { source: string; distributions: Record<string, StoredDistribution> };
  /** Recourse settings. */
  recourse?: RecourseSettings;
  /** Robustness settings: the share shift δ and the noise sizes ε. */
  robustness?: { shift?: number; noise?: number[]; proxies?: Record<string, string> };
  /** Explainer settings (rows explained, background size, method). */
  explainer?: { rows?: number; backgroundRows?: number; method?: ExplainMethod };
  /** The column holding the outcome; '' (or a column that is absent or empty on every row) audits without labels (see unlabelled.ts). */
  target: string;
  protectedAttributes: string[];
  /** Column order for a model with one [N, F] input; ignored for per-column inputs. */
  features?: string[];
  positiveLabel?: string;
  /** Decision threshold; predicted positive when score >= threshold. Default 0.5. */
  threshold?: number;
  /** Seed of every random choice (bootstrap streams derive from it). Default 0. */
  seed?: number;
  /** Confidence level of every interval. Default 0.95. */
  confidence?: number;
  /** Calibration bins. Default 10. */
  calibrationBins?: number;
  /** Equal-width (default) or equal-frequency calibration bins. */
  calibrationBinning?: Binning;
  /** Groups smaller than this are flagged `insufficient_samples`. Default 30. */
  minGroupSize?: number;
  /** Write p(positive) of every row into the result (`predictions_p1`). */
  includePredictions?: boolean;
  /** The audited file has no outcomes although `target` names the outcome column (data.unlabelled, --no-labels). */
  unlabelled?: boolean;
  /** A baseline result (the production model's) to compare with: the result's `comparison` section (see comparison/baseline). */
  baseline?: { result: BaselineResult; file: string; sha256: string };
  /** Audit a seeded sample of this many test rows, stratified by the target. */
  sampleSize?: number;
  /** How the CSV is read. */
  csv?: { delimiter?: string; missingValues?: string[]; dtypes?: Record<string, DeclaredType>; skipBadRows?: boolean };
  /** Sections that did not run, with the reason (recorded in the result, read by gates). */
  missingSections?: Record<string, string>;
  /** A threshold policy instead of a fixed threshold; chosen on `validation` when given, else on the audited data and reported as a limitation. */
  thresholdPolicy?: ThresholdPolicy;
  /** Held-out labelled data a threshold policy is fitted on (data.validation); refused with a fixed threshold. */
  validation?: DataInput;
  /** Simulation draws of the ECE interval (config key bootstrap.resamples). Default 1000; under 20: no ECE interval. */
  bootstrapResamples?: number;
  /** Combinations of protected attributes to audit as intersections. Default: every pair. */
  intersections?: string[][];
  /** Columns for slice evaluation. Default: the protected attributes. */
  slices?: string[];
  /** The selection-rate difference statistical power is computed for. Default 0.05. */
  powerDifference?: number;
  /** Four-fifths rule reference group per attribute. Default: the group with the highest selection rate (EEOC). */
  referenceGroups?: Record<string, string>;
  /** NYC Local Law 144 bias-audit tables (fairness.ll144). */
  ll144?: Ll144Settings;
  /** Refuse the audit when more than this share of rows holds a category the model never saw, in any input (model.max_unknown_category_share). */
  maxUnknownCategoryShare?: number;
  /** Whether that limit is --strict's default (for the message). */
  maxUnknownCategoryShareFromStrict?: boolean;
  /** binary, multiclass or regression (task:, --task); inferred from the model and the target when absent (see task/resolve). */
  task?: AuditTask;
  /** A multiclass model's class names in output order, for a file that names none (model.class_labels). */
  classLabels?: readonly string[];
  /** A regression's decision: positive when the prediction is above or below `threshold` (positive_when). */
  positiveWhen?: 'above' | 'below';
  /** Budgets of the drift, explanation, robustness and recourse stages (see limits.ts). Default 2,048 MiB, no time budget. */
  limits?: { stageMemoryMb?: number; stageSeconds?: number };
}

/** The settings an audit actually used, after defaults. */
export interface AuditSettings {
  target: string;
  positive_label: string;
  positive_label_convention: string;
  protected_attributes: string[];
  features: string[] | null;
  threshold_policy: ThresholdPolicy;
  /** Whether the scores are probabilities (a model's p), or raw scores from a column. */
  scores_are_probabilities: boolean;
  seed: number;
  /** Rows sampled from the test file (stratified by target), or null for all rows. */
  test_sample_size?: number | null;
  confidence: number;
  bootstrap_resamples: number;
  calibration_bins: number;
  calibration_binning: Binning;
  min_group_size: number;
  power_difference: number;
  intersections: string[][];
  slices: string[];
  reference_groups: Record<string, string>;
  /** The LL144 tables asked for (null: none). */
  ll144?: Ll144Settings | null;
  /** The stage budgets the audit ran under (a section over budget is listed in missing_sections); absent in results of earlier versions. */
  limits?: { stage_memory_mb: number; stage_seconds: number | null };
}

/** The audit result; key names and nesting follow the fixtures' `.expected.json`. */
export interface AuditResult extends AuditMetrics {
  /** Profile and quality checks of the audited rows. */
  data: DataProfile;
  /** How each model input was fed: unseen categories and missing cells (model audits only). */
  input_fidelity?: InputFidelity;
  /** The reference (usually training) file summarised for the model card: rows, class balance, dates' period. */
  reference_data?: DataSummary;
  /** Drift of the audited file against the reference, when one was given. */
  drift?: DriftReport;
  /** SHAP explanations of the first rows, with global importance. */
  explanations?: AuditExplanations;
  /** Demographic shift, perturbation stability, individual fairness. */
  robustness?: RobustnessReport;
  /** Counterfactual recourse for adverse decisions. */
  recourse?: RecourseReport;
  /** Sections of the audit that did not run, with the reason. */
  missing_sections: Record<string, string>;
  tool: { name: 'plumbline'; version: string };
  inputs: {
    model:
      | {
          file: string;
          sha256: string;
          format: ModelFormatId;
          producer: string;
          opsets: ModelSummary['opsets'];
          operators: string[];
          score_output: string;
          /** The model's classes in output order (numbered 0…C−1 when the file names none). */
          classes?: string[];
          /** The class whose probability is the audited score. */
          positive_class?: string;
          /** True when the model has more than two classes and one is audited against the rest. */
          one_vs_rest?: boolean;
          /** How the model was scored, when the app was asked for WebGPU: `webgpu (…)`, or `wasm (…why)`. */
          execution?: string;
        }
      | { format: 'score-column'; column: string; score_output: string };
    data: { file: string; sha256: string; rows: number; columns: number };
    /** The held-out file a threshold policy was fitted on (data.validation). */
    validation?: { file: string; sha256: string; rows: number };
  };
  settings: AuditSettings;
  predictions_p1?: number[];
  /** Every metric beside the baseline's, with the change and its interval (paired tests when the rows are the same). */
  comparison?: BaselineComparison;
  /** The policy decision, when the audit was gated by a policy (part of the result and its digest). */
  policy_decision?: PolicyDecision;
  /** 'absent' when the audited data has no labels (absent in a labelled result). */
  labels?: 'absent';
  /** Why there are no labels and what that means: the notice every output of an unlabelled audit opens with. */
  labels_notice?: string;
  /** CBPE estimates of performance, overall and per group (unlabelled audits only). */
  estimated_performance?: EstimatedPerformance;
  /** Score distribution overall and per protected group (unlabelled audits). */
  score_distribution?: ScoreDistribution;
}

/** Held-out labels and scores a threshold policy is fitted on. */
export interface ThresholdFit {
  labels: Uint8Array;
  scores: Float64Array;
  /** The file they come from. */
  source: string;
}

/** Fairness of one attribute, with intervals, drivers and power added. */
export interface AttributeAudit extends AttributeFairness {
  /** Score intervals of every disparity (Newcombe, MOVER-R; worst case over pairs): see metrics/disparity-intervals. */
  intervals: Record<string, DisparityInterval>;
  /** Which two groups (or group and all rows) give each disparity, and which of them are small. */
  drivers: Record<string, DisparityDriver | null>;
  statistical_power: number | null;
  power: { groups: [string, string]; n: [number, number]; power: number | null }[];
}

/** One slice of a column: its size and how the model does there. */
export interface SliceResult {
  n: number;
  roc_auc: number | null;
  f1: number | null;
  insufficient_samples: boolean;
  /** The overall ROC AUC minus the slice's (positive: the slice does worse); null where either is undefined. */
  auc_gap: number | null;
  /** AUC more than {@link SLICE_AUC_GAP} below overall, on at least `min_group_size` rows. */
  underperforming: boolean;
}

/** How far below the overall ROC AUC a slice's must fall to be reported as underperforming. */
export const SLICE_AUC_GAP = 0.1;

/** The underperforming slices over every slice column: reported as findings and gateable. */
export interface SliceSummary {
  /** Largest overall − slice AUC gap among slices with at least `min_group_size` rows (null: none has an AUC). */
  max_slice_auc_gap: number | null;
  /** How many slices (of at least `min_group_size` rows) fall more than {@link SLICE_AUC_GAP} below the overall AUC. */
  underperforming_slice_count: number;
  /** Those slices, worst first. */
  underperforming: { column: string; slice: string; n: number; roc_auc: number; auc_gap: number }[];
  /** Slices left out for size (fewer than `min_group_size` rows): their AUCs are too uncertain to flag. */
  too_small: number;
  rule: string;
}

/** The metric part of a result: everything computed from labels and scores. */
export interface AuditMetrics {
  threshold: number;
  threshold_selection: ChosenThreshold;
  n: number;
  performance: PerformanceMetrics & { curve: CurvePoint[] };
  calibration: CalibrationSummary & {
    /** The ECE's interval by test inversion (see metrics/ece-interval); null without probabilities or with bootstrap.resamples under 20. */
    intervals: { expected_calibration_error: EceInterval };
    /** The same reliability table and errors per group of each protected attribute. */
    groups: Record<string, Record<string, CalibrationSummary>>;
  };
  fairness: Record<string, AttributeAudit>;
  intersections: Record<string, AttributeFairness & { empty_cells: string[]; small_cells: string[] }>;
  slices: Record<string, { overall_roc_auc: number | null; slices: Record<string, SliceResult> }>;
  /** NYC Local Law 144 bias-audit tables, when fairness.ll144 asks for them (null otherwise). */
  ll144: Ll144Result | null;
  slice_summary: SliceSummary;
  threshold_sweep: { thresholds: readonly number[]; overall: SweepRates; groups: Record<string, Record<string, SweepRates>> };
}

/** Progress of a running audit. */
export interface AuditProgress {
  stage: 'parse' | 'score' | 'drift' | 'explain' | 'robustness' | 'recourse' | 'metrics';
  done: number;
  total: number;
}

/** Options of {@link runAudit} that are about the run, not the audit. */
export interface RunOptions {
  onProgress?: (progress: AuditProgress) => void;
  signal?: AbortSignal;
  sessionOptions?: Parameters<OrtRuntime['InferenceSession']['create']>[1];
  /** Where TreeSHAP runs (the worker host spreads it over a pool of workers); this thread by default. */
  treeShap?: TreeShapRunner;
  /** Where the project's tree evaluator scores large tables (the worker host's pool); this thread by default. */
  treeMargins?: TreeMarginRunner;
  /** Where an ONNX model scores large tables (the worker host's pool of sessions); the audit's own session by default. */
  onnxScores?: OnnxScoreRunner;
  /** Projected ms above which the rest of an ONNX table goes to `onnxScores` (default 250; 0: always). */
  onnxPoolWorthMs?: number;
}

/**
 * Refuses, before any scoring, the choices that would make the audit meaningless or its
 * work unbounded: a protected attribute that is blank, single-valued or id-like, an
 * intersection or slice column with too many values to list, and a reference file that
 * shares no column with the data (not a table of the same kind: nothing of it may reach
 * the result).
 */
export function validateColumns(table: Table, request: AuditRequest): void {
  if (request.protectedAttributes.length === 0) {
    throw new AuditConfigError('No protected attribute chosen. Name at least one column (e.g. --protected race,sex) so fairness can be audited.');
  }
  for (const attribute of request.protectedAttributes) requireColumn(table, attribute, 'protected attribute');
  if (request.protectedAttributes.includes(request.target)) {
    throw new AuditConfigError(`The target ${quote(request.target)} is also listed as a protected attribute. Choose different columns.`);
  }
  for (const attribute of request.protectedAttributes) checkProtectedAttribute(table, attribute);
  const groupCounts = new Map<string, number>();
  const groupsOf = (attribute: string) => groupCounts.get(attribute) ?? groupCounts.set(attribute, groupIndex(table, attribute).groups.length).get(attribute)!;
  for (const combination of request.intersections ?? defaultIntersections(request.protectedAttributes)) {
    if (combination.every((attribute) => findColumn(table, attribute))) checkIntersection(table, combination, combination.map(groupsOf));
  }
  for (const column of request.slices ?? []) if (!request.protectedAttributes.includes(column) && findColumn(table, column)) sliceIndex(table, column);
  if (request.ll144) checkLl144(table, request.ll144);
  if (request.reference && 'loaded' in request.reference) checkReferenceTable(request.reference.loaded.table, table);
}

/** Scores read from a column of the data (a score-only audit). */
function columnScores(table: Table, name: string): { scores: Float64Array; probabilities: boolean } {
  const column = requireColumn(table, name, 'score');
  if (column.kind !== 'numeric') {
    throw new AuditConfigError(`${table.source}, column ${quote(name)}: a score column must hold numbers, but it holds text (e.g. ${quote(column.dictionary[0] ?? '')}).`);
  }
  if (column.missing > 0) {
    const first = column.values.findIndex((v) => Number.isNaN(v));
    throw new AuditConfigError(`${table.source}, column ${quote(name)}: ${column.missing} rows have no score (first: data row ${first + 1}). Fill or remove them.`);
  }
  let probabilities = true;
  for (const v of column.values) if (v < 0 || v > 1) probabilities = false;
  return { scores: column.values, probabilities };
}

/**
 * How far outside [0, 1] a model's probability may fall and still be read as float32
 * rounding: a forest of float32 leaf probabilities sums to 1.0000001, and a float32 sum of
 * a few hundred terms rounds by at most a few units of 6e-8 each. Such scores are clipped
 * to [0, 1] and counted in a finding.
 */
export const PROBABILITY_TOLERANCE = 1e-5;

/**
 * A model output that is not a probability for some rows would make every metric quietly
 * wrong: NaN is refused with the rows named; values outside [0, 1] by more than
 * {@link PROBABILITY_TOLERANCE} likewise. Values within it are clipped, and a finding says
 * how many and by how much.
 */
function checkScores(scores: Float64Array, modelFile: string, dataFile: string): DataProfile['findings'] {
  const bad: number[] = [];
  let count = 0;
  let clipped = 0;
  let furthest = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = scores[i];
    if (p >= 0 && p <= 1) continue;
    if (p >= -PROBABILITY_TOLERANCE && p <= 1 + PROBABILITY_TOLERANCE) {
      clipped++;
      furthest = Math.max(furthest, p < 0 ? -p : p - 1);
      scores[i] = p < 0 ? 0 : 1;
      continue;
    }
    count++;
    if (bad.length < 5) bad.push(i);
  }
  if (count > 0) {
    const shown = bad.map((i) => `row ${i + 1}: ${scores[i]}`).join(', ');
    throw new ModelLoadError(`${modelFile}: the model's output is not a probability for ${count} of ${scores.length} rows of ${dataFile} (${shown}${count > bad.length ? ', …' : ''}). Check the rows' inputs (missing values the model cannot take?) or the output the audit reads.`);
  }
  if (clipped === 0) return [];
  return [{ check: 'probability_rounding', severity: 'warning', message: `${modelFile}: ${clipped} of ${scores.length} scores fell outside [0, 1] by at most ${furthest.toExponential(1)} (float32 rounding in the model, within the tolerance of ${PROBABILITY_TOLERANCE}) and were clipped to [0, 1].` }];
}

/** Reads, scores and audits: the whole pipeline the worker and the CLI share. */
export async function runAudit(ort: OrtRuntime, request: AuditRequest, options: RunOptions = {}): Promise<AuditResult> {
  const { onProgress, signal } = options;
  if (!request.model === !request.scoreColumn) {
    throw new AuditConfigError(request.model ? 'Give either a model or a score column, not both.' : 'No model and no score column: choose a model file, or name the column that holds the scores (--score / data.score_column).');
  }
  const threshold = request.threshold ?? 0.5;
  if (!Number.isFinite(threshold) || (request.model && !(threshold >= 0 && threshold <= 1))) {
    throw new AuditConfigError(`The threshold must be a number between 0 and 1, got ${request.threshold}.`);
  }
  const resamples = request.bootstrapResamples ?? 1000;
  if (!Number.isInteger(resamples) || resamples < 0 || resamples > 100_000) {
    throw new AuditConfigError(`Bootstrap resamples must be a whole number from 0 to 100000, got ${request.bootstrapResamples}.`);
  }
  const totalBytes = 'loaded' in request.data ? request.data.loaded.bytes : request.data.bytes.length;
  onProgress?.({ stage: 'parse', done: 0, total: totalBytes });
  const data = loadInput(request.data, request.csv);
  let table = data.table;
  // Bytes that are not UTF-8 (e.g. Latin-1 accents) were replaced by U+FFFD: counted while reading, reported.
  const replaced = data.replacedCharacters;
  onProgress?.({ stage: 'parse', done: totalBytes, total: totalBytes });
  const rowsRead = table.rowCount;
  if (request.model && request.modelType) {
    const format = modelFormatOf(request.model.bytes, request.model.fileName).id;
    const named = { onnx: 'onnx', xgboost: 'xgboost-json', lightgbm: 'lightgbm-text' }[request.modelType];
    if (format !== named) throw new ConfigError(`model.type: ${request.modelType}, but ${request.model.fileName} is a${format === 'onnx' ? 'n ONNX model' : format === 'xgboost-json' ? 'n XGBoost JSON model' : ' LightGBM text model'}. Set model.type to ${format === 'onnx' ? 'onnx' : format === 'xgboost-json' ? 'xgboost' : 'lightgbm'} or auto, or choose the model file the config means.`);
  }
  const model = request.model
    ? await openModel(ort, request.model.bytes, request.model.fileName, {
        positiveLabel: request.positiveLabel,
        userMissingValues: request.csv?.missingValues,
        sessionOptions: options.sessionOptions,
        treeMargins: options.treeMargins,
        onnxScores: options.onnxScores,
        onnxPoolWorthMs: options.onnxPoolWorthMs,
      })
    : null;
  try {
    // The model says which of its classes is positive (by label); the target follows it.
    const choice = model ? await model.classChoice(table, request.features) : null;
    const positiveLabel = request.positiveLabel ?? (choice ? String(choice.positive) : undefined);
    const targetOptions = choice?.oneVsRest ? { oneVsRest: choice.classes.map(String) } : {};
    // No labels (no target, or a target column absent or empty): the label-free audit (unlabelled.ts).
    const noLabels = labelsAbsence(table, request.target, request.unlabelled ?? false);
    if (noLabels) checkUnlabelledRequest(noLabels, request.data.fileName, request.thresholdPolicy, request.validation?.fileName, request.target);
    const targetOf = (rows: Table) => (noLabels ? placeholderTarget(rows.rowCount, positiveLabel, noLabels) : binaryTarget(rows, request.target, positiveLabel, targetOptions));
    let target = targetOf(table);
    if (request.sampleSize !== undefined && request.sampleSize < table.rowCount) {
      table = takeRows(table, stratifiedSample(target.labels, request.sampleSize, request.seed ?? 0));
      target = targetOf(table);
    }
    validateColumns(table, request);
    signal?.throwIfAborted();
    return await auditWithModel(model, choice, table, target, rowsRead, request, options, threshold, resamples, { replaced, sha256: data.sha256, noLabels });
  } finally {
    await model?.release();
  }
}

/** Scores, drift, explanations and metrics once the data is read and the model open. */
async function auditWithModel(
  model: Classifier | null,
  choice: ClassChoice | null,
  table: Table,
  target: BinaryTarget,
  rowsRead: number,
  request: AuditRequest,
  options: RunOptions,
  threshold: number,
  resamples: number,
  read: { replaced: number; sha256: string; noLabels: string | null },
): Promise<AuditResult> {
  const { onProgress, signal } = options;
  let scores: Float64Array;
  const scoreFindings: DataProfile['findings'] = [];
  let fidelity: InputFidelity | undefined;
  let probabilities = true;
  let features: string[] | null = null;
  let modelInputs: AuditResult['inputs']['model'];
  if (model && request.model) {
    features = model.features(table, request.features);
    scores = await model.score(table, { features: request.features, signal, onProgress: (done, total) => onProgress?.({ stage: 'score', done, total }) });
    scoreFindings.push(...checkScores(scores, request.model.fileName, table.source));
    fidelity = inputFidelity(model.summary, table, features, new Set(request.csv?.missingValues ?? []));
    const limit = request.maxUnknownCategoryShare;
    const worst = fidelity.inputs.filter((e) => e.unseen && limit !== undefined && e.unseen.share > limit).sort((a, b) => b.unseen!.share - a.unseen!.share)[0];
    if (worst) {
      throw new AuditConfigError(
        `${table.source}, column ${quote(worst.column)}: ${(worst.unseen!.share * 100).toFixed(1)}% of rows hold values ${request.model.fileName} never saw for input ${quote(worst.input)} (${worst.unseen!.top.map((t) => JSON.stringify(t.value)).join(', ')}), more than the ${(limit! * 100).toFixed(1)}% allowed (model.max_unknown_category_share${request.maxUnknownCategoryShareFromStrict ? ', the --strict default' : ''}). Check that the data is coded as the model was trained, or raise the limit.`,
      );
    }
    scoreFindings.push(...fidelityFindings(fidelity, request.model.fileName, request.data.fileName));
    const summary = model.summary;
    modelInputs = {
      file: request.model.fileName,
      sha256: sha256Hex(request.model.bytes),
      format: summary.format,
      producer: summary.producer,
      opsets: summary.opsets,
      operators: summary.operators,
      score_output: choice!.convention,
      classes: choice!.classes.map(String),
      positive_class: String(choice!.positive),
      one_vs_rest: choice!.oneVsRest,
    };
    if (choice!.oneVsRest) {
      scoreFindings.push({ check: 'one_vs_rest', severity: 'warning', message: `${request.model.fileName}: the model has ${choice!.classes.length} classes (${choice!.classes.join(', ')}); this audit scores class ${choice!.positive} against the other ${choice!.classes.length - 1} (one-vs-rest): every metric is about telling class ${choice!.positive} apart, and rows of the other classes count as negatives.` });
    }
  } else {
    const column = request.scoreColumn!;
    ({ scores, probabilities } = columnScores(table, column));
    modelInputs = {
      format: 'score-column',
      column,
      score_output: probabilities ? `column ${column} read as p(positive)` : `column ${column} read as a raw score (not a probability: log loss, Brier and calibration are not computed)`,
    };
  }

  let drift: DriftReport | undefined;
  const { noLabels } = read;
  const missingSections = { ...(noLabels ? unlabelledSections(noLabels) : {}), ...(request.missingSections ?? {}) };
  let referenceScores: Float64Array | undefined;
  const referenceLoaded = request.reference ? loadInput(request.reference, request.csv) : null;
  const reference = referenceLoaded?.table ?? null;
  const referenceData = referenceLoaded && request.reference ? summarizeData(referenceLoaded.table, request.reference.fileName, referenceLoaded.sha256, request.target) : null;
  const limits: StageLimits = { memoryBytes: (request.limits?.stageMemoryMb ?? DEFAULT_STAGE_MEMORY_MB) * 2 ** 20, seconds: request.limits?.stageSeconds ?? null };
  /**
   * Runs an optional section: its memory estimate checked before it starts (the explainer
   * checks its own, once it knows its method), its time budget, progress around it; a
   * Plumbline error leaves the section out with the reason and the audit goes on.
   */
  const optionalSection = async <T>(stage: AuditProgress['stage'], name: string, key: string, budget: StageEstimate | { fix: string }, body: (stageSignal: AbortSignal | undefined) => Promise<T>): Promise<T | undefined> => {
    onProgress?.({ stage, done: 0, total: 1 });
    let value: T | undefined;
    try {
      if ('bytes' in budget) checkStageMemory(name, budget, limits);
      value = await withStageBudget(name, limits, signal, budget.fix, body);
    } catch (error) {
      if (!isPlumblineError(error)) throw error;
      missingSections[key] = `${(error as Error).message}${SECTION_FIXES[key] && !(error as Error).message.includes(`${key}.`) ? ` ${SECTION_FIXES[key]}` : ''}`;
    }
    onProgress?.({ stage, done: 1, total: 1 });
    return value;
  };
  if (reference && !missingSections.drift) {
    drift = await optionalSection('drift', 'Drift', 'drift', driftEstimate(reference.rowCount, table.rowCount, reference.columns.length), async (stageSignal) => {
      const report = driftReport(reference, table, { exclude: [request.target], bins: request.driftBins });
      if (!noLabels && findColumn(reference, request.target)) report.label = categoricalDrift(request.target, findColumn(reference, request.target)!, findColumn(table, request.target)!);
      if (model) {
        // Prediction drift: the same model scores the reference.
        referenceScores = await model.score(reference, { features: request.features, signal: stageSignal });
        report.prediction = numericDrift('p(positive)', referenceScores, scores, request.driftBins);
      } else if (request.scoreColumn && findColumn(reference, request.scoreColumn)?.kind === 'numeric') {
        report.prediction = numericDrift(request.scoreColumn, (findColumn(reference, request.scoreColumn) as { values: Float64Array }).values, scores);
      }
      return report;
    });
  } else if (request.referenceDistributions && !missingSections.drift) {
    drift = driftFromStored(request.referenceDistributions.distributions, table, request.referenceDistributions.source, [request.target]);
  } else if (!missingSections.drift) {
    missingSections.drift = NO_REFERENCE;
  }

  if (drift && request.driftThresholds) drift = withThresholds(drift, request.driftThresholds);

  let explanations: AuditExplanations | undefined;
  if (!missingSections.explainer) {
    if (!model || !request.model) missingSections.explainer = 'a score-column audit has no model to explain';
    else {
      const rows = request.explainer?.rows ?? 100;
      const backgroundRows = request.explainer?.backgroundRows ?? 100;
      const explained = await optionalSection('explain', 'The explanations', 'explainer', { fix: explainFix(rows, backgroundRows) }, (stageSignal) =>
        explainTable(model, request.model!, table, reference ?? table, {
          rows,
          backgroundRows,
          method: request.explainer?.method ?? 'auto',
          features: request.features,
          seed: request.seed ?? 0,
          memoryLimit: limits.memoryBytes,
          textMissing: new Set(request.csv?.missingValues ?? []),
        }, stageSignal, options.treeShap),
      );
      if (explained) explanations = { ...explained, global_importance: globalImportance(explained.columns, explained.values) };
    }
  }

  // A threshold policy fitted on held-out data: the validation file, scored by the same model (or read from the same score column).
  let fit: ThresholdFit | undefined;
  let validationInput: { file: string; sha256: string; rows: number } | undefined;
  if (request.validation) {
    const policy = request.thresholdPolicy ?? { policy: 'fixed', threshold };
    if (policy.policy === 'fixed') {
      throw new AuditConfigError(
        `data.validation (${request.validation.fileName}) is only used to fit a threshold policy, and the threshold is fixed at ${policy.threshold}. Set threshold to a policy ({policy: youden}, {policy: selection_rate, target: R} or {policy: cost, cost_fp: A, cost_fn: B}), or remove data.validation.`,
      );
    }
    const loaded = loadInput(request.validation, request.csv);
    const validationTarget = binaryTarget(loaded.table, request.target, target.positiveLabel, choice?.oneVsRest ? { oneVsRest: choice.classes.map(String) } : {});
    const validationScores = model ? await model.score(loaded.table, { features: request.features, signal }) : columnScores(loaded.table, request.scoreColumn!).scores;
    fit = { labels: validationTarget.labels, scores: validationScores, source: request.validation.fileName };
    validationInput = { file: request.validation.fileName, sha256: loaded.sha256, rows: loaded.table.rowCount };
  }

  onProgress?.({ stage: 'metrics', done: 0, total: 1 });
  const settings: AuditSettings = {
    target: request.target,
    positive_label: target.positiveLabel,
    positive_label_convention: target.convention,
    protected_attributes: [...request.protectedAttributes],
    features,
    threshold_policy: request.thresholdPolicy ?? { policy: 'fixed', threshold },
    scores_are_probabilities: probabilities,
    seed: request.seed ?? 0,
    test_sample_size: request.sampleSize !== undefined && request.sampleSize < rowsRead ? request.sampleSize : null,
    confidence: request.confidence ?? 0.95,
    bootstrap_resamples: resamples,
    calibration_bins: request.calibrationBins ?? 10,
    calibration_binning: request.calibrationBinning ?? 'equal-width',
    min_group_size: request.minGroupSize ?? 30,
    power_difference: request.powerDifference ?? 0.05,
    intersections: request.intersections ?? defaultIntersections(request.protectedAttributes),
    slices: request.slices ?? [...request.protectedAttributes],
    reference_groups: request.referenceGroups ?? {},
    ll144: request.ll144 ?? null,
    limits: { stage_memory_mb: limits.memoryBytes / 2 ** 20, stage_seconds: limits.seconds },
  };
  const measured = auditScores(table, target.labels, scores, settings, fit);
  const metrics = noLabels ? withoutLabels(measured, noLabels) : measured;
  const profiled = profileTable(table, request.target, target.labels, settings.protected_attributes);
  const data = noLabels ? withoutLabelData(profiled) : profiled;
  let unlabelled: Pick<AuditResult, 'labels' | 'labels_notice' | 'estimated_performance' | 'score_distribution'> = {};
  if (noLabels) {
    const indexes = settings.protected_attributes.map((a) => groupIndex(table, a));
    let estimated: EstimatedPerformance | undefined;
    if (!probabilities) missingSections.estimated_performance = `not computed: CBPE reads the scores as probabilities, and column ${request.scoreColumn} holds raw scores outside [0, 1]`;
    else {
      if (reference && !referenceScores) referenceScores = model ? await model.score(reference, { features: request.features, signal }) : request.scoreColumn && findColumn(reference, request.scoreColumn)?.kind === 'numeric' ? (findColumn(reference, request.scoreColumn) as { values: Float64Array }).values : undefined;
      estimated = estimatedPerformance(scores, metrics.threshold, indexes, settings.min_group_size, calibrationReference(reference, request, referenceScores, target.positiveLabel, choice, settings));
    }
    unlabelled = { labels: 'absent', labels_notice: labelsNotice(noLabels), ...(estimated ? { estimated_performance: estimated } : {}), score_distribution: scoreDistribution(scores, indexes, probabilities) };
  }
  data.findings.push(...scoreFindings);
  if (!metrics.threshold_selection.held_out && metrics.threshold_selection.policy.policy !== 'fixed') {
    data.findings.push({
      check: 'threshold_fitted_on_test',
      severity: 'warning',
      message: `The threshold ${metrics.threshold} was chosen by a policy on ${table.source}, the audited file itself: every metric at it is optimistic. Fit it on held-out data with data.validation (--validation FILE).`,
    });
  }
  if (table.skipped) data.findings.push({ check: 'skipped_rows', severity: 'warning', message: `${request.data.fileName}: ${table.skipped.rows} row${table.skipped.rows === 1 ? '' : 's'} with the wrong number of fields skipped (data.skip_bad_lines): ${table.skipped.examples.join('; ')}.` });
  if (read.replaced > 0) data.findings.push({ check: 'encoding', severity: 'warning', message: `${request.data.fileName}: ${read.replaced} character${read.replaced === 1 ? ' was' : 's were'} not valid UTF-8 and shown as U+FFFD (the file may be Latin-1): re-export it as UTF-8 so category names match.` });
  for (const [attribute, fairness] of Object.entries(metrics.fairness)) {
    for (const [group, values] of Object.entries(fairness.groups)) {
      if (values.insufficient_samples) {
        data.findings.push({ check: 'small_group', severity: 'warning', column: attribute, message: `${attribute} = ${group} has ${values.n} rows (fewer than ${settings.min_group_size}): its rates are too uncertain to judge.` });
      }
    }
  }
  for (const slice of metrics.slice_summary.underperforming) {
    data.findings.push({ check: 'underperforming_slice', severity: 'warning', column: slice.column, message: `${slice.column} = ${slice.slice} (${slice.n} rows): ROC AUC ${slice.roc_auc.toFixed(3)}, ${slice.auc_gap.toFixed(3)} below the overall ${(slice.roc_auc + slice.auc_gap).toFixed(3)}: the model does markedly worse on this slice.` });
  }
  signal?.throwIfAborted();
  let robustness: RobustnessReport | undefined;
  if (!missingSections.robustness) {
    const modelColumns = features ?? [];
    robustness = await optionalSection('robustness', 'Robustness', 'robustness', robustnessEstimate(table.rowCount, modelColumns.length, PERTURBATION_ROWS, CONSISTENCY_POOL), async (stageSignal) => {
      const indexes = settings.protected_attributes.map((a) => groupIndex(table, a));
      const shift = demographicShift(target.labels, scores, metrics.threshold, indexes, request.robustness?.shift ?? 0.1, settings.calibration_bins);
      const inputs = modelColumns.filter((c) => !settings.protected_attributes.includes(c));
      const perturbation = model ? await perturbationStability(model, table, scores, metrics.threshold, inputs, { epsilons: request.robustness?.noise ?? [0.01, 0.05, 0.1], seed: settings.seed, features: request.features, signal: stageSignal, maxRows: PERTURBATION_ROWS }) : null;
      stageSignal?.throwIfAborted();
      const flips: RobustnessReport['counterfactual_flips'] = [];
      if (model) {
        for (const a of settings.protected_attributes) {
          stageSignal?.throwIfAborted();
          flips.push(await counterfactualFlips(model, table, scores, metrics.threshold, a, modelColumns, { features: request.features, proxy: request.robustness?.proxies?.[a] }));
        }
      }
      return {
        demographic_shift: shift,
        max_shift_degradation: shift.max_shift_degradation,
        perturbation,
        consistency: model ? consistency(table, scores, inputs, { seed: settings.seed, maxPool: CONSISTENCY_POOL }) : null,
        counterfactual_flips: flips,
        conventions: `${shift.conventions} Perturbation: seeded noise ε·sd·N(0,1) on numeric non-protected model inputs (whole-number columns rounded), categories swapped with probability ε. Consistency: 1 − mean |Δp| to the 10 nearest neighbours (k-d tree, standardized numeric non-protected inputs); above 20,000 rows the neighbours are searched among a seeded sample of 20,000 rows, and above 2,000 rows a seeded sample of 2,000 rows is averaged, with its standard error.`,
      };
    });
  }
  signal?.throwIfAborted();
  // Adverse-action reasons need the decision threshold, known only once the metrics are in;
  // their stability is a second explanation of (at most 50 of) the adverse rows with another seed.
  if (explanations && model && request.model) {
    const adverse = request.recourse?.adverse ?? 'negative';
    const again = explanations.rows.filter((row) => (adverse === 'negative' ? scores[row - 1] < metrics.threshold : scores[row - 1] >= metrics.threshold)).slice(0, REASON_STABILITY_ROWS);
    const backgroundRows = request.explainer?.backgroundRows ?? 100;
    let rerun: (ExplainResult & { rows: number[] }) | string = 'no explained row has an adverse decision';
    if (again.length) try {
      const subset = takeRows(table, Uint32Array.from(again, (row) => row - 1));
      const second = await withStageBudget('The reason-stability check', limits, signal, explainFix(again.length, backgroundRows), (stageSignal) =>
        explainTable(model, request.model!, subset, reference ?? table, { rows: subset.rowCount, backgroundRows, method: request.explainer?.method ?? 'auto', features: request.features, seed: Random.streamSeed(settings.seed, 'explain/reason-stability'), memoryLimit: limits.memoryBytes, textMissing: new Set(request.csv?.missingValues ?? []) }, stageSignal, options.treeShap),
      );
      rerun = { ...second, rows: again };
    } catch (error) {
      if (!isPlumblineError(error)) throw error;
      rerun = (error as Error).message;
    }
    const excluded = [...new Set([...settings.protected_attributes, ...Object.values(request.robustness?.proxies ?? {})])];
    const explainedScores = Float64Array.from(explanations.rows, (row) => scores[row - 1]);
    explanations = { ...explanations, ...adverseActionReasons(table, explanations, rerun, explainedScores, { adverse, threshold: metrics.threshold, excluded, confidence: settings.confidence }) };
  }
  let recourseReport: RecourseReport | undefined;
  if (!missingSections.recourse) {
    if (!model) missingSections.recourse = 'a score-column audit has no model to search counterfactuals with';
    else {
      const settingsRecourse = request.recourse ?? {};
      const maxRows = settingsRecourse.maxRows ?? RECOURSE_DEFAULTS.maxRows;
      const estimate = recourseEstimate(maxRows, (features ?? []).length, RECOURSE_DEFAULTS.callRows + RECOURSE_EVALUATIONS);
      // Proxies are not changed by default: those declared for the flip test and those the data profile flags at error level.
      const proxies: ProxyFlag[] = [
        ...Object.entries(request.robustness?.proxies ?? {}).map(([attribute, column]): ProxyFlag => ({ column, attribute, source: 'declared' })),
        ...data.proxies.filter((p) => p.flag === 'error').map((p): ProxyFlag => ({ column: p.feature, attribute: p.attribute, source: 'detected', measure: p.measure, value: p.value })),
      ];
      recourseReport = await optionalSection('recourse', 'Recourse', 'recourse', estimate, (stageSignal) =>
        recourse(model, table, scores, features ?? [], settings.protected_attributes, {
          threshold: metrics.threshold,
          adverse: settingsRecourse.adverse ?? 'negative',
          immutable: settingsRecourse.immutable ?? [],
          protectedAttributes: settings.protected_attributes,
          proxies,
          actionable: settingsRecourse.actionable,
          categoricalChanges: settingsRecourse.categoricalChanges,
          monotone: settingsRecourse.monotone ?? {},
          costs: settingsRecourse.costs,
          maxRows,
          perRow: settingsRecourse.perRow ?? RECOURSE_DEFAULTS.perRow,
          confidence: settings.confidence,
          seed: settings.seed,
          features: request.features,
          signal: stageSignal,
          maxEvaluations: RECOURSE_EVALUATIONS,
        }),
      );
    }
  }
  onProgress?.({ stage: 'metrics', done: 1, total: 1 });
  const audited: AuditResult = {
    ...unlabelled,
    tool: { name: 'plumbline', version: TOOL_VERSION },
    inputs: {
      model: modelInputs,
      data: { file: request.data.fileName, sha256: read.sha256, rows: rowsRead, columns: table.columns.length },
      ...(validationInput ? { validation: validationInput } : {}),
    },
    settings,
    data,
    missing_sections: missingSections,
    ...metrics,
    ...(referenceData ? { reference_data: referenceData } : {}),
    ...(fidelity ? { input_fidelity: fidelity } : {}),
    ...(drift ? { drift } : {}),
    ...(explanations ? { explanations } : {}),
    ...(robustness ? { robustness } : {}),
    ...(recourseReport ? { recourse: recourseReport } : {}),
    ...(request.includePredictions ? { predictions_p1: Array.from(scores) } : {}),
  };
  if (!request.baseline) return audited;
  // Paired tests need this audit's labels, scores and groups; an unlabelled audit has no labels to pair.
  const rows = noLabels ? null : { labels: target.labels, scores, threshold: metrics.threshold, groups: settings.protected_attributes.map((a) => groupIndex(table, a)) };
  const comparison = compareWithBaseline(audited, request.baseline.result, request.baseline, { rows, seed: settings.seed, resamples, confidence: settings.confidence });
  return { ...audited, comparison };
}

/** The labelled reference the CBPE calibration check reads, or why there is none. */
function calibrationReference(reference: Table | null, request: AuditRequest, scores: Float64Array | undefined, positiveLabel: string, choice: ClassChoice | null, settings: AuditSettings): CalibrationReference | string {
  if (!reference) return NO_REFERENCE;
  if (!request.target) return `no target column is configured to read the reference ${reference.source}'s labels from`;
  if (!findColumn(reference, request.target)) return `the reference ${reference.source} has no target column ${quote(request.target)}`;
  if (!scores) return `the reference ${reference.source} has no scores (column ${request.scoreColumn ?? ''} is not in it)`;
  try {
    const labels = binaryTarget(reference, request.target, positiveLabel, choice?.oneVsRest ? { oneVsRest: choice.classes.map(String) } : {}).labels;
    return { source: reference.source, labels, scores, bins: settings.calibration_bins, binning: settings.calibration_binning };
  } catch (error) {
    if (!isPlumblineError(error)) throw error;
    return `the reference's labels could not be read: ${(error as Error).message}`;
  }
}

/** Every pair of protected attributes (none with a single attribute). */
function defaultIntersections(attributes: string[]): string[][] {
  const pairs: string[][] = [];
  for (let a = 0; a < attributes.length; a++) for (let b = a + 1; b < attributes.length; b++) pairs.push([attributes[a], attributes[b]]);
  return pairs;
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
  const options = { threshold, confidence: settings.confidence, minGroupSize: settings.min_group_size, bins: settings.calibration_bins, binning: settings.calibration_binning, referenceGroups: settings.reference_groups };
  const probabilities = settings.scores_are_probabilities;
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
