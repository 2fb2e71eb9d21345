/**
 * The walk of rows down a tree for the leaf tables: a block of rows at a time, one tree
 * position at a time for every row of the block (columns in, masks out), and the sums of
 * each row's leaf entries into its values.
 */
import { goesLeft, type Tree } from '../../../model/tree';
import type { LeafTable } from './leaf-table';

/** Most distinct players on one root-to-leaf path for the leaf-table algorithm (a table of 2^k masks per leaf). */
export const MAX_PATH_PLAYERS = 12;

/** Rows a walk takes at once: the masks of a block stay in cache (a tree of depth 6: 127 × 128 of them). */
export const BLOCK = 128;

/** Scratch of the block walk: masks and directions per (position, row), and each leaf's masks per row. */
export interface MaskScratch {
  mask: Int32Array;
  left: Uint8Array;
  leaf: Int32Array;
}

/** Scratch for the block walk over any of `trees`. */
export function maskScratch(trees: readonly Tree[]): MaskScratch {
  const nodes = trees.reduce((n, t) => Math.max(n, t.left.length), 1);
  return { mask: new Int32Array(nodes * BLOCK), left: new Uint8Array(nodes * BLOCK), leaf: new Int32Array(nodes * BLOCK) };
}

/**
 * Feature vectors as columns (one array per feature), the layout the block walk reads: as
 * they are, and rounded to float32 once (XGBoost's rule compares float32(x) with a float32
 * split, so a plain tree reads those).
 */
export interface RowColumns {
  wide: Float64Array[];
  narrow: Float32Array[];
}

/** The columns of `rows` (feature vectors of `width` values). */
export function columnsOf(rows: readonly Float64Array[], width: number): RowColumns {
  const wide = Array.from({ length: width }, (_, j) => Float64Array.from(rows, (x) => x[j]));
  return { wide, narrow: wide.map((column) => Float32Array.from(column)) };
}

/**
 * A child's mask from its parent's: all of it when the row turned to the child's side
 * (`turn === side`, 1 left), else less the parent's player (`clear`). Without a branch: the
 * turns are as good as random, and a branch on them mispredicts half the time.
 */
function childMask(parentMask: number, turn: number, side: number, clear: number): number {
  return parentMask & (clear | -(1 ^ turn ^ side));
}

/**
 * The masks of rows from…from+count−1, into `s`: at every split position (mask and turn per
 * row, at position·count + r) and at the leaves (leaf l, row r at l·count + r) — every leaf
 * when `allLeaves`, else only the leaves of no sibling pair (a pair reads its parent's).
 * Bit i is set when the row satisfies every split of the local player i on the way. One pass
 * over the tree in depth-first order, a position at a time for every row of the block: each
 * node's mask is its parent's, less the parent's player where the row turns the other way.
 */
export function blockMasks(t: LeafTable, tree: Tree, columns: RowColumns, from: number, count: number, s: MaskScratch, allLeaves: boolean): void {
  const { preNode, preParent, preLeft, preLeaf, preClear, k, plain, inPair } = t;
  const { feature, threshold, defaultLeft } = tree;
  const { mask, left: goLeft, leaf: out } = s;
  for (let i = 0; i < preNode.length; i++) {
    const base = i * count;
    const l = preLeaf[i];
    if (l >= 0) {
      if (!allLeaves && inPair[l]) continue;
      const players = (1 << k[l]) - 1;
      const at = l * count;
      if (i === 0) out.fill(0, at, at + count);
      else {
        const parent = preParent[i] * count;
        const side = preLeft[i];
        const clear = preClear[preParent[i]] & players;
        for (let r = 0; r < count; r++) out[at + r] = childMask(mask[parent + r] & players, goLeft[parent + r], side, clear);
      }
      continue;
    }
    const node = preNode[i];
    if (i === 0) mask.fill(-1, 0, count);
    else {
      const parent = preParent[i] * count;
      const side = preLeft[i];
      const clear = preClear[preParent[i]];
      for (let r = 0; r < count; r++) mask[base + r] = childMask(mask[parent + r], goLeft[parent + r], side, clear);
    }
    if (plain) {
      const column = columns.narrow[feature[node]];
      const split = threshold[node];
      const missingLeft = defaultLeft[node];
      for (let r = 0; r < count; r++) {
        const v = column[from + r];
        goLeft[base + r] = v !== v ? missingLeft : +(v < split);
      }
    } else {
      const column = columns.wide[feature[node]];
      for (let r = 0; r < count; r++) goLeft[base + r] = goesLeft(tree, node, column[from + r]) ? 1 : 0;
    }
  }
}

/** Rows' values laid out flat, row after row (`width` each): one array, where an array per row cost a load per add. */
export interface RowValues {
  flat: Float64Array;
  width: number;
  rows: number;
}

/** Zeroed {@link RowValues} for `rows` rows of `width`. */
export function rowValues(rows: number, width: number): RowValues {
  return { flat: new Float64Array(rows * width), width, rows };
}

/** Each row's values as its own array (the {@link ShapValues} layout). */
export function valuesByRow(values: RowValues): Float64Array[] {
  return Array.from({ length: values.rows }, (_, r) => values.flat.slice(r * values.width, (r + 1) * values.width));
}

/**
 * Adds one tree's contributions for every row to its `values` (rows as `columns`, block by
 * block): for each pair of sibling leaves the pair's entry for the parent's mask and the
 * row's turn, for each other leaf its entry for the row's mask, each filled on first use;
 * a leaf without a table is filled into the scratch entry for every row. `fill(l, X, at)`
 * writes leaf l's entry for mask X at `table[at…at + k − 1]`, zeroed first (the tables are
 * reused from tree to tree).
 */
export function accumulateRows(t: LeafTable, tree: Tree, columns: RowColumns, values: RowValues, fill: (l: number, X: number, at: number) => void, s: MaskScratch): void {
  const { flat, width, rows } = values;
  const { k: ks, filled, filledStart, tableStart, playerStart, players, table, pairs, pairParent, pairLeaf, pairStart, pairFilledStart, pairTable, pairFilled, preClear, single, cached, scratch } = t;
  const { leaf: out, mask, left: goLeft } = s;
  for (let from = 0; from < rows; from += BLOCK) {
    const count = Math.min(BLOCK, rows - from);
    blockMasks(t, tree, columns, from, count, s, false);
    for (let p = 0; p < pairs; p++) {
      const l = pairLeaf[p];
      const k = ks[l];
      const full = (1 << k) - 1;
      const at = pairParent[p] * count;
      const clear = preClear[pairParent[p]];
      const flags = pairFilledStart[p];
      const start = pairStart[p];
      const first = playerStart[l];
      for (let r = 0; r < count; r++) {
        const M = mask[at + r] & full;
        const d = goLeft[at + r];
        const X = 2 * M + d;
        const offset = start + X * k;
        if (pairFilled[flags + X] === 0) {
          const XL = childMask(M, d, 1, clear);
          const XR = childMask(M, d, 0, clear);
          const left = tableStart[l] + XL * k;
          const right = tableStart[l + 1] + XR * k;
          if (filled[filledStart[l] + XL] === 0) {
            for (let j = 0; j < k; j++) table[left + j] = 0;
            fill(l, XL, left);
            filled[filledStart[l] + XL] = 1;
          }
          if (filled[filledStart[l + 1] + XR] === 0) {
            for (let j = 0; j < k; j++) table[right + j] = 0;
            fill(l + 1, XR, right);
            filled[filledStart[l + 1] + XR] = 1;
          }
          for (let j = 0; j < k; j++) pairTable[offset + j] = table[left + j] + table[right + j];
          pairFilled[flags + X] = 1;
        }
        const phi = (from + r) * width;
        for (let j = 0; j < k; j++) flat[phi + players[first + j]] += pairTable[offset + j];
      }
    }
    for (let u = 0; u < single.length; u++) {
      const l = single[u];
      const k = ks[l];
      const at = l * count;
      const first = playerStart[l];
      if (cached[l] === 0) {
        for (let r = 0; r < count; r++) {
          table.fill(0, scratch, scratch + k);
          fill(l, out[at + r], scratch);
          const phi = (from + r) * width;
          for (let j = 0; j < k; j++) flat[phi + players[first + j]] += table[scratch + j];
        }
        continue;
      }
      const flags = filledStart[l];
      const start = tableStart[l];
      for (let r = 0; r < count; r++) {
        const X = out[at + r];
        const offset = start + X * k;
        if (filled[flags + X] === 0) {
          for (let j = 0; j < k; j++) table[offset + j] = 0;
          fill(l, X, offset);
          filled[flags + X] = 1;
        }
        const phi = (from + r) * width;
        for (let j = 0; j < k; j++) flat[phi + players[first + j]] += table[offset + j];
      }
    }
  }
}
