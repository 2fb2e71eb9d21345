import type * as OrtTypes from 'onnxruntime-web';
import { AuditConfigError, ModelLoadError, closeMatches, quote } from '../errors';
import { allRows, findColumn, requireColumn, type Column, type Table } from '../data/table';
import type { ModelProto } from 'onnx-buf';
import { decodeOnnx, dropZipMap, inspectOnnx, type OnnxModelInfo, type TensorSignature } from './onnx-graph';

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

/** An ONNX binary classifier ready to score tables. */
export interface OnnxClassifier {
  fileName: string;
  info: OnnxModelInfo;
  /** The output read as probabilities, and which of its columns is the positive class. */
  probabilityOutput: { name: string; positiveColumn: number; convention: string };
  session: OrtTypes.InferenceSession;
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
  options: { positiveLabel?: string | number; sessionOptions?: OrtTypes.InferenceSession.SessionOptions } = {},
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
  let session: OrtTypes.InferenceSession;
  try {
    session = await ort.InferenceSession.create(sessionBytes, options.sessionOptions ?? {});
  } catch (error) {
    throw sessionFailure(model, fileName, String((error as Error).message ?? error).replace(/\s+/g, ' ').trim());
  }
  const probabilityOutput = chooseProbabilityOutput(info, zipMapInputs, fileName, options.positiveLabel);
  return { fileName, info, probabilityOutput, session };
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

function chooseProbabilityOutput(info: OnnxModelInfo, zipMapInputs: string[], fileName: string, positiveLabel?: string | number) {
  const name =
    zipMapInputs[0] ??
    info.outputs.find((o) => o.valueKind === 'tensor' && (o.elementType === 'float32' || o.elementType === 'float64') && /prob/i.test(o.name))?.name ??
    info.outputs.find((o) => o.valueKind === 'tensor' && (o.elementType === 'float32' || o.elementType === 'float64'))?.name;
  if (!name) {
    const outputs = info.outputs.map((o) => `${o.name} (${o.valueKind} ${o.elementType})`).join(', ');
    throw new ModelLoadError(`${fileName}: no output holds classifier scores (outputs: ${outputs}). Export the model with a probability output.`);
  }
  const declared = info.outputs.find((o) => o.name === name);
  const width = declared?.shape.length === 2 ? declared.shape[1] : declared?.shape.length === 1 ? 1 : null;
  if (typeof width === 'number' && width > 2) {
    throw new ModelLoadError(`${fileName}: output ${quote(name)} has ${width} classes; this audit handles binary classifiers. Audit one class against the rest with a binary model.`);
  }
  const labels = info.classLabels;
  if (width === 1) return { name, positiveColumn: 0, convention: `${name} holds p(positive) directly` };
  if (labels && labels.length === 2) {
    const wanted = positiveLabel ?? 1;
    const index = labels.findIndex((label) => String(label) === String(wanted));
    if (index < 0) {
      throw new AuditConfigError(`${fileName}: the positive label ${quote(String(wanted))} is not one of the model's class labels (${labels.join(', ')}). Set the positive label to one of them.`);
    }
    return { name, positiveColumn: index, convention: `${name}[:, ${index}] = p(class ${labels[index]}), from the model's class labels` };
  }
  return { name, positiveColumn: 1, convention: `${name}[:, 1] taken as p(positive): the model declares no class labels` };
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
    if (width !== null && features.length !== width) {
      throw new AuditConfigError(
        `${model.fileName}: input ${quote(single.name)} takes ${width} columns, but ${features.length} were chosen (${features.join(', ')}). Choose exactly ${width} columns in the order the model was trained on.`,
      );
    }
    for (const feature of features) requireColumn(table, feature, 'feature', `Columns are: ${names.slice(0, 30).join(', ')}${names.length > 30 ? ', …' : ''}.`);
    for (const feature of features) {
      const column = findColumn(table, feature)!;
      if (column.kind !== 'numeric') {
        throw new AuditConfigError(`${table.source}, column ${quote(feature)}: the model's input ${quote(single.name)} takes numbers, but this column holds text (e.g. ${quote(column.dictionary[0] ?? '')}). Choose numeric columns or encode this one.`);
      }
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

function columnTensor(ort: OrtRuntime, input: TensorSignature, column: Column, rows: Uint32Array, source: string, buffers: InputBuffers): OrtTypes.Tensor {
  const n = rows.length;
  const dims = input.shape.length === 1 ? [n] : [n, 1];
  switch (input.elementType) {
    case 'float32':
    case 'float64': {
      const data = inputBuffer(buffers, input.name, n, (size) => (input.elementType === 'float32' ? new Float32Array(size) : new Float64Array(size)));
      if (column.kind === 'numeric') for (let i = 0; i < n; i++) data[i] = column.values[rows[i]];
      else throw inputTypeError(input, column, source);
      return new ort.Tensor(input.elementType, data, dims);
    }
    case 'int64':
    case 'int32': {
      if (column.kind !== 'numeric') throw inputTypeError(input, column, source);
      const data = inputBuffer(buffers, input.name, n, (size) => (input.elementType === 'int64' ? new BigInt64Array(size) : new Int32Array(size)));
      for (let i = 0; i < n; i++) {
        const value = column.values[rows[i]];
        if (!Number.isInteger(value)) {
          const what = Number.isNaN(value) ? 'is missing' : `holds ${value}`;
          throw new AuditConfigError(`${source}, row ${rows[i] + 1}, column ${quote(column.name)}: the value ${what}, but the model's input takes whole numbers (${input.elementType}) and has no missing-value handling. Impute or drop such rows first.`);
        }
        data[i] = (input.elementType === 'int64' ? BigInt(value) : value) as never;
      }
      return new ort.Tensor(input.elementType, data, dims);
    }
    case 'string': {
      const data = inputBuffer(buffers, input.name, n, (size) => new Array<string>(size));
      for (let i = 0; i < n; i++) {
        const row = rows[i];
        if (column.kind === 'numeric') data[i] = Number.isNaN(column.values[row]) ? '' : String(column.values[row]);
        else data[i] = column.codes[row] < 0 ? '' : column.dictionary[column.codes[row]];
      }
      return new ort.Tensor('string', data, dims);
    }
    case 'bool': {
      const data = inputBuffer(buffers, input.name, n, (size) => new Uint8Array(size));
      for (let i = 0; i < n; i++) {
        const row = rows[i];
        const text = column.kind === 'numeric' ? String(column.values[row]) : column.dictionary[column.codes[row]] ?? '';
        data[i] = /^(1|true|yes)$/i.test(text) ? 1 : 0;
      }
      return new ort.Tensor('bool', data, dims);
    }
    default:
      throw new ModelLoadError(`${source}: the model's input ${quote(input.name)} has an element type this audit cannot feed. Export the model with float, int64, string or bool inputs.`);
  }
}

function inputTypeError(input: TensorSignature, column: Column, source: string): AuditConfigError {
  return new AuditConfigError(`${source}, column ${quote(column.name)}: the model's input ${quote(input.name)} takes ${input.elementType} numbers, but the column holds text. Choose a numeric column or encode this one.`);
}

/**
 * Scores `rows` of the table (all rows when omitted) in batches and returns p(positive)
 * per row, in float64 (the model computes in float32).
 */
export async function scoreOnnx(
  ort: OrtRuntime,
  model: OnnxClassifier,
  table: Table,
  plan: InputPlan,
  options: { rows?: Uint32Array; onProgress?: (done: number, total: number) => void; signal?: AbortSignal } = {},
): Promise<Float64Array> {
  const rows = options.rows ?? allRows(table.rowCount);
  const scores = new Float64Array(rows.length);
  const { name, positiveColumn } = model.probabilityOutput;
  const columns = plan.kind === 'matrix' ? plan.features.map((feature) => (findColumn(table, feature) as { values: Float64Array }).values) : [];
  const buffers: InputBuffers = new Map();
  for (let start = 0; start < rows.length; start += SCORING_BATCH_ROWS) {
    options.signal?.throwIfAborted();
    const batch = rows.subarray(start, Math.min(rows.length, start + SCORING_BATCH_ROWS));
    const feeds: Record<string, OrtTypes.Tensor> = {};
    if (plan.kind === 'matrix') {
      const width = columns.length;
      const data = inputBuffer(buffers, plan.input.name, batch.length * width, (size) => new Float32Array(size));
      for (let j = 0; j < width; j++) {
        const values = columns[j];
        for (let i = 0; i < batch.length; i++) data[i * width + j] = values[batch[i]];
      }
      feeds[plan.input.name] = new ort.Tensor('float32', data, [batch.length, width]);
    } else {
      for (const { input, column } of plan.inputs) feeds[input.name] = columnTensor(ort, input, findColumn(table, column)!, batch, table.source, buffers);
    }
    let output: OrtTypes.Tensor;
    try {
      const results = await model.session.run(feeds, [name]);
      output = results[name];
    } catch (error) {
      const message = String((error as Error).message ?? error).replace(/\s+/g, ' ').trim();
      throw new ModelLoadError(`${model.fileName}: scoring rows ${batch[0] + 1}–${batch[batch.length - 1] + 1} failed in onnxruntime-web: ${message}`);
    }
    const data = output.data as Float32Array | Float64Array;
    const width = output.dims.length === 2 ? output.dims[1] : 1;
    if (data.length !== batch.length * width) {
      throw new ModelLoadError(`${model.fileName}: output ${quote(name)} returned ${data.length} values for ${batch.length} rows. The model is not a per-row classifier.`);
    }
    for (let i = 0; i < batch.length; i++) scores[start + i] = data[i * width + (width === 1 ? 0 : positiveColumn)];
    options.onProgress?.(Math.min(rows.length, start + SCORING_BATCH_ROWS), rows.length);
  }
  return scores;
}
