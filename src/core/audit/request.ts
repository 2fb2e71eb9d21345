/**
 * What a caller asks of an audit: the input files (bytes, or a table a host already read),
 * the request with every setting the config or the command line gives, and the options
 * about the run itself (progress, cancelling, where heavy work runs).
 */
import type { LoadedTable } from '../data/read';
import type { StoredReference } from '../analyses/drift/stored';
import type { RecourseRunner, RecourseSettings } from '../analyses/recourse';
import type { NeighbourRunner } from '../analyses/robustness/neighbours';
import type { MetricsRunner } from './metrics';
import type { SortRunner } from '../base/order';
import type { DeclaredType } from '../data/table';
import type { Ll144Settings } from '../metrics/ll144';
import type { Binning } from '../metrics/calibration';
import type { ThresholdPolicy } from '../metrics/curves';
import type { BaselineResult } from '../comparison/baseline';
import type { OrtRuntime } from '../model/onnx-scorer';
import type { OnnxScoreRunner, TreeMarginRunner } from '../model/classifier';
import type { ExplainMethod } from '../analyses/explain/explain';
import type { TreeShapRunner } from '../analyses/explain/treeshap';
import type { AuditTask } from '../task/result';

import type { InputFile } from '../data/read';

export type { InputFile };

/** A data file the host has already read (streamed in chunks, with progress) into a table. */
export interface LoadedInput {
  fileName: string;
  loaded: LoadedTable;
}

/** A data file: its bytes, or the table a host read from it. */
export type DataInput = InputFile | LoadedInput;

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
  referenceDistributions?: StoredReference;
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
  csv?: { delimiter?: string; missingValues?: string[]; dtypes?: Record<string, DeclaredType>; skipBadRows?: boolean; encoding?: string };
  /** How the task was chosen, in words (set by runAnyAudit; recorded in settings.task_source). */
  taskSource?: string;
  /** The id policies, waivers and the registry name the audited model by (the config's metadata.model_id), recorded in settings.model_id so that a later `diff` judges the result under it; else the model file's name. */
  modelId?: string;
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

/** Progress of a running audit. */
export interface AuditProgress {
  stage: 'parse' | 'score' | 'drift' | 'explain' | 'robustness' | 'recourse' | 'metrics';
  done: number;
  total: number;
}

/** Options of runAudit (./pipeline) that are about the run, not the audit. */
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
  /** Where the consistency check's neighbour search runs (a host's pool, in slices of the queries); this thread by default. */
  neighbours?: NeighbourRunner;
  /** Where the large numeric columns' sorts (drift, the data profile) run ahead of those stages (a host's pool, a column a job); each where it is first read by default. */
  sorts?: SortRunner;
  /** Projected ms above which the rest of an ONNX table goes to `onnxScores` (default 250; 0: always). */
  onnxPoolWorthMs?: number;
  /** Where the metrics of a large table are computed (a host's pool, beside the drift, explanations and data profile); this thread by default. */
  metrics?: MetricsRunner;
  /** Where the recourse search runs for a model a host's threads can open again (a host's pool, in slices of the rows); this thread by default. */
  recourse?: RecourseRunner;
}
