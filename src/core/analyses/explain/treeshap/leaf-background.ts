/** The background of interventional TreeSHAP summarised per leaf: how many background rows have each mask. */
import type { Tree } from '../../../model/tree';
import type { LeafTable } from './leaf-table';
import { blockMasks, BLOCK, MAX_PATH_PLAYERS, type MaskScratch, type RowColumns } from './leaf-walk';

/**
 * The background, per leaf, as counts of each distinct mask Z (zStart, zMask, zCount; masks in
 * first-met order), and for a leaf with a table every mask's count (zDense, laid out as the
 * filled flags). An uncached leaf counts its masks in a map, which holds only the masks met.
 */
export function summariseBackground(t: LeafTable, tree: Tree, columns: RowColumns, rows: number, scratch: MaskScratch): void {
  const { leaves, filledStart, cached } = t;
  const counts = t.zDense;
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
    // Leaf by leaf, its rows in order: each leaf's masks are still met in row order.
    for (let l = 0; l < leaves; l++) {
      if (ks[l] === 0) continue;
      const at = l * count;
      if (cached[l]) {
        const base = filledStart[l];
        const first = metStart[l];
        let n = met[l];
        for (let r = 0; r < count; r++) {
          const Z = out[at + r];
          if (counts[base + Z]++ === 0) firstMet[first + n++] = Z;
        }
        met[l] = n;
        continue;
      }
      for (let r = 0; r < count; r++) {
        const key = l * (1 << MAX_PATH_PLAYERS) + out[at + r];
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
}
