/**
 * Leaf tables, shared by both TreeSHAP algorithms: a tree's leaves as flat arrays (each leaf's
 * path, its players, the background summarised as mask counts) and the one walk down a tree
 * that adds a row's per-leaf contributions, each (leaf, mask) computed once on first use.
 */
import { MISSING, type Tree } from '../../../model/tree';
import { summariseBackground } from './leaf-background';
import { MAX_PATH_PLAYERS, type MaskScratch, type RowColumns } from './leaf-walk';

export { MAX_PATH_PLAYERS };


/**
 * Most bytes one tree's tables may take (entries, filled flags, background counts, pairs).
 * A leaf of k players takes about 2^k·k·8 bytes, allocated whether rows reach its masks or
 * not: a fully grown tree on twelve columns (thousands of leaves of 10–12 players) would
 * need gigabytes. Past the budget, the leaves of fewest players keep tables and the others
 * are computed for each row they meet, uncached (the same numbers; only slower).
 */
export const TABLE_BUDGET_BYTES = 64 << 20;

/**
 * A tree's leaves as flat arrays: each leaf's path (nodes from the root, the direction
 * taken, the local player of each node), its players, and a table of its contributions
 * per row mask, filled on first use.
 */
export interface LeafTable extends LeafShape {
  /** Background rows per leaf by mask Z: the distinct masks and their counts (zStart…), and every mask's count at filledStart[l] + Z (zDense). */
  zStart: Int32Array;
  zMask: Int32Array;
  zCount: Float64Array;
  zDense: Float64Array;
  /** Contributions: leaf l, mask X, local player i at tableStart[l] + X·k[l] + i (a cached leaf); an entry is written by its fill, whatever it held before. */
  table: Float64Array;
  filled: Uint8Array;
  pairTable: Float64Array;
  pairFilled: Uint8Array;
}

/** What a tree's leaf tables look like, whatever the rows: made once per tree (and grouping) and kept with it. */
export interface LeafShape {
  leaves: number;
  value: Float64Array;
  pathStart: Int32Array;
  pathNode: Int32Array;
  pathLeft: Uint8Array;
  pathLocal: Uint8Array;
  k: Uint8Array;
  playerStart: Int32Array;
  players: Int32Array;
  /** Where leaf l's entries start in `table` (mask X, local player i at tableStart[l] + X·k[l] + i) and its filled flags in `filled`. */
  tableStart: Int32Array;
  filledStart: Int32Array;
  /** Per leaf: 1 when it has a table (within {@link TABLE_BUDGET_BYTES}); an uncached leaf is filled into `scratch` for each row. */
  cached: Uint8Array;
  /** Where in `table` an uncached leaf's entry is filled: MAX_PATH_PLAYERS entries past the leaves' tables. */
  scratch: number;
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
  /**
   * Sibling leaves (both children of one split, with the same players) are added as a pair:
   * the pair's entry for the parent's mask M and the row's turn d (index 2·M + d) is the sum
   * of its two leaves' entries, so a row makes one visit where it made two. Per pair: the
   * parent's position, its left leaf (the right is the next), and where its entries lie; the
   * leaves of no pair are listed in `single`, last first.
   */
  pairs: number;
  pairParent: Int32Array;
  pairLeaf: Int32Array;
  pairStart: Int32Array;
  pairFilledStart: Int32Array;
  single: Int32Array;
  /** Per leaf: 1 when it is one of a sibling pair. */
  inPair: Uint8Array;
}

const plainTrees = new WeakMap<Tree, boolean>();

/** Whether every split is XGBoost's `float32(x) < t` with NaN to the default side (the common case, done inline). */
export function isPlain(tree: Tree): boolean {
  let plain = plainTrees.get(tree);
  if (plain === undefined) {
    plain = true;
    for (let node = 0; node < tree.left.length && plain; node++) if (tree.left[node] >= 0 && (tree.rule[node] !== 0 || tree.missingType[node] !== MISSING.defaultDirection)) plain = false;
    plainTrees.set(tree, plain);
  }
  return plain;
}

/** Shapes by tree, then by grouping (null: none) and whether the tables hold background counts (they take part of the budget). */
/** A tree's shapes without and with background counts (they take part of the budget). */
type ShapePair = [LeafShape | null | undefined, LeafShape | null | undefined];

/**
 * Shapes by tree, then by grouping: weakly both ways, so a grouping made for one call (and
 * the shapes made for it) goes when the call's arrays go, and a tree's when the model goes.
 */
const shapes = new WeakMap<Tree, { plain: ShapePair; grouped: WeakMap<Int32Array, ShapePair> }>();

/** The tree's leaf shape, made on first use and kept with the tree (a tree is not changed once read). */
export function shapeOf(tree: Tree, groupOf: Int32Array | null, withBackground: boolean): LeafShape | null {
  let kept = shapes.get(tree);
  if (!kept) shapes.set(tree, (kept = { plain: [undefined, undefined], grouped: new WeakMap() }));
  let pair = groupOf ? kept.grouped.get(groupOf) : kept.plain;
  if (!pair) kept.grouped.set(groupOf!, (pair = [undefined, undefined]));
  const at = withBackground ? 1 : 0;
  if (pair[at] === undefined) pair[at] = makeShape(tree, groupOf, withBackground);
  return pair[at]!;
}

/**
 * Per-call buffers for the tables of one tree at a time, grown to the largest tree met: every
 * tree of an ensemble reuses them, where each used to allocate (and zero) its own.
 */
export interface LeafBuffers {
  table: Float64Array;
  filled: Uint8Array;
  counts: Float64Array;
  pairTable: Float64Array;
  pairFilled: Uint8Array;
}

/** Empty buffers for {@link leafTable}. */
export function leafBuffers(): LeafBuffers {
  return { table: new Float64Array(0), filled: new Uint8Array(0), counts: new Float64Array(0), pairTable: new Float64Array(0), pairFilled: new Uint8Array(0) };
}

/**
 * The leaf table of a tree with the background summarised, or null when a path has too many
 * players. Its shape is made once per tree ({@link makeShape}); its entries and flags are
 * `buffers` (reused from tree to tree, flags cleared) or, without them, arrays of its own.
 * The background rows (as columns) are summarised by the masked walk the rows take
 * ({@link blockMasks}), counted per leaf and mask.
 */
export function leafTable(tree: Tree, groupOf: Int32Array | null, background: { columns: RowColumns; rows: number; scratch: MaskScratch } | null, buffers?: LeafBuffers): LeafTable | null {
  const withBackground = background !== null && background.rows > 0;
  const shape = shapeOf(tree, groupOf, withBackground);
  if (!shape) return null;
  const tableSize = shape.tableStart[shape.leaves] + MAX_PATH_PLAYERS;
  const filledSize = shape.filledStart[shape.leaves];
  const pairSize = shape.pairStart[shape.pairs];
  const pairFilledSize = shape.pairFilledStart[shape.pairs];
  let table: Float64Array, filled: Uint8Array, counts: Float64Array, pairTable: Float64Array, pairFilled: Uint8Array;
  if (buffers) {
    if (buffers.table.length < tableSize) buffers.table = new Float64Array(tableSize);
    if (buffers.filled.length < filledSize) buffers.filled = new Uint8Array(filledSize);
    if (withBackground && buffers.counts.length < filledSize) buffers.counts = new Float64Array(filledSize);
    if (buffers.pairTable.length < pairSize) buffers.pairTable = new Float64Array(pairSize);
    if (buffers.pairFilled.length < pairFilledSize) buffers.pairFilled = new Uint8Array(pairFilledSize);
    ({ table, filled, counts, pairTable, pairFilled } = buffers);
    filled.fill(0, 0, filledSize);
    pairFilled.fill(0, 0, pairFilledSize);
    if (withBackground) counts.fill(0, 0, filledSize);
  } else {
    table = new Float64Array(tableSize);
    filled = new Uint8Array(filledSize);
    counts = new Float64Array(withBackground ? filledSize : 0);
    pairTable = new Float64Array(pairSize);
    pairFilled = new Uint8Array(pairFilledSize);
  }
  // Every field named (not spread): one hidden class for every tree's table, read fast in the hot loops.
  const { leaves, value, pathStart, pathNode, pathLeft, pathLocal, k, playerStart, players, tableStart, filledStart, cached, scratch, preNode, preParent, preLeft, preLeaf, preClear, plain, pairs, pairParent, pairLeaf, pairStart, pairFilledStart, single, inPair } = shape;
  const zStart = new Int32Array(leaves + 1);
  const t: LeafTable = { leaves, value, pathStart, pathNode, pathLeft, pathLocal, k, playerStart, players, tableStart, filledStart, cached, scratch, preNode, preParent, preLeft, preLeaf, preClear, plain, pairs, pairParent, pairLeaf, pairStart, pairFilledStart, single, inPair, table, filled, pairTable, pairFilled, zStart, zMask: new Int32Array(0), zCount: new Float64Array(0), zDense: counts };
  if (withBackground) summariseBackground(t, tree, background.columns, background.rows, background.scratch);
  return t;
}

/**
 * A tree's leaf shape, or null when a path has too many players. One walk down the tree (an
 * explicit stack, no recursion however deep the tree) numbers each path's players in order
 * of first appearance and lays the leaves' paths out flat.
 */
function makeShape(tree: Tree, groupOf: Int32Array | null, withBackground: boolean): LeafShape | null {
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
  // Which leaves keep a table: all of them when the tree's tables fit the budget, else the
  // leaves of fewest players (then by index) while they fit.
  const leafBytes = (kl: number) => (kl === 0 ? 0 : (1 << kl) * (kl * 8 + 1 + (withBackground ? 8 : 0)));
  const cached = new Uint8Array(leaves);
  let used = 0;
  for (let l = 0; l < leaves; l++) used += leafBytes(k[l]);
  if (used <= TABLE_BUDGET_BYTES) cached.fill(1);
  else {
    used = 0;
    const byPlayers = Array.from({ length: leaves }, (_, l) => l).sort((a, b) => k[a] - k[b] || a - b);
    for (const l of byPlayers) {
      if (used + leafBytes(k[l]) > TABLE_BUDGET_BYTES) break;
      used += leafBytes(k[l]);
      cached[l] = 1;
    }
  }
  const tableStart = new Int32Array(leaves + 1);
  const filledStart = new Int32Array(leaves + 1);
  for (let l = 0; l < leaves; l++) {
    tableStart[l + 1] = tableStart[l] + (cached[l] ? (1 << k[l]) * k[l] : 0);
    filledStart[l + 1] = filledStart[l] + (cached[l] ? 1 << k[l] : 0);
  }
  // Sibling leaves: a split at position i whose left child (i + 1) and right child (i + 2) are
  // leaves with tables, while the pairs' tables fit what the budget leaves.
  const pairParent: number[] = [];
  const inPair = new Uint8Array(leaves);
  for (let i = 0; i + 2 < size; i++) {
    if (preLeaf[i] >= 0 || preLeaf[i + 1] < 0 || preLeaf[i + 2] < 0 || preParent[i + 2] !== i) continue;
    const [a, b] = [preLeaf[i + 1], preLeaf[i + 2]];
    if (k[a] === 0 || !cached[a] || !cached[b]) continue;
    const bytes = (2 << k[a]) * (k[a] * 8 + 1);
    if (used + bytes > TABLE_BUDGET_BYTES) continue;
    used += bytes;
    pairParent.push(i);
    inPair[a] = inPair[b] = 1;
  }
  const pairs = pairParent.length;
  const pairStart = new Int32Array(pairs + 1);
  const pairFilledStart = new Int32Array(pairs + 1);
  for (let p = 0; p < pairs; p++) {
    const kp = k[preLeaf[pairParent[p] + 1]];
    pairStart[p + 1] = pairStart[p] + (2 << kp) * kp;
    pairFilledStart[p + 1] = pairFilledStart[p] + (2 << kp);
  }
  const single: number[] = [];
  for (let l = leaves - 1; l >= 0; l--) if (!inPair[l] && k[l] > 0) single.push(l);
  return {
    pairs,
    pairParent: Int32Array.from(pairParent),
    pairLeaf: Int32Array.from(pairParent, (i) => preLeaf[i + 1]),
    pairStart,
    pairFilledStart,
    single: Int32Array.from(single),
    inPair,
    preNode,
    preParent,
    preLeft,
    preLeaf,
    preClear,
    plain: isPlain(tree),
    leaves,
    value,
    pathStart,
    pathNode,
    pathLeft,
    pathLocal,
    k,
    playerStart,
    players: Int32Array.from(playersAll),
    tableStart,
    filledStart,
    cached,
    scratch: tableStart[leaves],
  };
}
