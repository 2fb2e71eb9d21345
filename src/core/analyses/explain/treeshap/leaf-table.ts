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
export function leafTable(tree: Tree, groupOf: Int32Array | null, background: Float64Array[], dir: Uint8Array): LeafTable | null {
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
 * Adds one tree's contributions for row `x` to `phi`. One walk down the tree builds each
 * leaf's mask as it goes (a split the row fails clears its player's bit on that side), so
 * a row costs one visit per node instead of one walk per leaf path; arrays are hoisted
 * into locals for V8.
 */
export function accumulateTree(t: LeafTable, tree: Tree, x: Float64Array, phi: Float64Array, fill: (l: number, X: number) => void): void {
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
