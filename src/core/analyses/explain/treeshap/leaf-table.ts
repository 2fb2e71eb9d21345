/**
 * Leaf tables, shared by both TreeSHAP algorithms: a tree's leaves as flat arrays (each leaf's
 * path, its players, the background summarised as mask counts) and the one walk down a tree
 * that adds a row's per-leaf contributions, each (leaf, mask) computed once on first use.
 */
import { goesLeft, MISSING, type Tree } from '../../../model/tree';

/** Most distinct players on one root-to-leaf path for the leaf-table algorithm (a table of 2^k masks per leaf). */
export const MAX_PATH_PLAYERS = 12;

/**
 * A tree's leaves as flat arrays: each leaf's path (nodes from the root, the direction
 * taken, the local player of each node), its players, and a table of its contributions
 * per row mask, filled on first use.
 */
export interface LeafTable {
  leaves: number;
  value: Float64Array;
  pathStart: Int32Array;
  pathNode: Int32Array;
  pathLeft: Uint8Array;
  pathLocal: Uint8Array;
  k: Uint8Array;
  playerStart: Int32Array;
  players: Int32Array;
  /** Background rows per leaf by mask Z: the distinct masks and their counts (zStart…), and every mask's count at filledStart[l] + Z (zDense). */
  zStart: Int32Array;
  zMask: Int32Array;
  zCount: Float64Array;
  zDense: Float64Array;
  /** Contributions: leaf l, mask X, local player i at tableStart[l] + X·k[l] + i. */
  tableStart: Int32Array;
  table: Float64Array;
  filledStart: Int32Array;
  filled: Uint8Array;
  /**
   * The tree in depth-first order (left child first) for the masked walk: per position the
   * node, its parent's position, whether it is its parent's left child, its leaf index (−1:
   * internal) and, for a split, the mask that clears its local player (the same on every
   * path through it).
   */
  preNode: Int32Array;
  preParent: Int32Array;
  preLeft: Uint8Array;
  preLeaf: Int32Array;
  preClear: Int32Array;
  /** Whether every split is the plain XGBoost rule (then done inline). */
  plain: boolean;
  /** The walk's scratch: each position's mask and direction (1 left), and each leaf's row mask. */
  walkMask: Int32Array;
  walkLeft: Uint8Array;
  rowMask: Int32Array;
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

/**
 * The leaf table of a tree with the background summarised, or null when a path has too many
 * players. One walk down the tree (an explicit stack, no recursion however deep the tree)
 * numbers each path's players in order of first appearance and lays the leaves' paths out
 * flat; each background row is then summarised by the masked walk a row takes
 * ({@link leafMasks}), counted per leaf and mask.
 */
export function leafTable(tree: Tree, groupOf: Int32Array | null, background: Float64Array[]): LeafTable | null {
  const { left, right, feature } = tree;
  const n = left.length;
  // Pass 1: depth of every node, leaves and the total path length.
  const depth = new Int32Array(n);
  const order = new Int32Array(n);
  let leaves = 0;
  let pathTotal = 0;
  let size = 0;
  order[size++] = 0;
  for (let i = 0; i < size; i++) {
    const node = order[i];
    if (left[node] < 0) {
      leaves++;
      pathTotal += depth[node];
      continue;
    }
    depth[left[node]] = depth[node] + 1;
    depth[right[node]] = depth[node] + 1;
    order[size++] = left[node];
    order[size++] = right[node];
  }
  const maxDepth = depth.reduce((m, d) => (d > m ? d : m), 0);
  // Pass 2, depth first (left before right, the leaves' order): per depth the node on the
  // path and the distinct players above it.
  const onPath = new Int32Array(maxDepth + 1);
  const seen = new Int32Array(MAX_PATH_PLAYERS + 1);
  const seenAt = new Int32Array(maxDepth + 2);
  const nodeLocal = new Uint8Array(n);
  const preNode = new Int32Array(size);
  const preParent = new Int32Array(size);
  const preLeft = new Uint8Array(size);
  const preLeaf = new Int32Array(size).fill(-1);
  const preClear = new Int32Array(size);
  const positionOf = new Int32Array(n);
  const value = new Float64Array(leaves);
  const pathStart = new Int32Array(leaves + 1);
  const pathNode = new Int32Array(pathTotal);
  const pathLeft = new Uint8Array(pathTotal);
  const pathLocal = new Uint8Array(pathTotal);
  const k = new Uint8Array(leaves);
  const playerStart = new Int32Array(leaves + 1);
  const playersAll: number[] = [];
  const stack = new Int32Array(maxDepth + 2);
  let top = 0;
  let leaf = 0;
  let path = 0;
  let position = 0;
  stack[top++] = 0;
  while (top > 0) {
    const node = stack[--top];
    const d = depth[node];
    onPath[d] = node;
    let count = seenAt[d];
    const at = position++;
    positionOf[node] = at;
    preNode[at] = node;
    if (d > 0) {
      preParent[at] = positionOf[onPath[d - 1]];
      preLeft[at] = left[onPath[d - 1]] === node ? 1 : 0;
    }
    if (left[node] < 0) {
      preLeaf[at] = leaf;
      value[leaf] = tree.value[node];
      for (let j = 0; j < d; j++) {
        const above = onPath[j];
        pathNode[path] = above;
        pathLeft[path] = left[above] === onPath[j + 1] ? 1 : 0;
        pathLocal[path++] = nodeLocal[above];
      }
      pathStart[leaf + 1] = path;
      k[leaf] = count;
      for (let i = 0; i < count; i++) playersAll.push(seen[i]);
      playerStart[leaf + 1] = playersAll.length;
      leaf++;
      continue;
    }
    const f = groupOf ? groupOf[feature[node]] : feature[node];
    let i = 0;
    while (i < count && seen[i] !== f) i++;
    if (i === count) {
      if (count === MAX_PATH_PLAYERS) return null;
      seen[count++] = f;
    }
    nodeLocal[node] = i;
    preClear[at] = ~(1 << i);
    seenAt[d + 1] = count;
    stack[top++] = right[node];
    stack[top++] = left[node];
  }
  const tableStart = new Int32Array(leaves + 1);
  const filledStart = new Int32Array(leaves + 1);
  for (let l = 0; l < leaves; l++) {
    tableStart[l + 1] = tableStart[l] + (1 << k[l]) * k[l];
    filledStart[l + 1] = filledStart[l] + (1 << k[l]);
  }
  const t: LeafTable = {
    preNode,
    preParent,
    preLeft,
    preLeaf,
    preClear,
    plain: isPlain(tree),
    walkMask: new Int32Array(size),
    walkLeft: new Uint8Array(size),
    rowMask: new Int32Array(leaves),
    leaves,
    value,
    pathStart,
    pathNode,
    pathLeft,
    pathLocal,
    k,
    playerStart,
    players: Int32Array.from(playersAll),
    zStart: new Int32Array(leaves + 1),
    zMask: new Int32Array(0),
    zCount: new Float64Array(0),
    zDense: new Float64Array(0),
    tableStart,
    table: new Float64Array(tableStart[leaves]),
    filledStart,
    filled: new Uint8Array(filledStart[leaves]),
  };
  if (background.length) summariseBackground(t, tree, background);
  return t;
}

/** The background, per leaf, as counts of each distinct mask Z (zStart, zMask, zCount; masks in first-seen order). */
function summariseBackground(t: LeafTable, tree: Tree, background: Float64Array[]): void {
  const { leaves, filledStart } = t;
  // Dense counts per (leaf, mask), laid out as the filled flags are; and each leaf's masks as first met.
  const counts = new Float64Array(filledStart[leaves]);
  const firstMet = new Int32Array(Math.min(filledStart[leaves], leaves * background.length));
  const metStart = new Int32Array(leaves + 1);
  const met = new Int32Array(leaves);
  for (let l = 0; l < leaves; l++) metStart[l + 1] = metStart[l] + Math.min(1 << t.k[l], background.length);
  const { k: ks, rowMask } = t;
  for (const x of background) {
    leafMasks(t, tree, x);
    for (let l = 0; l < leaves; l++) {
      if (ks[l] === 0) continue;
      const Z = rowMask[l];
      if (counts[filledStart[l] + Z]++ === 0) firstMet[metStart[l] + met[l]++] = Z;
    }
  }
  const zStart = new Int32Array(leaves + 1);
  for (let l = 0; l < leaves; l++) zStart[l + 1] = zStart[l] + met[l];
  const zMask = new Int32Array(zStart[leaves]);
  const zCount = new Float64Array(zStart[leaves]);
  for (let l = 0; l < leaves; l++) {
    for (let m = 0; m < met[l]; m++) {
      const Z = firstMet[metStart[l] + m];
      zMask[zStart[l] + m] = Z;
      zCount[zStart[l] + m] = counts[filledStart[l] + Z];
    }
  }
  t.zStart = zStart;
  t.zMask = zMask;
  t.zCount = zCount;
  t.zDense = counts;
}

/**
 * Each leaf's mask for row `x`, into `t.rowMask`: bit i set when the row satisfies every
 * split of the leaf's local player i. One pass over the tree in depth-first order, each
 * node's mask its parent's, less the parent's player when the row turns the other way.
 */
export function leafMasks(t: LeafTable, tree: Tree, x: Float64Array): void {
  const { preNode, preParent, preLeft, preLeaf, preClear, walkMask, walkLeft, rowMask, k, plain } = t;
  const { feature, threshold, defaultLeft } = tree;
  const size = preNode.length;
  for (let i = 0; i < size; i++) {
    let mask = -1;
    if (i > 0) {
      const parent = preParent[i];
      mask = walkLeft[parent] === preLeft[i] ? walkMask[parent] : walkMask[parent] & preClear[parent];
    }
    const l = preLeaf[i];
    if (l >= 0) {
      rowMask[l] = mask & ((1 << k[l]) - 1);
      continue;
    }
    const node = preNode[i];
    const v = x[feature[node]];
    walkLeft[i] = plain ? (v !== v ? defaultLeft[node] : Math.fround(v) < threshold[node] ? 1 : 0) : goesLeft(tree, node, v) ? 1 : 0;
    walkMask[i] = mask;
  }
}

/**
 * Adds one tree's contributions for row `x` to `phi`: the row's mask at every leaf (one
 * pass over the tree, {@link leafMasks}), then each leaf's entry for that mask, filled on
 * first use. Leaves are added last to first (the order of the sums is part of the result).
 */
export function accumulateTree(t: LeafTable, tree: Tree, x: Float64Array, phi: Float64Array, fill: (l: number, X: number) => void): void {
  const { k: ks, filled, filledStart, tableStart, playerStart, players, rowMask, table } = t;
  leafMasks(t, tree, x);
  for (let l = t.leaves - 1; l >= 0; l--) {
    const k = ks[l];
    if (k === 0) continue;
    const X = rowMask[l];
    if (filled[filledStart[l] + X] === 0) fill(l, X);
    const offset = tableStart[l] + X * k;
    const first = playerStart[l];
    for (let j = 0; j < k; j++) phi[players[first + j]] += table[offset + j];
  }
}
