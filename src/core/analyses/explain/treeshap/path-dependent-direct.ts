/**
 * Path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, Algorithm 2), as xgboost's
 * pred_contribs computes it: the coalition's expectation follows the training covers. The
 * extend/unwind walk per row and tree, and the expected value under the covers.
 */
import { goesLeft, treeDepth, treeMargin, type Tree, type TreeEnsemble } from '../../../model/tree';
import { withLocalAccuracy, type ShapValues } from './values';

/**
 * The path buffer of path-dependent TreeSHAP, as in the reference C++ implementation: each
 * recursion level works on its own slice (offset) of four flat arrays, copied from its
 * parent's slice, so no objects are allocated per node.
 */
class PathBuffer {
  feature: Int32Array;
  zero: Float64Array;
  one: Float64Array;
  weight: Float64Array;

  constructor(maxDepth: number) {
    const size = ((maxDepth + 2) * (maxDepth + 3)) / 2 + 2;
    this.feature = new Int32Array(size);
    this.zero = new Float64Array(size);
    this.one = new Float64Array(size);
    this.weight = new Float64Array(size);
  }

  unwind(at: number, depth: number, index: number): void {
    const w = this.weight;
    const one = this.one[at + index];
    const zero = this.zero[at + index];
    let next = w[at + depth];
    for (let i = depth - 1; i >= 0; i--) {
      if (one !== 0) {
        const t = w[at + i];
        w[at + i] = (next * (depth + 1)) / ((i + 1) * one);
        next = t - (w[at + i] * zero * (depth - i)) / (depth + 1);
      } else {
        w[at + i] = (w[at + i] * (depth + 1)) / (zero * (depth - i));
      }
    }
    for (let i = index; i < depth; i++) {
      this.feature[at + i] = this.feature[at + i + 1];
      this.zero[at + i] = this.zero[at + i + 1];
      this.one[at + i] = this.one[at + i + 1];
    }
  }

}

function pathDependentTree(tree: Tree, cover: Float64Array, x: Float64Array, phi: Float64Array, buffer: PathBuffer): void {
  // The buffer's arrays as locals: the hot loops below index them directly.
  const pf = buffer.feature;
  const pz = buffer.zero;
  const po = buffer.one;
  const pw = buffer.weight;
  const values = tree.value;
  const lefts = tree.left;
  const rights = tree.right;
  const features = tree.feature;
  const recurse = (node: number, depth: number, parent: number, zero: number, one: number, feature: number): void => {
    const at = parent + depth + 1;
    for (let i = 0; i < depth; i++) {
      pf[at + i] = pf[parent + i];
      pz[at + i] = pz[parent + i];
      po[at + i] = po[parent + i];
      pw[at + i] = pw[parent + i];
    }
    // Extend the path with (zero, one, feature).
    pf[at + depth] = feature;
    pz[at + depth] = zero;
    po[at + depth] = one;
    pw[at + depth] = depth === 0 ? 1 : 0;
    for (let i = depth - 1; i >= 0; i--) {
      pw[at + i + 1] += (one * pw[at + i] * (i + 1)) / (depth + 1);
      pw[at + i] = (zero * pw[at + i] * (depth - i)) / (depth + 1);
    }
    const left = lefts[node];
    if (left < 0) {
      const value = values[node];
      for (let k = 1; k <= depth; k++) {
        // Σ of the path's weights with element k unwound.
        const o = po[at + k];
        const z = pz[at + k];
        let total = 0;
        if (o !== 0) {
          let next = pw[at + depth];
          for (let i = depth - 1; i >= 0; i--) {
            const tmp = (next * (depth + 1)) / ((i + 1) * o);
            total += tmp;
            next = pw[at + i] - (tmp * z * (depth - i)) / (depth + 1);
          }
        } else {
          for (let i = depth - 1; i >= 0; i--) total += (pw[at + i] * (depth + 1)) / (z * (depth - i));
        }
        phi[pf[at + k]] += total * (o - z) * value;
      }
      return;
    }
    const f = features[node];
    const right = rights[node];
    const goLeft = goesLeft(tree, node, x[f]);
    const hot = goLeft ? left : right;
    const cold = goLeft ? right : left;
    let incomingZero = 1;
    let incomingOne = 1;
    let k = 0;
    while (k <= depth && pf[at + k] !== f) k++;
    if (k !== depth + 1) {
      incomingZero = pz[at + k];
      incomingOne = po[at + k];
      buffer.unwind(at, depth, k);
      depth -= 1;
    }
    recurse(hot, depth + 1, at, (cover[hot] / cover[node]) * incomingZero, incomingOne, f);
    recurse(cold, depth + 1, at, (cover[cold] / cover[node]) * incomingZero, 0, f);
  };
  recurse(0, 0, 0, 1, 1, -1);
}

/** Expected raw output of a tree under its covers: each split averages its children by cover. */
function expectedUnderCovers(tree: Tree, cover: Float64Array, node = 0): number {
  if (tree.left[node] < 0) return tree.value[node];
  const left = tree.left[node];
  const right = tree.right[node];
  return (cover[left] * expectedUnderCovers(tree, cover, left) + cover[right] * expectedUnderCovers(tree, cover, right)) / cover[node];
}

/**
 * Path-dependent TreeSHAP, direct: Lundberg et al.'s extend/unwind walk per row and tree.
 * Kept as the reference the leaf-table version is tested against.
 */
export function pathDependentTreeShapDirect(ensemble: TreeEnsemble, rows: Float64Array[], signal?: AbortSignal): ShapValues {
  const covers = ensemble.trees.map((tree) => tree.cover);
  if (covers.some((c) => c === null)) throw new Error('path-dependent TreeSHAP needs node covers, which this model file does not carry');
  const width = ensemble.featureNames.length;
  const buffer = new PathBuffer(Math.max(1, ...ensemble.trees.map(treeDepth)));
  const values = rows.map((x) => {
    signal?.throwIfAborted();
    const phi = new Float64Array(width);
    ensemble.trees.forEach((tree, t) => pathDependentTree(tree, covers[t]!, x, phi, buffer));
    return phi;
  });
  return withLocalAccuracy(ensemble.featureNames, coverExpectation(ensemble), values, Float64Array.from(rows, (x) => treeMargin(ensemble, x)));
}

/** E[f] under the covers: the base margin plus each tree's cover-weighted mean leaf. */
export function coverExpectation(ensemble: TreeEnsemble): number {
  let expectedValue = ensemble.baseMargin;
  for (const tree of ensemble.trees) expectedValue += expectedUnderCovers(tree, tree.cover!);
  return expectedValue;
}
