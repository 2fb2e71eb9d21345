/**
 * The result of a multiclass or a regression audit (see task/run.ts): the binary audit's
 * frame — inputs, settings, data profile, input fidelity, drift, explanations, missing
 * sections, policy decision — around metrics named as scikit-learn names its scorers.
 * A binary result has no `task` key (results of every earlier version read the same).
 */
import type { AuditMetrics } from '../audit';
import type { ReadOptions } from '../audit/result';
import type { PolicyDecision } from '../config/policy';
import type { DataProfile, DataSummary } from '../analyses/profile/profile';
import type { DriftReport } from '../analyses/drift/drift';
import type { CalibrationSummary } from '../metrics/calibration';
import type { Interval } from '../metrics/intervals';
import type { MulticlassCalibration, MulticlassPerformance } from '../metrics/multiclass';
import type { MulticlassAttributeFairness } from '../metrics/multiclass-fairness';
import type { DecileCalibration, RegressionAttributeFairness, RegressionPerformance } from '../metrics/regression';
import type { MethodInterval } from '../metrics/task-intervals';
import type { ModelFormatId, ModelSummary } from '../model/classifier';
import type { InputFidelity } from '../model/fidelity';
import type { RecourseReport } from '../analyses/recourse';
import type { TaskRobustness } from './robustness';

import type { AuditTask } from '../metrics/catalog';

export type { AuditTask };

/** The tasks with a result of their own (a binary audit's result is `AuditResult`). */
export type TaskKind = 'multiclass' | 'regression';

/** A regression that feeds a decision: predicted positive when the prediction is above (or below) the threshold. */
export interface RegressionDecision {
  threshold: number;
  positive_when: 'above' | 'below';
}

/** The settings a multiclass or regression audit used, after defaults. */
export interface TaskSettings {
  task: TaskKind;
  /** How the task was chosen: configured, or inferred from the model and the target (said in words). */
  task_source: string;
  /** The model's id as the config named it (metadata.model_id), where it did: what policies, waivers and the registry match the audit by. */
  model_id?: string;
  target: string;
  /** Multiclass: the classes in the model's output order, as the report names them. */
  classes?: string[];
  /** Multiclass: where those names come from (the model file, model.class_labels, or output numbers). */
  classes_source?: string;
  protected_attributes: string[];
  features: string[] | null;
  seed: number;
  confidence: number;
  bootstrap_resamples: number;
  calibration_bins: number;
  min_group_size: number;
  /** Regression: shuffles of the distributional-parity permutation test. */
  permutations?: number;
  /** Regression: the decision the prediction feeds, when one is configured (null: none). */
  decision?: RegressionDecision | null;
  /** The stage budgets the audit ran under, as a binary result records them. */
  limits?: { stage_memory_mb: number; stage_seconds: number | null };
  /** How the data files were read, where the config or flags said (see the binary result's). */
  read_options?: ReadOptions;
  /** The recourse settings the config gave (a regression's decision audit searches recourse). */
  recourse_settings?: Record<string, unknown>;
}

/** One group of a multiclass attribute, with the binary audit's small-group rule and Wilson intervals of its accuracy and per-class rates. */
export type MulticlassGroup = MulticlassAttributeFairness['groups'][string] & {
  insufficient_samples: boolean;
  accuracy_interval: Interval | null;
  /** Wilson intervals per class of the selection rate, one-vs-rest TPR and FPR (null where the denominator is 0). */
  intervals: { selection_rate: Record<string, Interval | null>; tpr: Record<string, Interval | null>; fpr: Record<string, Interval | null> };
};

/** One group of a regression attribute, with the small-group rule. */
export type RegressionGroup = RegressionAttributeFairness['groups'][string] & { insufficient_samples: boolean };

/** Fairness of one protected attribute in a multiclass audit. */
export type MulticlassFairness = Omit<MulticlassAttributeFairness, 'groups'> & { groups: Record<string, MulticlassGroup>; min_group_size: number; small_groups: string[] };

/** Fairness of one protected attribute in a regression audit: the worst pairs' distances flattened to gateable numbers. */
export type RegressionFairness = Omit<RegressionAttributeFairness, 'groups' | 'ks_statistic' | 'wasserstein_distance'> & {
  groups: Record<string, RegressionGroup>;
  /** The largest KS statistic between two groups' predictions. */
  ks_statistic: number | null;
  /** The largest Wasserstein distance between two groups' predictions. */
  wasserstein_distance: number | null;
  /** Which pairs give them, and the permutation p-values. */
  distribution: { ks_statistic: RegressionAttributeFairness['ks_statistic']; wasserstein_distance: RegressionAttributeFairness['wasserstein_distance'] };
  min_group_size: number;
  small_groups: string[];
};

/** SHAP explanations of a multiclass or regression audit. */
export interface TaskExplanations {
  method: 'tree (interventional)' | 'kernel (exact)' | 'kernel (sampled)';
  /** What the values explain, in words. */
  output: string;
  columns: string[];
  /** 1-based data rows explained. */
  rows: number[];
  /** Multiclass: the class each row's values explain (its predicted class). */
  classes?: string[];
  /** Per explained row: the values of its explained output. */
  values: number[][];
  /** Per explained row: the expected output (of its class) the values add to. */
  expected_values: number[];
  /** Multiclass: rows whose label is another class, explained for that class too (why it was not chosen). */
  denied?: { row: number; class: string; values: number[]; expected_value: number }[];
  background: string;
  /** Largest |expected value + Σ values − output| over the explained rows. */
  local_accuracy_error: number;
  /** Mean |SHAP| per column over the explained rows, largest first. */
  global_importance: { column: string; mean_abs_shap: number }[];
  /** Multiclass: mean |SHAP| per column of each class over every explained row. */
  class_importance?: Record<string, { column: string; mean_abs_shap: number }[]>;
  /** Regression with a decision: the principal reasons of each explained adverse decision (score and SHAP values in the prediction's units). */
  reason_codes?: { row: number; score: number; reasons: { column: string; value: string; shap: number }[] }[];
}

/** The model as the result names it. */
export interface TaskModelInput {
  file: string;
  sha256: string;
  format: ModelFormatId;
  producer: string;
  opsets: ModelSummary['opsets'];
  operators: string[];
  /** How the prediction (regression) or the class probabilities (multiclass) are read. */
  score_output: string;
  classes?: string[];
}

/** The frame every multiclass and regression result shares. */
interface TaskResultBase {
  task: TaskKind;
  /** What kind of audit this is and the conventions used: every output opens with it. */
  task_notice: string;
  tool: { name: 'plumbline'; version: string };
  inputs: { model: TaskModelInput; data: { file: string; sha256: string; rows: number; columns: number } };
  settings: TaskSettings;
  n: number;
  data: DataProfile;
  input_fidelity?: InputFidelity;
  reference_data?: DataSummary;
  drift?: DriftReport;
  explanations?: TaskExplanations;
  /** Demographic shift, perturbation and counterfactual flips (see task/robustness). */
  robustness?: TaskRobustness;
  missing_sections: Record<string, string>;
  /** The conventions of every metric, in words. */
  conventions: Record<string, string>;
  policy_decision?: PolicyDecision;
  /** Champion–challenger comparisons are binary-only (a baseline is refused): never present. */
  comparison?: never;
  /** Audits without labels are binary-only: never present. */
  labels?: never;
}

/** A multiclass audit's result. */
export interface MulticlassAuditResult extends TaskResultBase {
  task: 'multiclass';
  performance: MulticlassPerformance & { intervals: Record<string, MethodInterval> };
  calibration: MulticlassCalibration & { top_label: CalibrationSummary; classwise: Record<string, CalibrationSummary> };
  fairness: Record<string, MulticlassFairness>;
  /** Every row's class probabilities, row-major in class order (--predictions). */
  predictions?: number[][];
}

/** A regression audit's result. */
export interface RegressionAuditResult extends TaskResultBase {
  task: 'regression';
  performance: RegressionPerformance & { intervals: Record<string, MethodInterval> };
  /** Mean outcome by decile of the prediction, over all rows. */
  calibration: { deciles: DecileCalibration[]; decile_edges: number[] };
  fairness: Record<string, RegressionFairness>;
  /** Predicted and actual of (a seeded sample of at most 2,000) rows, for the residual and predicted-vs-actual plots. */
  residuals: { rows: number; shown: number; predicted: number[]; actual: number[] };
  /** The binary audit of the decision the prediction feeds (settings.decision), when one is configured. */
  decision_audit?: AuditMetrics;
  /** Counterfactual recourse for the adverse decisions, when a decision is configured. */
  recourse?: RecourseReport;
  predictions?: number[];
}

/** A multiclass or regression audit's result. */
export type TaskAuditResult = MulticlassAuditResult | RegressionAuditResult;

/** Whether a result is a multiclass or regression audit's (binary results have no `task`). */
export function isTaskResult(result: object): result is TaskAuditResult {
  const task = (result as { task?: unknown }).task;
  return task === 'multiclass' || task === 'regression';
}
