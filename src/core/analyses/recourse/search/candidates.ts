/**
 * What the search may try for each changeable column: its candidate values (every 5th
 * percentile of a number, the allowed categories), what a change costs, and whether a change
 * is allowed for a row (missing values and monotone directions).
 */
import { findColumn, writtenAs, type Column, type Table } from '../../../data/table';
import { sortedPresent } from '../../../data/sorted';
import type { ColumnRule } from './column-rules';
import { percentile, quantile } from './percentiles';
import type { RecourseOptions } from './settings';

/** A column the search may change, with its candidates and cost weight. */
export interface Mutable {
  name: string;
  column: Column;
  /** Candidate values (numeric) or codes (categorical). */
  candidates: number[];
  /** The column's sorted present values (numeric), for percentiles. */
  sorted?: Float64Array;
  /**
   * Instead of `sorted` (a search on a pool's thread, which is not sent the whole column): the
   * percentile of every value the search can ask for — the candidates and the searched rows' own.
   */
  percentiles?: Map<number, number>;
  /**
   * A numeric column read from texts its numbers do not give back ("04", "2.50"): each
   * candidate value's text as the file writes it, where that is not `String(value)` — what a
   * model that takes text is fed for a changed cell, and what the report shows.
   */
  spelling?: Map<number, string>;
  weight: number;
  monotone?: 'increase_only' | 'decrease_only';
}

/** The columns whose rule lets them change, each with its candidate values or codes and its weight. */
export function mutableColumns(table: Table, rules: ColumnRule[], options: RecourseOptions): Mutable[] {
  const out: Mutable[] = [];
  for (const rule of rules) {
    if (rule.changes === 'never') continue;
    const column = findColumn(table, rule.column)!;
    const weight = options.costs?.[rule.column] ?? 1;
    if (column.kind === 'numeric') {
      const sorted = sortedPresent(column.values);
      // Candidate values: the observed values at every 5th percentile from the 5th to the 95th.
      const grid = new Set<number>();
      for (let q = 1; q <= 19; q++) grid.add(quantile(sorted, q / 20));
      const candidates = [...grid].sort((a, b) => a - b);
      out.push({ name: rule.column, column, candidates, sorted, weight, monotone: options.monotone[rule.column], ...(column.texts ? { spelling: writtenAs(column, candidates) } : {}) });
    } else {
      out.push({ name: rule.column, column, candidates: rule.values!.map((v) => column.dictionary.indexOf(v)), weight });
    }
  }
  return out;
}

/**
 * The cost of one change: its weight times how far it moves the row's percentile in the
 * column (numbers), or its weight (a category). Candidate percentiles are computed once, and
 * a row's own percentile once per run of calls for that row and column (the search asks for
 * every candidate of a row in turn; each was a binary search over the column before).
 */
export function changeCosts(mutables: Mutable[]): { change: (k: number, row: number, value: number) => number } {
  const candidatePercentiles = mutables.map((m) => (m.column.kind === 'numeric' ? new Map(m.candidates.map((v) => [v, percentileIn(m, v)])) : null));
  const lastRow = new Int32Array(mutables.length).fill(-1);
  const lastPercentile = new Float64Array(mutables.length);
  return {
    change(k, row, value) {
      const m = mutables[k];
      if (m.column.kind !== 'numeric') return m.weight;
      const to = candidatePercentiles[k]!.get(value) ?? percentileIn(m, value);
      if (lastRow[k] !== row) {
        lastRow[k] = row;
        lastPercentile[k] = percentileIn(m, m.column.values[row]);
      }
      return m.weight * Math.abs(to - lastPercentile[k]);
    },
  };
}

/** Whether `value` is a change the search may make to `row`'s value in column `m`: a different, present value, in the monotone direction. */
export function allowed(m: Mutable, row: number, value: number): boolean {
  if (m.column.kind !== 'numeric') return m.column.codes[row] >= 0 && value !== m.column.codes[row];
  const current = m.column.values[row];
  // A missing value is not changed: how far a change moves it cannot be said.
  if (Number.isNaN(current) || value === current) return false;
  if (m.monotone === 'increase_only' && !(value > current)) return false;
  if (m.monotone === 'decrease_only' && !(value < current)) return false;
  return true;
}

/**
 * The mid-rank percentile of `value` in numeric column `m`: from its sorted values, or from
 * the percentiles it was sent with (a value it was not sent is an error, never a guess).
 */
export function percentileIn(m: Mutable, value: number): number {
  if (m.sorted) return percentile(m.sorted, value);
  const known = m.percentiles?.get(value);
  if (known === undefined) throw new Error(`recourse: column ${m.name} was sent no percentile of ${value}`);
  return known;
}
