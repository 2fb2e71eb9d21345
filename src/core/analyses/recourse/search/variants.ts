/**
 * Scoring versions of rows: a row with some of its changeable columns set to other values,
 * scored by the model in calls of bounded size, kept cell texts following unchanged cells.
 */
import { keptTextsOf, spelledTexts, type Column, type Table } from '../../../data/table';
import type { Classifier } from '../../../model/classifier';
import type { Mutable } from './candidates';
import { RECOURSE_DEFAULTS, type RecourseOptions } from './settings';

/** Mutable column index → value (numeric) or code (categorical). */
export type Assignment = Map<number, number>;

/**
 * Versions of rows to score, as parallel lists (the search makes millions of them: no object
 * per version). Version i is row `rows[i]` with `assignments[i]` (shared with the row's
 * search state, never changed once given here), less its column `without[i]` (pruning; −1:
 * none), plus one more change: column `extraColumn[i]` (−1: none) to `extraValue[i]`.
 */
export class Variants {
  rows = new Int32Array(1024);
  assignments: Assignment[] = [];
  extraColumn = new Int32Array(1024);
  extraValue = new Float64Array(1024);
  without = new Int32Array(1024);
  length = 0;

  add(row: number, assignment: Assignment, extraColumn = -1, extraValue = 0, without = -1): void {
    const i = this.length++;
    if (i === this.rows.length) this.grow();
    this.rows[i] = row;
    this.assignments[i] = assignment;
    this.extraColumn[i] = extraColumn;
    this.extraValue[i] = extraValue;
    this.without[i] = without;
  }

  /** Drops the versions from `length` on (a row's versions that went over its budget). */
  truncate(length: number): void {
    this.length = length;
  }

  private grow(): void {
    const widen = <T extends Int32Array | Float64Array>(from: T, to: T): T => (to.set(from), to);
    const size = this.rows.length * 2;
    this.rows = widen(this.rows, new Int32Array(size));
    this.extraColumn = widen(this.extraColumn, new Int32Array(size));
    this.extraValue = widen(this.extraValue, new Float64Array(size));
    this.without = widen(this.without, new Int32Array(size));
  }
}

/** Scores versions of rows, in calls of at most `options.callRows` rows. Kept cell texts follow their row where the cell is unchanged. */
export async function scoreVariants(classifier: Classifier, table: Table, mutables: Mutable[], variants: Variants, options: RecourseOptions): Promise<Float64Array> {
  const out = new Float64Array(variants.length);
  const byName = new Map(mutables.map((m, k) => [m.name, k]));
  const callRows = options.callRows ?? RECOURSE_DEFAULTS.callRows;
  const { rows, assignments, extraColumn, extraValue, without } = variants;
  // One assignment's entries, read once for the run of versions that share it (a row's).
  const keys = new Int32Array(mutables.length);
  const values = new Float64Array(mutables.length);
  for (let start = 0; start < variants.length; start += callRows) {
    options.signal?.throwIfAborted();
    const n = Math.min(callRows, variants.length - start);
    // Each version's row in the table (the cells not changed, and their kept texts).
    const sourceRows = new Int32Array(n);
    for (let i = 0; i < n; i++) sourceRows[i] = rows[start + i];
    // Every column gathered from the versions' rows; then each version's changes written over
    // its changeable columns, a cell marked changed where the value differs.
    const cells = table.columns.map((column) => {
      const base = column.kind === 'numeric' ? column.values : column.codes;
      const gathered = column.kind === 'numeric' ? new Float64Array(n) : new Int32Array(n);
      for (let i = 0; i < n; i++) gathered[i] = base[sourceRows[i]];
      return gathered;
    });
    const mutableCells = mutables.map((m) => cells[table.columns.findIndex((c) => c.name === m.name)]);
    const changed = mutables.map(() => new Uint8Array(n));
    const set = (k: number, i: number, value: number) => {
      const column = mutableCells[k];
      if (column[i] !== value) {
        column[i] = value;
        changed[k][i] = 1;
      }
    };
    let shared: Assignment | null = null;
    let entries = 0;
    for (let i = 0; i < n; i++) {
      const v = start + i;
      if (assignments[v] !== shared) {
        shared = assignments[v];
        entries = 0;
        for (const [k, value] of shared) {
          keys[entries] = k;
          values[entries++] = value;
        }
      }
      const skip = without[v];
      const extra = extraColumn[v];
      for (let e = 0; e < entries; e++) if (keys[e] !== skip && keys[e] !== extra) set(keys[e], i, values[e]);
      if (extra >= 0) set(extra, i, extraValue[v]);
    }
    const noneChanged = new Uint8Array(n);
    const columns = table.columns.map((column, c): Column => {
      const k = byName.get(column.name);
      const cellsChanged = k === undefined ? noneChanged : changed[k];
      let missing = 0;
      if (column.kind === 'numeric') {
        const values = cells[c] as Float64Array;
        for (let i = 0; i < n; i++) if (values[i] !== values[i]) missing++;
        return withKeptTexts({ ...column, values, missing, texts: undefined }, column, sourceRows, cellsChanged, k === undefined ? undefined : mutables[k].spelling);
      }
      const codes = cells[c] as Int32Array;
      for (let i = 0; i < n; i++) if (codes[i] < 0) missing++;
      return withKeptTexts({ ...column, codes, missing, texts: undefined }, column, sourceRows, cellsChanged);
    });
    out.set(await classifier.score({ source: table.source, rowCount: n, columns }, { features: options.features }), start);
  }
  return out;
}

/**
 * Adds the kept texts of unchanged cells (computed after the values, which mark the changed
 * cells) and, for a changed number the file writes otherwise ("06"), that text (`spelling`).
 */
function withKeptTexts(column: Column, source: Column, sourceRows: Int32Array, changed: Uint8Array, spelling?: Map<number, string>): Column {
  const texts = column.kind === 'numeric' ? spelledTexts(source, sourceRows, changed, column.values, spelling) : keptTextsOf(source, sourceRows, changed);
  return texts ? { ...column, texts } : column;
}
