/**
 * Interventional TreeSHAP by the direct walk (Lundberg et al. 2020): every (row, background
 * row, tree) triple. The reference the leaf-table algorithm is tested against, and its
 * fallback for trees with too many players on one path.
 */
import { goesLeft, treeDepth, treeMargin, type Tree, type TreeEnsemble } from '../../../model/tree';
import { withLocalAccuracy, type ShapValues } from './values';

/** W(a, c) = a!·c!/(a+c+1)!: the Shapley weight of a leaf reached with a features from x and c from b. */
export function coalitionWeights(maxDepth: number): number[][] {
  const factorial = [1];
  for (let k = 1; k <= 2 * maxDepth + 2; k++) factorial[k] = factorial[k - 1] * k;
  return Array.from({ length: maxDepth + 1 }, (_, a) => Array.from({ length: maxDepth + 1 }, (_, c) => (factorial[a] * factorial[c]) / factorial[a + c + 1]));
}

/**
 * Interventional TreeSHAP of one row `x` against one background row `b` in one tree
 * (Lundberg et al. 2020, "independent" TreeSHAP): walk every path x or b can take; at a
 * split where they part, the feature joins the coalition on x's side or stays out on b's.
 * A leaf with value v reached with a features from x and c from b adds
 * v·(a−1)!c!/(a+c)! to each x-side feature and subtracts v·a!(c−1)!/(a+c)! from each
 * b-side feature. A feature met twice on a path keeps its first side.
 */
function interventionalTree(tree: Tree, x: Float64Array, b: Float64Array, phi: Float64Array, weights: number[][], side: Int8Array, path: Int32Array, groupOf: Int32Array | null): void {
  const walk = (node: number, fromX: number, fromB: number, depth: number): void => {
    if (tree.left[node] < 0) {
      if (fromX + fromB === 0) return;
      const v = tree.value[node];
      const gain = fromX > 0 ? v * weights[fromX - 1][fromB] : 0;
      const loss = fromB > 0 ? v * weights[fromX][fromB - 1] : 0;
      for (let k = 0; k < depth; k++) {
        const f = path[k];
        if (side[f] === 1) phi[f] += gain;
        else phi[f] -= loss;
      }
      return;
    }
    const feature = tree.feature[node];
    // Players are raw columns: all encoded features of one column join or leave together.
    const f = groupOf ? groupOf[feature] : feature;
    const xLeft = goesLeft(tree, node, x[feature]);
    if (side[f] !== 0) {
      const left = side[f] === 1 ? xLeft : goesLeft(tree, node, b[feature]);
      walk(left ? tree.left[node] : tree.right[node], fromX, fromB, depth);
      return;
    }
    const bLeft = goesLeft(tree, node, b[feature]);
    if (xLeft === bLeft) {
      walk(xLeft ? tree.left[node] : tree.right[node], fromX, fromB, depth);
      return;
    }
    path[depth] = f;
    side[f] = 1;
    walk(xLeft ? tree.left[node] : tree.right[node], fromX + 1, fromB, depth + 1);
    side[f] = -1;
    walk(bLeft ? tree.left[node] : tree.right[node], fromX, fromB + 1, depth + 1);
    side[f] = 0;
  };
  walk(0, 0, 0, 0);
}

/**
 * Interventional TreeSHAP by the direct walk: every (row, background row, tree) triple.
 * Kept as the reference the leaf-table algorithm below is tested against, and used for
 * trees with more than {@link MAX_PATH_PLAYERS} players on one path.
 */
export function interventionalTreeShapDirect(
  ensemble: TreeEnsemble,
  rows: Float64Array[],
  background: Float64Array[],
  signal?: AbortSignal,
  groups?: { groupOf: Int32Array; columns: string[] },
): ShapValues {
  const width = groups ? groups.columns.length : ensemble.featureNames.length;
  const depth = Math.max(1, ...ensemble.trees.map(treeDepth));
  const weights = coalitionWeights(depth);
  const side = new Int8Array(width);
  const path = new Int32Array(depth + 1);
  const values = rows.map((x) => {
    signal?.throwIfAborted();
    const phi = new Float64Array(width);
    for (const b of background) for (const tree of ensemble.trees) interventionalTree(tree, x, b, phi, weights, side, path, groups?.groupOf ?? null);
    for (let j = 0; j < width; j++) phi[j] /= background.length;
    return phi;
  });
  return withLocalAccuracy(groups?.columns ?? ensemble.featureNames, backgroundMean(ensemble, background), values, Float64Array.from(rows, (x) => treeMargin(ensemble, x)));
}

/** Mean raw output of the ensemble over the background rows: the interventional expected value. */
export function backgroundMean(ensemble: TreeEnsemble, background: Float64Array[]): number {
  let sum = 0;
  for (const b of background) sum += treeMargin(ensemble, b);
  return sum / background.length;
}
