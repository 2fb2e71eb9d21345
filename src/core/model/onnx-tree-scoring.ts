/**
 * ONNX tree classifiers scored by the project's tree kernel with onnxruntime's arithmetic:
 * float32 features compared with the file's float32 split values, leaf weights added in
 * float32 in tree order, the base value added in float32, and the post-transform in float32
 * (LOGISTIC as onnxruntime's ComputeLogistic: 1 / (1 + e^−|m|), mirrored below 0). The
 * classifier uses it only after it has given onnxruntime's own output to the bit on a first
 * batch of rows (onnx-format.ts), so the scores do not change — only their speed. Opened
 * with checkLater (the audit pipeline), it scores while that check runs, and the audit
 * waits for the check before any result leaves, running again on onnxruntime's scores if
 * the check fails.
 */
import type { ModelProto } from 'onnx-buf';
import { TensorProto_DataType } from 'onnx-buf';
import { expf } from '../base/math';
import { checkFeatures, checkTree, compileEnsemble, kernelModelFor, marginsOf, type CompiledEnsemble, type TreeEnsemble } from './tree';
import { treeRowsWorthPool, type ReopenableModel, type TreeMarginRunner } from './classifier-types';
import { attr, legacyClassCount, legacyTrees } from './onnx-trees';

/** A tree classifier's trees for one output column, and how a margin becomes that column's value. */
export interface OnnxTreeScoring {
  /** The column's trees: its leaf weights, its base value, float32 sums. */
  ensemble: TreeEnsemble;
  /** The output column's value for a margin (float32 sum of the leaves and the base value). */
  output: (margin: number) => number;
  /** The post-transform `output` applies, as the file names it. */
  postTransform: 'LOGISTIC' | 'NONE';
}

const f32 = Math.fround;

/** onnxruntime's float32 logistic (ml_common.h, ComputeLogistic), step by step in float32 with the C library's expf. */
export function onnxLogistic(margin: number): number {
  const v = f32(1 / f32(1 + expf(-Math.abs(margin))));
  return margin < 0 ? f32(1 - v) : v;
}

/**
 * The trees of output column `column` of a binary TreeEnsembleClassifier (ai.onnx.ml ≤ 3)
 * that reads the model's single float [N, `width`] input directly (through Identity at
 * most), or null where the kernel does not reproduce onnxruntime: double split values or
 * weights, other operators on the way, more than two classes, a leaf that weighs one class
 * twice, a post-transform other than NONE or LOGISTIC, or the class-0 column of a model that
 * weighs class 0 only (onnxruntime derives it).
 */
export function onnxScoringTrees(model: ModelProto, fileName: string, width: number, column: number): OnnxTreeScoring | null {
  const graph = model.graph;
  if (!graph || graph.input.length !== 1) return null;
  const input = graph.input[0].type?.value;
  if (input?.case !== 'tensorType' || input.value.elemType !== TensorProto_DataType.FLOAT) return null;
  const trees = graph.node.filter((n) => n.opType.startsWith('TreeEnsemble'));
  if (trees.length !== 1 || trees[0].opType !== 'TreeEnsembleClassifier') return null;
  const node = trees[0];
  // Only Identity between the input and the trees (the scorer drops a ZipMap after them).
  if (graph.node.some((n) => n !== node && n.opType !== 'Identity' && n.opType !== 'ZipMap')) return null;
  if (legacyClassCount(node) !== 2) return null;
  if (['nodes_values_as_tensor', 'class_weights_as_tensor', 'base_values_as_tensor', 'nodes_hitrates_as_tensor'].some((name) => attr(node, name))) return null;
  const legacy = legacyTrees(node, fileName);
  if (legacy.postTransform !== 'NONE' && legacy.postTransform !== 'LOGISTIC') return null;
  const weighted = new Set(legacy.leafClasses);
  // Both classes weighted (a forest's class shares): each column its own class's weights.
  // Class 0 weighted only (a boosted model's margin): column 1 is the margin's transform.
  const both = weighted.has(0) && weighted.has(1) && weighted.size === 2;
  const single = weighted.size === 1 && weighted.has(0);
  if (!(both || (single && column === 1))) return null;
  const weightedClass = both ? column : 0;
  const { trees: parsed } = legacy;
  const seen = new Set<string>();
  for (let k = 0; k < legacy.leafTrees.length; k++) {
    if (legacy.leafClasses[k] !== weightedClass) continue;
    const key = `${legacy.leafTrees[k]}:${legacy.leafNodes[k]}`;
    if (seen.has(key)) return null;
    seen.add(key);
    parsed[legacy.leafTrees[k]].value[legacy.leafNodes[k]] = legacy.leafWeights[k];
  }
  parsed.forEach((tree, t) => {
    checkTree(tree, fileName, t);
    checkFeatures(tree, width, fileName, t);
  });
  const ensemble: TreeEnsemble = {
    format: 'onnx',
    featureNames: Array.from({ length: width }, (_, j) => `x${j}`),
    trees: parsed,
    baseMargin: legacy.baseValues[weightedClass] ?? 0,
    marginScale: 1,
    transform: 'identity',
    description: `ONNX ${node.opType}, ${parsed.length} trees, post_transform ${legacy.postTransform}, scored with onnxruntime's float32 arithmetic`,
    float32Sums: true,
  };
  const postTransform = legacy.postTransform as 'LOGISTIC' | 'NONE';
  return { ensemble, output: postTransform === 'LOGISTIC' ? onnxLogistic : (margin) => margin, postTransform };
}

/** Rows of a first scoring call from which the kernel is checked against onnxruntime (fewer: onnxruntime scores them). */
export const KERNEL_CHECK_ROWS = 1000;
/** Rows per kernel batch in this thread (a cancel is seen between batches). */
const KERNEL_BATCH_ROWS = 16384;

/**
 * The kernel scorer of an ONNX tree classifier's positive column, and whether it has been
 * checked against onnxruntime: undefined until a scoring call of at least
 * {@link KERNEL_CHECK_ROWS} rows, then true (it gave onnxruntime's scores to the bit on that
 * call's first batch, and scores every later row) or false (onnxruntime goes on scoring);
 * with checkLater, `checking` until the caller has heard the check's answer.
 */
export class OnnxTreeScorer {
  checked: boolean | undefined;
  /** The check against onnxruntime under way, for a classifier opened with checkLater: whether the kernel's first scores were onnxruntime's. */
  checking: Promise<boolean> | undefined;
  private compiledTrees: CompiledEnsemble | undefined;

  /** The trees as a pool's thread opens them again (see {@link reopenable}), by the columns they were named with. */
  private sent: { columns: string; model: ReopenableModel } | undefined;

  constructor(private readonly trees: OnnxTreeScoring) {}

  /**
   * The trees as a model a pool's thread may open again and score as this kernel does: the
   * features named by the table `columns` the kernel reads (in the model's order), the same
   * float32 sums, onnxruntime's post-transform. The same object for the same columns, so a
   * pool sends it once.
   */
  reopenable(columns: readonly string[], fileName: string): ReopenableModel {
    const key = JSON.stringify(columns);
    if (this.sent?.columns !== key) this.sent = { columns: key, model: { ensemble: { ...this.trees.ensemble, featureNames: [...columns] }, fileName, onnxPostTransform: this.trees.postTransform } };
    return this.sent.model;
  }

  /** The trees compiled for the kernel, on first use. */
  private get compiled(): CompiledEnsemble {
    return (this.compiledTrees ??= compileEnsemble(this.trees.ensemble));
  }

  /** Scores `rows` of the model's columns (numeric, in the model's order): the positive column's value per row. */
  async score(columns: Float64Array[], rows: Uint32Array, options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void; runner?: TreeMarginRunner }): Promise<Float64Array> {
    const { ensemble, output } = this.trees;
    let margins: Float64Array;
    if (options.runner && treeRowsWorthPool(rows.length, ensemble.trees.length)) {
      margins = await options.runner({ ensemble, kernelModel: kernelModelFor(this.compiled, columns.length), columns, rows }, { signal: options.signal, onProgress: options.onProgress });
    } else {
      margins = new Float64Array(rows.length);
      for (let start = 0; start < rows.length; start += KERNEL_BATCH_ROWS) {
        options.signal?.throwIfAborted();
        const end = Math.min(rows.length, start + KERNEL_BATCH_ROWS);
        marginsOf(ensemble, this.compiled, columns, rows.subarray(start, end), margins.subarray(start, end));
        options.onProgress?.(end, rows.length);
      }
    }
    for (let i = 0; i < margins.length; i++) margins[i] = output(margins[i]);
    return margins;
  }
}

/** Whether two score arrays hold the same numbers to the bit (NaN equal to NaN). */
export function sameScores(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}
