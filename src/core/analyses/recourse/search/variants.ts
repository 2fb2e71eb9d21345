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

/** One version of a row to score: the row with an assignment, plus optionally one more change. */
export interface Variant {
  row: number;
  assignment: Assignment;
  extra?: [number, number];
  /** The assignment's key to leave out (pruning). */
  without?: number;
}

/** Scores versions of rows, in calls of at most `options.callRows` rows. Kept cell texts follow their row where the cell is unchanged. */
export async function scoreVariants(classifier: Classifier, table: Table, mutables: Mutable[], variants: Variant[], options: RecourseOptions): Promise<Float64Array> {
  const out = new Float64Array(variants.length);
  const byName = new Map(mutables.map((m, k) => [m.name, k]));
  const callRows = options.callRows ?? RECOURSE_DEFAULTS.callRows;
  for (let start = 0; start < variants.length; start += callRows) {
    options.signal?.throwIfAborted();
    const batch = variants.slice(start, start + callRows);
    const n = batch.length;
    // Each variant's row in the table, for the kept texts (a plain loop: Int32Array.from with a
    // callback costs ten times as much in Node 20, and this ran once per column).
    const sourceRows = new Int32Array(n);
    for (let i = 0; i < n; i++) sourceRows[i] = batch[i].row;
    const columns = table.columns.map((column): Column => {
      const k = byName.get(column.name);
      const changed = new Uint8Array(n);
      const valueOf = (i: number, base: number): number => {
        const v = batch[i];
        if (k === undefined) return base;
        let value = base;
        if (v.extra && v.extra[0] === k) value = v.extra[1];
        else if (v.without !== k && v.assignment.has(k)) value = v.assignment.get(k)!;
        if (value !== base) changed[i] = 1;
        return value;
      };
      if (column.kind === 'numeric') {
        const values = new Float64Array(n);
        let missing = 0;
        for (let i = 0; i < n; i++) if (Number.isNaN((values[i] = valueOf(i, column.values[batch[i].row])))) missing++;
        return withKeptTexts({ ...column, values, missing, texts: undefined }, column, sourceRows, changed, k === undefined ? undefined : mutables[k].spelling);
      }
      const codes = new Int32Array(n);
      let missing = 0;
      for (let i = 0; i < n; i++) if ((codes[i] = valueOf(i, column.codes[batch[i].row])) < 0) missing++;
      return withKeptTexts({ ...column, codes, missing, texts: undefined }, column, sourceRows, changed);
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
