import { goesLeft, MISSING, treeDepth, treeMargin, type Tree, type TreeEnsemble } from '../model/trees';

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


/** SHAP values with their local-accuracy check: the largest |E + Σ values − output| over the rows. */
export function withLocalAccuracy(columns: string[], expectedValue: number, values: Float64Array[], outputs: Float64Array): ShapValues {
  let worst = 0;
  values.forEach((phi, r) => {
    let sum = expectedValue;
    for (const v of phi) sum += v;
    worst = Math.max(worst, Math.abs(sum - outputs[r]));
  });
  return { columns, expectedValue, values, outputs, localAccuracyError: worst };
}

/**
 * The ensemble's trees in `parts` contiguous slices, the base margin in the first only.
 * Shapley values, expected values and outputs are all sums over trees, so the slices can
 * be explained apart — in workers, each building only its own trees' leaf tables — and
 * added back by {@link sumShap}.
 */
export function splitEnsemble(ensemble: TreeEnsemble, parts: number): TreeEnsemble[] {
  const size = Math.max(1, Math.ceil(ensemble.trees.length / parts));
  const count = Math.max(1, Math.ceil(ensemble.trees.length / size));
  return Array.from({ length: count }, (_, p) => ({ ...ensemble, baseMargin: p === 0 ? ensemble.baseMargin : 0, trees: ensemble.trees.slice(p * size, (p + 1) * size) }));
}

/** One TreeSHAP computation, as plain data a host can run elsewhere (in workers). */
export type TreeShapJob =
  | { kind: 'path'; ensemble: TreeEnsemble; rows: Float64Array[] }
  | { kind: 'interventional'; ensemble: TreeEnsemble; rows: Float64Array[]; background: Float64Array[]; groups?: { groupOf: Int32Array; columns: string[] } };

/** Runs TreeSHAP jobs: in this thread by default ({@link runTreeShapJob}); the worker host spreads them over a pool. */
export type TreeShapRunner = (job: TreeShapJob, signal?: AbortSignal) => Promise<ShapValues>;

/**
 * Trees per slice. TreeSHAP of an ensemble is computed slice by slice and the slices summed
 * in order, wherever they run (this thread, or any number of workers): the additions are
 * then the same, so results are byte-identical between the CLI and every browser.
 */
export const TREES_PER_SLICE = 32;

/** A job's ensemble cut into equal slices of at most {@link TREES_PER_SLICE} trees (the base margin in the first); how it is cut depends only on the number of trees. */
export function treeShapSlices(job: TreeShapJob): TreeShapJob[] {
  return splitEnsemble(job.ensemble, Math.max(1, Math.ceil(job.ensemble.trees.length / TREES_PER_SLICE))).map((ensemble) => ({ ...job, ensemble }));
}

/** One slice's values (a job of at most {@link TREES_PER_SLICE} trees). */
export function runTreeShapSlice(job: TreeShapJob, signal?: AbortSignal): ShapValues {
  return job.kind === 'path' ? pathDependentTreeShap(job.ensemble, job.rows, signal) : interventionalTreeShap(job.ensemble, job.rows, job.background, signal, job.groups);
}

/** A TreeSHAP job, here and now: its slices one after another, summed in order. */
export function runTreeShapJob(job: TreeShapJob, signal?: AbortSignal): ShapValues {
  return sumShap(treeShapSlices(job).map((slice) => runTreeShapSlice(slice, signal)));
}

/** The SHAP values of a whole ensemble from those of its slices ({@link splitEnsemble}), local accuracy checked again on the sum. */
export function sumShap(parts: ShapValues[]): ShapValues {
  const [first, ...rest] = parts;
  const values = first.values.map((phi) => Float64Array.from(phi));
  const outputs = Float64Array.from(first.outputs);
  let expectedValue = first.expectedValue;
  for (const part of rest) {
    expectedValue += part.expectedValue;
    part.values.forEach((phi, r) => phi.forEach((v, j) => (values[r][j] += v)));
    part.outputs.forEach((v, r) => (outputs[r] += v));
  }
  return withLocalAccuracy(first.columns, expectedValue, values, outputs);
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

function backgroundMean(ensemble: TreeEnsemble, background: Float64Array[]): number {
  let sum = 0;
  for (const b of background) sum += treeMargin(ensemble, b);
  return sum / background.length;
}

/** Most distinct players on one root-to-leaf path for the leaf-table algorithm (a table of 2^k masks per leaf). */
const MAX_PATH_PLAYERS = 12;

/**
 * A tree's leaves as flat arrays: each leaf's path (nodes from the root, the direction
 * taken, the local player of each node), its players, and a table of its contributions
 * per row mask, filled on first use.
 */
interface LeafTable {
  leaves: number;
  value: Float64Array;
  pathStart: Int32Array;
  pathNode: Int32Array;
  pathLeft: Uint8Array;
  pathLocal: Uint8Array;
  k: Uint8Array;
  playerStart: Int32Array;
  players: Int32Array;
  /** Background rows per leaf by mask Z (zStart…: the distinct masks and their counts). */
  zStart: Int32Array;
  zMask: Int32Array;
  zCount: Float64Array;
  /** Contributions: leaf l, mask X, local player i at tableStart[l] + X·k[l] + i. */
  tableStart: Int32Array;
  table: Float64Array;
  filledStart: Int32Array;
  filled: Uint8Array;
  /** Per node: the local player of its split (the same on every path through it), and its leaf index (−1: internal). */
  nodeLocal: Uint8Array;
  leafOf: Int32Array;
  /** Whether every split is the plain XGBoost rule (then done inline). */
  plain: boolean;
  /** The walk's stack: nodes and masks. */
  stackNode: Int32Array;
  stackMask: Int32Array;
}

function popcount(m: number): number {
  m -= (m >>> 1) & 0x55555555;
  m = (m & 0x33333333) + ((m >>> 2) & 0x33333333);
  return (((m + (m >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

const plainTrees = new WeakMap<Tree, boolean>();

/** Whether every split is XGBoost's `float32(x) < t` with NaN to the default side (the common case, done inline). */
function isPlain(tree: Tree): boolean {
  let plain = plainTrees.get(tree);
  if (plain === undefined) {
    plain = true;
    for (let node = 0; node < tree.left.length && plain; node++) if (tree.left[node] >= 0 && (tree.rule[node] !== 0 || tree.missingType[node] !== MISSING.defaultDirection)) plain = false;
    plainTrees.set(tree, plain);
  }
  return plain;
}

/** Directions a row takes at every internal node of a tree (1 left, 0 right). */
function directions(tree: Tree, x: Float64Array, into: Uint8Array): void {
  const { left, feature, threshold, defaultLeft } = tree;
  if (isPlain(tree)) {
    for (let node = 0; node < left.length; node++) {
      if (left[node] < 0) continue;
      const v = x[feature[node]];
      into[node] = v !== v ? defaultLeft[node] : Math.fround(v) < threshold[node] ? 1 : 0;
    }
    return;
  }
  for (let node = 0; node < left.length; node++) if (left[node] >= 0) into[node] = goesLeft(tree, node, x[feature[node]]) ? 1 : 0;
}

/** The mask of leaf l's players whose every split the row (directions `dir`) satisfies. */
function leafMask(t: LeafTable, l: number, dir: Uint8Array): number {
  let mask = (1 << t.k[l]) - 1;
  for (let p = t.pathStart[l]; p < t.pathStart[l + 1]; p++) if (dir[t.pathNode[p]] !== t.pathLeft[p]) mask &= ~(1 << t.pathLocal[p]);
  return mask;
}

/** The leaf table of a tree with the background summarised, or null when a path has too many players. */
function leafTable(tree: Tree, groupOf: Int32Array | null, background: Float64Array[], dir: Uint8Array): LeafTable | null {
  const value: number[] = [];
  const pathStart = [0];
  const pathNode: number[] = [];
  const pathLeft: number[] = [];
  const pathLocal: number[] = [];
  const ks: number[] = [];
  const playerStart = [0];
  const players: number[] = [];
  const nodes: number[] = [];
  const lefts: number[] = [];
  let fits = true;
  const walk = (node: number): void => {
    if (!fits) return;
    if (tree.left[node] < 0) {
      const local: number[] = [];
      const own: number[] = [];
      for (const n of nodes) {
        const f = groupOf ? groupOf[tree.feature[n]] : tree.feature[n];
        let i = own.indexOf(f);
        if (i < 0) i = own.push(f) - 1;
        local.push(i);
      }
      if (own.length > MAX_PATH_PLAYERS) {
        fits = false;
        return;
      }
      value.push(tree.value[node]);
      pathNode.push(...nodes);
      pathLeft.push(...lefts);
      pathLocal.push(...local);
      pathStart.push(pathNode.length);
      ks.push(own.length);
      players.push(...own);
      playerStart.push(players.length);
      return;
    }
    nodes.push(node);
    lefts.push(1);
    walk(tree.left[node]);
    lefts[lefts.length - 1] = 0;
    walk(tree.right[node]);
    nodes.pop();
    lefts.pop();
  };
  walk(0);
  if (!fits) return null;
  const leaves = value.length;
  const k = Uint8Array.from(ks);
  const tableStart = new Int32Array(leaves + 1);
  const filledStart = new Int32Array(leaves + 1);
  for (let l = 0; l < leaves; l++) {
    tableStart[l + 1] = tableStart[l] + (1 << k[l]) * k[l];
    filledStart[l + 1] = filledStart[l] + (1 << k[l]);
  }
  // Players are numbered on each path in order of first appearance, so a node's local
  // player is the same for every leaf below it: a row's mask can be built going down.
  const nodeLocal = new Uint8Array(tree.left.length);
  const leafOf = new Int32Array(tree.left.length).fill(-1);
  let leafCount = 0;
  const seen: number[] = [];
  const number = (node: number): void => {
    if (tree.left[node] < 0) {
      leafOf[node] = leafCount++;
      return;
    }
    const f = groupOf ? groupOf[tree.feature[node]] : tree.feature[node];
    let i = seen.indexOf(f);
    const added = i < 0;
    if (added) i = seen.push(f) - 1;
    nodeLocal[node] = i;
    number(tree.left[node]);
    number(tree.right[node]);
    if (added) seen.pop();
  };
  number(0);
  const t: LeafTable = {
    nodeLocal,
    leafOf,
    plain: isPlain(tree),
    stackNode: new Int32Array(tree.left.length + 1),
    stackMask: new Int32Array(tree.left.length + 1),
    leaves,
    value: Float64Array.from(value),
    pathStart: Int32Array.from(pathStart),
    pathNode: Int32Array.from(pathNode),
    pathLeft: Uint8Array.from(pathLeft),
    pathLocal: Uint8Array.from(pathLocal),
    k,
    playerStart: Int32Array.from(playerStart),
    players: Int32Array.from(players),
    zStart: new Int32Array(leaves + 1),
    zMask: new Int32Array(0),
    zCount: new Float64Array(0),
    tableStart,
    table: new Float64Array(tableStart[leaves]),
    filledStart,
    filled: new Uint8Array(filledStart[leaves]),
  };
  // The background, per leaf, as counts of each distinct mask Z.
  const counts = Array.from({ length: leaves }, () => new Map<number, number>());
  for (const b of background) {
    directions(tree, b, dir);
    for (let l = 0; l < leaves; l++) {
      const Z = leafMask(t, l, dir);
      counts[l].set(Z, (counts[l].get(Z) ?? 0) + 1);
    }
  }
  const zMask: number[] = [];
  const zCount: number[] = [];
  counts.forEach((map, l) => {
    for (const [Z, c] of map) {
      zMask.push(Z);
      zCount.push(c);
    }
    t.zStart[l + 1] = zMask.length;
  });
  t.zMask = Int32Array.from(zMask);
  t.zCount = Float64Array.from(zCount);
  return t;
}

/**
 * Fills leaf l's contributions for row mask X. For one background row with mask Z the
 * leaf is the game v·1[A ⊆ S, B ∩ S = ∅] with A = X∖Z (players only the row satisfies)
 * and B = Z∖X; it is 0 when some player is satisfied by neither. Its Shapley values:
 * v·(a−1)!b!/(a+b)! to each of A, −v·a!(b−1)!/(a+b)! to each of B; averaged over the
 * background rows.
 */
function fillContribution(t: LeafTable, l: number, X: number, weights: number[][], backgroundRows: number): void {
  const k = t.k[l];
  const full = (1 << k) - 1;
  const offset = t.tableStart[l] + X * k;
  const v = t.value[l] / backgroundRows;
  for (let z = t.zStart[l]; z < t.zStart[l + 1]; z++) {
    const Z = t.zMask[z];
    if ((~X & ~Z & full) !== 0) continue;
    const A = X & ~Z;
    const B = Z & ~X;
    const a = popcount(A);
    const b = popcount(B);
    if (a + b === 0) continue;
    const gain = a > 0 ? v * t.zCount[z] * weights[a - 1][b] : 0;
    const loss = b > 0 ? v * t.zCount[z] * weights[a][b - 1] : 0;
    for (let i = 0; i < k; i++) {
      const bit = 1 << i;
      if (A & bit) t.table[offset + i] += gain;
      else if (B & bit) t.table[offset + i] -= loss;
    }
  }
  t.filled[t.filledStart[l] + X] = 1;
}

/**
 * Adds one tree's contributions for row `x` to `phi`. One walk down the tree builds each
 * leaf's mask as it goes (a split the row fails clears its player's bit on that side), so
 * a row costs one visit per node instead of one walk per leaf path; arrays are hoisted
 * into locals for V8.
 */
function accumulateTree(t: LeafTable, tree: Tree, x: Float64Array, phi: Float64Array, fill: (l: number, X: number) => void): void {
  const { k: ks, filled, filledStart, tableStart, playerStart, players, nodeLocal, leafOf, stackNode, stackMask, plain } = t;
  const { left, right, feature, threshold, defaultLeft } = tree;
  const table = t.table;
  stackNode[0] = 0;
  stackMask[0] = -1;
  let top = 1;
  while (top > 0) {
    top--;
    const node = stackNode[top];
    const mask = stackMask[top];
    const l = leafOf[node];
    if (l >= 0) {
      const k = ks[l];
      if (k === 0) continue;
      const X = mask & ((1 << k) - 1);
      if (filled[filledStart[l] + X] === 0) fill(l, X);
      const offset = tableStart[l] + X * k;
      const first = playerStart[l];
      for (let j = 0; j < k; j++) phi[players[first + j]] += table[offset + j];
      continue;
    }
    const v = x[feature[node]];
    const goLeft = plain ? (v !== v ? defaultLeft[node] === 1 : Math.fround(v) < threshold[node]) : goesLeft(tree, node, v);
    const cleared = mask & ~(1 << nodeLocal[node]);
    stackNode[top] = left[node];
    stackMask[top++] = goLeft ? mask : cleared;
    stackNode[top] = right[node];
    stackMask[top++] = goLeft ? cleared : mask;
  }
}

/**
 * Interventional TreeSHAP: the exact Shapley values of f(x_S, b_S̄) averaged over the
 * background rows, in the ensemble's raw space (margin; for a forest of probability
 * leaves, the probability). `rows` and `background` hold feature vectors in
 * `ensemble.featureNames` order.
 *
 * Leaf-table algorithm: a tree is a sum over its leaves of products over the players on
 * the leaf's path, so each leaf is a small game decided by two masks — the players whose
 * every split on the path the explained row satisfies (X), and the same for a background
 * row (Z). The background is summarised once per leaf as counts of Z; a leaf's
 * contribution for a mask X is computed once and reused by every row with that mask.
 * Per row and tree the cost is then one walk over the leaves' paths, instead of one walk
 * per background row. Same values as {@link interventionalTreeShapDirect} (tested to
 * 1e-12); a tree with more than 12 players on a path takes the direct walk.
 */
export function interventionalTreeShap(
  ensemble: TreeEnsemble,
  rows: Float64Array[],
  background: Float64Array[],
  signal?: AbortSignal,
  groups?: { groupOf: Int32Array; columns: string[] },
): ShapValues {
  const width = groups ? groups.columns.length : ensemble.featureNames.length;
  const groupOf = groups?.groupOf ?? null;
  const depth = Math.max(1, ...ensemble.trees.map(treeDepth));
  const weights = coalitionWeights(depth);
  const dir = new Uint8Array(Math.max(1, ...ensemble.trees.map((t) => t.left.length)));
  const direct: TreeEnsemble = { ...ensemble, trees: [] };
  const B = background.length;
  const values = rows.map(() => new Float64Array(width));
  // Tree by tree, every row: one tree's table stays in cache while the rows use it
  // (row by row, the tables of all trees are tens of MB and every leaf read misses).
  // Only one tree's table is alive at a time.
  for (const tree of ensemble.trees) {
    signal?.throwIfAborted();
    const t = leafTable(tree, groupOf, background, dir);
    if (!t) {
      direct.trees.push(tree);
      continue;
    }
    const fill = (l: number, X: number) => fillContribution(t, l, X, weights, B);
    for (let r = 0; r < rows.length; r++) accumulateTree(t, tree, rows[r], values[r], fill);
  }
  if (direct.trees.length) {
    const rest = interventionalTreeShapDirect(direct, rows, background, signal, groups);
    rest.values.forEach((phi, r) => phi.forEach((v, j) => (values[r][j] += v)));
  }
  return withLocalAccuracy(groups?.columns ?? ensemble.featureNames, backgroundMean(ensemble, background), values, Float64Array.from(rows, (x) => treeMargin(ensemble, x)));
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
  return withLocalAccuracy(groups.columns, expectedValue, values, outputs);
}

// ---------------------------------------------------------------------------------------
// Path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, Algorithm 2), as xgboost's
// pred_contribs computes it: the coalition's expectation follows the training covers.

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

function coverExpectation(ensemble: TreeEnsemble): number {
  let expectedValue = ensemble.baseMargin;
  for (const tree of ensemble.trees) expectedValue += expectedUnderCovers(tree, tree.cover!);
  return expectedValue;
}

/**
 * Path-dependent TreeSHAP from the node covers the file carries (XGBoost sum_hessian,
 * LightGBM counts): what xgboost's `pred_contribs` returns. The expected value (xgboost's
 * "bias") is the base margin plus each tree's cover-weighted mean leaf.
 *
 * By leaf tables: for E[f(x) | x_S] read off a tree, a leaf is the product game
 * v·Π_{p∈S} a_p·Π_{p∉S} r_p over the players on its path, with a_p = 1 when the row
 * satisfies every split of p on the path and r_p the product of p's cover fractions there.
 * Its Shapley values are φ_i = v·(a_i − r_i)·Σ_j e_j·j!(k−1−j)!/k!, e_j the coefficients of
 * Π_{p≠i}(a_p·z + r_p); they depend on the row only through the mask of a, so each
 * (leaf, mask) is computed once. Same values as {@link pathDependentTreeShapDirect}.
 */
export function pathDependentTreeShap(ensemble: TreeEnsemble, rows: Float64Array[], signal?: AbortSignal): ShapValues {
  if (ensemble.trees.some((t) => t.cover === null)) throw new Error('path-dependent TreeSHAP needs node covers, which this model file does not carry');
  const width = ensemble.featureNames.length;
  const factorial = [1];
  for (let k = 1; k <= MAX_PATH_PLAYERS + 1; k++) factorial[k] = factorial[k - 1] * k;
  // w[k][j] = j!(k−1−j)!/k!: the Shapley weight of a coalition of j of the other k − 1 players.
  const shapleyWeights = Array.from({ length: MAX_PATH_PLAYERS + 1 }, (_, k) => Float64Array.from({ length: Math.max(0, k) }, (_, j) => (factorial[j] * factorial[k - 1 - j]) / factorial[k]));
  const product = new Float64Array(MAX_PATH_PLAYERS + 2);
  const dir = new Uint8Array(Math.max(1, ...ensemble.trees.map((t) => t.left.length)));
  const values = rows.map(() => new Float64Array(width));
  const direct: TreeEnsemble = { ...ensemble, trees: [] };
  for (const tree of ensemble.trees) {
    signal?.throwIfAborted();
    const t = leafTable(tree, null, [], dir);
    if (!t) {
      direct.trees.push(tree);
      continue;
    }
    // r_p per leaf and local player: the product of the cover fractions of p's splits on the path.
    const ratio = new Float64Array(t.players.length).fill(1);
    for (let l = 0; l < t.leaves; l++) {
      for (let p = t.pathStart[l]; p < t.pathStart[l + 1]; p++) {
        const node = t.pathNode[p];
        const child = t.pathLeft[p] ? tree.left[node] : tree.right[node];
        ratio[t.playerStart[l] + t.pathLocal[p]] *= tree.cover![child] / tree.cover![node];
      }
    }
    const fill = (l: number, X: number) => {
      const k = t.k[l];
      const offset = t.tableStart[l] + X * k;
      const first = t.playerStart[l];
      // P(z) = Π_p (a_p z + r_p), then each player's factor divided back out.
      product.fill(0, 0, k + 1);
      product[0] = 1;
      for (let p = 0; p < k; p++) {
        const a = (X >> p) & 1;
        const r = ratio[first + p];
        for (let j = p + 1; j >= 0; j--) product[j] = (j > 0 ? product[j - 1] * a : 0) + product[j] * r;
      }
      const w = shapleyWeights[k];
      for (let i = 0; i < k; i++) {
        const a_i = (X >> i) & 1;
        const r_i = ratio[first + i];
        if (a_i === r_i) continue;
        let sum = 0;
        if (a_i === 1) {
          // Synthetic division by (z + r_i), from the top coefficient down.
          let q = 0;
          for (let j = k; j >= 1; j--) {
            q = product[j] - (j < k ? r_i * q : 0);
            sum += q * w[j - 1];
          }
        } else {
          for (let j = 0; j < k; j++) sum += (product[j] / r_i) * w[j];
        }
        t.table[offset + i] = t.value[l] * (a_i - r_i) * sum;
      }
      t.filled[t.filledStart[l] + X] = 1;
    };
    for (let r = 0; r < rows.length; r++) accumulateTree(t, tree, rows[r], values[r], fill);
  }
  if (direct.trees.length) {
    const rest = pathDependentTreeShapDirect(direct, rows, signal);
    rest.values.forEach((phi, r) => phi.forEach((v, j) => (values[r][j] += v)));
  }
  return withLocalAccuracy(ensemble.featureNames, coverExpectation(ensemble), values, Float64Array.from(rows, (x) => treeMargin(ensemble, x)));
}
