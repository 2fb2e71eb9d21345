/**
 * The fast evaluator: an ensemble compiled once into flat arrays (and, where it applies, a
 * WebAssembly kernel model), then margins of many rows block by block.
 */
import { MISSING, type TreeEnsemble } from './ensemble';
import { blockRowsFor, fillBlock } from './blocks';
import { FULL_MAX_DEPTH, fullLayout, KERNEL_MAX_DEPTH, KERNEL_MAX_NODES, type FullTrees } from './full-layout';
import { float32Above, kernelMargins, kernelModelOf, treeKernel, type TreeKernel, type TreeKernelModel } from './kernel';
import { treeMargin } from './walk';

/**
 * All trees in flat typed arrays with global node indices, laid out so that a node's right
 * child directly follows its left child: the fast evaluator then picks a child with
 * arithmetic instead of a branch. Built once per model.
 */
export interface CompiledEnsemble {
  roots: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  /** Left child (right child = left + 1); −1 at leaves. */
  left: Int32Array;
  /** 1 where a missing value goes right. */
  missingRight: Uint8Array;
  value: Float64Array;
  /** Every split is XGBoost's `float32(x) < t` with missing values following the default. */
  xgboostRule: boolean;
  /** The same trees padded to full binary trees, when they are shallow enough (see {@link fullLayout}). */
  full: FullTrees | null;
  /** The full trees for the WebAssembly kernel (null: deeper than it takes, split rules it does not take, no WebAssembly here, or turned off). */
  kernelModel: TreeKernelModel | null;
  /** The kernel for the last block width, made on first use. */
  kernel?: TreeKernel | null;
}

/** The kernel for blocks of `width` features, made once per compiled model and width. */
function kernelOf(compiled: CompiledEnsemble, width: number): TreeKernel | null {
  if (!compiled.kernelModel) return null;
  if (compiled.kernel === undefined || (compiled.kernel && compiled.kernel.width !== width)) compiled.kernel = treeKernel(compiled.kernelModel, width);
  return compiled.kernel;
}

/** The model to send to another thread's {@link treeKernel} for rows of `width` features, when the kernel scores this ensemble. */
export function kernelModelFor(compiled: CompiledEnsemble, width: number): TreeKernelModel | null {
  return kernelOf(compiled, width) ? compiled.kernelModel : null;
}

/**
 * Flattens an ensemble for {@link marginsOf}, children adjacent (breadth-first per tree).
 * `wasm: false` keeps the walk in JavaScript (tests compare the two).
 */
export function compileEnsemble(given: TreeEnsemble, options: { wasm?: boolean } = {}): CompiledEnsemble {
  const ensemble = float32Rule(given);
  const total = ensemble.trees.reduce((sum, tree) => sum + tree.left.length, 0);
  const compiled: CompiledEnsemble = {
    roots: new Int32Array(ensemble.trees.length),
    feature: new Int32Array(total),
    threshold: new Float64Array(total),
    left: new Int32Array(total).fill(-1),
    missingRight: new Uint8Array(total),
    value: new Float64Array(total),
    xgboostRule: true,
    full: null,
    kernelModel: null,
  };
  let lightgbmRule = true;
  let next = 0;
  ensemble.trees.forEach((tree, t) => {
    compiled.roots[t] = next;
    // Breadth-first: place the root, then each node's two children side by side.
    const queue: [number, number][] = [[0, next++]];
    for (let q = 0; q < queue.length; q++) {
      const [i, at] = queue[q];
      compiled.value[at] = tree.value[i];
      if (tree.left[i] < 0) continue;
      compiled.feature[at] = tree.feature[i];
      compiled.threshold[at] = tree.threshold[i];
      compiled.missingRight[at] = tree.defaultLeft[i] ? 0 : 1;
      compiled.left[at] = next;
      queue.push([tree.left[i], next++], [tree.right[i], next++]);
      if (tree.rule[i] !== 0 || tree.missingType[i] !== MISSING.defaultDirection) compiled.xgboostRule = false;
      if (tree.rule[i] !== 1 || tree.missingType[i] === MISSING.zeroDefaultDirection) lightgbmRule = false;
    }
    // A linear leaf's output depends on the row: only the node-by-node walk computes it.
    if (tree.linear) compiled.xgboostRule = lightgbmRule = false;
  });
  if (compiled.xgboostRule) compiled.full = fullLayout(ensemble, FULL_MAX_DEPTH);
  // The kernel: XGBoost's rule in float32, or LightGBM's numeric splits (NaN to the default
  // side or read as 0) in float64; categorical splits and LightGBM's "Zero" missing type are
  // walked node by node.
  const precision = compiled.xgboostRule ? 32 : lightgbmRule ? 64 : null;
  if (precision && options.wasm !== false) {
    const full = compiled.full ?? fullLayout(ensemble, KERNEL_MAX_DEPTH, KERNEL_MAX_NODES);
    if (full) compiled.kernelModel = kernelModelOf(full, ensemble.baseMargin, precision, ensemble.float32Sums);
  }
  return compiled;
}

/**
 * An ensemble whose splits compare float32 values — `float32(x) < t` (XGBoost, ONNX's
 * BRANCH_LT) and `float32(x) <= t` (ONNX's BRANCH_LEQ), a missing value to the default side —
 * with every `<=` split written as `float32(x) < t'`, t' the smallest float32 above t: the
 * same side for every x, and one rule the fast walks take (a split at +∞ gets NaN: the walks
 * send x right when x >= t', which no x is, so every x goes left, as x <= +∞ does). Other
 * ensembles as they are.
 */
function float32Rule(ensemble: TreeEnsemble): TreeEnsemble {
  let leq = false;
  for (const tree of ensemble.trees) {
    for (let i = 0; i < tree.left.length; i++) {
      if (tree.left[i] < 0) continue;
      if ((tree.rule[i] !== 0 && tree.rule[i] !== 4) || tree.missingType[i] !== MISSING.defaultDirection) return ensemble;
      if (tree.rule[i] === 4) leq = true;
    }
    if (tree.linear) return ensemble;
  }
  if (!leq) return ensemble;
  const trees = ensemble.trees.map((tree) => {
    const threshold = Float64Array.from(tree.threshold, (t, i) => (tree.left[i] >= 0 && tree.rule[i] === 4 ? float32Above(t) : t));
    return { ...tree, threshold, rule: new Uint8Array(tree.rule.length) };
  });
  return { ...ensemble, trees };
}

/** {@link addTree} on a full tree: `depth` steps, the child by arithmetic. */
function addFullTree(full: FullTrees, t: number, block: Float32Array, width: number, count: number, out: Float64Array, at: number): void {
  const { feature, threshold, missingRight, leaf } = full;
  const depth = full.depth[t];
  const start = full.nodeStart[t];
  const last = full.leafStart[t] - ((1 << depth) - 1);
  for (let r = 0; r < count; r++) {
    const base = r * width;
    let node = 0;
    for (let level = 0; level < depth; level++) {
      const v = block[base + feature[start + node]];
      node = 2 * node + 1 + ((v >= threshold[start + node] ? 1 : 0) | (v !== v ? missingRight[start + node] : 0));
    }
    out[at + r] += leaf[last + node];
  }
}

/** {@link addFullTree} for a block without missing values. */
function addFullTreeComplete(full: FullTrees, t: number, block: Float32Array, width: number, count: number, out: Float64Array, at: number): void {
  const { feature, threshold, leaf } = full;
  const depth = full.depth[t];
  const start = full.nodeStart[t];
  const last = full.leafStart[t] - ((1 << depth) - 1);
  for (let r = 0; r < count; r++) {
    const base = r * width;
    let node = 0;
    for (let level = 0; level < depth; level++) node = 2 * node + 1 + +(block[base + feature[start + node]] >= threshold[start + node]);
    out[at + r] += leaf[last + node];
  }
}

/** Adds one tree's leaf values for `count` rows of a block (rows × width float32) to `out[at…]`; a missing value follows the node's default side. */
function addTree(compiled: CompiledEnsemble, root: number, block: Float32Array, width: number, count: number, out: Float64Array, at: number): void {
  const { feature, threshold, left, missingRight, value } = compiled;
  for (let r = 0; r < count; r++) {
    const base = r * width;
    let node = root;
    let child = left[node];
    while (child >= 0) {
      const v = block[base + feature[node]];
      // Right when v >= t, or when v is missing and missing goes right.
      node = child + ((v >= threshold[node] ? 1 : 0) | (v !== v ? missingRight[node] : 0));
      child = left[node];
    }
    out[at + r] += value[node];
  }
}

/** {@link addTree} for a block without missing values: the child is chosen by one comparison. */
function addTreeComplete(compiled: CompiledEnsemble, root: number, block: Float32Array, width: number, count: number, out: Float64Array, at: number): void {
  const { feature, threshold, left, value } = compiled;
  for (let r = 0; r < count; r++) {
    const base = r * width;
    let node = root;
    let child = left[node];
    while (child >= 0) {
      node = child + +(block[base + feature[node]] >= threshold[node]);
      child = left[node];
    }
    out[at + r] += value[node];
  }
}

/**
 * Margins (raw scores) of `rows`, reading feature j from `columns[j]`. Trees up to depth 12
 * with XGBoost's rule or LightGBM's numeric splits are walked by the WebAssembly kernel
 * (tree-kernel-f32.wat / -f64.wat: tree-major over blocks of rows, the child chosen by
 * arithmetic, eight rows side by side). Where the host has no WebAssembly, XGBoost-rule
 * trees take the same walk in JavaScript, with the same sums; the rest go through
 * {@link goesLeft} node by node.
 */
export function marginsOf(ensemble: TreeEnsemble, compiled: CompiledEnsemble, columns: Float64Array[], rows: Uint32Array, out: Float64Array): void {
  const width = columns.length;
  const kernel = kernelOf(compiled, width);
  if (kernel) {
    kernelMargins(kernel, columns, rows, out);
    return;
  }
  if (!compiled.xgboostRule || ensemble.float32Sums) {
    const x = new Float64Array(width);
    for (let r = 0; r < rows.length; r++) {
      for (let j = 0; j < width; j++) x[j] = columns[j][rows[r]];
      out[r] = treeMargin(ensemble, x);
    }
    return;
  }
  const { roots } = compiled;
  const blockRows = blockRowsFor(width);
  const block = new Float32Array(blockRows * width);
  for (let start = 0; start < rows.length; start += blockRows) {
    const end = Math.min(rows.length, start + blockRows);
    const missing = fillBlock(block, columns, rows, start, end);
    for (let r = start; r < end; r++) out[r] = ensemble.baseMargin;
    // Small kernels: V8 optimises them fully (one large function with both loops stayed ~40% slower).
    const full = compiled.full;
    for (let t = 0; t < roots.length; t++) {
      if (full) {
        if (missing) addFullTree(full, t, block, width, end - start, out, start);
        else addFullTreeComplete(full, t, block, width, end - start, out, start);
      } else if (missing) addTree(compiled, roots[t], block, width, end - start, out, start);
      else addTreeComplete(compiled, roots[t], block, width, end - start, out, start);
    }
  }
}
