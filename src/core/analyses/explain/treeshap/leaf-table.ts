/**
 * Leaf tables, shared by both TreeSHAP algorithms: a tree's leaves as flat arrays (each leaf's
 * path, its players, the background summarised as mask counts) and the one walk down a tree
 * that adds a row's per-leaf contributions, each (leaf, mask) computed once on first use.
 */
import { goesLeft, MISSING, type Tree } from '../../../model/tree';
import { blockMasks, BLOCK, type MaskScratch, type RowColumns } from './leaf-walk';

/** Most distinct players on one root-to-leaf path for the leaf-table algorithm (a table of 2^k masks per leaf). */
export const MAX_PATH_PLAYERS = 12;

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
  /** Contributions: leaf l, mask X, local player i at tableStart[l] + X·k[l] + i (a cached leaf). */
  tableStart: Int32Array;
  table: Float64Array;
  filledStart: Int32Array;
  filled: Uint8Array;
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
  pairTable: Float64Array;
  pairFilled: Uint8Array;
  single: Int32Array;
  /** Per leaf: 1 when it is one of a sibling pair. */
  inPair: Uint8Array;
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
 * flat; the background rows (as columns) are then summarised by the masked walk the rows
 * take ({@link blockMasks}), counted per leaf and mask.
 */
export function leafTable(tree: Tree, groupOf: Int32Array | null, background: { columns: RowColumns; rows: number; scratch: MaskScratch } | null): LeafTable | null {
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
  const withBackground = background !== null && background.rows > 0;
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
  const t: LeafTable = {
    pairs,
    pairParent: Int32Array.from(pairParent),
    pairLeaf: Int32Array.from(pairParent, (i) => preLeaf[i + 1]),
    pairStart,
    pairFilledStart,
    pairTable: new Float64Array(pairStart[pairs]),
    pairFilled: new Uint8Array(pairFilledStart[pairs]),
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
    zStart: new Int32Array(leaves + 1),
    zMask: new Int32Array(0),
    zCount: new Float64Array(0),
    zDense: new Float64Array(0),
    tableStart,
    table: new Float64Array(tableStart[leaves] + MAX_PATH_PLAYERS),
    filledStart,
    filled: new Uint8Array(filledStart[leaves]),
    cached,
    scratch: tableStart[leaves],
  };
  if (background?.rows) summariseBackground(t, tree, background.columns, background.rows, background.scratch);
  return t;
}

/**
 * The background, per leaf, as counts of each distinct mask Z (zStart, zMask, zCount; masks in
 * first-met order), and for a leaf with a table every mask's count (zDense, laid out as the
 * filled flags). An uncached leaf counts its masks in a map, which holds only the masks met.
 */
function summariseBackground(t: LeafTable, tree: Tree, columns: RowColumns, rows: number, scratch: MaskScratch): void {
  const { leaves, filledStart, cached } = t;
  const counts = new Float64Array(filledStart[leaves]);
  // Cached leaves: the masks as first met (at most 2^k each, within the tables' budget).
  const metStart = new Int32Array(leaves + 1);
  for (let l = 0; l < leaves; l++) metStart[l + 1] = metStart[l] + (cached[l] ? Math.min(1 << t.k[l], rows) : 0);
  const firstMet = new Int32Array(metStart[leaves]);
  const met = new Int32Array(leaves);
  // Uncached leaves: leaf · 2^12 + mask → count, in first-met order.
  const uncached = new Map<number, number>();
  const ks = t.k;
  const out = scratch.leaf;
  for (let from = 0; from < rows; from += BLOCK) {
    const count = Math.min(BLOCK, rows - from);
    blockMasks(t, tree, columns, from, count, scratch, true);
    for (let r = 0; r < count; r++) {
      for (let l = 0; l < leaves; l++) {
        if (ks[l] === 0) continue;
        const Z = out[l * count + r];
        if (cached[l]) {
          if (counts[filledStart[l] + Z]++ === 0) firstMet[metStart[l] + met[l]++] = Z;
          continue;
        }
        const key = l * (1 << MAX_PATH_PLAYERS) + Z;
        const seen = uncached.get(key);
        if (seen === undefined) met[l]++;
        uncached.set(key, (seen ?? 0) + 1);
      }
    }
  }
  const zStart = new Int32Array(leaves + 1);
  for (let l = 0; l < leaves; l++) zStart[l + 1] = zStart[l] + met[l];
  const zMask = new Int32Array(zStart[leaves]);
  const zCount = new Float64Array(zStart[leaves]);
  for (let l = 0; l < leaves; l++) {
    if (!cached[l]) continue;
    for (let m = 0; m < met[l]; m++) {
      const Z = firstMet[metStart[l] + m];
      zMask[zStart[l] + m] = Z;
      zCount[zStart[l] + m] = counts[filledStart[l] + Z];
    }
  }
  // The map keeps first-met order, so each uncached leaf's masks come in its own first-met order.
  const next = zStart.slice(0, leaves);
  for (const [key, n] of uncached) {
    const l = Math.floor(key / (1 << MAX_PATH_PLAYERS));
    zMask[next[l]] = key - l * (1 << MAX_PATH_PLAYERS);
    zCount[next[l]++] = n;
  }
  t.zStart = zStart;
  t.zMask = zMask;
  t.zCount = zCount;
  t.zDense = counts;
}
