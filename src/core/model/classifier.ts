import { AuditConfigError, ModelLoadError, closeMatches, quote } from '../errors';
import { allRows, findColumn, type Table } from '../data/table';
import { decodeOnnx, inspectOnnx, type OnnxModelInfo, type TensorSignature } from './onnx-graph';
import { onnxTreeEnsemble } from './onnx-trees';
import { openOnnxClassifier, planInputs, SCORING_BATCH_ROWS, scoreOnnx, type OrtRuntime } from './onnx-scorer';
import { describeBytes, looksLikeOnnx } from './sniff';
import { compileEnsemble, kernelModelFor, looksLikeLightgbmText, looksLikeXgboostJson, marginsOf, readLightgbmText, readXgboostJson, transformMargin, type TreeEnsemble, type TreeKernelModel } from './trees';

/** The model file formats Plumbline reads. */
export type ModelFormatId = 'onnx' | 'xgboost-json' | 'lightgbm-text';

/** What a model declares, for the app's cards and the result. */
export interface ModelSummary {
  format: ModelFormatId;
  fileName: string;
  /** Inputs as the file declares them (tree models: one numeric input per feature). */
  inputs: TensorSignature[];
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

/** An opened binary classifier: scores rows of a table as p(positive). */
export interface Classifier {
  summary: ModelSummary;
  /** The tree ensemble behind the model, when the project's own evaluator scores it. */
  ensemble: TreeEnsemble | null;
  /** The feature columns used, in order, once planned against a table. */
  features(table: Table, requested?: string[]): string[];
  score(table: Table, options?: ScoreOptions): Promise<Float64Array>;
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
  positiveLabel?: string | number;
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
  job: { modelBytes: Uint8Array; fileName: string; table: Table; columns: string[]; rows: Uint32Array; features?: string[] },
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

function onnxSummary(info: OnnxModelInfo, fileName: string, scoreConvention: string): ModelSummary {
  const single = info.inputs.length === 1 ? info.inputs[0] : undefined;
  const width = single?.shape.length === 2 ? single.shape[1] : null;
  return {
    format: 'onnx',
    fileName,
    inputs: info.inputs,
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
  inspect: (bytes, fileName) => onnxSummary(inspectOnnx(decodeOnnx(bytes, fileName)), fileName, ''),
  async open(ort, bytes, fileName, options) {
    const model = await openOnnxClassifier(ort, bytes, fileName, options);
    const summary = onnxSummary(model.info, fileName, model.probabilityOutput.convention);
    // Trees fed directly by the single [N, F] input can be explained exactly from the file.
    const ensemble = summary.needsFeatureOrder && summary.featureCount ? onnxTreeEnsemble(decodeOnnx(bytes, fileName), fileName, summary.featureCount) : null;
    return {
      summary,
      ensemble,
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
            : await runner({ modelBytes: bytes, fileName, table, columns: planColumns(plan), rows: tail, features }, { signal: rest.signal, onProgress: progress });
        scores.set(others, head.length);
        return scores;
      },
      release: () => model.session.release(),
    };
  },
};

function treeSummary(ensemble: TreeEnsemble, fileName: string): ModelSummary {
  return {
    format: ensemble.format,
    fileName,
    inputs: ensemble.featureNames.map((name) => ({ name, valueKind: 'tensor', elementType: 'float64', shape: [null, 1] })),
    needsFeatureOrder: false,
    featureCount: ensemble.featureNames.length,
    producer: ensemble.format === 'xgboost-json' ? 'XGBoost' : 'LightGBM',
    operators: [],
    opsets: [],
    scoreConvention: ensemble.description,
  };
}

/** Rows per progress report of the tree evaluator. */
const TREE_BATCH_ROWS = 16384;

/** A classifier scored by the project's own tree evaluator, in float64. */
export function treeClassifier(ensemble: TreeEnsemble, fileName: string, runner?: TreeMarginRunner): Classifier {
  const compiled = compileEnsemble(ensemble);
  const features = (table: Table) => {
    const names = table.columns.map((c) => c.name);
    const missing = ensemble.featureNames.filter((name) => !findColumn(table, name));
    if (missing.length > 0) {
      const list = missing.slice(0, 5).map((name) => {
        const close = closeMatches(name, names);
        return `${quote(name)}${close.length ? ` (close: ${close.join(', ')})` : ''}`;
      });
      throw new AuditConfigError(`${fileName}: the model uses ${ensemble.featureNames.length} feature columns and ${table.source} lacks ${missing.length}: ${list.join('; ')}${missing.length > 5 ? '; …' : ''}. Rename the columns or choose the matching data file.`);
    }
    for (const name of ensemble.featureNames) {
      const column = findColumn(table, name)!;
      if (column.kind !== 'numeric') {
        throw new AuditConfigError(`${table.source}, column ${quote(name)}: the model splits on numbers, but this column holds text (e.g. ${quote(column.dictionary[0] ?? '')}). Encode it as the model was trained (category codes).`);
      }
    }
    return [...ensemble.featureNames];
  };
  return {
    summary: treeSummary(ensemble, fileName),
    ensemble,
    features,
    async score(table, options = {}) {
      const columns = features(table).map((name) => (findColumn(table, name) as { values: Float64Array }).values);
      const rows = options.rows ?? allRows(table.rowCount);
      if (runner && rows.length >= RUNNER_MIN_ROWS) {
        const margins = await runner({ ensemble, kernelModel: kernelModelFor(compiled, columns.length), columns, rows }, { signal: options.signal, onProgress: options.onProgress });
        for (let i = 0; i < margins.length; i++) margins[i] = transformMargin(ensemble, margins[i]);
        return margins;
      }
      const scores = new Float64Array(rows.length);
      for (let start = 0; start < rows.length; start += TREE_BATCH_ROWS) {
        options.signal?.throwIfAborted();
        const end = Math.min(rows.length, start + TREE_BATCH_ROWS);
        const batch = scores.subarray(start, end);
        marginsOf(ensemble, compiled, columns, rows.subarray(start, end), batch);
        for (let i = 0; i < batch.length; i++) batch[i] = transformMargin(ensemble, batch[i]);
        options.onProgress?.(end, rows.length);
      }
      return scores;
    },
    release: async () => undefined,
  };
}

const xgboostFormat: ModelFormat = {
  id: 'xgboost-json',
  match: looksLikeXgboostJson,
  inspect: (bytes, fileName) => treeSummary(readXgboostJson(bytes, fileName), fileName),
  open: async (_ort, bytes, fileName, options) => treeClassifier(readXgboostJson(bytes, fileName), fileName, options?.treeMargins),
};

const lightgbmFormat: ModelFormat = {
  id: 'lightgbm-text',
  match: looksLikeLightgbmText,
  inspect: (bytes, fileName) => treeSummary(readLightgbmText(bytes, fileName), fileName),
  open: async (_ort, bytes, fileName, options) => treeClassifier(readLightgbmText(bytes, fileName), fileName, options?.treeMargins),
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

