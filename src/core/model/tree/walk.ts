/**
 * The reference evaluator: one row through one tree node by node, by each node's own split
 * rule and missing-value handling, and the margin and output transform built on it.
 */
import { exp } from '../../base/math';
import { MISSING, type Tree, type TreeEnsemble } from './ensemble';

/** LightGBM's kZeroThreshold: |x| at or below it counts as zero. */
const ZERO_THRESHOLD = 1e-35;

/** The output of the leaf a row reached: its value, or its linear model (see {@link Tree.linear}). */
export function leafOutput(tree: Tree, leaf: number, x: Float64Array): number {
  const linear = tree.linear;
  if (!linear) return tree.value[leaf];
  const features = linear.features[leaf];
  const coefficients = linear.coefficients[leaf];
  let output = linear.constant[leaf];
  for (let i = 0; i < features.length; i++) {
    const v = x[features[i]];
    // LightGBM (Tree::Predict): a missing feature of the leaf's model falls back to the plain leaf value.
    if (Number.isNaN(v)) return tree.value[leaf];
    output += coefficients[i] * v;
  }
  return output;
}

/** Raw score (margin) of one row: the sum of the leaves it reaches, plus the base margin (in float32 for {@link TreeEnsemble.float32Sums}). */
export function treeMargin(ensemble: TreeEnsemble, x: Float64Array): number {
  if (ensemble.float32Sums) {
    let sum = 0;
    for (const tree of ensemble.trees) sum = Math.fround(sum + leafOutput(tree, leafOf(tree, x), x));
    return Math.fround(sum + Math.fround(ensemble.baseMargin));
  }
  let margin = ensemble.baseMargin;
  for (const tree of ensemble.trees) margin += tree.linear ? leafOutput(tree, leafOf(tree, x), x) : tree.value[leafOf(tree, x)];
  return margin;
}

/** The leaf a row reaches in one tree. */
export function leafOf(tree: Tree, x: Float64Array): number {
  let node = 0;
  while (tree.left[node] >= 0) node = goesLeft(tree, node, x[tree.feature[node]]) ? tree.left[node] : tree.right[node];
  return node;
}

/** Whether a value goes to the left child at an internal node. */
export function goesLeft(tree: Tree, node: number, raw: number): boolean {
  const rule = tree.rule[node];
  const missing = tree.missingType[node];
  let value = raw;
  if (Number.isNaN(value)) {
    if (missing === MISSING.defaultDirection) return tree.defaultLeft[node] === 1;
    value = 0;
  }
  if (rule === 4) return Math.fround(value) <= tree.threshold[node];
  if (rule >= 2) {
    // Categories are whole numbers; LightGBM truncates (static_cast<int>), negatives go right.
    const category = Math.trunc(value);
    const listed = category >= 0 && tree.categories[node]!.has(category);
    return rule === 2 ? listed : !listed;
  }
  if (missing === MISSING.zeroDefaultDirection && Math.abs(value) <= ZERO_THRESHOLD) return tree.defaultLeft[node] === 1;
  // XGBoost compares float32 values; LightGBM compares doubles.
  return rule === 0 ? Math.fround(value) < tree.threshold[node] : value <= tree.threshold[node];
}

/** Applies the ensemble's output transform to a margin. */
export function transformMargin(ensemble: TreeEnsemble, margin: number): number {
  const z = margin * ensemble.marginScale;
  return ensemble.transform === 'logistic' ? 1 / (1 + exp(-z)) : z;
}

/** The depth of a tree (a walk with an explicit stack: a fully grown tree is too deep to recurse over). */
export function treeDepth(tree: Tree): number {
  let deepest = 0;
  const nodes = [0];
  const depths = [0];
  while (nodes.length) {
    const node = nodes.pop()!;
    const depth = depths.pop()!;
    if (tree.left[node] < 0) {
      if (depth > deepest) deepest = depth;
      continue;
    }
    nodes.push(tree.left[node], tree.right[node]);
    depths.push(depth + 1, depth + 1);
  }
  return deepest;
}
