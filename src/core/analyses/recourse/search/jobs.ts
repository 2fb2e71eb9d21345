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
  scores: Float64Array;
  mutables: SentMutable[];
  options: Omit<RecourseOptions, 'signal' | 'runner'>;
}

/**
 * The search cut into `count` slices (at most one per searched row): slice j takes searched
 * rows j, j + count, j + 2·count, … — dealt in turn, so a file in some order (by date, by
 * score) does not give one slice the costly rows. Each slice's model calls take the search's
 * call size over `threads`, so the threads' calls together hold at most what one call holds
 * (the memory the stage was checked for). {@link joinSlices} puts the answers back in order.
 */
export function recourseSlices(search: RecourseSearch, count: number, threads: number): RecourseSlice[] {
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
  const slices: RecourseSlice[] = [];
  const cut = Math.max(1, Math.min(count, searched.length));
  for (let j = 0; j < cut; j++) {
    const rows = Uint32Array.from(searched.filter((_, i) => i % cut === j));
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
    slices.push({ table: takeRows(reading, rows), ids: Int32Array.from(rows), scores: Float64Array.from(rows, (row) => scores[row]), mutables: sent, options: { ...options, callRows } });
  }
  return slices;
}

/** The slices' answers ({@link recourseSlices}: slice j holds searched rows j, j + count, …) in `searched` order. */
export function joinSlices<T>(answers: T[][]): T[] {
  const count = answers.length;
  const rows = answers.reduce((n, slice) => n + slice.length, 0);
  return Array.from({ length: rows }, (_, i) => answers[i % count][Math.floor(i / count)]);
}

/** Searches a slice on this thread with `classifier` (the model opened here again): each row's counterfactuals, in the slice's order. */
export async function searchSlice(slice: RecourseSlice, classifier: Classifier): Promise<Counterfactual[][]> {
  const mutables = slice.mutables.map((m): Mutable => ({ ...m, column: findColumn(slice.table, m.name)! }));
  const rows = Array.from({ length: slice.table.rowCount }, (_, i) => i);
  const states = await searchRows(classifier, slice.table, slice.scores, rows, mutables, slice.options, slice.ids);
  return states.map((s) => s.found);
}
