/** Path-dependent TreeSHAP by leaf tables: what xgboost's `pred_contribs` returns, each (leaf, mask) computed once. */
import { treeMargin, type TreeEnsemble } from '../../../model/tree';
import { leafBuffers, leafTable, MAX_PATH_PLAYERS } from './leaf-table';
import { accumulateRows, columnsOf, maskScratch, rowValues, valuesByRow } from './leaf-walk';
import { coverExpectation, pathDependentTreeShapDirect } from './path-dependent-direct';
import { withLocalAccuracy, type ShapValues } from './values';

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
  const sums = rowValues(rows.length, width);
  const columns = columnsOf(rows, width);
  const scratch = maskScratch(ensemble.trees);
  const direct: TreeEnsemble = { ...ensemble, trees: [] };
  const buffers = leafBuffers();
  for (const tree of ensemble.trees) {
    signal?.throwIfAborted();
    const t = leafTable(tree, null, null, buffers);
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
    const fill = (l: number, X: number, offset: number) => {
      const k = t.k[l];
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
    };
    accumulateRows(t, tree, columns, sums, fill, scratch);
  }
  const values = valuesByRow(sums);
  if (direct.trees.length) {
    const rest = pathDependentTreeShapDirect(direct, rows, signal);
    rest.values.forEach((phi, r) => phi.forEach((v, j) => (values[r][j] += v)));
  }
  return withLocalAccuracy(ensemble.featureNames, coverExpectation(ensemble), values, Float64Array.from(rows, (x) => treeMargin(ensemble, x)));
}
