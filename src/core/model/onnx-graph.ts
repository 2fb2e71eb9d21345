import { fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  ModelProtoSchema,
  TensorProto_DataLocation,
  TensorProto_DataType,
  type AttributeProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from 'onnx-buf';
import { ModelLoadError } from '../base/errors';
import { describeBytes, looksLikeOnnx } from './sniff';

/** One UTF-8 decoder for every name and string attribute (a tree's node modes are one string a node). */
const utf8 = new TextDecoder();

export { describeBytes, looksLikeOnnx };

/** Element type of a tensor input or output, in onnxruntime-web's words. */
export type TensorElementType = 'float32' | 'float64' | 'int64' | 'int32' | 'string' | 'bool' | 'other';

/** One graph input or output as the file declares it. */
export interface TensorSignature {
  name: string;
  /** 'tensor', or 'sequence'/'map' for non-tensor values such as a ZipMap output. */
  valueKind: 'tensor' | 'sequence' | 'map' | 'other';
  elementType: TensorElementType;
  /** Dimensions; a dynamic one is its symbolic name or null. */
  shape: (number | string | null)[];
}

/** What the model file says about itself, read from the protobuf, not from a session. */
export interface OnnxModelInfo {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  docString: string;
  opsets: { domain: string; version: number }[];
  metadata: Record<string, string>;
  inputs: TensorSignature[];
  outputs: TensorSignature[];
  /** Distinct operator types, as `domain:OpType` for non-default domains. */
  operators: string[];
  /** Class labels declared by the classifier node, in output column order, when any. */
  classLabels: (string | number)[] | null;
  /** The categories each graph input is encoded against inside the graph, by input name. */
  inputCategories: Map<string, InputCategories>;
  /** Whether a ZipMap node feeds a graph output (rewritten away before scoring). */
  hasZipMap: boolean;
}

const ELEMENT_TYPES: Partial<Record<TensorProto_DataType, TensorElementType>> = {
  [TensorProto_DataType.FLOAT]: 'float32',
  [TensorProto_DataType.DOUBLE]: 'float64',
  [TensorProto_DataType.INT64]: 'int64',
  [TensorProto_DataType.INT32]: 'int32',
  [TensorProto_DataType.STRING]: 'string',
  [TensorProto_DataType.BOOL]: 'bool',
};

/** The largest ONNX file decoded: protobuf's own limit, 2 GiB − 1 bytes. */
const MAX_ONNX_BYTES = 2 ** 31 - 1;

/**
 * Files decoded, by their bytes: an audit reads one file's graph five times (the task, the
 * session, the explained trees, the scoring kernel, the explainer), 60–80 ms each for 300
 * trees. A decoded model is shared and so never written to (dropZipMap copies what it changes).
 */
const decoded = new WeakMap<Uint8Array, ModelProto>();

/** Decodes an ONNX file, or throws a {@link ModelLoadError} saying what the bytes look like. The model returned is shared: read it, never change it. */
export function decodeOnnx(bytes: Uint8Array, fileName: string): ModelProto {
  const known = decoded.get(bytes);
  if (known) return known;
  const model = decodeOnnxOnce(bytes, fileName);
  decoded.set(bytes, model);
  return model;
}

function decodeOnnxOnce(bytes: Uint8Array, fileName: string): ModelProto {
  if (!looksLikeOnnx(bytes)) {
    throw new ModelLoadError(`${fileName}: not an ONNX model (${describeBytes(bytes)}). Export the model to ONNX (e.g. skl2onnx) and choose the .onnx file.`);
  }
  // A protobuf message cannot pass 2 GiB (its lengths are 32-bit); a larger file is refused before decoding.
  if (bytes.length > MAX_ONNX_BYTES) {
    throw new ModelLoadError(`${fileName}: the file is ${(bytes.length / 2 ** 30).toFixed(1)} GiB, more than the 2 GiB an ONNX file can hold (larger models keep their weights in side files, which a single file cannot carry). Export a smaller model.`);
  }
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes);
  } catch (error) {
    // Reading past the last byte: the protobuf reader's "premature EOF", or a DataView's RangeError.
    const cut = error instanceof RangeError || /premature EOF|outside the bounds/i.test((error as Error).message);
    throw new ModelLoadError(
      cut
        ? `${fileName}: the ONNX file ends early (a field runs past its last byte, ${bytes.length.toLocaleString('en-US')} bytes in all): it was cut short, in a copy or a download. Copy or export the model again.`
        : `${fileName}: the ONNX file is damaged (${(error as Error).message}). Export the model again.`,
    );
  }
  if (!model.graph || model.graph.node.length === 0) {
    throw new ModelLoadError(`${fileName}: the ONNX file has no graph nodes (${bytes.length} bytes, possibly truncated). Export the model again.`);
  }
  // Weights kept in side files (large models) cannot be read from a single dropped file.
  const external = model.graph.initializer.find((t) => t.dataLocation === TensorProto_DataLocation.EXTERNAL);
  if (external) {
    const location = external.externalData.find((e) => e.key === 'location')?.value ?? 'a side file';
    throw new ModelLoadError(
      `${fileName}: the model keeps its weights outside the .onnx file (tensor "${external.name}" is in ${JSON.stringify(location)}). Save a self-contained model — onnx.save_model(onnx.load("${fileName}"), "model.onnx", save_as_external_data=False) — and choose that file.`,
    );
  }
  for (const tensor of model.graph.initializer) checkTensorSize(tensor, fileName);
  return model;
}

/** Bytes per element of the tensor types whose data may be stored raw. */
const ELEMENT_BYTES: Partial<Record<TensorProto_DataType, number>> = {
  [TensorProto_DataType.FLOAT]: 4,
  [TensorProto_DataType.UINT8]: 1,
  [TensorProto_DataType.INT8]: 1,
  [TensorProto_DataType.UINT16]: 2,
  [TensorProto_DataType.INT16]: 2,
  [TensorProto_DataType.INT32]: 4,
  [TensorProto_DataType.INT64]: 8,
  [TensorProto_DataType.BOOL]: 1,
  [TensorProto_DataType.FLOAT16]: 2,
  [TensorProto_DataType.DOUBLE]: 8,
  [TensorProto_DataType.UINT32]: 4,
  [TensorProto_DataType.UINT64]: 8,
  [TensorProto_DataType.COMPLEX64]: 8,
  [TensorProto_DataType.COMPLEX128]: 16,
  [TensorProto_DataType.BFLOAT16]: 2,
};

/**
 * A weight tensor must hold as many values as its shape declares. A shape that declares
 * billions of values over a few bytes (a damaged or hostile file) is refused here, in
 * words, rather than left to onnxruntime (which answers "narrowing_error").
 */
function checkTensorSize(tensor: TensorProto, fileName: string): void {
  const declared = tensor.dims.reduce((n, d) => n * Number(d), 1);
  const complex = tensor.dataType === TensorProto_DataType.COMPLEX64 || tensor.dataType === TensorProto_DataType.COMPLEX128 ? 2 : 1;
  let held: number;
  if (tensor.rawData.length > 0) {
    const size = ELEMENT_BYTES[tensor.dataType as TensorProto_DataType];
    if (size === undefined) return;
    held = tensor.rawData.length / size;
  } else {
    held = (tensor.floatData.length + tensor.int32Data.length + tensor.int64Data.length + tensor.stringData.length + tensor.doubleData.length + tensor.uint64Data.length) / complex;
  }
  if (held === declared) return;
  const shape = tensor.dims.map((d) => Number(d).toLocaleString('en-US')).join(' × ') || 'a scalar';
  throw new ModelLoadError(`${fileName}: the weight tensor "${tensor.name}" declares ${shape} values but holds ${held.toLocaleString('en-US')}. The file is damaged or was altered: export the model again.`);
}

function signature(info: ValueInfoProto): TensorSignature {
  const type = info.type?.value;
  if (type?.case === 'tensorType') {
    return {
      name: info.name,
      valueKind: 'tensor',
      elementType: ELEMENT_TYPES[type.value.elemType as TensorProto_DataType] ?? 'other',
      shape: (type.value.shape?.dim ?? []).map((dim) =>
        dim.value.case === 'dimValue' ? Number(dim.value.value) : dim.value.case === 'dimParam' ? dim.value.value : null,
      ),
    };
  }
  const valueKind = type?.case === 'sequenceType' ? 'sequence' : type?.case === 'mapType' ? 'map' : 'other';
  return { name: info.name, valueKind, elementType: 'other', shape: [] };
}

function attribute(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}

function labelsOf(node: NodeProto): (string | number)[] | null {
  const ints = attribute(node, 'classlabels_int64s') ?? attribute(node, 'classlabels_ints');
  if (ints && ints.ints.length > 0) return ints.ints.map((v) => Number(v));
  const strings = attribute(node, 'classlabels_strings');
  if (strings && strings.strings.length > 0) return strings.strings.map((s) => utf8.decode(s));
  return null;
}

const CLASSIFIER_OPS = ['TreeEnsembleClassifier', 'LinearClassifier', 'SVMClassifier', 'ZipMap'];

/** The categories an input is encoded against inside the graph, and what happens to others. */
export interface InputCategories {
  /** Every value the encoder knows, in the encoder's order. */
  values: (string | number)[];
  /** The node that knows them, in words: `OneHotEncoder "ohe_workclass"`. */
  from: string;
  /** What the encoder does with a value it does not know, in words. */
  unknown: string;
}

/** Operators that pass an input on unchanged in what it means (its values are still the user's). */
const PASS_THROUGH = new Set(['Cast', 'Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze']);

function textsOf(a: AttributeProto | undefined): string[] {
  return (a?.strings ?? []).map((b) => utf8.decode(b));
}

/** What an encoding node knows and does with other values, or null for another node. */
function encoderCategories(node: NodeProto): InputCategories | null {
  const named = `${node.opType}${node.name ? ` ${JSON.stringify(node.name)}` : ''}`;
  if (node.opType === 'OneHotEncoder') {
    const strings = textsOf(attribute(node, 'cats_strings'));
    const values = strings.length ? strings : (attribute(node, 'cats_int64s')?.ints ?? []).map(Number);
    const zeros = Number(attribute(node, 'zeros')?.i ?? 1n);
    return { values, from: named, unknown: zeros ? 'encoded as all zeros (no category)' : 'refused by onnxruntime (zeros=0): scoring fails' };
  }
  if (node.opType === 'LabelEncoder') {
    const strings = textsOf(attribute(node, 'keys_strings'));
    const values = strings.length ? strings : [...(attribute(node, 'keys_int64s')?.ints ?? []).map(Number), ...(attribute(node, 'keys_floats')?.floats ?? [])];
    const fallback = attribute(node, 'default_string') ? JSON.stringify(utf8.decode(attribute(node, 'default_string')!.s)) : attribute(node, 'default_int64') ? String(attribute(node, 'default_int64')!.i) : attribute(node, 'default_float') ? String(attribute(node, 'default_float')!.f) : 'its default';
    return { values, from: named, unknown: `mapped to the default value ${fallback}` };
  }
  if (node.opType === 'CategoryMapper') {
    const values = textsOf(attribute(node, 'cats_strings'));
    const fallback = attribute(node, 'default_int64')?.i ?? -1n;
    return { values, from: named, unknown: `mapped to the default code ${fallback}` };
  }
  return null;
}

/**
 * The categories each graph input meets first on its way into the graph (through casts
 * and reshapes only): OneHotEncoder, LabelEncoder and CategoryMapper nodes name them.
 */
function categoriesByInput(graph: NonNullable<ModelProto['graph']>, inputs: string[]): Map<string, InputCategories> {
  const consumers = new Map<string, NodeProto[]>();
  for (const node of graph.node) for (const name of node.input) consumers.set(name, [...(consumers.get(name) ?? []), node]);
  const found = new Map<string, InputCategories>();
  for (const input of inputs) {
    const seen = new Set<string>([input]);
    const queue = [input];
    while (queue.length && !found.has(input)) {
      for (const node of consumers.get(queue.shift()!) ?? []) {
        const categories = encoderCategories(node);
        if (categories) {
          found.set(input, categories);
          break;
        }
        if (!PASS_THROUGH.has(node.opType)) continue;
        for (const out of node.output) if (!seen.has(out)) seen.add(out), queue.push(out);
      }
    }
  }
  return found;
}

/** Reads producer, opsets, signature, operators and class labels from an ONNX model. */
export function inspectOnnx(model: ModelProto): OnnxModelInfo {
  const graph = model.graph!;
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const outputNames = new Set(graph.output.map((o) => o.name));
  let classLabels: (string | number)[] | null = null;
  for (const op of CLASSIFIER_OPS) {
    const node = graph.node.find((n) => n.opType === op);
    if (node) classLabels ??= labelsOf(node);
  }
  const inputs = graph.input.filter((i) => !initializers.has(i.name)).map(signature);
  return {
    irVersion: Number(model.irVersion),
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    docString: model.docString || graph.docString,
    opsets: model.opsetImport.map((o) => ({ domain: o.domain || 'ai.onnx', version: Number(o.version) })),
    metadata: Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value])),
    inputs,
    outputs: graph.output.map(signature),
    operators: [...new Set(graph.node.map((n) => (n.domain && n.domain !== 'ai.onnx' ? `${n.domain}:${n.opType}` : n.opType)))].sort(),
    classLabels,
    inputCategories: categoriesByInput(graph, inputs.map((i) => i.name)),
    hasZipMap: graph.node.some((n) => n.opType === 'ZipMap' && n.output.some((o) => outputNames.has(o))),
  };
}

/**
 * Removes ZipMap nodes that feed graph outputs and exposes their input tensor (the
 * probabilities, [N, classes]) as the output instead. onnxruntime-web cannot read a
 * ZipMap's sequence-of-maps output; the tensor before it holds the same numbers.
 * Returns the rewritten file and the names of the probability outputs it exposed.
 */
export function dropZipMap(model: ModelProto): { bytes: Uint8Array; exposed: string[] } {
  // The decoded model is shared (decodeOnnx): the graph is copied, its lists rebuilt.
  const graph = { ...model.graph!, node: [...model.graph!.node], output: [...model.graph!.output] };
  const exposed: string[] = [];
  for (const node of model.graph!.node) {
    if (node.opType !== 'ZipMap') continue;
    const outputIndex = graph.output.findIndex((o) => o.name === node.output[0]);
    if (outputIndex < 0) continue;
    const probabilities = node.input[0];
    const declared = [...graph.valueInfo, ...graph.output].find((v) => v.name === probabilities);
    const replacement: ValueInfoProto = declared ?? {
      ...graph.output[outputIndex],
      name: probabilities,
      type: {
        $typeName: 'onnx.TypeProto',
        denotation: '',
        value: {
          case: 'tensorType',
          value: { $typeName: 'onnx.TypeProto.Tensor', elemType: TensorProto_DataType.FLOAT, shape: undefined },
        },
      },
    };
    graph.output.splice(outputIndex, 1, replacement);
    graph.node.splice(graph.node.indexOf(node), 1);
    exposed.push(probabilities);
  }
  return { bytes: toBinary(ModelProtoSchema, { ...model, graph }), exposed };
}
