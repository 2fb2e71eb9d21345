import { allRows, filledColumn, findColumn, keptTextsOf, sourceText, spelledTexts, takeRows, writtenAs, type CategoricalColumn, type Column, type NumericColumn, type Table } from '../../data/table';
import { groupNamer } from '../../metrics/groups';
import { sampleIndices } from '../../data/sample';
import { wilsonInterval, type Interval } from '../../metrics/intervals';
import type { Classifier } from '../../model/classifier';
import { Random } from '../../base/random';
import { sampleMoments } from '../../base/math';
import { MAX_FLIP_SCORINGS } from '../../base/limits';
import { gather, sharedFloat64 } from '../../base/rows';
import { neighbourGaps, type NeighbourRunner } from './neighbours';

/** Prediction stability under noise of one size. */
export interface NoiseResult {
  epsilon: number;
  /** Rows perturbed: every row, or a seeded sample of a large file. */
  rows: number;
  flip_rate: number;
  /** 95% Wilson interval of the flip rate (the sampling uncertainty of a sample; noise draws for every row). */
  flip_rate_interval: Interval | null;
  mean_abs_change: number;
  max_abs_change: number;
}

/**
 * A copy of a column with seeded noise: ε·σ·N(0, 1) for numbers (rounded for a column of
 * whole numbers, which a model may take as int64); for categories, another observed value
 * with probability ε.
 */
export function noisy(column: Column, epsilon: number, random: Random): Column {
  // Plain loops: TypedArray.from and every() with a callback cost hundreds of milliseconds per
  // million values in Node (a third of the robustness stage of a million-row audit).
  if (column.kind === 'numeric') {
    const source = column.values;
    const n = source.length;
    const { sd } = sampleMoments(source);
    let whole = true;
    for (let i = 0; i < n && whole; i++) whole = Number.isNaN(source[i]) || Number.isInteger(source[i]);
    const values = new Float64Array(n);
    // A cell keeps the text it was read with only while it keeps its value ("007" stays 7).
    const changed = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = source[i];
      if (Number.isNaN(v)) {
        values[i] = v;
        continue;
      }
      const moved = v + epsilon * sd * random.normal();
      values[i] = whole ? Math.round(moved) : moved;
      changed[i] = values[i] === v ? 0 : 1;
    }
    // A whole number moved to another the file writes otherwise ("06") is written so: the text a model that takes the column as text is fed.
    const spelling = whole && column.texts ? writtenAs(column, values) : undefined;
    return { ...column, values, texts: spelledTexts(column, allRows(n), changed, values, spelling) };
  }
  const k = column.dictionary.length;
  const source = column.codes;
  const n = source.length;
  const codes = new Int32Array(n);
  const changed = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const code = source[i];
    if (code < 0 || k < 2 || random.next() >= epsilon) {
      codes[i] = code;
      continue;
    }
    const other = random.int(k - 1);
    codes[i] = other >= code ? other + 1 : other;
    changed[i] = 1;
  }
  return { ...column, codes, texts: keptTextsOf(column, allRows(n), changed) };
}

/**
 * A numeric column as the categories of its cells' texts as written ("04", "2.50"); a missing
 * cell stays missing with the token it was read with. A model that takes the column as text
 * sees it so: noise then swaps a cell for another text the file holds, where a number moved
 * by noise would be a text the model never saw.
 */
export function asTextCategories(column: NumericColumn): CategoricalColumn {
  const n = column.values.length;
  const dictionary: string[] = [];
  const index = new Map<string, number>();
  const codes = new Int32Array(n);
  const present = new Uint8Array(n);
  for (let row = 0; row < n; row++) {
    if (Number.isNaN(column.values[row])) {
      codes[row] = -1;
      continue;
    }
    present[row] = 1;
    const text = sourceText(column, row);
    let code = index.get(text);
    if (code === undefined) index.set(text, (code = dictionary.push(text) - 1));
    codes[row] = code;
  }
  return { kind: 'categorical', name: column.name, codes, dictionary, missing: column.missing, texts: keptTextsOf(column, allRows(n), present) };
}

/** The names of a model's inputs that take text (string tensors): postal zones, codes, categories. */
export function textInputsOf(summary: { inputs: readonly { name: string; elementType: string }[] }): Set<string> {
  return new Set(summary.inputs.filter((input) => input.elementType === 'string').map((input) => input.name));
}

/** The names of a tree model's inputs whose numbers are category codes (it splits on them by category): swapped, never moved by noise, and no distance. */
export function codeInputsOf(summary: { inputs: readonly { name: string; categoryCodes?: true }[] }): Set<string> {
  return new Set(summary.inputs.filter((input) => input.categoryCodes).map((input) => input.name));
}

/** The numeric columns of `names` a model reads as text (in `textInputs`, {@link textInputsOf}): the ones {@link perturbedColumn} perturbs as their texts. */
export function numbersReadAsText(table: Table, names: string[], textInputs: ReadonlySet<string> | undefined): string[] {
  return names.filter((name) => textInputs?.has(name) && findColumn(table, name)?.kind === 'numeric');
}

/** What the perturbation's conventions say of the columns {@link numbersReadAsText} gives ('' for none). */
export function textNoiseNote(columns: string[]): string {
  return columns.length ? ` (and so the texts of ${columns.join(', ')}, numbers the model reads as text)` : '';
}

/**
 * The noise of perturbation on one column (see {@link noisy}); a numeric column in
 * `textInputs` (the model takes it as text) is perturbed as {@link asTextCategories}.
 */
export function perturbedColumn(column: Column, epsilon: number, random: Random, textInputs?: ReadonlySet<string>, codeInputs?: ReadonlySet<string>): Column {
  // Category codes: another observed code with probability ε, given back as numbers (noise would make codes no category has).
  if (column.kind === 'numeric' && codeInputs?.has(column.name)) {
    const swapped = noisy(asTextCategories(column), epsilon, random) as CategoricalColumn;
    const numbers = swapped.dictionary.map(Number);
    return { ...column, values: Float64Array.from(swapped.codes, (code) => (code < 0 ? Number.NaN : numbers[code])), texts: undefined };
  }
  return noisy(column.kind === 'numeric' && textInputs?.has(column.name) ? asTextCategories(column) : column, epsilon, random);
}

/**
 * Perturbation stability: seeded noise on the model's non-protected input columns (whole
 * numbers stay whole), the share of decisions that flip (with its Wilson interval) and the
 * mean and largest change in p(positive), per ε. A file above `maxRows` rows (default
 * 100,000) is perturbed on a seeded sample of that many rows.
 */
export async function perturbationStability(
  model: Classifier,
  table: Table,
  scores: Float64Array,
  threshold: number,
  columns: string[],
  options: { epsilons: number[]; seed: number; confidence?: number; features?: string[]; signal?: AbortSignal; maxRows?: number; textInputs?: ReadonlySet<string>; codeInputs?: ReadonlySet<string> },
): Promise<NoiseResult[]> {
  const results: NoiseResult[] = [];
  const maxRows = options.maxRows ?? 100_000;
  if (table.rowCount > maxRows) {
    const rows = sampleIndices(table.rowCount, maxRows, options.seed, 'robustness/noise-rows');
    table = takeRows(table, rows);
    scores = gather(scores, rows);
  }
  const scoring = (epsilon: number) => {
    options.signal?.throwIfAborted();
    const random = new Random(options.seed, `robustness/noise/${epsilon}`);
    const perturbed: Table = { ...table, columns: table.columns.map((c) => (columns.includes(c.name) ? perturbedColumn(c, epsilon, random, options.textInputs, options.codeInputs) : c)) };
    return model.score(perturbed, { features: options.features });
  };
  const { epsilons } = options;
  let next = epsilons.length ? scoring(epsilons[0]) : null;
  // Each scoring is awaited in its turn; a failure meanwhile (or one left behind by an abort) is not unhandled.
  next?.catch(() => {});
  for (let e = 0; e < epsilons.length; e++) {
    const epsilon = epsilons[e];
    const current = next!;
    // The next ε's noise is drawn while this one is scored (on a host's threads): each ε has
    // its own random stream, so the order of the draws changes nothing. A turn of the event
    // loop first lets this scoring's jobs leave.
    if (e + 1 < epsilons.length) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      next = scoring(epsilons[e + 1]);
      next.catch(() => {});
    }
    const after = await current;
    let flips = 0;
    let sum = 0;
    let max = 0;
    for (let i = 0; i < scores.length; i++) {
      if (scores[i] >= threshold !== after[i] >= threshold) flips++;
      const change = Math.abs(after[i] - scores[i]);
      sum += change;
      if (change > max) max = change;
    }
    results.push({ epsilon, rows: scores.length, flip_rate: flips / scores.length, flip_rate_interval: wilsonInterval(flips, scores.length, options.confidence ?? 0.95), mean_abs_change: sum / scores.length, max_abs_change: max });
  }
  return results;
}

/** Individual fairness as consistency, with how it was estimated. */
export interface ConsistencyResult {
  k: number;
  columns: string[];
  /** Rows whose neighbours were averaged (all rows, or a seeded sample). */
  rows_queried: number;
  /** Rows neighbours were searched among (all rows, or a seeded sample). */
  pool_rows: number;
  consistency: number | null;
  /** Standard error of the estimate when the queried rows are a sample; null when every row was queried. */
  standard_error: number | null;
}

/**
 * Individual fairness as consistency: for each row, the mean |Δp| to its k nearest
 * neighbours in the standardized space of the model's numeric non-protected columns
 * (missing values at the column mean; at equal distances the earlier pool row), found by
 * brute force (neighbours.ts); reported as 1 − the mean
 * over rows. Bounded for large files: neighbours are searched among at most `maxPool`
 * rows and at most `maxQueries` rows are averaged (seeded samples), with the standard
 * error of that estimate. (Exact nearest neighbours cost about n² in many dimensions.)
 * Columns are standardized by the mean and sd of the rows searched among: the whole table's
 * up to `maxPool` rows, the pool sample's beyond (an estimate from 20,000 rows by default).
 */
export async function consistency(table: Table, scores: Float64Array, columns: string[], options: { k?: number; maxQueries?: number; maxPool?: number; seed: number; neighbours?: NeighbourRunner; signal?: AbortSignal }): Promise<ConsistencyResult> {
  const k = options.k ?? 10;
  const numeric = columns.filter((name) => findColumn(table, name)?.kind === 'numeric');
  const n = table.rowCount;
  if (numeric.length === 0 || n <= k) return { k, columns: numeric, rows_queried: 0, pool_rows: 0, consistency: null, standard_error: null };
  const dims = numeric.length;
  const maxPool = options.maxPool ?? 20_000;
  const maxQueries = options.maxQueries ?? 2_000;
  const pool = n > maxPool ? sampleIndices(n, maxPool, options.seed, 'robustness/consistency-pool') : allRows(n);
  const queries = n > maxQueries ? sampleIndices(n, maxQueries, options.seed, 'robustness/consistency') : allRows(n);
  // Pool points first, then the queried rows; their scores alike. Each column is standardized
  // by the pool's mean and sd (every row's when the pool is the table), missing at the mean.
  const P = pool.length;
  const Q = queries.length;
  const read = numeric.map((name) => (findColumn(table, name) as NumericColumn).values);
  const means = new Float64Array(dims);
  const sds = new Float64Array(dims);
  const poolValues = read.map((column, d) => {
    const values = gather(column, pool);
    const moments = sampleMoments(values);
    means[d] = moments.mean;
    sds[d] = moments.sd || 1;
    return values;
  });
  // Written a point at a time (row-major, as the search reads them), where a host's threads read them without a copy.
  const points = sharedFloat64((P + Q) * dims);
  for (let i = 0, at = 0; i < P + Q; i++) {
    for (let d = 0; d < dims; d++, at++) {
      const v = i < P ? poolValues[d][i] : read[d][queries[i - P]];
      points[at] = v === v ? (v - means[d]) / sds[d] : 0;
    }
  }
  const pointScores = new Float64Array(P + Q);
  for (let i = 0; i < P; i++) pointScores[i] = scores[pool[i]];
  // A queried row's place in the pool, if it is there: both samples are in row order.
  const exclude = new Int32Array(Q).fill(-1);
  for (let q = 0, i = 0; q < Q; q++) {
    pointScores[P + q] = scores[queries[q]];
    while (i < P && pool[i] < queries[q]) i++;
    if (i < P && pool[i] === queries[q]) exclude[q] = i;
  }
  const job = { points, pool: P, dims, k, exclude, scores: pointScores };
  // Each query's mean |Δp| is the same wherever it is found (a host's threads, or here).
  const gaps = options.neighbours ? await options.neighbours(job, options.signal) : neighbourGaps({ ...job, from: 0, to: Q });
  let total = 0;
  let totalSquares = 0;
  for (let q = 0; q < Q; q++) {
    const value = gaps[q];
    total += value;
    totalSquares += value * value;
  }
  const m = Q;
  const mean = total / m;
  const sampled = m < n;
  const variance = m > 1 ? Math.max(0, (totalSquares - m * mean * mean) / (m - 1)) : 0;
  return { k, columns: numeric, rows_queried: m, pool_rows: P, consistency: 1 - mean, standard_error: sampled ? Math.sqrt(variance / m) : null };
}

/**
 * Counterfactual flip test: set only the protected attribute of every row (or, when the
 * model does not read it, the column the config declares as its proxy) to each other
 * value it takes, re-score, and report per group of the attribute the share of rows whose
 * decision changes. Without either, says why the test does not apply.
 */
export async function counterfactualFlips(
  model: Classifier,
  table: Table,
  scores: Float64Array,
  threshold: number,
  attribute: string,
  modelColumns: string[],
  options: { features?: string[]; proxy?: string; maxScorings?: number } = {},
): Promise<{ attribute: string; changed: string | null; applicable: boolean; reason?: string; flip_rate: Record<string, number> }> {
  const changedName = modelColumns.includes(attribute) ? attribute : options.proxy && modelColumns.includes(options.proxy) ? options.proxy : null;
  const groups = findColumn(table, attribute);
  const column = changedName ? findColumn(table, changedName) : undefined;
  if (!column || !groups || !changedName) {
    return { attribute, changed: null, applicable: false, reason: `the model does not read ${attribute}${options.proxy ? ` or its declared proxy ${options.proxy}` : ''}, so changing it alone cannot change a decision (possible proxies are listed in the data section; declare one with robustness.proxies)`, flip_rate: {} };
  }
  const values = column.kind === 'categorical' ? column.dictionary.map((_, code) => code) : [...new Set(Array.from(column.values).filter((v) => !Number.isNaN(v)))];
  const maxScorings = options.maxScorings ?? MAX_FLIP_SCORINGS;
  if (values.length * table.rowCount > maxScorings) {
    // Checked before scoring: a continuous proxy would score the whole table once per distinct value.
    const count = (n: number) => n.toLocaleString('en-US');
    return { attribute, changed: changedName, applicable: false, reason: `changing ${changedName} to each of its ${count(values.length)} values would score all ${count(table.rowCount)} rows ${count(values.length)} times (${count(values.length * table.rowCount)} model evaluations, more than the ${count(maxScorings)} this test may use): declare a proxy with fewer values (robustness.proxies) or audit a sample (data.test_sample_size)`, flip_rate: {} };
  }
  const flipped = new Uint8Array(table.rowCount);
  for (const value of values) {
    const changed = filledColumn(column, value, table.rowCount);
    const after = await model.score({ ...table, columns: table.columns.map((c) => (c.name === changedName ? changed : c)) }, { features: options.features });
    for (let i = 0; i < table.rowCount; i++) if (after[i] >= threshold !== scores[i] >= threshold) flipped[i] = 1;
  }
  const byGroup = new Map<string, [number, number]>();
  // The attribute's groups named as fairness names them ("01" apart from "1", a missing cell "(missing)", not "NaN").
  const groupOf = groupNamer(groups);
  for (let i = 0; i < table.rowCount; i++) {
    const group = groupOf(i);
    const entry = byGroup.get(group) ?? [0, 0];
    entry[0] += flipped[i];
    entry[1]++;
    byGroup.set(group, entry);
  }
  return { attribute, changed: changedName, applicable: true, flip_rate: Object.fromEntries([...byGroup.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([g, [f, t]]) => [g, f / t])) };
}
