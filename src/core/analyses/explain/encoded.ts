import { TensorProto_DataType, type AttributeProto, type ModelProto, type NodeProto } from 'onnx-buf';
import { findColumn, type Table } from '../../data/table';
import { boolValue, modelText } from '../../model/onnx-scorer';
import { ModelLoadError } from '../../base/errors';
import { onnxTreeEnsemble } from '../../model/onnx-trees';
import type { TreeEnsemble } from '../../model/tree';

/**
 * An ONNX model whose preprocessing (Cast, Reshape, Identity, OneHotEncoder, Concat,
 * Scaler) the explainer reads itself, so explanations come out per raw column: each
 * encoded feature belongs to the raw column it was made from.
 */
export interface EncodedModel {
  /** Raw columns, in the order of the graph's inputs used. */
  columns: string[];
  /** Raw column index of each encoded feature. */
  groupOf: Int32Array;
  /** Encoded features of one table row, in float64 (one-hot 0/1, numbers as given, then the Scaler). */
  encode(table: Table, row: number): Float64Array;
  /** The model on the encoded features. */
  model: { kind: 'trees'; ensemble: TreeEnsemble } | { kind: 'linear'; weights: Float64Array; intercept: number };
}

const attr = (node: NodeProto, name: string): AttributeProto | undefined => node.attribute.find((a) => a.name === name);

interface Part {
  column: string;
  width: number;
  /** A bool graph input: its cells read as the scorer feeds them (Y/N, t/f, … as 1/0). */
  bool?: true;
  /** Categories of a one-hot part (strings or numbers); null for a passthrough number. */
  categories: (string | number)[] | null;
}

/** How {@link readEncodedModel} reads a model as the audit scores it. */
export interface EncodedOptions {
  /** The feature columns of a single [N, F] input, in order (then each is a part of its own). */
  matrixColumns?: string[];
  /** The output column of the positive class (its label chose it), and whether the score is 1 − that column. */
  positiveColumn?: number;
  complement?: boolean;
  /** Texts fed to a text input as missing (the user's missing_values), as the scorer does. */
  textMissing?: ReadonlySet<string>;
}

/**
 * Reads the preprocessing chain in front of a TreeEnsembleClassifier or LinearClassifier;
 * null when the graph holds anything else (then KernelSHAP is the fallback).
 */
export function readEncodedModel(model: ModelProto, fileName: string, options: EncodedOptions = {}): EncodedModel | null {
  const textMissing = options.textMissing ?? new Set<string>();
  const graph = model.graph!;
  const inputs = new Set(graph.input.map((i) => i.name));
  const producer = new Map<string, NodeProto>();
  for (const node of graph.node) for (const output of node.output) producer.set(output, node);
  const head = graph.node.find((n) => n.opType === 'TreeEnsembleClassifier' || n.opType === 'LinearClassifier');
  if (!head) return null;
  // The encoded features, read back from the classifier's input: graph inputs (through
  // casts and reshapes), one-hot encoders of inputs, Concat of those, and Scalers over any
  // span of them (sklearn-onnx scales the numbers' Concat, then concatenates the one-hots).
  const parts: Part[] = [];
  const scalers: { start: number; width: number; offset: number[]; scale: number[] }[] = [];
  let width = 0;
  const expand = (tensor: string, depth: number): boolean => {
    if (depth > 32) return false;
    let name = tensor;
    let node = producer.get(name);
    while (node && ['Cast', 'Reshape', 'Identity'].includes(node.opType)) {
      name = node.input[0];
      node = producer.get(name);
    }
    if (!node && inputs.has(name)) {
      // One [N, F] input: its F columns are the user's feature columns, in order.
      const columns = options.matrixColumns && inputs.size === 1 ? options.matrixColumns : [name];
      const type = graph.input.find((i) => i.name === name)?.type?.value;
      const bool = type?.case === 'tensorType' && type.value.elemType === TensorProto_DataType.BOOL;
      for (const column of columns) parts.push({ column, width: 1, categories: null, ...(bool ? { bool: true as const } : {}) });
      width += columns.length;
      return true;
    }
    if (node?.opType === 'OneHotEncoder' && inputs.has(node.input[0])) {
      const strings = attr(node, 'cats_strings')?.strings.map((s) => new TextDecoder().decode(s)) ?? [];
      const ints = attr(node, 'cats_int64s')?.ints.map(Number) ?? [];
      const categories = strings.length ? strings : ints;
      parts.push({ column: node.input[0], width: categories.length, categories });
      width += categories.length;
      return true;
    }
    if (node?.opType === 'Concat') return node.input.every((input) => expand(input, depth + 1));
    if (node?.opType === 'Scaler') {
      const start = width;
      if (!expand(node.input[0], depth + 1)) return false;
      const offset = attr(node, 'offset')?.floats ?? [];
      const scale = attr(node, 'scale')?.floats ?? [];
      const span = width - start;
      if ((offset.length !== span && offset.length !== 1) || (scale.length !== span && scale.length !== 1)) {
        throw new ModelLoadError(`${fileName}: the Scaler has ${offset.length} offsets and ${scale.length} scales for ${span} features.`);
      }
      scalers.push({ start, width: span, offset, scale });
      return true;
    }
    return false;
  };
  if (!expand(head.input[0], 0)) return null;
  const columns = [...new Set(parts.map((p) => p.column))];
  const groupOf = new Int32Array(width);
  let at = 0;
  for (const part of parts) for (let k = 0; k < part.width; k++) groupOf[at++] = columns.indexOf(part.column);

  const encode = (table: Table, row: number) => {
    const z = new Float64Array(width);
    let j = 0;
    for (const part of parts) {
      const column = findColumn(table, part.column)!;
      if (!part.categories) {
        // A bool input's Y/N as the scorer feeds it (it was NaN: the explanation and the PDF's chart broke).
        z[j++] = part.bool ? (boolValue(column, row) ?? Number.NaN) : column.kind === 'numeric' ? column.values[row] : Number.NaN;
        continue;
      }
      // The text the scorer feeds ("01" stays "01"), as the graph's encoder sees it.
      const value = modelText(column, row, textMissing, new Set(part.categories.map(String)));
      for (const category of part.categories) z[j++] = String(value) === String(category) ? 1 : 0;
    }
    // Inner Scalers first (they were pushed after the spans inside them were read).
    for (const { start, width: span, offset, scale } of scalers) {
      for (let k = 0; k < span; k++) z[start + k] = (z[start + k] - offset[offset.length === 1 ? 0 : k]) * scale[scale.length === 1 ? 0 : k];
    }
    return z;
  };

  const positiveColumn = options.complement ? 0 : (options.positiveColumn ?? 1);
  if (head.opType === 'TreeEnsembleClassifier') {
    const ensemble = onnxTreeEnsemble(model, fileName, width, true, positiveColumn);
    if (!ensemble) return null;
    return { columns, groupOf, encode, model: { kind: 'trees', ensemble } };
  }
  const coefficients = attr(head, 'coefficients')?.floats ?? [];
  const intercepts = attr(head, 'intercepts')?.floats ?? [];
  const labels = attr(head, 'classlabels_ints')?.ints.map(Number) ?? [];
  const post = attr(head, 'post_transform') ? new TextDecoder().decode(attr(head, 'post_transform')!.s) : 'NONE';
  const classes = coefficients.length / width;
  if (!Number.isInteger(classes) || classes < 1 || classes > 2 || (labels.length > 2)) return null;
  if (post !== 'LOGISTIC') return null;
  // Binary: the positive class's row of coefficients when both are stored (chosen by its
  // label); one stored row is class 1's margin, negated for class 0.
  const row = classes === 2 ? positiveColumn : 0;
  const sign = classes === 1 && positiveColumn === 0 ? -1 : 1;
  return {
    columns,
    groupOf,
    encode,
    model: { kind: 'linear', weights: Float64Array.from(coefficients.slice(row * width, (row + 1) * width), (w) => sign * w), intercept: sign * (intercepts[row] ?? 0) },
  };
}
