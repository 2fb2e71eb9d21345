/**
 * Which output of an ONNX classifier holds its scores: a ZipMap's input, a float output named
 * like "prob", else the first float output that is not a predicted label.
 */
import type { ModelProto, NodeProto } from 'onnx-buf';
import { ModelLoadError } from '../base/errors';
import type { ClassChoice } from './classes';
import type { OnnxModelInfo } from './onnx-graph';

/** The output read as probabilities, and which of its columns is the positive class. */
export interface ProbabilityOutput {
  name: string;
  /** Columns the file declares for it (null: not declared, known once a batch comes back). */
  declaredWidth: number | null;
  /** The class choice; null until the output's width is known (a `[N, ?]` output). */
  choice: ClassChoice | null;
  /** The width the choice was made for. */
  choiceWidth: number | null;
}

/**
 * The output that holds the class probabilities: the tensor a ZipMap was fed, else a float
 * tensor named like a probability, else the first float tensor that is not a predicted label
 * ({@link labelOutputs}). Its class choice is made
 * from its declared width, or once a batch shows it.
 */
export function probabilityOutputOf(info: OnnxModelInfo, zipMapInputs: string[], fileName: string, labels: ReadonlySet<string>): ProbabilityOutput {
  // A float output that carries a classifier's predicted label (cast to float) is not a score, wherever it stands.
  const scores = info.outputs.filter((o) => o.valueKind === 'tensor' && (o.elementType === 'float32' || o.elementType === 'float64') && !labels.has(o.name));
  const name = zipMapInputs[0] ?? scores.find((o) => /prob/i.test(o.name))?.name ?? scores[0]?.name;
  if (!name) {
    const outputs = info.outputs.map((o) => `${o.name} (${o.valueKind} ${o.elementType})`).join(', ');
    throw new ModelLoadError(`${fileName}: no output holds classifier scores (outputs: ${outputs}). Export the model with a probability output.`);
  }
  const declared = info.outputs.find((o) => o.name === name);
  const last = declared?.shape.length === 2 ? declared.shape[1] : declared?.shape.length === 1 ? 1 : null;
  // A ZipMap's input is often undeclared: its width is the number of classes the ZipMap names.
  const width = typeof last === 'number' ? last : zipMapInputs.includes(name) && info.classLabels ? info.classLabels.length : null;
  return { name, declaredWidth: width, choice: null, choiceWidth: null };
}

/** ai.onnx.ml classifiers, whose first output is the predicted label and second the scores. */
const CLASSIFIER_OPS = new Set(['LinearClassifier', 'TreeEnsembleClassifier', 'SVMClassifier']);

/**
 * Graph outputs that hold a predicted label: a classifier node's first output or an ArgMax,
 * through Cast and Identity nodes (a label cast to float looks like a score by its type).
 */
export function labelOutputs(model: ModelProto): Set<string> {
  const graph = model.graph;
  const labels = new Set<string>();
  if (!graph) return labels;
  const producer = new Map<string, NodeProto>();
  for (const node of graph.node) for (const output of node.output) producer.set(output, node);
  for (const output of graph.output) {
    let name = output.name;
    for (let hops = 0; hops < graph.node.length; hops++) {
      const node = producer.get(name);
      if (!node) break;
      if ((node.opType === 'Cast' || node.opType === 'Identity') && node.input.length > 0) {
        name = node.input[0];
        continue;
      }
      if ((CLASSIFIER_OPS.has(node.opType) && node.output[0] === name) || node.opType === 'ArgMax') labels.add(output.name);
      break;
    }
  }
  return labels;
}

