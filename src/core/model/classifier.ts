import { AuditConfigError, ModelLoadError, closeMatches, quote } from '../errors';
import { allRows, findColumn, type Table } from '../data/table';
import { decodeOnnx, inspectOnnx, type InputCategories, type OnnxModelInfo, type TensorSignature } from './onnx-graph';
import { onnxTreeEnsemble } from './onnx-trees';
import { onnxProbabilities, openOnnxClassifier, planInputs, SCORING_BATCH_ROWS, scoreOnnx, type OrtRuntime } from './onnx-scorer';
import { describeBytes, looksLikeOnnx } from './sniff';
import { chooseClass, type ClassChoice, type ClassLabel } from './classes';
import { classEnsemble, compileEnsemble, hasLinearLeaves, kernelModelFor, looksLikeLightgbmText, looksLikeXgboostJson, marginsOf, readLightgbmText, readXgboostJson, transformMargin, type CompiledEnsemble, type TreeEnsemble, type TreeKernelModel } from './trees';
import { exp } from '../math';

/** The model file formats Plumbline reads. */
export type ModelFormatId = 'onnx' | 'xgboost-json' | 'lightgbm-text';

/** One input of a model: as the file declares it, with the categories it is encoded against. */
export interface ModelInput extends TensorSignature {
  /** The categories the model knows for this input (an encoder inside the graph, a LightGBM categorical feature), or null. */
  categories: InputCategories | null;
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
  /** Cell texts the user declared missing (data.missing_values): with the empty cell, the only cells a text input gets as missing. */
  userMissingValues?: readonly string[];
  sessionOptions?: Parameters<OrtRuntime['InferenceSession']['create']>[1];
  /** Where the project's tree evaluator runs for large tables (the worker host spreads it over a pool); this thread by default. */
  treeMargins?: TreeMarginRunner;
  /** Where an ONNX model scores large tables (the worker host's pool of single-threaded sessions); this session by default. */
  onnxScores?: OnnxScoreRunner;
  /** Projected time (ms) of the rest of a table in this session above which it goes to `onnxScores` (default 250; 0: always). */
  onnxPoolWorthMs?: number;
}

/**
 * Scores `rows` of a table with an ONNX model elsewhere (workers, each with its own
 * session). The rows are cut at multiples of {@link SCORING_BATCH_ROWS} and each part is
 * scored in batches of that size, so every onnxruntime call sees the same rows it would
 * here, and the scores do not change. `columns` are the ones the model reads.
 */
export type OnnxScoreRunner = (
  job: { modelBytes: Uint8Array; fileName: string; open: { positiveLabel?: ClassLabel; userMissingValues?: readonly string[] }; table: Table; columns: string[]; rows: Uint32Array; features?: string[] },
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

/** Rows from which a table is handed to the {@link TreeMarginRunner} (smaller ones score faster here). */
const RUNNER_MIN_ROWS = 50_000;
/** Projected time of the rest of an ONNX table in this session above which it goes to the {@link OnnxScoreRunner}. */
const POOL_WORTH_MS = 250;

/** The table columns an input plan reads, in the model's order. */
function planColumns(plan: ReturnType<typeof planInputs>): string[] {
  return plan.kind === 'matrix' ? plan.features : plan.inputs.map((i) => i.column);
}

function onnxSummary(info: OnnxModelInfo, fileName: string, scoreConvention: string, declaredWidth: number | null = null): ModelSummary {
  const single = info.inputs.length === 1 ? info.inputs[0] : undefined;
  const width = single?.shape.length === 2 ? single.shape[1] : null;
  return {
    format: 'onnx',
    fileName,
    inputs: info.inputs.map((input) => ({ ...input, categories: info.inputCategories.get(input.name) ?? null })),
    outputs: info.outputs,
    classLabels: info.classLabels,
    classCount: info.classLabels?.length ?? (declaredWidth !== null && declaredWidth > 1 ? declaredWidth : null),
    needsFeatureOrder: single !== undefined && width !== 1,
    featureCount: typeof width === 'number' ? width : null,
    producer: [info.producerName, info.producerVersion].filter(Boolean).join(' '),
    operators: info.operators,
    opsets: info.opsets,
    scoreConvention,
  };
}

const onnxFormat: ModelFormat = {
  id: 'onnx',
  match: looksLikeOnnx,
  inspect: (bytes, fileName) => {
    const info = inspectOnnx(decodeOnnx(bytes, fileName));
    return onnxSummary(info, fileName, 'the class probabilities; the positive class is chosen by its label when the audit runs', null);
  },
  async open(ort, bytes, fileName, options) {
    const model = await openOnnxClassifier(ort, bytes, fileName, { positiveLabel: options.positiveLabel, userMissingValues: options.userMissingValues, sessionOptions: options.sessionOptions });
    const output = model.probabilityOutput;
    const summary = onnxSummary(model.info, fileName, output.choice?.convention ?? `${output.name}: the class is chosen by label once its width is known`, output.declaredWidth);
    // Trees fed directly by the single [N, F] input can be explained exactly from the file
    // (for the positive class's column; null for a model of more than two classes).
    const treesFor = (choice: ClassChoice) =>
      summary.needsFeatureOrder && summary.featureCount && !choice.oneVsRest ? onnxTreeEnsemble(decodeOnnx(bytes, fileName), fileName, summary.featureCount, false, choice.complement ? 0 : choice.column) : null;
    let ensemble = output.choice ? treesFor(output.choice) : null;
    const classifier: Classifier = {
      summary,
      get ensemble() {
        return ensemble;
      },
      async classChoice(table, features) {
        if (!output.choice) {
          // The output's width is left open by the file: one row scored shows it.
          await scoreOnnx(ort, model, table, planInputs(model, table, features), { rows: allRows(Math.min(1, table.rowCount)) });
          ensemble = treesFor(output.choice!);
        }
        summary.scoreConvention = output.choice!.convention;
        return output.choice!;
      },
      features: (table, requested) => {
        return planColumns(planInputs(model, table, requested));
      },
      score: async (table, { features, ...rest } = {}) => {
        const plan = planInputs(model, table, features);
        const rows = rest.rows ?? allRows(table.rowCount);
        const runner = options?.onnxScores;
        if (!runner || rows.length < RUNNER_MIN_ROWS) return scoreOnnx(ort, model, table, plan, rest);
        // The first batch is scored here and timed: a light model (an MLP scores 1M rows/s)
        // finishes here sooner than the copies to the pool take; a heavy one (hundreds of
        // trees) goes to the pool. Where a batch runs never changes its scores.
        const head = rows.subarray(0, SCORING_BATCH_ROWS);
        const started = Date.now();
        const scores = new Float64Array(rows.length);
        // Progress counts the whole table, the first batch included.
        scores.set(await scoreOnnx(ort, model, table, plan, { ...rest, rows: head, onProgress: (done) => rest.onProgress?.(done, rows.length) }));
        const tail = rows.subarray(head.length);
        const projectedMs = ((Date.now() - started) * tail.length) / head.length;
        const progress = (done: number) => rest.onProgress?.(head.length + done, rows.length);
        const others =
          projectedMs < (options?.onnxPoolWorthMs ?? POOL_WORTH_MS)
            ? await scoreOnnx(ort, model, table, plan, { ...rest, rows: tail, onProgress: progress })
            : await runner({ modelBytes: bytes, fileName, open: { positiveLabel: options.positiveLabel, userMissingValues: options.userMissingValues }, table, columns: planColumns(plan), rows: tail, features }, { signal: rest.signal, onProgress: progress });
        scores.set(others, head.length);
        return scores;
      },
      probabilities: (table, { features, ...rest } = {}) => onnxProbabilities(ort, model, table, planInputs(model, table, features), rest),
      release: () => model.session.release(),
    };
    return classifier;
  },
};


function treeSummary(ensemble: TreeEnsemble, fileName: string, scoreConvention = ensemble.description): ModelSummary {
  const classes = ensemble.multiclass?.classes ?? 2;
  return {
    format: ensemble.format,
    fileName,
    inputs: ensemble.featureNames.map((name, j) => {
      const known = ensemble.featureCategories?.[j];
      return {
        name,
        valueKind: 'tensor',
        elementType: 'float64',
        shape: [null, 1],
        categories: known ? { values: known, from: 'LightGBM feature_infos (the categories seen in training)', unknown: 'sent down the branch of categories not listed at each split' } : null,
      };
    }),
    outputs: [{ name: 'probability', valueKind: 'tensor', elementType: 'float64', shape: [null, classes === 2 ? 1 : classes] }],
    classLabels: null,
    classCount: classes,
    needsFeatureOrder: false,
    featureCount: ensemble.featureNames.length,
    producer: ensemble.format === 'xgboost-json' ? 'XGBoost' : 'LightGBM',
    operators: [],
    opsets: [],
    scoreConvention,
  };
}

/** Rows per progress report of the tree evaluator. */
const TREE_BATCH_ROWS = 16384;

/** A binary ensemble whose margin is class 0's: every leaf and the base margin negated (sigmoid(−m) = 1 − p). */
function negatedEnsemble(ensemble: TreeEnsemble): TreeEnsemble {
  const trees = ensemble.trees.map((tree) => ({
    ...tree,
    value: tree.value.map((v) => -v),
    ...(tree.linear ? { linear: { constant: tree.linear.constant.map((v) => -v), features: tree.linear.features, coefficients: tree.linear.coefficients.map((c) => c.map((v) => -v)) } } : {}),
  }));
  return { ...ensemble, trees, baseMargin: -ensemble.baseMargin, description: `${ensemble.description}; for class 0 every leaf and the base margin are negated (p(0) = sigmoid(−margin))` };
}

/**
 * A classifier scored by the project's own tree evaluator, in float64. XGBoost and
 * LightGBM files name no classes: a binary model's output is p(class 1) (class 0 is scored
 * as its negated margin), a multiclass model's classes are 0…C−1, audited one-vs-rest for
 * the positive label (see {@link chooseClass}).
 */
export function treeClassifier(model: TreeEnsemble, fileName: string, runner?: TreeMarginRunner, positiveLabel?: ClassLabel): Classifier {
  /**
   * p(class k) of every row from the classes' margins: the softmax (shifted by the largest
   * margin so no exp overflows), or for one-vs-all objectives (LightGBM multiclassova) each
   * class's own sigmoid, as the library predicts them.
   */
  const classProbability = (margins: Float64Array[], k: number): Float64Array => {
    const n = margins[0].length;
    const scores = new Float64Array(n);
    if (model.multiclass?.transform === 'logistic') {
      for (let i = 0; i < n; i++) scores[i] = 1 / (1 + exp(-model.marginScale * margins[k][i]));
      return scores;
    }
    if (model.multiclass?.transform === 'identity') return Float64Array.from(margins[k]);
    for (let i = 0; i < n; i++) {
      let max = Number.NEGATIVE_INFINITY;
      for (const m of margins) max = Math.max(max, m[i]);
      let sum = 0;
      for (const m of margins) sum += exp(m[i] - max);
      scores[i] = exp(margins[k][i] - max) / sum;
    }
    return scores;
  };
  const classes = model.multiclass?.classes ?? 1;
  const choice = chooseClass({ fileName, output: 'probability', labels: null, width: classes, positiveLabel });
  const ensemble = choice.complement ? negatedEnsemble(model) : model;
  // One margin per class for a multiclass model (each class's trees on their own).
  const parts = model.multiclass ? Array.from({ length: classes }, (_, k) => classEnsemble(model, k)) : [ensemble];
  const compiledParts: CompiledEnsemble[] = parts.map((part) => compileEnsemble(part));
  const features = (table: Table) => {
    const names = table.columns.map((c) => c.name);
    const missing = model.featureNames.filter((name) => !findColumn(table, name));
    if (missing.length > 0) {
      const list = missing.slice(0, 5).map((name) => {
        const close = closeMatches(name, names);
        return `${quote(name)}${close.length ? ` (close: ${close.join(', ')})` : ''}`;
      });
      throw new AuditConfigError(`${fileName}: the model uses ${model.featureNames.length} feature columns and ${table.source} lacks ${missing.length}: ${list.join('; ')}${missing.length > 5 ? '; …' : ''}. Rename the columns or choose the matching data file.`);
    }
    for (const name of model.featureNames) {
      const column = findColumn(table, name)!;
      if (column.kind !== 'numeric') {
        throw new AuditConfigError(`${table.source}, column ${quote(name)}: the model splits on numbers, but this column holds text (e.g. ${quote(column.dictionary[0] ?? '')}). Encode it as the model was trained (category codes).`);
      }
    }
    return [...model.featureNames];
  };
  /** Margins of one part (a class's trees, or the whole binary model) for `rows`. */
  const partMargins = async (k: number, columns: Float64Array[], rows: Uint32Array, options: ScoreOptions): Promise<Float64Array> => {
    const part = parts[k];
    const compiled = compiledParts[k];
    if (runner && rows.length >= RUNNER_MIN_ROWS) {
      return runner({ ensemble: part, kernelModel: kernelModelFor(compiled, columns.length), columns, rows }, { signal: options.signal, onProgress: (done, total) => options.onProgress?.((k * total + done) / parts.length, total) });
    }
    const margins = new Float64Array(rows.length);
    for (let start = 0; start < rows.length; start += TREE_BATCH_ROWS) {
      options.signal?.throwIfAborted();
      const end = Math.min(rows.length, start + TREE_BATCH_ROWS);
      marginsOf(part, compiled, columns, rows.subarray(start, end), margins.subarray(start, end));
      options.onProgress?.((k * rows.length + end) / parts.length, rows.length);
    }
    return margins;
  };
  const summary = treeSummary(model, fileName, `${choice.convention}: ${ensemble.description}`);
  return {
    summary,
    // TreeSHAP explains one margin of plain leaves: not a class of several, nor linear leaves.
    ensemble: model.multiclass || hasLinearLeaves(model) ? null : ensemble,
    classChoice: async () => choice,
    features,
    async score(table, options = {}) {
      const columns = features(table).map((name) => (findColumn(table, name) as { values: Float64Array }).values);
      const rows = options.rows ?? allRows(table.rowCount);
      if (!model.multiclass) {
        const scores = await partMargins(0, columns, rows, options);
        for (let i = 0; i < scores.length; i++) scores[i] = transformMargin(ensemble, scores[i]);
        return scores;
      }
      const margins: Float64Array[] = [];
      for (let k = 0; k < classes; k++) margins.push(await partMargins(k, columns, rows, options));
      return classProbability(margins, choice.column);
    },
    async probabilities(table, options = {}) {
      const columns = features(table).map((name) => (findColumn(table, name) as { values: Float64Array }).values);
      const rows = options.rows ?? allRows(table.rowCount);
      if (!model.multiclass) {
        // A binary model: p(class 1) and its complement, in class order 0, 1.
        const margins = await partMargins(0, columns, rows, options);
        const values = new Float64Array(rows.length * 2);
        for (let i = 0; i < rows.length; i++) {
          const p = transformMargin(model, margins[i]);
          values[2 * i] = 1 - p;
          values[2 * i + 1] = p;
        }
        return { width: 2, values };
      }
      const margins: Float64Array[] = [];
      for (let k = 0; k < classes; k++) margins.push(await partMargins(k, columns, rows, options));
      const values = new Float64Array(rows.length * classes);
      for (let k = 0; k < classes; k++) {
        const p = classProbability(margins, k);
        for (let i = 0; i < rows.length; i++) values[i * classes + k] = p[i];
      }
      return { width: classes, values };
    },
    release: async () => undefined,
  };
}

const xgboostFormat: ModelFormat = {
  id: 'xgboost-json',
  match: looksLikeXgboostJson,
  inspect: (bytes, fileName) => treeSummary(readXgboostJson(bytes, fileName), fileName),
  open: async (_ort, bytes, fileName, options) => treeClassifier(readXgboostJson(bytes, fileName), fileName, options?.treeMargins, options?.positiveLabel),
};

const lightgbmFormat: ModelFormat = {
  id: 'lightgbm-text',
  match: looksLikeLightgbmText,
  inspect: (bytes, fileName) => treeSummary(readLightgbmText(bytes, fileName), fileName),
  open: async (_ort, bytes, fileName, options) => treeClassifier(readLightgbmText(bytes, fileName), fileName, options?.treeMargins, options?.positiveLabel),
};

/** The model formats, tried in order by their magic bytes. */
export const MODEL_FORMATS: readonly ModelFormat[] = [onnxFormat, xgboostFormat, lightgbmFormat];

/** The format whose bytes these are, or a {@link ModelLoadError} saying what they look like. */
export function modelFormatOf(bytes: Uint8Array, fileName: string): ModelFormat {
  const format = MODEL_FORMATS.find((f) => f.match(bytes));
  if (format) return format;
  throw new ModelLoadError(
    `${fileName}: not a model file Plumbline can read (${describeBytes(bytes)}). Choose an ONNX model (.onnx), an XGBoost JSON model (save_model("model.json")) or a LightGBM text model (save_model("model.txt")).`,
  );
}

/** Whether bytes are a model file of a known format. */
export function isModelFile(bytes: Uint8Array): boolean {
  return MODEL_FORMATS.some((f) => f.match(bytes));
}

/** Describes a model file without creating a session. */
export function inspectModel(bytes: Uint8Array, fileName: string): ModelSummary {
  return modelFormatOf(bytes, fileName).inspect(bytes, fileName);
}

/** Opens a model file of any supported format as a binary classifier. */
export function openModel(ort: OrtRuntime, bytes: Uint8Array, fileName: string, options: OpenOptions = {}): Promise<Classifier> {
  return modelFormatOf(bytes, fileName).open(ort, bytes, fileName, options);
}

