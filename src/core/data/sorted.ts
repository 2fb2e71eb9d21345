/**
 * Numeric columns' present values in ascending order, sorted once per column and shared:
 * the data profile's quartiles, the stored decile bins, drift's KS and Wasserstein and
 * recourse's percentiles all read the same sort; a host's threads may sort them ahead.
 */
import { sortPresent, type SortRunner } from '../base/order';
import type { Table } from './table';

const sortedCache = new WeakMap<Float64Array, Float64Array>();

/** The values of a table's numeric columns. */
export function numericValues(table: Table): Float64Array[] {
  const out: Float64Array[] = [];
  for (const column of table.columns) if (column.kind === 'numeric') out.push(column.values);
  return out;
}

/** Below this many values a column is sorted where it is needed: a copy to a thread and back costs more than the sort. */
export const SORT_AHEAD_MIN_VALUES = 50_000;

/**
 * Sorts the present values of large numeric columns on `runner` (a host's threads), ahead
 * of the drift and the profile that read them through {@link sortedPresent}: the same
 * arrays as sorting here (`sortPresent`), cached the same way. Without a runner, nothing:
 * each column is sorted when first read.
 */
export async function sortAhead(columns: Float64Array[], runner: SortRunner | undefined, signal?: AbortSignal): Promise<void> {
  if (!runner) return;
  const wanted = [...new Set(columns)].filter((values) => values.length >= SORT_AHEAD_MIN_VALUES && !sortedCache.has(values));
  // One column alone gains nothing: this thread would wait while one other sorts it.
  if (wanted.length < 2) return;
  const sorted = await runner(wanted, signal);
  wanted.forEach((values, k) => sortedCache.set(values, sorted[k]));
}

/**
 * The non-missing values of a numeric column, ascending (−0 before +0, as the built-in
 * sort). Cached per values array: the profile's quartiles, the stored decile bins, drift's
 * KS and Wasserstein and recourse's percentiles read the same sort, once per column.
 */
export function sortedPresent(values: Float64Array): Float64Array {
  let sorted = sortedCache.get(values);
  if (!sorted) {
    // A radix sort of the values themselves (order.ts): ~3× the built-in typed-array sort
    // on a million values, and no row order to carry and gather through.
    sorted = sortPresent(values);
    sortedCache.set(values, sorted);
  }
  return sorted;
}
