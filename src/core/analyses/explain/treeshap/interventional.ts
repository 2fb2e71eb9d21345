/**
 * Interventional TreeSHAP by leaf tables: each leaf a small game of two masks, the background
 * summarised once per leaf, a leaf's contribution per row mask computed once and reused.
 */
import { leafOf, leafOutput, treeDepth, treeMargin, type Tree, type TreeEnsemble } from '../../../model/tree';
import { backgroundMean, coalitionWeights, interventionalTreeShapDirect } from './interventional-direct';
import { interventionalKernel, kernelTakes } from './interventional-kernel';
import { leafBuffers, leafTable, shapeOf, type LeafShape, type LeafTable } from './leaf-table';
import { accumulateRows, columnsOf, maskScratch, rowValues, valuesByRow } from './leaf-walk';
import { withLocalAccuracy, type ShapValues } from './values';

/** Set bits of a 32-bit mask. */
function popcount(m: number): number {
  m -= (m >>> 1) & 0x55555555;
  m = (m & 0x33333333) + ((m >>> 2) & 0x33333333);
  return (((m + (m >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Adds `amount` to the table entries of the players set in `mask`. */
function addToPlayers(table: Float64Array, offset: number, mask: number, amount: number): void {
  for (let m = mask; m !== 0; m &= m - 1) table[offset + 31 - Math.clz32(m & -m)] += amount;
}

/**
 * Fills leaf l's contributions for row mask X. For one background row with mask Z the
 * leaf is the game v·1[A ⊆ S, B ∩ S = ∅] with A = X∖Z (players only the row satisfies)
 * and B = Z∖X; it is 0 when some player is satisfied by neither. Its Shapley values:
 * v·(a−1)!b!/(a+b)! to each of A, −v·a!(b−1)!/(a+b)! to each of B; averaged over the
 * background rows.
 *
 * Only masks Z ⊇ ∁X count, so B = ∁X for all of them (b = k − |X|), and each Z is ∁X ∪ Y
 * for a Y ⊆ X: the fill runs over the 2^|X| subsets Y and reads their counts from the dense
 * table, or over the leaf's distinct background masks when those are fewer (or the leaf has
 * no table, and so no dense counts). Every player of
 * ∁X takes the same loss, summed once.
 */
function fillContribution(t: LeafTable, l: number, X: number, offset: number, byB: Float64Array[], backgroundRows: number): void {
  const k = t.k[l];
  const full = (1 << k) - 1;
  const notX = full & ~X;
  const x = popcount(X);
  const b = k - x;
  const v = t.value[l] / backgroundRows;
  const table = t.table;
  const wLoss = b > 0 ? byB[b - 1] : null;
  const wGain = byB[b];
  let lossWeight = 0;
  if (t.cached[l] && 1 << x <= t.zStart[l + 1] - t.zStart[l]) {
    const base = t.filledStart[l];
    const dense = t.zDense;
    for (let Y = X; ; Y = (Y - 1) & X) {
      const count = dense[base + (notX | Y)];
      if (count !== 0) {
        const a = x - popcount(Y);
        if (wLoss) lossWeight += count * wLoss[a];
        if (a > 0) addToPlayers(table, offset, X & ~Y, v * count * wGain[a - 1]);
      }
      if (Y === 0) break;
    }
  } else {
    for (let z = t.zStart[l]; z < t.zStart[l + 1]; z++) {
      const Z = t.zMask[z];
      if ((Z & notX) !== notX) continue;
      const count = t.zCount[z];
      const A = X & ~Z;
      const a = popcount(A);
      if (wLoss) lossWeight += count * wLoss[a];
      if (a > 0) addToPlayers(table, offset, A, v * count * wGain[a - 1]);
    }
  }
  if (b > 0) addToPlayers(table, offset, notX, -v * lossWeight);
}

/** Adds to each row's margin the output of the leaf it reaches in `tree` (treeMargin's term). */
function addLeaves(tree: Tree, rows: readonly Float64Array[], margins: Float64Array): void {
  rows.forEach((x, r) => (margins[r] += leafOutput(tree, leafOf(tree, x), x)));
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
 * per background row. Same values as {@link interventionalTreeShapDirect} up to rounding
 * (the sums run in another order: tested to 1e-12 on values of order one, about 1e-14 of the
 * values' size); a tree with more than 12 players on a path takes the direct walk. The trees the
 * WebAssembly kernel takes are walked there, to the same bits (`wasm: false` keeps every
 * tree in JavaScript; tests compare the two).
 */
export function interventionalTreeShap(
  ensemble: TreeEnsemble,
  rows: Float64Array[],
  background: Float64Array[],
  signal?: AbortSignal,
  groups?: { groupOf: Int32Array; columns: string[] },
  options: { wasm?: boolean } = {},
): ShapValues {
  const width = groups ? groups.columns.length : ensemble.featureNames.length;
  const groupOf = groups?.groupOf ?? null;
  const depth = Math.max(1, ...ensemble.trees.map(treeDepth));
  const weights = coalitionWeights(depth);
  // The weights by b (the players only the background row satisfies): byB[b][a] = W(a, b).
  const byB = weights[0].map((_, b) => Float64Array.from(weights, (row) => row[b]));
  const direct: TreeEnsemble = { ...ensemble, trees: [] };
  const B = background.length;
  const features = ensemble.featureNames.length;
  const columns = columnsOf(rows, features);
  const scratch = maskScratch(ensemble.trees);
  const summary = { columns: columnsOf(background, features), rows: B, scratch };
  const buffers = leafBuffers();
  // The WebAssembly kernel takes the trees it can (plain splits, every leaf with a table); the
  // others are walked here, into the same sums in the same tree order.
  const shapes = ensemble.trees.map((tree) => shapeOf(tree, groupOf, B > 0));
  const taken = ensemble.trees.map((tree, i) => kernelTakes(tree, shapes[i]));
  const kernel = options.wasm === false ? null : interventionalKernel(columns, rows.length, summary.columns, B, width, shapes.filter((s, i): s is LeafShape => taken[i]), byB, ensemble.baseMargin);
  // The margins (for the local-accuracy check and the expected value) come with the kernel's
  // walk: treeMargin's sums, the trees it does not take added here in their turn.
  const margins = kernel && !ensemble.float32Sums ? kernel : null;
  const sums = kernel?.sums ?? rowValues(rows.length, width);
  // Tree by tree, every row: one tree's table stays in cache while the rows use it
  // (row by row, the tables of all trees are tens of MB and every leaf read misses).
  // Only one tree's table is alive at a time.
  ensemble.trees.forEach((tree, i) => {
    signal?.throwIfAborted();
    if (kernel && taken[i]) return kernel.addTree(tree, shapes[i]!);
    if (margins) {
      addLeaves(tree, rows, margins.rowMargins);
      addLeaves(tree, background, margins.backgroundMargins);
    }
    const t = leafTable(tree, groupOf, summary, buffers);
    if (!t) {
      direct.trees.push(tree);
      return;
    }
    const fill = (l: number, X: number, at: number) => fillContribution(t, l, X, at, byB, B);
    accumulateRows(t, tree, columns, sums, fill, scratch);
  });
  const values = valuesByRow(sums);
  if (direct.trees.length) {
    const rest = interventionalTreeShapDirect(direct, rows, background, signal, groups);
    rest.values.forEach((phi, r) => phi.forEach((v, j) => (values[r][j] += v)));
  }
  const outputs = margins ? Float64Array.from(margins.rowMargins) : Float64Array.from(rows, (x) => treeMargin(ensemble, x));
  let expected: number;
  if (margins) {
    let sum = 0;
    for (const m of margins.backgroundMargins) sum += m;
    expected = sum / B;
  } else expected = backgroundMean(ensemble, background);
  return withLocalAccuracy(groups?.columns ?? ensemble.featureNames, expected, values, outputs);
}
