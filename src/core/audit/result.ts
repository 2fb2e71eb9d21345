/**
 * What an audit gives back: the result with every section, the settings it actually used,
 * and the metric part (performance, calibration, fairness, intersections, slices, the
 * threshold sweep) that auditScores computes from labels and scores.
 */
import type { BaselineComparison } from '../comparison/baseline';
import type { DataProfile, DataSummary } from '../analyses/profile/profile';
import type { DriftReport } from '../analyses/drift/drift';
import type { ShiftReport } from '../analyses/robustness/shift';
import type { RecourseReport } from '../analyses/recourse';
import type { ConsistencyResult, counterfactualFlips, NoiseResult } from '../analyses/robustness/stability';
import type { EceInterval } from '../metrics/ece-interval';
import type { Ll144Result, Ll144Settings } from '../metrics/ll144';
import type { DisparityDriver, DisparityInterval } from '../metrics/disparity-intervals';
import type { Binning, CalibrationSummary } from '../metrics/calibration';
import type { ChosenThreshold, CurvePoint, SweepRates, ThresholdPolicy } from '../metrics/curves';
import type { AttributeFairness } from '../metrics/fairness';
import type { PerformanceMetrics } from '../metrics/performance';
import type { PolicyDecision } from '../config/policy';
import type { InputFidelity } from '../model/fidelity';
import type { ModelFormatId, ModelSummary } from '../model/classifier';
import type { ExplainResult } from '../analyses/explain/explain';
import type { AdverseActionReasons } from '../analyses/explain/outputs';
import type { EstimatedPerformance, ScoreDistribution } from './unlabelled';

/** The robustness section of a result. */
export interface RobustnessReport {
  demographic_shift: ShiftReport;
  /** The gate metric: the largest worsening of any metric under any shift scenario. */
  max_shift_degradation: number | null;
  perturbation: NoiseResult[] | null;
  consistency: ConsistencyResult | null;
  counterfactual_flips: Awaited<ReturnType<typeof counterfactualFlips>>[];
  conventions: string;
}

/** The explanations section of a result. */
export type AuditExplanations = ExplainResult & { global_importance: { column: string; mean_abs_shap: number }[]; adverse_action?: AdverseActionReasons };

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
  /** How the data files were read, where the config or flags said (data.delimiter, missing_values, dtypes, encoding, skip_bad_lines): they change what is read. */
  read_options?: ReadOptions;
  /** The recourse settings the config gave (recourse.*), where it gave any: they change the counterfactuals. */
  recourse_settings?: Record<string, unknown>;
  /** How the task was chosen (a binary audit of a model's class, or of a score column). */
  task_source?: string;
  /** The model's id as the config named it (metadata.model_id), where it did: what policies, waivers and the registry match the audit by. */
  model_id?: string;
}

/** The data-reading settings an audit was given, as the config writes them. */
export interface ReadOptions {
  delimiter?: string;
  missing_values?: string[];
  dtypes?: Record<string, string>;
  encoding?: string;
  skip_bad_lines?: boolean;
}

/** {@link ReadOptions} of a request's CSV options (undefined when none was given). */
export function readOptionsOf(csv: { delimiter?: string; missingValues?: string[]; dtypes?: Record<string, string>; skipBadRows?: boolean; encoding?: string } | undefined): ReadOptions | undefined {
  if (!csv) return undefined;
  const options: ReadOptions = {
    ...(csv.delimiter !== undefined ? { delimiter: csv.delimiter } : {}),
    ...(csv.missingValues !== undefined ? { missing_values: [...csv.missingValues] } : {}),
    ...(csv.dtypes !== undefined && Object.keys(csv.dtypes).length ? { dtypes: { ...csv.dtypes } } : {}),
    ...(csv.encoding !== undefined ? { encoding: csv.encoding } : {}),
    ...(csv.skipBadRows ? { skip_bad_lines: true } : {}),
  };
  return Object.keys(options).length ? options : undefined;
}

/** The recourse settings a request gives, as the config names them (recourse.costs, …). */
export function recourseKeysOf(recourse: object | undefined): string[] {
  return Object.keys(recourseSettingsOf(recourse as Record<string, unknown> | undefined) ?? {}).map((key) => `recourse.${key}`);
}

/** The recourse settings given (snake_case, as the config writes them), or undefined when none was. */
export function recourseSettingsOf(recourse: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const names: Record<string, string> = { maxRows: 'max_rows', perRow: 'max_counterfactuals', categoricalChanges: 'categorical_changes' };
  const given = Object.entries(recourse ?? {}).filter(([, value]) => value !== undefined);
  return given.length ? Object.fromEntries(given.map(([key, value]) => [names[key] ?? key, value])) : undefined;
}

/** The entries of `settings` that have a value (a setting the audit was not given is left out, not written null). */
export function definedSettings<T extends Record<string, unknown>>(settings: T): Partial<T> {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as Partial<T>;
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
