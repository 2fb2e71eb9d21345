/**
 * The recourse search on a host's thread pool: the searched rows cut into slices, each
 * searched on a thread by the same walk with the model opened there again. A row's answers
 * depend on that row alone (see {@link searchRows}), so the slices give the answers one
 * thread gives, whatever their number.
 */
import { findColumn, takeRows, type Table } from '../../../data/table';
import type { Classifier, ReopenableModel } from '../../../model/classifier';
import { percentileIn, type Mutable } from './candidates';
import type { Counterfactual } from './report';
import { RECOURSE_DEFAULTS, type RecourseOptions } from './settings';
import { searchRows } from './walk';

/** A search as `recourse` holds it, with the model a pool's threads open again. */
export interface RecourseSearch {
  model: ReopenableModel;
  table: Table;
  scores: Float64Array;
  /** The rows searched (indices into `table`). */
  searched: number[];
  mutables: Mutable[];
  options: RecourseOptions;
}

/**
 * Searches rows elsewhere (a host's threads): each searched row's counterfactuals in
 * `searched` order, as the walk found them; null when it would search them in this thread
 * (a pool of one), which the caller then does.
 */
export type RecourseRunner = (search: RecourseSearch, signal?: AbortSignal) => Promise<Counterfactual[][] | null>;

/** A changeable column as a slice carries it: not the column (the slice's table holds its rows) nor its sorted values, but the percentiles the slice's search can ask for. */
type SentMutable = Omit<Mutable, 'column' | 'sorted'>;

/** One slice of a search, as a thread is sent it. */
export interface RecourseSlice {
  /** The slice's rows alone, in search order. */
  table: Table;
  /** Their rows in the audit's table: each names the row's random stream. */
  ids: Int32Array;
  /** Their places in the search's order (where {@link joinSlices} puts their answers). */
  positions: Int32Array;
  scores: Float64Array;
  mutables: SentMutable[];
  options: Omit<RecourseOptions, 'signal' | 'runner'>;
}

/**
 * Sizes of the slices a search of `rows` rows is cut into for `threads` threads, largest
 * first: each a share of what is left (half of it over the threads), down to
 * {@link MIN_SLICE_ROWS}. The threads take them in order as they free up, so the last ones
 * each holds are small and the threads end close together, however unevenly a machine
 * shares its cores or the rows cost.
 */
export function sliceSizes(rows: number, threads: number): number[] {
  const sizes: number[] = [];
  for (let left = rows; left > 0; ) {
    const size = Math.min(left, Math.max(MIN_SLICE_ROWS, Math.ceil(left / (2 * threads))));
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

/** The fewest rows a slice takes: a slice's rows are scored together, and each slice is a message to a thread and back. */
const MIN_SLICE_ROWS = 16;

/**
 * The search cut into slices for `threads` threads ({@link sliceSizes}), each of the searched
 * rows dealt to the slice furthest behind its share so far, so that every slice takes rows
 * from all along the search (a file in some order — by date, by score — does not give one
 * slice the costly rows). Each slice's model calls take the search's call size over
 * `threads`, so the threads' calls together hold at most what one call holds (the memory
 * the stage was checked for). {@link joinSlices} puts the answers back in order.
 */
export function recourseSlices(search: RecourseSearch, threads: number): RecourseSlice[] {
  const { table, scores, searched, mutables } = search;
  // Everything but what does not cross to a thread (the signal, the runner itself).
  const options: RecourseSlice['options'] = { ...search.options };
  delete (options as RecourseOptions).signal;
  delete (options as RecourseOptions).runner;
  const callRows = Math.max(1, Math.floor((options.callRows ?? RECOURSE_DEFAULTS.callRows) / threads));
  // Only the columns the search reads: the model's inputs and the changeable ones (a text
  // column's whole dictionary, an ID column's million texts, would go to every slice otherwise).
  const read = new Set([...search.model.ensemble.featureNames.map((name) => findColumn(table, name)?.name), ...mutables.map((m) => m.name)]);
  const reading: Table = { ...table, columns: table.columns.filter((column) => read.has(column.name)) };
  const sizes = sliceSizes(searched.length, threads);
  const positions = dealRows(searched.length, sizes);
  return positions.map((places) => {
    const rows = Uint32Array.from(places, (i) => searched[i]);
    const sent = mutables.map((mutable): SentMutable => {
      const { name, candidates, spelling, weight, monotone, column } = mutable;
      const m: SentMutable = { name, candidates, weight, ...(spelling ? { spelling } : {}), ...(monotone ? { monotone } : {}) };
      if (column.kind !== 'numeric') return m;
      // The candidates' percentiles and those of the slice's own values: all the search reads.
      const percentiles = new Map<number, number>();
      for (const value of candidates) percentiles.set(value, percentileIn(mutable, value));
      for (const row of rows) percentiles.set(column.values[row], percentileIn(mutable, column.values[row]));
      return { ...m, percentiles };
    });
    return { table: takeRows(reading, rows), ids: Int32Array.from(rows), positions: places, scores: Float64Array.from(rows, (row) => scores[row]), mutables: sent, options: { ...options, callRows } };
  });
}

/** Positions 0…count−1 dealt to slices of the given sizes: each to the slice furthest behind its share of the positions dealt so far (ties to the first), in order within a slice. */
function dealRows(count: number, sizes: number[]): Int32Array[] {
  const slices = sizes.map((size) => new Int32Array(size));
  const taken = new Int32Array(sizes.length);
  for (let i = 0; i < count; i++) {
    let best = -1;
    let behind = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < sizes.length; j++) {
      if (taken[j] === sizes[j]) continue;
      const gap = ((i + 1) * sizes[j]) / count - taken[j];
      if (gap > behind) [best, behind] = [j, gap];
    }
    slices[best][taken[best]++] = i;
  }
  return slices;
}

/** The slices' answers ({@link recourseSlices}: each slice's rows at its `positions` in the search) in `searched` order. */
export function joinSlices<T>(slices: readonly Pick<RecourseSlice, 'positions'>[], answers: T[][]): T[] {
  const joined: T[] = new Array(slices.reduce((n, slice) => n + slice.positions.length, 0));
  slices.forEach((slice, j) => slice.positions.forEach((place, m) => (joined[place] = answers[j][m])));
  return joined;
}

/** Searches a slice on this thread with `classifier` (the model opened here again): each row's counterfactuals, in the slice's order. */
export async function searchSlice(slice: RecourseSlice, classifier: Classifier): Promise<Counterfactual[][]> {
  const mutables = slice.mutables.map((m): Mutable => ({ ...m, column: findColumn(slice.table, m.name)! }));
  const rows = Array.from({ length: slice.table.rowCount }, (_, i) => i);
  const states = await searchRows(classifier, slice.table, slice.scores, rows, mutables, slice.options, slice.ids);
  return states.map((s) => s.found);
}
