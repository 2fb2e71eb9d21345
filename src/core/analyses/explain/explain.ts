import type { InputFile } from '../../data/read';
import { modelKind } from '../../model/kind';
import { loadReaderFor, readTable } from '../../data/read';
import type { CsvOptions } from '../../data/csv/options';
import { allRows, findColumn, type NumericColumn, type Table } from '../../data/table';
import { markPersonalFromReference, personalValueColumns } from '../../data/pii';
import { AuditConfigError, ExplainerCompatibilityError, isPlumblineError, quote } from '../../base/errors';
import { firstNonNumber } from '../../data/csv/numbers';
import { openModel, type Classifier } from '../../model/classifier';
import type { OnnxScoreRunner, TreeMarginRunner } from '../../model/classifier-types';
import type { OrtRuntime } from '../../model/onnx-scorer';
import { Random } from '../../base/random';
import { binaryTarget, classOptions } from '../../metrics/labels';
import { MAX_EXACT_KERNEL_COLUMNS, coalitionRowsPerCall, exactKernelShap, sampledCoalitions, sampledKernelShap } from './kernelshap';
import { checkStageMemory, DEFAULT_LIMITS, explainEstimate, type StageEstimate } from '../../base/limits';
import { globalImportance, partialDependence, permutationImportance, reasonCodes } from './outputs';
import { ensembleColumn, withMissingValue, type TreeEnsemble } from '../../model/tree';
import { decodeOnnx } from '../../model/onnx-graph';
import { readEncodedModel, type EncodedModel } from './encoded';
import { linearShap, runTreeShapJob, type ShapValues, type TreeShapRunner } from './treeshap';

/** Explainer methods: auto picks tree for tree ensembles, kernel otherwise. */
export type ExplainMethod = 'auto' | 'tree' | 'tree-path' | 'kernel' | 'permutation';

/** What to explain and how. */
export interface ExplainRequest {
  model: InputFile;
  data: InputFile;
  /** Background rows (reference/train file); the data itself when omitted. */
  background?: InputFile;
  /** Explain the first N rows of the data. Default 100. */
  rows?: number;
  /** Background rows: a seeded sample of N (default 100) or the first N. */
  backgroundRows?: number;
  backgroundSelection?: 'sample' | 'first';
  method?: ExplainMethod;
  /** Column order of a single-matrix model. */
  features?: string[];
  seed?: number;
  /** Model evaluations (coalitions) of sampled KernelSHAP per row, beyond 12 columns. Default 2,048. */
  kernelSamples?: number;
  /** Adverse-action reason codes for the explained rows with an adverse decision. */
  reasons?: { count?: number; adverse: 'negative' | 'positive'; threshold: number; excluded: string[] };
  /** Target column: needed by permutation importance. */
  target?: string;
  positiveLabel?: string;
  /** The class names of a model that names none, in output order (model.class_labels). */
  classLabels?: string[];
  /** Columns to compute partial dependence and ICE for. */
  partialDependence?: string[];
  /** Bytes the explanation may use, checked against its estimate before it starts. Default 2 GiB. */
  memoryLimit?: number;
  /** Texts a text input gets as missing (the user's data.missing_values), as the scorer feeds them; by default csv.missingValues. */
  textMissing?: ReadonlySet<string>;
  /** How the data and background files are read, when CSV (the config's data.delimiter, missing_values, dtypes, skip_bad_lines, encoding). */
  csv?: Omit<CsvOptions, 'fileName'>;
}

/** SHAP values as written by `plumbline explain`. */
export interface ExplainResult {
  method: 'tree (interventional)' | 'tree (path-dependent)' | 'linear (interventional)' | 'kernel (exact)' | 'kernel (sampled)' | 'permutation';
  /** The output space of the values. */
  output: string;
  columns: string[];
  expected_value: number;
  /** One row per explained row. */
  values: number[][];
  /** 1-based data row numbers explained. */
  rows: number[];
  /** The explained rows' value of each column (null when missing), for dependence plots. */
  data?: (number | string | null)[][];
  background: string;
  /** Largest |expected_value + Σ values − model output| (local accuracy, checked). */
  local_accuracy_error: number;
  /** Mean |SHAP| per column, largest first. */
  global_importance?: { column: string; mean_abs_shap: number }[];
  reason_codes?: { row: number; score: number; reasons: { column: string; value: string; shap: number }[] }[];
  permutation_importance?: { column: string; mean_drop: number; sd_drop: number }[];
  partial_dependence?: { column: string; grid: string[]; pdp: number[]; ice: number[][] }[];
}

/** What an explained row shows for a model input that likely holds personal data. */
const PERSONAL_CELL = '(personal data, not kept)';

/** Each explained row's value of each column, as the table holds it (null when missing). */
function cellValues(table: Table, columns: string[], rows: Uint32Array): (number | string | null)[][] {
  const found = columns.map((name) => findColumn(table, name));
  // A model input of personal data keeps its SHAP values, not its cells (the data findings say so).
  const personal = personalValueColumns([table]);
  return Array.from(rows, (row) =>
    found.map((column) => {
      if (!column) return null;
      if (personal.has(column.name)) return PERSONAL_CELL;
      if (column.kind === 'numeric') return Number.isNaN(column.values[row]) ? null : column.values[row];
      return column.codes[row] < 0 ? null : column.dictionary[column.codes[row]];
    }),
  );
}

/**
 * The rows' numeric cells of the columns, one vector per row (NaN where missing, and where a
 * cell holds the model's own missing value, `missingValue`): what tree evaluators and TreeSHAP read.
 */
export function cellVectors(table: Table, columns: string[], rows: Uint32Array, model?: Pick<TreeEnsemble, 'missingValue' | 'pandasCategories' | 'featureNames'>): Float64Array[] {
  const data = columns.map((name) => {
    const column = findColumn(table, name);
    const feature = model ? model.featureNames.indexOf(name) : -1;
    // The background (a reference file) is read on its own: a column of numbers in the data can hold text there.
    if (!column || (column.kind !== 'numeric' && !model?.pandasCategories?.[feature])) {
      throw new AuditConfigError(`${table.source}, column ${quote(name)}: the model reads numbers, and ${column ? `this column holds text (${firstNonNumber(table, column)})` : 'the file has no such column'}. Choose a reference file whose model columns match the data's.`);
    }
    return model && feature >= 0 ? ensembleColumn(model, feature, column) : withMissingValue((column as NumericColumn).values, model?.missingValue);
  });
  return Array.from(rows, (row) => Float64Array.from(data, (column) => column[row]));
}

/** `take` rows of `count`: the first ones, or a seeded sample (stream `explain/background`), in row order. */
export function chooseRows(count: number, take: number, selection: 'sample' | 'first', seed: number): Uint32Array {
  const n = Math.min(count, take);
  if (selection === 'first' || n === count) return allRows(n);
  const random = new Random(seed, 'explain/background');
  const pool = Array.from({ length: count }, (_, i) => i);
  for (let k = 0; k < n; k++) {
    const j = k + random.int(count - k);
    [pool[k], pool[j]] = [pool[j], pool[k]];
  }
  return Uint32Array.from(pool.slice(0, n)).sort();
}

function treeOnly(classifier: Classifier, method: string, oneVsRest = false): never {
  const ops = classifier.summary.operators.length ? classifier.summary.operators.join(', ') : classifier.summary.format;
  // A tree model explained for one class against the rest: p(class k) is a softmax over every class's margin, not one ensemble's sum.
  if (oneVsRest && (classifier.summary.format !== 'onnx' || classifier.summary.operators.some((op) => op.startsWith('TreeEnsemble')))) {
    throw new ExplainerCompatibilityError(
      `${classifier.summary.fileName}: the ${method} explainer explains one ensemble's sum, and this model's p(class) for one class against the rest is a softmax over every class's trees. Use the kernel explainer (--method kernel, exact up to ${MAX_EXACT_KERNEL_COLUMNS} columns), or audit the model as multiclass (no positive label), whose TreeSHAP explains each class's margin.`,
    );
  }
  throw new ExplainerCompatibilityError(
    `${classifier.summary.fileName}: the ${method} explainer needs a tree ensemble whose trees read the model's own inputs, but this model is ${ops}. Use the kernel explainer (explainer.type: kernel in an audit config, --method kernel with plumbline explain; exact up to ${MAX_EXACT_KERNEL_COLUMNS} columns).`,
  );
}

/**
 * Where {@link explainModel}'s work runs (a host's thread pool): TreeSHAP, and the model's
 * scoring of large tables — KernelSHAP's coalitions, permutation importance's shuffled
 * copies. This thread by default; the values are the same wherever it runs.
 */
export interface ExplainRunners {
  treeShap?: TreeShapRunner;
  treeMargins?: TreeMarginRunner;
  onnxScores?: OnnxScoreRunner;
}

/**
 * Explains rows of a data file with the chosen (or automatic) SHAP method, adding global
 * importance, reason codes and partial dependence when asked; `permutation` gives
 * permutation importance of the ROC AUC instead of SHAP values.
 */
export async function explainModel(ort: OrtRuntime, request: ExplainRequest, signal?: AbortSignal, runners: ExplainRunners = {}): Promise<ExplainResult> {
  for (const file of [request.data, request.background]) if (file) await loadReaderFor(file.bytes);
  const table = readTable(request.data.bytes, request.data.fileName, request.csv);
  const background = request.background ? readTable(request.background.bytes, request.background.fileName, request.csv) : table;
  // A column the background shows to be personal data is left out of the rows, reason codes and grids too.
  if (request.background) markPersonalFromReference(table, background);
  if (modelKind(request.model.bytes, request.model.fileName) === 'regressor') {
    throw new ExplainerCompatibilityError(`${request.model.fileName} is a regressor, and this explains a classifier's p(positive). A regression's SHAP values (TreeSHAP on its trees, KernelSHAP otherwise) are in the explanations section of its audit: plumbline audit --model ${request.model.fileName} (task: regression).`);
  }
  const classifier = await openModel(ort, request.model.bytes, request.model.fileName, { positiveLabel: request.positiveLabel, classLabels: request.classLabels, features: request.features, userMissingValues: request.csv?.missingValues, treeMargins: runners.treeMargins, onnxScores: runners.onnxScores });
  try {
    const choice = await classifier.classChoice(table, request.features);
    if (request.method === 'permutation') {
      if (!request.target) throw new ExplainerCompatibilityError('permutation importance measures the drop in ROC AUC: name the target column (--target).');
      const columns = classifier.features(table, request.features);
      const { labels } = binaryTarget(table, request.target, request.positiveLabel ?? String(choice.positive), classOptions(choice, request.model.fileName));
      return {
        method: 'permutation',
        output: 'drop in ROC AUC when the column is shuffled (seeded, 5 repeats)',
        columns,
        expected_value: Number.NaN,
        values: [],
        rows: [],
        background: 'none',
        local_accuracy_error: 0,
        permutation_importance: await permutationImportance(classifier, table, labels, columns, { seed: request.seed ?? 0, features: request.features }),
      };
    }
    const result = await explainTable(classifier, request.model, table, background, request, signal, runners.treeShap);
    result.global_importance = globalImportance(result.columns, result.values);
    if (request.reasons) {
      const rows = Uint32Array.from(result.rows, (r) => r - 1);
      const scores = await classifier.score(table, { rows, features: request.features });
      result.reason_codes = reasonCodes(table, result.rows, result.columns, result.values, scores, request.reasons);
    }
    if (request.partialDependence?.length) {
      result.partial_dependence = [];
      for (const column of request.partialDependence) {
        if (!findColumn(table, column)) throw new ExplainerCompatibilityError(`${table.source}: no column ${quote(column)} for partial dependence.`);
        // Its grid is the column's own values (deciles, or every category).
        if (personalValueColumns([table]).has(column)) throw new ExplainerCompatibilityError(`${table.source}: ${quote(column)} likely holds personal data, and partial dependence would list its values as the grid. Choose another column (--pdp).`);
        result.partial_dependence.push(await partialDependence(classifier, table, column, { features: request.features }));
      }
    }
    return result;
  } finally {
    await classifier.release();
  }
}

/** SHAP values of the first rows of a table, against rows of a background table, for an open model. */
export async function explainTable(
  classifier: Classifier,
  modelFile: InputFile,
  table: Table,
  background: Table,
  request: Omit<ExplainRequest, 'model' | 'data' | 'background'>,
  signal?: AbortSignal,
  treeShap: TreeShapRunner = async (job, jobSignal) => runTreeShapJob(job, jobSignal),
): Promise<ExplainResult> {
  {
    const columns = classifier.features(table, request.features);
    for (const name of columns) {
      if (!findColumn(background, name)) throw new ExplainerCompatibilityError(`${background.source}: the background lacks the model column ${quote(name)}. Use a reference file with the same columns as the data.`);
    }
    const rows = allRows(Math.min(table.rowCount, request.rows ?? 100));
    const selection = request.backgroundSelection ?? 'sample';
    const bgRows = chooseRows(background.rowCount, request.backgroundRows ?? 100, selection, request.seed ?? 0);
    const backgroundText = `${selection === 'first' ? 'first' : 'seeded sample of'} ${bgRows.length} rows of ${background.source}`;
    const ensemble = classifier.ensemble;
    const method = request.method ?? 'auto';
    const limits = { ...DEFAULT_LIMITS, memoryBytes: request.memoryLimit ?? DEFAULT_LIMITS.memoryBytes };
    const check = (estimate: StageEstimate) => checkStageMemory('The explanations', estimate, limits);
    // Per-column ONNX graphs (one-hot, scaling inside) and a single [N, F] input through a
    // Scaler: explained per raw column from the graph, for the class the audit scores. A
    // model of more than two classes (one-vs-rest) is explained by KernelSHAP on p(class).
    const choice = await classifier.classChoice(table, request.features);
    let encoded: EncodedModel | null = null;
    if (!ensemble && classifier.summary.format === 'onnx' && method !== 'kernel' && !choice.oneVsRest) {
      try {
        encoded = readEncodedModel(decodeOnnx(modelFile.bytes, modelFile.fileName), modelFile.fileName, {
          matrixColumns: classifier.summary.needsFeatureOrder ? columns : undefined,
          positiveColumn: choice.column,
          complement: choice.complement,
          textMissing: request.textMissing ?? new Set(request.csv?.missingValues ?? []),
        });
      } catch (error) {
        // A graph the explainer cannot read is explained by KernelSHAP when the method is automatic.
        if (method !== 'auto' || !isPlumblineError(error)) throw error;
      }
    }
    if (encoded && method !== 'tree-path') {
      const groups = { groupOf: encoded.groupOf, columns: encoded.columns };
      check(explainEstimate(encoded.model.kind === 'trees' ? 'tree' : 'linear', rows.length, bgRows.length, encoded.groupOf.length));
      const encodeRows = (source: Table, which: Uint32Array) => Array.from(which, (row) => encoded.encode(source, row));
      const x = encodeRows(table, rows);
      const b = encodeRows(background, bgRows);
      const shap = encoded.model.kind === 'trees' ? await treeShap({ kind: 'interventional', ensemble: encoded.model.ensemble, rows: x, background: b, groups }, signal) : linearShap(encoded.model.weights, encoded.model.intercept, x, b, groups);
      checkFinite(shap, classifier.summary.fileName);
      return {
        method: encoded.model.kind === 'trees' ? 'tree (interventional)' : 'linear (interventional)',
        output: 'log-odds (raw margin, before the logistic), per raw column',
        columns: shap.columns,
        expected_value: shap.expectedValue,
        values: shap.values.map((v) => Array.from(v)),
        rows: Array.from(rows, (r) => r + 1),
        data: cellValues(table, shap.columns, rows),
        background: `${(request.backgroundSelection ?? 'sample') === 'first' ? 'first' : 'seeded sample of'} ${bgRows.length} rows of ${background.source}`,
        local_accuracy_error: shap.localAccuracyError,
      };
    }
    let shap: ShapValues;
    let label: ExplainResult['method'];
    let output: string;
    // LightGBM's sigmoid parameter s scales the trees' sum into the log-odds (p = logistic(s × sum)): the values explain the sum.
    const scale = ensemble?.marginScale ?? 1;
    const space = ensemble?.transform !== 'logistic' ? 'raw model output (the forest’s averaged probability)' : scale === 1 ? 'log-odds (raw margin, before the logistic)' : `raw score (the trees' sum; the log-odds are ${scale} × it, LightGBM's sigmoid ${scale}, before the logistic)`;
    if (method === 'tree-path') {
      if (!ensemble) treeOnly(classifier, 'path-dependent TreeSHAP', choice.oneVsRest);
      if (ensemble.trees.some((t) => !t.cover)) {
        throw new ExplainerCompatibilityError(`${classifier.summary.fileName}: path-dependent TreeSHAP needs node covers (sample counts), which this file does not carry (sklearn-onnx exports have none). Use interventional TreeSHAP with a background (explainer.type: tree in an audit config; --method tree for plumbline explain).`);
      }
      check(explainEstimate('tree-path', rows.length, 0, columns.length));
      shap = await treeShap({ kind: 'path', ensemble, rows: cellVectors(table, columns, rows, ensemble) }, signal);
      label = 'tree (path-dependent)';
      output = space;
    } else if (method === 'tree' || (method === 'auto' && ensemble)) {
      if (!ensemble) treeOnly(classifier, 'TreeSHAP', choice.oneVsRest);
      check(explainEstimate('tree', rows.length, bgRows.length, columns.length));
      shap = await treeShap({ kind: 'interventional', ensemble, rows: cellVectors(table, columns, rows, ensemble), background: cellVectors(background, columns, bgRows, ensemble) }, signal);
      label = 'tree (interventional)';
      output = space;
    } else {
      // One explained row's coalitions must fit the stage's memory; more rows are scored together as far as it allows.
      const kind = columns.length > MAX_EXACT_KERNEL_COLUMNS ? 'kernel-sampled' : 'kernel-exact';
      const coalitions = kind === 'kernel-sampled' ? sampledCoalitions(columns.length, request.kernelSamples) : 2 ** columns.length;
      const estimate = (rowsPerCall: number) => explainEstimate(kind, rows.length, bgRows.length, columns.length, coalitions, rowsPerCall);
      check(estimate(1));
      const rowsPerCall = coalitionRowsPerCall(rows.length, coalitions, bgRows.length, (n) => estimate(n).bytes <= limits.memoryBytes);
      if (kind === 'kernel-sampled') {
        shap = await sampledKernelShap(classifier, columns, table, rows, background, bgRows, { samples: request.kernelSamples, seed: request.seed ?? 0, features: request.features, signal, rowsPerCall });
        label = 'kernel (sampled)';
      } else {
        shap = await exactKernelShap(classifier, columns, table, rows, background, bgRows, { features: request.features, signal, rowsPerCall });
        label = 'kernel (exact)';
      }
      output = 'p(positive) (the model’s probability output)';
    }
    checkFinite(shap, classifier.summary.fileName, label.startsWith('kernel'));
    return {
      method: label,
      output,
      columns,
      expected_value: shap.expectedValue,
      values: shap.values.map((v) => Array.from(v)),
      rows: Array.from(rows, (r) => r + 1),
      data: cellValues(table, columns, rows),
      background: label === 'tree (path-dependent)' ? 'node covers stored in the model file' : backgroundText,
      local_accuracy_error: shap.localAccuracyError,
    };
  }
}

/** Refuses explanations that are not numbers (a cell the explainer could not read): they broke the report's chart and read as null. */
export function checkFinite(shap: { values: readonly ArrayLike<number>[]; expectedValue: number; columns: readonly string[] }, fileName: string, kernel = false): void {
  const row = shap.values.findIndex((values) => Array.from(values).some((v) => !Number.isFinite(v)));
  if (row < 0 && Number.isFinite(shap.expectedValue)) return;
  const column = row < 0 ? null : shap.columns[Array.from(shap.values[row]).findIndex((v) => !Number.isFinite(v))];
  const fix = kernel ? 'Leave the explanations out (explainer.enabled: false)' : 'Explain with --method kernel (explainer.type: kernel), or leave the explanations out (explainer.enabled: false)';
  throw new ExplainerCompatibilityError(`${fileName}: the explainer gave no number${column ? ` for column ${quote(column)}` : ''} (it could not read the cells as the model does). ${fix}.`);
}
