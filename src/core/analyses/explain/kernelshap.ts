import type { Classifier } from '../../model/classifier';
import { findColumn, keptText, type CategoricalColumn, type Column, type KeptTexts, type Table } from '../../data/table';
import { ExplainerCompatibilityError, quote } from '../../base/errors';
import { Random } from '../../base/random';
import { withLocalAccuracy, type ShapValues } from './treeshap';

/** Most columns for exact KernelSHAP (2^M coalitions per row). */
export const MAX_EXACT_KERNEL_COLUMNS = 12;

/** The Shapley weight |S|!(M−|S|−1)!/M! for each coalition size. */
function shapleyWeights(m: number): number[] {
  const factorial = [1];
  for (let k = 1; k <= m; k++) factorial[k] = factorial[k - 1] * k;
  return Array.from({ length: m }, (_, s) => (factorial[s] * factorial[m - s - 1]) / factorial[m]);
}

/**
 * Exact KernelSHAP (interventional Shapley values by enumerating every coalition) of the
 * model's output (p(positive)) for rows of `table` against rows of `background`:
 * v(S) = mean over the background of f(x_S, b_S̄); φ_i = Σ_{S∌i} |S|!(M−|S|−1)!/M! ·
 * (v(S∪{i}) − v(S)). The 2^M × B evaluations of several rows go to the model in one call
 * ({@link eachCoalitionValues}).
 */
export async function exactKernelShap(
  classifier: Classifier,
  columns: string[],
  table: Table,
  rows: Uint32Array,
  background: Table,
  bgRows: Uint32Array,
  options: { features?: string[]; signal?: AbortSignal; rowsPerCall?: number } = {},
): Promise<ShapValues> {
  const m = columns.length;
  if (m > MAX_EXACT_KERNEL_COLUMNS) throw new Error(`exact KernelSHAP enumerates 2^${m} coalitions; at most ${MAX_EXACT_KERNEL_COLUMNS} columns`);
  const masks = 2 ** m;
  const maskBits = Array.from({ length: masks }, (_, mask) => Uint8Array.from({ length: m }, (_, j) => (mask >> j) & 1));
  const weights = shapleyWeights(m);
  const values: Float64Array[] = [];
  const outputs = new Float64Array(rows.length);
  let expectedValue = 0;
  await eachCoalitionValues(classifier, columns, table, rows, background, bgRows, maskBits, options, (v, r) => {
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
  });
  return withLocalAccuracy(columns, expectedValue, values, outputs);
}

/** Solves A·x = b (A symmetric positive definite, small) by Gaussian elimination with partial pivoting. */
function solve(a: Float64Array[], b: Float64Array): Float64Array {
  const n = b.length;
  const m = a.map((row, i) => Float64Array.from([...row, b[i]]));
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    const p = m[col][col] || 1e-12;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r][col] / p;
      if (f !== 0) for (let c = col; c <= n; c++) m[r][c] -= f * m[col][c];
    }
  }
  return Float64Array.from({ length: n }, (_, i) => m[i][n] / (m[i][i] || 1e-12));
}

/** Coalition pairs sampled KernelSHAP draws for `m` columns (each with its complement). */
function sampledPairs(m: number, samples = 2048): number {
  return Math.max(m, Math.floor(samples / 2));
}

/** Coalitions sampled KernelSHAP scores per explained row: the sampled pairs, the empty and the full one. */
export function sampledCoalitions(m: number, samples?: number): number {
  return 2 * sampledPairs(m, samples) + 2;
}

/**
 * Sampled KernelSHAP (Lundberg & Lee 2017) for models with many columns: coalitions drawn
 * from the Shapley kernel's size distribution p(s) ∝ (M−1)/(s(M−s)), each with its
 * complement (paired sampling), from a seeded stream; v(S) averaged over the background;
 * the weighted least squares solved with the efficiency constraint Σφ = v(all) − v(∅)
 * imposed exactly, so local accuracy holds by construction. A row's evaluations go to the
 * model in one call, with other rows' when they are few ({@link eachCoalitionValues}).
 */
export async function sampledKernelShap(
  classifier: Classifier,
  columns: string[],
  table: Table,
  rows: Uint32Array,
  background: Table,
  bgRows: Uint32Array,
  options: { samples?: number; seed: number; features?: string[]; signal?: AbortSignal; rowsPerCall?: number },
): Promise<ShapValues> {
  const m = columns.length;
  const pairs = sampledPairs(m, options.samples);
  const random = new Random(options.seed, 'explain/kernel');
  // Size distribution of the Shapley kernel.
  const sizeWeights = Array.from({ length: m - 1 }, (_, k) => (m - 1) / ((k + 1) * (m - k - 1)));
  const total = sizeWeights.reduce((a, b) => a + b, 0);
  const masks: Uint8Array[] = [];
  for (let p = 0; p < pairs; p++) {
    let u = random.next() * total;
    let size = 1;
    while (size < m - 1 && u > sizeWeights[size - 1]) u -= sizeWeights[size++ - 1];
    const order = Array.from({ length: m }, (_, i) => i);
    for (let i = m - 1; i > 0; i--) {
      const j = random.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    const mask = new Uint8Array(m);
    for (let k = 0; k < size; k++) mask[order[k]] = 1;
    masks.push(mask, Uint8Array.from(mask, (v) => 1 - v));
  }
  masks.push(new Uint8Array(m), new Uint8Array(m).fill(1));
  const values: Float64Array[] = [];
  const outputs = new Float64Array(rows.length);
  let expectedValue = 0;
  await eachCoalitionValues(classifier, columns, table, rows, background, bgRows, masks, options, (v, r) => {
    const empty = v[masks.length - 2];
    const full = v[masks.length - 1];
    const delta = full - empty;
    // Eliminate φ_last = Δ − Σ others; least squares over the sampled coalitions.
    const n = m - 1;
    const ata = Array.from({ length: n }, () => new Float64Array(n));
    const atb = new Float64Array(n);
    for (let k = 0; k < masks.length - 2; k++) {
      const z = masks[k];
      const y = v[k] - empty - z[m - 1] * delta;
      for (let i = 0; i < n; i++) {
        const zi = z[i] - z[m - 1];
        if (zi === 0) continue;
        atb[i] += zi * y;
        for (let j = 0; j < n; j++) ata[i][j] += zi * (z[j] - z[m - 1]);
      }
    }
    for (let i = 0; i < n; i++) ata[i][i] += 1e-9;
    const head = solve(ata, atb);
    const phi = new Float64Array(m);
    phi.set(head);
    phi[m - 1] = delta - head.reduce((a, b) => a + b, 0);
    values.push(phi);
    expectedValue = empty;
    outputs[r] = full;
  });
  return withLocalAccuracy(columns, expectedValue, values, outputs);
}

/**
 * Coalition rows one model call takes: several explained rows' coalitions at a time when each
 * has few (exact KernelSHAP of 5 columns against 100 background rows: 3,200), so that the
 * classifier can hand the call to the host's thread pool (which takes tables of at least
 * RUNNER_MIN_TREE_ROWS rows × trees, and an ONNX model's only when they are worth the copies), and one
 * thread makes fewer session calls. Which rows share a call never depends on the thread
 * count, and a row's scores do not depend on the rows beside it.
 */
export const COALITION_ROWS_PER_CALL = 1 << 18;

/**
 * Explained rows whose coalitions one model call takes: up to {@link COALITION_ROWS_PER_CALL}
 * coalition rows, fewer where `fits(n)` (the stage's memory budget for n rows scored
 * together) says no, and never fewer than one.
 */
export function coalitionRowsPerCall(rows: number, coalitions: number, backgroundRows: number, fits: (rowsPerCall: number) => boolean = () => true): number {
  let n = Math.max(1, Math.min(rows, Math.floor(COALITION_ROWS_PER_CALL / Math.max(1, coalitions * backgroundRows))));
  while (n > 1 && !fits(n)) n = Math.floor(n / 2);
  return n;
}

/**
 * v(S) for each mask and each of `rows` of `table`, handed to `take(v, r)` in row order (r
 * the index into `rows`): the model's mean output over the background rows with the masked
 * columns taken from the row and the others from the background. `rowsPerCall` rows go to
 * the model together (default {@link coalitionRowsPerCall} without a memory bound).
 */
async function eachCoalitionValues(
  classifier: Classifier,
  columns: string[],
  table: Table,
  rows: Uint32Array,
  background: Table,
  bgRows: Uint32Array,
  masks: Uint8Array[],
  options: { features?: string[]; signal?: AbortSignal; rowsPerCall?: number },
  take: (v: Float64Array, r: number) => void,
): Promise<void> {
  const B = bgRows.length;
  const K = masks.length;
  const perCall = options.rowsPerCall ?? coalitionRowsPerCall(rows.length, K, B);
  for (let start = 0; start < rows.length; start += perCall) {
    options.signal?.throwIfAborted();
    const explained = rows.subarray(start, Math.min(rows.length, start + perCall));
    const coalitionTable: Table = {
      source: table.source,
      rowCount: explained.length * K * B,
      columns: columns.map((name, j) => maskedColumn(name, findColumn(table, name)!, findColumn(background, name)!, explained, bgRows, masks, j, [table.source, background.source])),
    };
    const scores = await classifier.score(coalitionTable, { features: options.features, signal: options.signal });
    for (let i = 0; i < explained.length; i++) {
      const v = new Float64Array(K);
      for (let k = 0; k < K; k++) {
        const at = (i * K + k) * B;
        let sum = 0;
        for (let b = 0; b < B; b++) sum += scores[at + b];
        v[k] = sum / B;
      }
      take(v, start + i);
    }
  }
}

/**
 * A coalition-table column for explicit masks (explained row i, mask k, background row b at
 * (i·K + k)·B + b): each cell the explained row's or the background row's, with the text it
 * was read with ("01", "2.50", " Private"), which a model taking text is fed.
 */
function maskedColumn(name: string, source: Column, background: Column, rows: Uint32Array, bgRows: Uint32Array, masks: Uint8Array[], j: number, files: [string, string]): Column {
  const K = masks.length;
  const B = bgRows.length;
  const count = rows.length * K * B;
  const texts = coalitionTexts(Array.from(rows, (r) => keptText(source, r)), Array.from(bgRows, (r) => keptText(background, r)), masks, j);
  if (source.kind === 'numeric' && background.kind === 'numeric') {
    const values = new Float64Array(count);
    for (let i = 0; i < rows.length; i++) {
      const x = source.values[rows[i]];
      for (let k = 0; k < K; k++) for (let b = 0, at = (i * K + k) * B; b < B; b++) values[at + b] = masks[k][j] ? x : background.values[bgRows[b]];
    }
    return { kind: 'numeric', name, values, missing: 0, texts };
  }
  if (source.kind !== background.kind) {
    throw new ExplainerCompatibilityError(`${files[0]} and ${files[1]}, column ${quote(name)}: the column holds ${source.kind === 'numeric' ? 'numbers' : 'text'} in ${files[0]} and ${background.kind === 'numeric' ? 'numbers' : 'text'} in ${files[1]}, so their cells cannot be mixed in one coalition. Use a background file of the same export as the data, or declare the column's type (data.dtypes).`);
  }
  const s = source as CategoricalColumn;
  const bg = background as CategoricalColumn;
  const dictionary = [...s.dictionary];
  const remap = bg.dictionary.map((text) => {
    const at = dictionary.indexOf(text);
    if (at >= 0) return at;
    dictionary.push(text);
    return dictionary.length - 1;
  });
  const codes = new Int32Array(count);
  for (let i = 0; i < rows.length; i++) {
    const own = s.codes[rows[i]];
    for (let k = 0; k < K; k++) for (let b = 0, at = (i * K + k) * B; b < B; b++) codes[at + b] = masks[k][j] ? own : bg.codes[bgRows[b]] < 0 ? -1 : remap[bg.codes[bgRows[b]]];
  }
  return { kind: 'categorical', name, codes, dictionary, missing: 0, texts };
}

/** The kept texts of a coalition column: explained row i's (`own[i]`) where mask k takes it, else background row b's. */
function coalitionTexts(own: (string | undefined)[], background: (string | undefined)[], masks: Uint8Array[], j: number): KeptTexts | undefined {
  if (own.every((text) => text === undefined) && background.every((text) => text === undefined)) return undefined;
  const K = masks.length;
  const B = background.length;
  const dictionary: string[] = [];
  const index = new Map<string, number>();
  const rows: number[] = [];
  const codes: number[] = [];
  for (let i = 0; i < own.length; i++) {
    for (let k = 0; k < K; k++) {
      for (let b = 0; b < B; b++) {
        const text = masks[k][j] ? own[i] : background[b];
        if (text === undefined) continue;
        let code = index.get(text);
        if (code === undefined) index.set(text, (code = dictionary.push(text) - 1));
        rows.push((i * K + k) * B + b);
        codes.push(code);
      }
    }
  }
  return { rows: Int32Array.from(rows), codes: Int32Array.from(codes), dictionary };
}
