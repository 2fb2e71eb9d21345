import { goesLeft, type Tree, type TreeEnsemble } from '../model/trees';

/**
 * Exact Shapley values of tree ensembles, in the raw-score (margin) space, by the
 * polynomial-time algorithms (never by enumerating coalitions).
 */

/** W(a, c) = a!·c!/(a+c+1)!: the Shapley weight of a leaf reached with a features from x and c from b. */
function coalitionWeights(maxDepth: number): number[][] {
  const factorial = [1];
  for (let k = 1; k <= 2 * maxDepth + 2; k++) factorial[k] = factorial[k - 1] * k;
  return Array.from({ length: maxDepth + 1 }, (_, a) => Array.from({ length: maxDepth + 1 }, (_, c) => (factorial[a] * factorial[c]) / factorial[a + c + 1]));
}

function treeDepth(tree: Tree): number {
  let depth = 0;
  const stack: [number, number][] = [[0, 0]];
  while (stack.length) {
    const [node, level] = stack.pop()!;
    depth = Math.max(depth, level);
    if (tree.left[node] >= 0) stack.push([tree.left[node], level + 1], [tree.right[node], level + 1]);
  }
  return depth;
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

/** SHAP values of rows with the expected value they add up from. */
export interface ShapValues {
  columns: string[];
  /** E[f] over the background (interventional) or under the covers (path-dependent), raw space. */
  expectedValue: number;
  /** One row of values per explained row. */
  values: Float64Array[];
  /** Model output of each explained row in the same raw space: expectedValue + Σ values. */
  outputs: Float64Array;
  /** Largest |expectedValue + Σ values − output| over the rows (local accuracy check). */
  localAccuracyError: number;
}

/** Raw score (margin) of a row: base margin plus the leaves it reaches. */
function rawScore(ensemble: TreeEnsemble, x: Float64Array): number {
  let score = ensemble.baseMargin;
  for (const tree of ensemble.trees) {
    let node = 0;
    while (tree.left[node] >= 0) node = goesLeft(tree, node, x[tree.feature[node]]) ? tree.left[node] : tree.right[node];
    score += tree.value[node];
  }
  return score;
}

function finish(columns: string[], expectedValue: number, values: Float64Array[], outputs: Float64Array): ShapValues {
  let worst = 0;
  values.forEach((phi, r) => {
    let sum = expectedValue;
    for (const v of phi) sum += v;
    worst = Math.max(worst, Math.abs(sum - outputs[r]));
  });
  return { columns, expectedValue, values, outputs, localAccuracyError: worst };
}

/**
 * Interventional TreeSHAP: the exact Shapley values of f(x_S, b_S̄) averaged over the
 * background rows, in the ensemble's raw space (margin; for a forest of probability
 * leaves, the probability). `rows` and `background` hold feature vectors in
 * `ensemble.featureNames` order.
 */
export function interventionalTreeShap(
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
  let expectedValue = 0;
  for (const b of background) expectedValue += rawScore(ensemble, b);
  expectedValue /= background.length;
  const values = rows.map((x) => {
    signal?.throwIfAborted();
    const phi = new Float64Array(width);
    for (const b of background) for (const tree of ensemble.trees) interventionalTree(tree, x, b, phi, weights, side, path, groups?.groupOf ?? null);
    for (let j = 0; j < width; j++) phi[j] /= background.length;
    return phi;
  });
  return finish(groups?.columns ?? ensemble.featureNames, expectedValue, values, Float64Array.from(rows, (x) => rawScore(ensemble, x)));
}

/**
 * Exact interventional SHAP of a linear model's log-odds, per raw column:
 * φ_G = Σ_{j∈G} w_j·(z_j(x) − mean over the background of z_j(b)).
 */
export function linearShap(weights: Float64Array, intercept: number, rows: Float64Array[], background: Float64Array[], groups: { groupOf: Int32Array; columns: string[] }): ShapValues {
  const width = weights.length;
  const mean = new Float64Array(width);
  for (const b of background) for (let j = 0; j < width; j++) mean[j] += b[j] / background.length;
  let expectedValue = intercept;
  for (let j = 0; j < width; j++) expectedValue += weights[j] * mean[j];
  const values = rows.map((z) => {
    const phi = new Float64Array(groups.columns.length);
    for (let j = 0; j < width; j++) phi[groups.groupOf[j]] += weights[j] * (z[j] - mean[j]);
    return phi;
  });
  const outputs = Float64Array.from(rows, (z) => {
    let sum = intercept;
    for (let j = 0; j < width; j++) sum += weights[j] * z[j];
    return sum;
  });
  return finish(groups.columns, expectedValue, values, outputs);
}

// ---------------------------------------------------------------------------------------
// Path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, Algorithm 2), as xgboost's
// pred_contribs computes it: the coalition's expectation follows the training covers.

interface PathElement {
  feature: number;
  zero: number;
  one: number;
  weight: number;
}

function extend(path: PathElement[], zero: number, one: number, feature: number): PathElement[] {
  const l = path.length;
  const next = path.map((e) => ({ ...e }));
  next.push({ feature, zero, one, weight: l === 0 ? 1 : 0 });
  for (let i = l - 1; i >= 0; i--) {
    next[i + 1].weight += (one * next[i].weight * (i + 1)) / (l + 1);
    next[i].weight = (zero * next[i].weight * (l - i)) / (l + 1);
  }
  return next;
}

function unwind(path: PathElement[], index: number): PathElement[] {
  const l = path.length - 1;
  const { one, zero } = path[index];
  const next = path.map((e) => ({ ...e }));
  let n = next[l].weight;
  for (let j = l - 1; j >= 0; j--) {
    if (one !== 0) {
      const t = next[j].weight;
      next[j].weight = (n * (l + 1)) / ((j + 1) * one);
      n = t - (next[j].weight * zero * (l - j)) / (l + 1);
    } else {
      next[j].weight = (next[j].weight * (l + 1)) / (zero * (l - j));
    }
  }
  for (let j = index; j < l; j++) {
    next[j].feature = next[j + 1].feature;
    next[j].zero = next[j + 1].zero;
    next[j].one = next[j + 1].one;
  }
  next.pop();
  return next;
}

/** Σ of the weights of the path with element `index` unwound, without building it. */
function unwoundSum(path: PathElement[], index: number): number {
  const l = path.length - 1;
  const { one, zero } = path[index];
  let total = 0;
  if (one !== 0) {
    let n = path[l].weight;
    for (let j = l - 1; j >= 0; j--) {
      const w = (n * (l + 1)) / ((j + 1) * one);
      total += w;
      n = path[j].weight - (w * zero * (l - j)) / (l + 1);
    }
  } else {
    for (let j = l - 1; j >= 0; j--) total += (path[j].weight * (l + 1)) / (zero * (l - j));
  }
  return total;
}

function pathDependentTree(tree: Tree, cover: Float64Array, x: Float64Array, phi: Float64Array): void {
  const recurse = (node: number, path: PathElement[], zero: number, one: number, feature: number): void => {
    const extended = extend(path, zero, one, feature);
    if (tree.left[node] < 0) {
      for (let i = 1; i < extended.length; i++) {
        const w = unwoundSum(extended, i);
        const e = extended[i];
        phi[e.feature] += w * (e.one - e.zero) * tree.value[node];
      }
      return;
    }
    const f = tree.feature[node];
    const left = tree.left[node];
    const right = tree.right[node];
    const [hot, cold] = goesLeft(tree, node, x[f]) ? [left, right] : [right, left];
    let zeroFraction = 1;
    let oneFraction = 1;
    let current = extended;
    const k = current.findIndex((e, i) => i > 0 && e.feature === f);
    if (k >= 0) {
      zeroFraction = current[k].zero;
      oneFraction = current[k].one;
      current = unwind(current, k);
    }
    recurse(hot, current, (zeroFraction * cover[hot]) / cover[node], oneFraction, f);
    recurse(cold, current, (zeroFraction * cover[cold]) / cover[node], 0, f);
  };
  recurse(0, [], 1, 1, -1);
}

/** Expected raw output of a tree under its covers: each split averages its children by cover. */
function expectedUnderCovers(tree: Tree, cover: Float64Array, node = 0): number {
  if (tree.left[node] < 0) return tree.value[node];
  const left = tree.left[node];
  const right = tree.right[node];
  return (cover[left] * expectedUnderCovers(tree, cover, left) + cover[right] * expectedUnderCovers(tree, cover, right)) / cover[node];
}

/**
 * Path-dependent TreeSHAP from the node covers the file carries (XGBoost sum_hessian,
 * LightGBM counts): what xgboost's `pred_contribs` returns. The expected value (xgboost's
 * "bias") is the base margin plus each tree's cover-weighted mean leaf.
 */
export function pathDependentTreeShap(ensemble: TreeEnsemble, rows: Float64Array[], signal?: AbortSignal): ShapValues {
  const covers = ensemble.trees.map((tree) => tree.cover);
  if (covers.some((c) => c === null)) throw new Error('path-dependent TreeSHAP needs node covers, which this model file does not carry');
  const width = ensemble.featureNames.length;
  let expectedValue = ensemble.baseMargin;
  ensemble.trees.forEach((tree, t) => (expectedValue += expectedUnderCovers(tree, covers[t]!)));
  const values = rows.map((x) => {
    signal?.throwIfAborted();
    const phi = new Float64Array(width);
    ensemble.trees.forEach((tree, t) => pathDependentTree(tree, covers[t]!, x, phi));
    return phi;
  });
  return finish(ensemble.featureNames, expectedValue, values, Float64Array.from(rows, (x) => rawScore(ensemble, x)));
}
