import type * as OrtTypes from 'onnxruntime-web';
import { AuditConfigError, ModelLoadError, closeMatches, quote } from '../base/errors';
import { allRows, fileRow, findColumn, isMissingCell, requireColumn, sourceText, type Column, type Table } from '../data/table';
import { checkFeatureList, chooseClass, type ClassChoice, type ClassLabel } from './classes';
import type { ModelProto } from 'onnx-buf';
import { labelOutputs, probabilityOutputOf, type ProbabilityOutput } from './onnx-outputs';
export type { ProbabilityOutput } from './onnx-outputs';
import { decodeOnnx, dropZipMap, inspectOnnx, type OnnxModelInfo, type TensorSignature } from './onnx-graph';
import { untilAborted } from '../base/abort';
import { OrtRuntimeError } from './onnx-remote';
import { createSession } from './onnx-session';
import { firstNonNumber } from '../data/csv/numbers';

/**
 * The parts of onnxruntime-web the scorer uses. The host passes its own import
 * (`onnxruntime-web/wasm` in a worker, `onnxruntime-web` in Node), so the core stays free
 * of platform code.
 */
export interface OrtRuntime {
  InferenceSession: typeof OrtTypes.InferenceSession;
  Tensor: typeof OrtTypes.Tensor;
}

/** How rows of a table become the model's inputs. */
export type InputPlan =
  | { kind: 'matrix'; input: TensorSignature; features: string[] }
  | { kind: 'columns'; inputs: { input: TensorSignature; column: string }[] };


/** How an ONNX model is opened. */
export interface OnnxOpenOptions {
  /** The positive class's label (data.positive_label); see {@link chooseClass}. */
  positiveLabel?: ClassLabel;
  /** The classes of a model that names none, in output order (model.class_labels); see {@link chooseClass}. */
  classLabels?: readonly string[];
  /** Cell texts the user declared missing (data.missing_values): with the empty cell, the only cells a text input gets as missing (''). */
  userMissingValues?: readonly string[];
  sessionOptions?: OrtTypes.InferenceSession.SessionOptions;
  /**
   * Open without waiting for the session: onnxruntime starts and creates it meanwhile, and
   * its refusal of the model comes from {@link OnnxClassifier.ready} (and from the first
   * run) instead of from the open.
   */
  deferSession?: boolean;
}

/** An ONNX classifier ready to score tables. */
export interface OnnxClassifier {
  fileName: string;
  info: OnnxModelInfo;
  probabilityOutput: ProbabilityOutput;
  positiveLabel?: ClassLabel;
  classLabels?: readonly string[];
  /** Texts fed to a text input as missing (''), besides the empty cell. */
  textMissing: ReadonlySet<string>;
  session: OrtTypes.InferenceSession;
  /** Settles when the session is created; rejects with the model's refusal (see {@link OnnxOpenOptions.deferSession}). */
  ready: Promise<void>;
}

/** The class choice of an output `width` columns wide (made once, then checked against every batch). */
export function classChoiceFor(model: OnnxClassifier, width: number): ClassChoice {
  const output = model.probabilityOutput;
  if (!output.choice) {
    output.choice = chooseClass({ fileName: model.fileName, output: output.name, labels: model.info.classLabels, width, positiveLabel: model.positiveLabel, configured: model.classLabels });
    output.choiceWidth = width;
  } else if (width !== output.choiceWidth) {
    throw new ModelLoadError(`${model.fileName}: output ${quote(output.name)} returned ${width} columns per row, but the model declares ${output.choiceWidth}. The file is inconsistent: export the model again.`);
  }
  return output.choice;
}

/** Rows per `run()` call: large enough to amortise the call's fixed cost (25–60 µs). */
export const SCORING_BATCH_ROWS = 8192;

/**
 * Opens an ONNX classifier: decodes the file, rewrites a ZipMap output to its probability
 * tensor, creates the session and picks the probability output and positive column.
 */
export async function openOnnxClassifier(
  ort: OrtRuntime,
  bytes: Uint8Array,
  fileName: string,
  options: OnnxOpenOptions = {},
): Promise<OnnxClassifier> {
  const model = decodeOnnx(bytes, fileName);
  const info = inspectOnnx(model);
  let sessionBytes = bytes;
  let zipMapInputs: string[] = [];
  if (info.hasZipMap) {
    const rewritten = dropZipMap(model);
    sessionBytes = rewritten.bytes;
    zipMapInputs = rewritten.exposed;
  }
  // Read from the file before a session is asked for: a file without a score output leaves no session behind.
  const probabilityOutput = probabilityOutputOf(info, zipMapInputs, fileName, labelOutputs(model));
  const created = createSession(ort, sessionBytes, options.sessionOptions ?? {}).catch((error: unknown) => {
    // The runtime itself failing (its worker stopped) is said as such, not blamed on the model.
    if (error instanceof OrtRuntimeError) throw error;
    throw sessionFailure(model, fileName, String((error as Error).message ?? error).replace(/\s+/g, ' ').trim());
  });
  const ready = created.then(() => undefined);
  // Awaited by every run; a refusal is reported by the open, or by `ready` and the runs — never unhandled.
  ready.catch(() => undefined);
  let session: OrtTypes.InferenceSession;
  if (options.deferSession) {
    session = {
      run: async (feeds: OrtTypes.InferenceSession.FeedsType, fetches: readonly string[]) => (await created).run(feeds, fetches),
      // Released once created: a release never waits for onnxruntime's start (a cancelled audit ends at once).
      release: async () => void created.then((session) => session.release()).catch(() => undefined),
    } as unknown as OrtTypes.InferenceSession;
  } else {
    session = await created;
  }
  const classifier: OnnxClassifier = { fileName, info, probabilityOutput, positiveLabel: options.positiveLabel, classLabels: options.classLabels, textMissing: new Set(options.userMissingValues ?? []), session, ready };
  try {
    if (probabilityOutput.declaredWidth !== null) classChoiceFor(classifier, probabilityOutput.declaredWidth);
  } catch (error) {
    await session.release();
    throw error;
  }
  return classifier;
}

/**
 * What onnxruntime's refusal to create a session means, in words: an operator it lacks
 * (named with the node that uses it), an opset newer than it reads, a graph with a cycle;
 * anything else with onnxruntime's own message.
 */
function sessionFailure(model: ModelProto, fileName: string, message: string): ModelLoadError {
  const opType = /No Op registered for (\S+) with domain_version/.exec(message)?.[1] ?? /(?:^|\s)(?:[\w.]+:)?(\w+)\(-?\d+\) is not a registered function\/op/.exec(message)?.[1];
  if (opType) {
    const node = model.graph?.node.find((n) => n.opType === opType);
    const domain = node?.domain || 'ai.onnx';
    return new ModelLoadError(`${fileName}: ${node?.name ? `node ${quote(node.name)}` : 'an unnamed node'} uses the operator ${opType} of domain ${domain}, which this onnxruntime-web does not have. Export the model with standard ONNX operators (ai.onnx, ai.onnx.ml).`);
  }
  const opset = /Opset (\d+) is under development.*Current official support for domain (\S+) is till opset (\d+)/.exec(message);
  if (opset) {
    return new ModelLoadError(`${fileName}: the model is stamped with opset ${opset[1]} of ${opset[2]}; this onnxruntime-web reads opsets up to ${opset[3]}. Export it with an earlier opset (e.g. target_opset=${opset[3]} in skl2onnx or torch.onnx.export).`);
  }
  if (/graph is not acyclic/.test(message)) {
    return new ModelLoadError(`${fileName}: the model's graph has a cycle (a node depends on its own output), which no ONNX model may have. The file is damaged or was altered: export the model again.`);
  }
  return new ModelLoadError(`${fileName}: onnxruntime-web cannot load this model: ${message}`);
}

/**
 * Decides how the table feeds the model: one input per raw column matched by name, or a
 * single [N, F] tensor filled from `features` in order.
 */
export function planInputs(model: OnnxClassifier, table: Table, features: string[] | undefined): InputPlan {
  const inputs = model.info.inputs;
  const names = table.columns.map((c) => c.name);
  const single = inputs.length === 1 ? inputs[0] : undefined;
  const singleWidth = single && single.shape.length === 2 ? single.shape[1] : undefined;
  const byName = single ? findColumn(table, single.name) : undefined;
  if (single && !(byName && (singleWidth === 1 || single.shape.length === 1))) {
    const width = typeof singleWidth === 'number' ? singleWidth : null;
    if (!features || features.length === 0) {
      throw new AuditConfigError(
        `${model.fileName}: the model takes one input ${quote(single.name)} of ${width ?? 'several'} columns and does not name them. List the ${width ?? ''} feature columns in the order the model was trained on (--features / model.features).`.replace('  ', ' '),
      );
    }
    checkFeatureList(features);
    if (width !== null && features.length !== width) {
      throw new AuditConfigError(
        `${model.fileName}: input ${quote(single.name)} takes ${width} columns, but ${features.length} were chosen (${features.join(', ')}). Choose exactly ${width} columns in the order the model was trained on.`,
      );
    }
    for (const feature of features) requireColumn(table, feature, 'feature', `Columns are: ${names.slice(0, 30).join(', ')}${names.length > 30 ? ', …' : ''}.`);
    for (const feature of features) {
      const column = findColumn(table, feature)!;
      if (column.kind !== 'numeric') {
        throw new AuditConfigError(`${table.source}, column ${quote(feature)}: the model's input ${quote(single.name)} takes numbers, but this column holds text (${firstNonNumber(table, column)}). Choose numeric columns or encode this one.`);
      }
    }
    if (single.elementType !== 'float32' && single.elementType !== 'float64') {
      throw new AuditConfigError(`${model.fileName}: the model's input ${quote(single.name)} is one [N, ${width ?? 'F'}] tensor of ${single.elementType}; the audit feeds such a tensor float32 or float64 numbers. Export the model with a float input (skl2onnx: FloatTensorType or DoubleTensorType).`);
    }
    return { kind: 'matrix', input: single, features };
  }
  const missing = inputs.filter((input) => !findColumn(table, input.name));
  if (missing.length > 0) {
    const list = missing.slice(0, 5).map((input) => {
      const close = closeMatches(input.name, names);
      return `${quote(input.name)} (${input.elementType})${close.length ? `, close: ${close.join(', ')}` : ''}`;
    });
    throw new AuditConfigError(
      `${model.fileName}: the model expects ${inputs.length} input columns and ${table.source} lacks ${missing.length}: ${list.join('; ')}${missing.length > 5 ? '; …' : ''}. Rename the columns or choose the matching data file.`,
    );
  }
  return { kind: 'columns', inputs: inputs.map((input) => ({ input, column: input.name })) };
}

/**
 * Input buffers of one scoring call, by input name, used again for every batch of the same
 * size: onnxruntime copies an input in before `run()` settles, and a fresh buffer per input
 * per 8,192-row batch made garbage-collector work that threads scoring side by side fought
 * over (bench/NOTES.md).
 */
type InputBuffers = Map<string, { length: number }>;

function inputBuffer<T extends { length: number }>(buffers: InputBuffers, name: string, n: number, make: (n: number) => T): T {
  const kept = buffers.get(name) as T | undefined;
  if (kept && kept.length === n) return kept;
  const made = make(n);
  buffers.set(name, made);
  return made;
}

/**
 * The text a text input gets for a cell: the cell's own text byte for byte ("01" stays
 * "01", " Private" keeps its space, a category "?" is "?"); '' for an empty cell and for a
 * token the user declared missing — unless the model knows that token as a category, when
 * it gets the token (and the audit's input findings say so).
 */
export function modelText(column: Column, row: number, textMissing: ReadonlySet<string>, known: ReadonlySet<string> | null): string {
  const text = sourceText(column, row);
  if (text === '' || !isMissingCell(column, row)) return text;
  const token = text.trim();
  if (token === '' || (textMissing.has(token) && !known?.has(token))) return '';
  return text;
}

function columnTensor(ort: OrtRuntime, input: TensorSignature, column: Column, rows: Uint32Array, table: Table, buffers: InputBuffers, textMissing: ReadonlySet<string>, known: ReadonlySet<string> | null): OrtTypes.Tensor {
  const n = rows.length;
  const dims = input.shape.length === 1 ? [n] : [n, 1];
  switch (input.elementType) {
    case 'float32':
    case 'float64': {
      const data = inputBuffer(buffers, input.name, n, (size) => (input.elementType === 'float32' ? new Float32Array(size) : new Float64Array(size)));
      if (column.kind === 'numeric') for (let i = 0; i < n; i++) data[i] = column.values[rows[i]];
      else throw inputTypeError(input, column, table);
      return new ort.Tensor(input.elementType, data, dims);
    }
    case 'int64':
    case 'int32': {
      if (column.kind !== 'numeric') throw inputTypeError(input, column, table);
      const data = inputBuffer(buffers, input.name, n, (size) => (input.elementType === 'int64' ? new BigInt64Array(size) : new Int32Array(size)));
      for (let i = 0; i < n; i++) {
        const value = column.values[rows[i]];
        if (!Number.isInteger(value)) {
          // A missing cell wants imputing; a fraction (or a number past 2^53) is not the whole number the input takes.
          const why = Number.isNaN(value) ? 'is missing, but the model\'s input takes whole numbers (' + input.elementType + ') and has no missing-value handling. Impute or drop such rows first.' : `holds ${value}, but the model's input takes whole numbers (${input.elementType}). Check that the column is the one the model was trained on, or round it as training did.`;
          throw new AuditConfigError(`${table.source}, row ${fileRow(table, rows[i])}, column ${quote(column.name)}: the value ${why}`);
        }
        data[i] = (input.elementType === 'int64' ? BigInt(value) : value) as never;
      }
      return new ort.Tensor(input.elementType, data, dims);
    }
    case 'string': {
      const data = inputBuffer(buffers, input.name, n, (size) => new Array<string>(size));
      for (let i = 0; i < n; i++) data[i] = modelText(column, rows[i], textMissing, known);
      return new ort.Tensor('string', data, dims);
    }
    case 'bool': {
      const data = inputBuffer(buffers, input.name, n, (size) => new Uint8Array(size));
      for (let i = 0; i < n; i++) data[i] = boolCell(column, rows[i], table, input);
      return new ort.Tensor('bool', data, dims);
    }
    default:
      throw new ModelLoadError(`${table.source}: the model's input ${quote(input.name)} has an element type this audit cannot feed. Export the model with float, int64, string or bool inputs.`);
  }
}

/** The texts a boolean input reads as true and as false (any case): as exports write flags (Y/N, t/f from PostgreSQL, yes/no, 1/0). */
const TRUE_TEXTS = new Set(['1', 'true', 't', 'yes', 'y']);
const FALSE_TEXTS = new Set(['0', 'false', 'f', 'no', 'n']);

/** A cell's text as a bool input reads it ('' for a missing cell). */
function boolText(column: Column, row: number): string {
  return (column.kind === 'numeric' ? (Number.isNaN(column.values[row]) ? '' : String(column.values[row])) : column.codes[row] < 0 ? '' : column.dictionary[column.codes[row]]).trim();
}

/** A cell as a bool input reads it: 1, 0, or null for a blank or another value. */
export function boolValue(column: Column, row: number): 1 | 0 | null {
  const text = boolText(column, row).toLowerCase();
  return TRUE_TEXTS.has(text) ? 1 : FALSE_TEXTS.has(text) ? 0 : null;
}

/** A cell fed to a bool input: 1 or 0; a blank or another value is refused, naming the row (every other cell was fed false, Y and blanks alike). */
function boolCell(column: Column, row: number, table: Table, input: TensorSignature): number {
  const value = boolValue(column, row);
  if (value !== null) return value;
  const text = boolText(column, row);
  const what = text === '' ? 'is missing' : `holds ${quote(sourceText(column, row).trim())}`;
  throw new AuditConfigError(
    `${table.source}, row ${fileRow(table, row)}, column ${quote(column.name)}: the value ${what}, but the model's input ${quote(input.name)} takes true or false (bool) and has no missing-value handling. Write it as true/false, t/f, yes/no, y/n or 1/0${text === '' ? ', and impute or drop rows without it' : ''}.`,
  );
}

function inputTypeError(input: TensorSignature, column: Column, table: Table): AuditConfigError {
  const cell = column.kind === 'categorical' ? ` (${firstNonNumber(table, column)})` : '';
  return new AuditConfigError(`${table.source}, column ${quote(column.name)}: the model's input ${quote(input.name)} takes ${input.elementType} numbers, but the column holds text${cell}. Choose a numeric column or encode this one.`);
}

/** Options of {@link scoreOnnx} and {@link onnxProbabilities}. */
type BatchOptions = { rows?: Uint32Array; onProgress?: (done: number, total: number) => void; signal?: AbortSignal };

/**
 * Scores `rows` of the table (all rows when omitted) in batches and returns p(positive)
 * per row, in float64 (the model computes in float32).
 */
export async function scoreOnnx(ort: OrtRuntime, model: OnnxClassifier, table: Table, plan: InputPlan, options: BatchOptions = {}): Promise<Float64Array> {
  const rows = options.rows ?? allRows(table.rowCount);
  const scores = new Float64Array(rows.length);
  await runBatches(ort, model, table, plan, rows, options, (data, width, start, count) => {
    // The class is chosen by label, and checked against the width every batch really has.
    const { column, complement } = classChoiceFor(model, width);
    if (complement) for (let i = 0; i < count; i++) scores[start + i] = 1 - data[i * width + column];
    else for (let i = 0; i < count; i++) scores[start + i] = data[i * width + column];
  });
  return scores;
}

/**
 * Every column of the probability output for `rows`, row-major (`rows × width`), in float64:
 * each class's probability in the model's class order (what a multiclass audit reads).
 */
export async function onnxProbabilities(ort: OrtRuntime, model: OnnxClassifier, table: Table, plan: InputPlan, options: BatchOptions = {}): Promise<{ width: number; values: Float64Array }> {
  const rows = options.rows ?? allRows(table.rowCount);
  let values = new Float64Array(0);
  let outWidth = 0;
  await runBatches(ort, model, table, plan, rows, options, (data, width, start, count) => {
    classChoiceFor(model, width);
    if (outWidth === 0) {
      outWidth = width;
      values = new Float64Array(rows.length * width);
    }
    for (let i = 0; i < count * width; i++) values[start * width + i] = data[i];
  });
  return { width: outWidth, values };
}

/** Runs the model over `rows` in batches of {@link SCORING_BATCH_ROWS}, handing each batch's probability output to `take`. */
async function runBatches(
  ort: OrtRuntime,
  model: OnnxClassifier,
  table: Table,
  plan: InputPlan,
  rows: Uint32Array,
  options: BatchOptions,
  take: (data: Float32Array | Float64Array, width: number, start: number, count: number) => void,
): Promise<void> {
  const { name } = model.probabilityOutput;
  // A session still being created: its refusal of the model is reported as such, not as a
  // failed batch; a cancel meanwhile ends the wait (onnxruntime may still be starting).
  await untilAborted(model.ready, options.signal);
  const known = new Map<string, ReadonlySet<string> | null>();
  for (const [input, categories] of model.info.inputCategories) known.set(input, new Set(categories.values.map(String)));
  const columns = plan.kind === 'matrix' ? plan.features.map((feature) => (findColumn(table, feature) as { values: Float64Array }).values) : [];
  const buffers: InputBuffers = new Map();
  for (let start = 0; start < rows.length; start += SCORING_BATCH_ROWS) {
    options.signal?.throwIfAborted();
    const batch = rows.subarray(start, Math.min(rows.length, start + SCORING_BATCH_ROWS));
    const feeds: Record<string, OrtTypes.Tensor> = {};
    if (plan.kind === 'matrix') {
      const width = columns.length;
      // A double input (skl2onnx's DoubleTensorType) takes the values as they are; a float one their float32.
      const double = plan.input.elementType === 'float64';
      const data = inputBuffer(buffers, plan.input.name, batch.length * width, (size) => (double ? new Float64Array(size) : new Float32Array(size)));
      for (let j = 0; j < width; j++) {
        const values = columns[j];
        for (let i = 0; i < batch.length; i++) data[i * width + j] = values[batch[i]];
      }
      feeds[plan.input.name] = new ort.Tensor(double ? 'float64' : 'float32', data, [batch.length, width]);
    } else {
      for (const { input, column } of plan.inputs) feeds[input.name] = columnTensor(ort, input, findColumn(table, column)!, batch, table, buffers, model.textMissing, known.get(input.name) ?? null);
    }
    let output: OrtTypes.Tensor;
    try {
      const results = await model.session.run(feeds, [name]);
      output = results[name];
    } catch (error) {
      const message = String((error as Error).message ?? error).replace(/\s+/g, ' ').trim();
      throw new ModelLoadError(`${model.fileName}: scoring rows ${fileRow(table, batch[0])}–${fileRow(table, batch[batch.length - 1])} failed in onnxruntime-web: ${message}`);
    }
    const data = output.data as Float32Array | Float64Array;
    const width = output.dims.length === 2 ? output.dims[1] : 1;
    if (data.length !== batch.length * width || output.dims.length > 2) {
      throw new ModelLoadError(`${model.fileName}: output ${quote(name)} returned ${data.length} values (shape ${output.dims.join(' × ')}) for ${batch.length} rows. The model is not a per-row classifier.`);
    }
    take(data, width, start, batch.length);
    options.onProgress?.(Math.min(rows.length, start + SCORING_BATCH_ROWS), rows.length);
  }
}
