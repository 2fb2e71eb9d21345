/**
 * The shapes every model format shares: what a model declares (its summary), an opened
 * classifier, one readable format, the options of opening one, and where large tables are
 * scored elsewhere (the worker pools' runners).
 */
import type { InputCategories, OnnxModelInfo, TensorSignature } from './onnx-graph';
import type { OrtRuntime, SCORING_BATCH_ROWS } from './onnx-scorer';
import type { ClassChoice, ClassLabel, chooseClass } from './classes';
import type { TreeEnsemble, TreeKernelModel, marginsOf } from './tree';
import type { Table } from '../data/table';

/** The model file formats Plumbline reads. */
export type ModelFormatId = 'onnx' | 'xgboost-json' | 'lightgbm-text';

/** One input of a model: as the file declares it, with the categories it is encoded against. */
export interface ModelInput extends TensorSignature {
  /** The categories the model knows for this input (an encoder inside the graph, a LightGBM categorical feature), or null. */
  categories: InputCategories | null;
  /**
   * The input's numbers are category codes: a tree model splits on it by category (XGBoost
   * enable_categorical, LightGBM categorical_feature), not by a threshold. Robustness swaps
   * such codes instead of adding noise, leaves them out of distances, and recourse does not
   * move them as numbers.
   */
  categoryCodes?: true;
}

/**
 * What a model declares — its signature, read once from the file: inputs (with the
 * categories each knows), outputs, class labels in output order and how the score is read.
 * Shown by `plumbline inspect-model`, in the app's model card and in the result.
 */
export interface ModelSummary {
  format: ModelFormatId;
  fileName: string;
  /** Inputs as the file declares them (tree models: one numeric input per feature). */
  inputs: ModelInput[];
  /** Outputs as the file declares them (tree models: the class probabilities). */
  outputs: TensorSignature[];
  /** The class labels the model names, in output column order; null when it names none. */
  classLabels: ClassLabel[] | null;
  /** Number of classes, when the file says (labels, a declared output width, a multiclass objective). */
  classCount: number | null;
  /** True when one [N, F] input needs the feature columns chosen in order. */
  needsFeatureOrder: boolean;
  /** Columns the single matrix input takes, when declared. */
  featureCount: number | null;
  producer: string;
  operators: string[];
  opsets: OnnxModelInfo['opsets'];
  /** How the score is read from the model, in words. */
  scoreConvention: string;
}

/** Options of {@link Classifier.score}. */
export interface ScoreOptions {
  /** Column order for a single-matrix model. */
  features?: string[];
  rows?: Uint32Array;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** An opened classifier: scores rows of a table as p(positive class). */
export interface Classifier {
  summary: ModelSummary;
  /**
   * Which output is p(positive), chosen by the positive label it was opened with (see
   * {@link chooseClass}). A model whose output width the file leaves open is run on the
   * table's first row to learn it.
   */
  classChoice(table: Table, features?: string[]): Promise<ClassChoice>;
  /** The tree ensemble behind the model, when the project's own evaluator scores it. */
  ensemble: TreeEnsemble | null;
  /** The feature columns used, in order, once planned against a table. */
  features(table: Table, requested?: string[]): string[];
  score(table: Table, options?: ScoreOptions): Promise<Float64Array>;
  /**
   * Every class's probability, row-major (`rows × width`), in the model's class order: what
   * a multiclass audit reads (for ONNX, the probability output's columns as the model gives them).
   */
  probabilities?(table: Table, options?: ScoreOptions): Promise<{ width: number; values: Float64Array }>;
  release(): Promise<void>;
  /**
   * Whether every score given so far stands, for a classifier opened with
   * {@link OpenOptions.checkLater}: true; or false when the project's kernel, scoring before
   * its check against onnxruntime had come back, was then found to differ — every score given
   * must be thrown away and the table scored again (it now scores with onnxruntime). Rejects
   * when the check could not run: onnxruntime's refusal of the model, a batch that failed, a
   * cancel. Absent: nothing to wait for.
   */
  settled?(): Promise<boolean>;
}

/**
 * A model a host's pool may open again on its threads, as it was opened here: the trees read
 * from its file, the file's name and its positive label. Only trees are: each row's score is
 * the same whatever rows it is scored with (the project's evaluator sums a row's leaves on
 * its own), and opening them again costs building the evaluator, not a runtime's start (the
 * trees are sent, not the file: a thread need not parse it again). An ONNX tree classifier
 * is, once the kernel scores it (its first scores checked against onnxruntime's): its
 * positive column's trees, named by the table columns they read, with onnxruntime's
 * post-transform. See {@link reopenableModel}.
 */
export interface ReopenableModel {
  ensemble: TreeEnsemble;
  fileName: string;
  positiveLabel?: ClassLabel;
  classLabels?: readonly string[];
  /** An ONNX classifier's post-transform, applied to the float32 margin as onnxruntime does (the trees' own transform is the identity). */
  onnxPostTransform?: 'LOGISTIC' | 'NONE';
}

/** One readable model format: recognises its bytes and opens them. */
export interface ModelFormat {
  id: ModelFormatId;
  match(bytes: Uint8Array): boolean;
  inspect(bytes: Uint8Array, fileName: string): ModelSummary;
  open(ort: OrtRuntime, bytes: Uint8Array, fileName: string, options: OpenOptions): Promise<Classifier>;
}

/** Options of {@link openModel}. */
export interface OpenOptions {
  /** The positive class's label (data.positive_label): the score is p(that class), chosen by label. */
  positiveLabel?: ClassLabel;
  /** The classes of a model that names none, in output order (model.class_labels); checked against a model's own. */
  classLabels?: readonly string[];
  /** The feature columns in training order (model.features): they name the features of a tree model that names none. */
  features?: readonly string[];
  /** Cell texts the user declared missing (data.missing_values): with the empty cell, the only cells a text input gets as missing. */
  userMissingValues?: readonly string[];
  sessionOptions?: Parameters<OrtRuntime['InferenceSession']['create']>[1];
  /** Where the project's tree evaluator runs for large tables (the worker host spreads it over a pool); this thread by default. */
  treeMargins?: TreeMarginRunner;
  /** Where an ONNX model scores large tables (the worker host's pool of single-threaded sessions); this session by default. */
  onnxScores?: OnnxScoreRunner;
  /** Projected time (ms) of the rest of a table in this session above which it goes to `onnxScores` (default 250; 0: always). */
  onnxPoolWorthMs?: number;
  /**
   * The caller waits for {@link Classifier.settled} before anything built on the scores
   * leaves it, and starts again when it says false (the audit pipeline does). An ONNX tree
   * model's kernel then scores at once, while onnxruntime starts, opens the model and scores
   * the kernel's check rows beside the audit, instead of ahead of it.
   */
  checkLater?: boolean;
}

/**
 * Scores `rows` of a table with an ONNX model elsewhere (workers, each with its own
 * session). The rows are cut at multiples of {@link SCORING_BATCH_ROWS} and each part is
 * scored in batches of that size, so every onnxruntime call sees the same rows it would
 * here, and the scores do not change. `columns` are the ones the model reads.
 */
export type OnnxScoreRunner = (
  job: { modelBytes: Uint8Array; fileName: string; open: { positiveLabel?: ClassLabel; classLabels?: readonly string[]; userMissingValues?: readonly string[] }; table: Table; columns: string[]; rows: Uint32Array; features?: string[] },
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
) => Promise<Float64Array>;

/**
 * Margins of `rows` of a tree ensemble, reading feature j from `columns[j]` — what
 * {@link marginsOf} computes, run elsewhere (workers). Each row's margin is the same sum in
 * the same order wherever it is computed, so results do not change.
 */
export type TreeMarginRunner = (
  job: { ensemble: TreeEnsemble; kernelModel: TreeKernelModel | null; columns: Float64Array[]; rows: Uint32Array },
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
) => Promise<Float64Array>;

/** Rows from which an ONNX table may go to the {@link OnnxScoreRunner} (smaller ones score faster here). */
export const RUNNER_MIN_ROWS = 50_000;
/**
 * Tree-rows (rows × trees) from which a table is handed to the {@link TreeMarginRunner}:
 * 5,000 rows of 300 trees, 50,000 of 30 — below, copying the rows to the threads and back
 * costs about what the threads save. (Until 4 Dec it was 50,000 rows whatever the model,
 * so recourse's late steps and KernelSHAP's calls on a large forest stayed on one thread.)
 */
export const RUNNER_MIN_TREE_ROWS = 1_500_000;
/** Whether `rows` rows of `trees` trees are worth the {@link TreeMarginRunner}. */
export const treeRowsWorthPool = (rows: number, trees: number): boolean => rows * trees >= RUNNER_MIN_TREE_ROWS;
/** Projected time of the rest of an ONNX table in this session above which it goes to the {@link OnnxScoreRunner}. */
export const POOL_WORTH_MS = 250;
