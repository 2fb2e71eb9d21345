import type { Classifier } from '../model/classifier';
import { findColumn, type CategoricalColumn, type Column, type Table } from '../data/table';
import { withLocalAccuracy, type ShapValues } from './treeshap';

/** Most columns for exact KernelSHAP (2^M coalitions per row). */
export const MAX_EXACT_KERNEL_COLUMNS = 12;

/** The Shapley weight |S|!(M−|S|−1)!/M! for each coalition size. */
function shapleyWeights(m: number): number[] {
  const factorial = [1];
  for (let k = 1; k <= m; k++) factorial[k] = factorial[k - 1] * k;
  return Array.from({ length: m }, (_, s) => (factorial[s] * factorial[m - s - 1]) / factorial[m]);
}

/** One column of the coalition table: x's value where the coalition holds the column, b's elsewhere. */
function coalitionColumn(name: string, source: Column, background: Column, row: number, bgRows: Uint32Array, bit: number, masks: number): Column {
  const count = masks * bgRows.length;
  if (source.kind === 'numeric' && background.kind === 'numeric') {
    const values = new Float64Array(count);
    const x = source.values[row];
    for (let m = 0; m < masks; m++) for (let k = 0; k < bgRows.length; k++) values[m * bgRows.length + k] = m & bit ? x : background.values[bgRows[k]];
    return { kind: 'numeric', name, values, missing: 0 };
  }
  // Categorical: one dictionary for both tables, by text.
  const source_ = source as CategoricalColumn;
  const bg = background as CategoricalColumn;
  const dictionary = [...source_.dictionary];
  const remap = bg.dictionary.map((text) => {
    const at = dictionary.indexOf(text);
    if (at >= 0) return at;
    dictionary.push(text);
    return dictionary.length - 1;
  });
  const codes = new Int32Array(count);
  const x = source_.codes[row];
  for (let m = 0; m < masks; m++) for (let k = 0; k < bgRows.length; k++) codes[m * bgRows.length + k] = m & bit ? x : bg.codes[bgRows[k]] < 0 ? -1 : remap[bg.codes[bgRows[k]]];
  return { kind: 'categorical', name, codes, dictionary, missing: 0 };
}

/**
 * Exact KernelSHAP (interventional Shapley values by enumerating every coalition) of the
 * model's output (p(positive)) for rows of `table` against rows of `background`:
 * v(S) = mean over the background of f(x_S, b_S̄); φ_i = Σ_{S∌i} |S|!(M−|S|−1)!/M! ·
 * (v(S∪{i}) − v(S)). All 2^M × B evaluations of a row go to the model in one call.
 */
export async function exactKernelShap(
  classifier: Classifier,
  columns: string[],
  table: Table,
  rows: Uint32Array,
  background: Table,
  bgRows: Uint32Array,
  options: { features?: string[]; signal?: AbortSignal } = {},
): Promise<ShapValues> {
  const m = columns.length;
  if (m > MAX_EXACT_KERNEL_COLUMNS) throw new Error(`exact KernelSHAP enumerates 2^${m} coalitions; at most ${MAX_EXACT_KERNEL_COLUMNS} columns`);
  const masks = 2 ** m;
  const weights = shapleyWeights(m);
  const values: Float64Array[] = [];
  const outputs = new Float64Array(rows.length);
  let expectedValue = 0;
  for (let r = 0; r < rows.length; r++) {
    options.signal?.throwIfAborted();
    const coalitionTable: Table = {
      source: table.source,
      rowCount: masks * bgRows.length,
      columns: columns.map((name, j) => coalitionColumn(name, findColumn(table, name)!, findColumn(background, name)!, rows[r], bgRows, 1 << j, masks)),
    };
    const scores = await classifier.score(coalitionTable, { features: options.features });
    const v = new Float64Array(masks);
    for (let mask = 0; mask < masks; mask++) {
      let sum = 0;
      for (let k = 0; k < bgRows.length; k++) sum += scores[mask * bgRows.length + k];
      v[mask] = sum / bgRows.length;
    }
    const phi = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      const bit = 1 << i;
      for (let mask = 0; mask < masks; mask++) {
        if (mask & bit) continue;
        let size = 0;
        for (let x = mask; x; x &= x - 1) size++;
        phi[i] += weights[size] * (v[mask | bit] - v[mask]);
      }
    }
    values.push(phi);
    expectedValue = v[0];
    outputs[r] = v[masks - 1];
  }
  return withLocalAccuracy(columns, expectedValue, values, outputs);
}
