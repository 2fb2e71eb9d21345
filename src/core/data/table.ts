import { AuditConfigError, closeMatches, quote } from '../base/errors';
import { allRows } from '../base/rows';

export { allRows };

/**
 * The in-memory table: named typed-array columns, never row objects.
 * A group or slice of rows is a Uint32Array of row indices into these columns.
 */

/** What `data.dtypes` may declare a column to be. */
export type DeclaredType = 'numeric' | 'categorical' | 'boolean' | 'date';

/** A column of numbers; a missing value is NaN. */
export interface NumericColumn {
  kind: 'numeric';
  name: string;
  /** A type declared in `data.dtypes` (and checked against every value), over the one read from the values. */
  declared?: 'boolean';
  /** The Arrow/Parquet type the numbers were stored as where their texts differ from a double's: a boolean is "true"/"false", a float32 its own shortest decimal. */
  stored?: 'boolean' | 'float32';
  values: Float64Array;
  /** Number of missing cells (NaN). */
  missing: number;
  /** The file's own text of cells whose number does not give it back ("007", "2.50", a missing-value token). */
  texts?: KeptTexts;
}

/** A column of categories: codes index `dictionary`; a missing value is code -1. */
export interface CategoricalColumn {
  kind: 'categorical';
  name: string;
  /** A type declared in `data.dtypes` (and checked against every value), over the one read from the values. */
  declared?: 'boolean' | 'date';
  codes: Int32Array;
  dictionary: string[];
  /** Number of missing cells (code -1). */
  missing: number;
  /** The file's own text of cells their code does not give back (a missing-value token, surrounding spaces). */
  texts?: KeptTexts;
}

/**
 * Cell texts kept beside a column's values, sparse: only cells whose stored value does not
 * give their text back byte for byte. `rows` ascend; `codes[k]` indexes `dictionary` (the
 * few distinct texts are stored once), or, negative in a numeric column, says the text is
 * the cell's number to −code decimals (`toFixed`: "12.500", without a string per cell).
 * A model input that takes text gets these texts.
 */
export interface KeptTexts {
  rows: Int32Array;
  codes: Int32Array;
  dictionary: string[];
}

/** One column of a {@link Table}. */
export type Column = NumericColumn | CategoricalColumn;

/** A columnar table read from one file. */
export interface Table {
  /** The file the table was read from, for error messages. */
  source: string;
  rowCount: number;
  columns: Column[];
  /** Rows skipped while reading (wrong number of fields), when skipping was asked for. */
  skipped?: { rows: number; examples: string[] };
  /** The file's row (from 0) of each row, when the table holds some of the file's rows (a sample): for messages. */
  rowsOf?: Uint32Array;
  /** A CSV file's field delimiter (`;` is a European export's, whose `.` may group thousands). */
  delimiter?: string;
}

/** The data row of the file (from 1, the header not counted) that row `row` of the table was read from. */
export function fileRow(table: Table, row: number): number {
  return (table.rowsOf ? table.rowsOf[row] : row) + 1;
}

/** What a column's values are, beyond how they are stored (numbers or category codes). */
export type ColumnType = 'boolean' | 'date' | 'integer' | 'decimal' | 'text';

const BOOLEAN_PAIRS = [['false', 'true'], ['no', 'yes'], ['f', 't'], ['n', 'y']];
/** The texts a column declared boolean may hold (any case). */
export const BOOLEAN_TEXTS: ReadonlySet<string> = new Set(['true', 'false', 'yes', 'no', 't', 'f', 'y', 'n', '1', '0']);
/** ISO 8601 dates, optionally with a time and a zone (the only date form read: 01/02/2024 is ambiguous). */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

export function isIsoDate(text: string): boolean {
  const match = ISO_DATE.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > days) return false;
  return match[4] === undefined || (Number(match[4]) < 24 && Number(match[5]) < 60 && (match[6] === undefined || Number(match[6]) < 60));
}

/**
 * The column's type, read from every present value: boolean (only 0/1, or one of the pairs
 * true/false, yes/no, t/f, y/n in any case), date (every value an ISO 8601 date or date-time,
 * or every value a date in one unambiguous day/month/year order, see {@link dateOrder}),
 * integer or decimal (numbers), text (other categories).
 */
export function columnType(column: Column): ColumnType {
  if (column.declared) return column.declared;
  if (column.kind === 'numeric') {
    let integral = true;
    let binary = true;
    for (let i = 0; i < column.values.length; i++) {
      const v = column.values[i];
      if (Number.isNaN(v)) continue;
      if (v !== 0 && v !== 1) binary = false;
      if (!Number.isInteger(v)) {
        integral = false;
        break;
      }
    }
    if (binary && integral && column.missing < column.values.length) return 'boolean';
    return integral ? 'integer' : 'decimal';
  }
  const used = new Uint8Array(column.dictionary.length);
  for (let i = 0; i < column.codes.length; i++) if (column.codes[i] >= 0) used[column.codes[i]] = 1;
  const present = column.dictionary.filter((_, code) => used[code]);
  if (present.length === 0) return 'text';
  const lower = new Set(present.map((v) => v.toLowerCase()));
  if (BOOLEAN_PAIRS.some((pair) => [...lower].every((v) => pair.includes(v)))) return 'boolean';
  if (present.every(isIsoDate)) return 'date';
  const order = dateOrder(present);
  if (order !== null && order !== 'ambiguous') return 'date';
  return 'text';
}

/** How a column writes its dates when not in ISO 8601: 31/01/2024 (day first), 01/31/2024 (month first) or 2024/01/31. */
export type DateOrder = 'DD/MM/YYYY' | 'MM/DD/YYYY' | 'YYYY/MM/DD';

/** A date with `/`, `.` or `-` between its parts, the year written in full, optionally a time. */
const PARTS_DATE = /^(\d{1,4})([/.-])(\d{1,2})\2(\d{1,4})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/**
 * The order every value of a column writes its dates in, read from all of them: day first
 * when some first part is over 12, month first when some second part is, year first when
 * the year leads. `ambiguous` when every value fits both day-first and month-first (e.g.
 * only 01/02/2024-like dates); null when some value is no such date.
 */
export function dateOrder(values: readonly string[]): DateOrder | 'ambiguous' | null {
  if (values.length === 0) return null;
  let yearFirst = 0;
  let dayFirstPossible = true;
  let monthFirstPossible = true;
  for (const value of values) {
    const match = PARTS_DATE.exec(value);
    if (!match) return null;
    const [a, b, c] = [match[1], match[3], match[4]];
    if (a.length === 4) {
      yearFirst++;
      if (!validDate(Number(a), Number(b), Number(c))) return null;
      continue;
    }
    if (c.length !== 4 || a.length > 2) return null;
    if (!validDate(Number(c), Number(b), Number(a))) dayFirstPossible = false;
    if (!validDate(Number(c), Number(a), Number(b))) monthFirstPossible = false;
  }
  if (yearFirst === values.length) return 'YYYY/MM/DD';
  if (yearFirst > 0) return null;
  if (dayFirstPossible && monthFirstPossible) return 'ambiguous';
  if (dayFirstPossible) return 'DD/MM/YYYY';
  if (monthFirstPossible) return 'MM/DD/YYYY';
  return null;
}

/** A date written in `order` as ISO 8601 (YYYY-MM-DD, with its time when it has one), or null. */
export function isoFromOrder(value: string, order: DateOrder): string | null {
  const match = PARTS_DATE.exec(value);
  if (!match) return null;
  const [a, b, c] = [match[1], match[3], match[4]];
  const [year, month, day] = order === 'YYYY/MM/DD' ? [a, b, c] : order === 'DD/MM/YYYY' ? [c, b, a] : [c, a, b];
  const date = `${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
  return match[5] === undefined ? date : `${date}T${match[5]}:${match[6]}${match[7] === undefined ? '' : `:${match[7]}`}`;
}

function validDate(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The column called `name`, or undefined. */
export function findColumn(table: Table, name: string): Column | undefined {
  return table.columns.find((column) => column.name === name);
}

/** The text of one cell as it would be written back to a CSV ('' when missing). */
export function cellText(column: Column, row: number): string {
  if (column.kind === 'numeric') {
    const value = column.values[row];
    return Number.isNaN(value) ? '' : numberText(value, column.stored);
  }
  const code = column.codes[row];
  return code < 0 ? '' : column.dictionary[code];
}

/** Where row `row`'s entry is in kept texts (−1: none). */
function keptIndex(texts: KeptTexts, row: number): number {
  let lo = 0;
  let hi = texts.rows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = texts.rows[mid];
    if (at === row) return mid;
    if (at < row) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The text kept for a cell (see {@link KeptTexts}), or undefined when its value gives it back. */
export function keptText(column: Column, row: number): string | undefined {
  const texts = column.texts;
  if (!texts) return undefined;
  const k = keptIndex(texts, row);
  if (k < 0) return undefined;
  const code = texts.codes[k];
  return code >= 0 ? texts.dictionary[code] : (column as NumericColumn).values[row].toFixed(-code);
}

/**
 * The kept texts of `rows` of a column, renumbered as a new column's rows 0, 1, … whose
 * values are the column's at `rows` (codes carried as they are; with `skip`, the new rows
 * it marks get none: their values changed).
 */
export function keptTextsOf(column: Column, rows: ArrayLike<number>, skip?: Uint8Array): KeptTexts | undefined {
  const texts = column.texts;
  if (!texts) return undefined;
  const kept: number[] = [];
  const codes: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    if (skip?.[i]) continue;
    const k = keptIndex(texts, rows[i]);
    if (k < 0) continue;
    kept.push(i);
    codes.push(texts.codes[k]);
  }
  return kept.length ? { rows: Int32Array.from(kept), codes: Int32Array.from(codes), dictionary: texts.dictionary } : undefined;
}

/**
 * The texts of a numeric column made from `source`'s rows `rows` with some cells changed
 * (`changed`) to `values`: an unchanged cell keeps the text it was read with, a changed one
 * takes its new value's spelling in the file ({@link writtenAs}, given as `spelling`) where
 * there is one.
 */
export function spelledTexts(source: Column, rows: ArrayLike<number>, changed: Uint8Array, values: Float64Array, spelling?: Map<number, string>): KeptTexts | undefined {
  const unchanged = keptTextsOf(source, rows, changed);
  if (!spelling?.size) return unchanged;
  // Both lists in row order: the unchanged cells' texts and the changed cells' spellings.
  const dictionary = [...(unchanged?.dictionary ?? [])];
  const added = new Map<string, number>();
  const kept: number[] = [];
  const codes: number[] = [];
  let u = 0;
  for (let i = 0; i < changed.length; i++) {
    if (!changed[i]) {
      if (unchanged && u < unchanged.rows.length && unchanged.rows[u] === i) {
        kept.push(i);
        codes.push(unchanged.codes[u++]);
      }
      continue;
    }
    const text = spelling.get(values[i]);
    if (text === undefined) continue;
    let code = added.get(text);
    if (code === undefined) added.set(text, (code = dictionary.push(text) - 1));
    kept.push(i);
    codes.push(code);
  }
  return kept.length ? { rows: Int32Array.from(kept), codes: Int32Array.from(codes), dictionary } : undefined;
}

/**
 * A copy of `column` whose `rows` cells all hold `value` (a present number, or a code of its
 * dictionary): none missing, none keeping the text an old cell was read with — but a number
 * the file writes otherwise ("06", {@link writtenAs}) keeps that spelling in every cell.
 */
export function filledColumn(column: Column, value: number, rows: number): Column {
  if (column.kind === 'numeric') {
    // A number the file writes otherwise ("06") is written so in every cell: the text a model that takes the column as text is fed.
    const text = column.texts ? writtenAs(column, [value]).get(value) : undefined;
    let texts: KeptTexts | undefined;
    if (text !== undefined) {
      const all = new Int32Array(rows);
      for (let i = 0; i < rows; i++) all[i] = i;
      texts = { rows: all, codes: new Int32Array(rows), dictionary: [text] };
    }
    return { ...column, values: new Float64Array(rows).fill(value), missing: 0, texts };
  }
  return { ...column, codes: new Int32Array(rows).fill(value), missing: 0, texts: undefined };
}

/**
 * How a numeric column's file writes each of `values`: the most frequent text among the rows
 * holding it (ties: the first met, surrounding spaces dropped), kept only where it is not
 * `String(value)` — a postal zone written "06", a price "2.50". A value no row holds is
 * left out (it is written `String(value)`).
 */
export function writtenAs(column: NumericColumn, values: Iterable<number>): Map<number, string> {
  const out = new Map<number, string>();
  if (!column.texts) return out;
  const wanted = new Set(values);
  const counts = new Map<number, Map<string, number>>();
  for (let row = 0; row < column.values.length; row++) {
    const value = column.values[row];
    if (!wanted.has(value)) continue;
    const text = (keptText(column, row) ?? String(value)).trim();
    let byText = counts.get(value);
    if (!byText) counts.set(value, (byText = new Map()));
    byText.set(text, (byText.get(text) ?? 0) + 1);
  }
  for (const [value, byText] of counts) {
    let best = '';
    let most = 0;
    for (const [text, n] of byText) if (n > most) [best, most] = [text, n];
    if (best !== String(value)) out.set(value, best);
  }
  return out;
}

/** Whether a cell is missing (NaN, or code −1). */
export function isMissingCell(column: Column, row: number): boolean {
  return column.kind === 'numeric' ? Number.isNaN(column.values[row]) : column.codes[row] < 0;
}

/**
 * A cell's text as the file wrote it: the kept text ("007", "2.50", " Private", "NA"), else
 * the category or the number's own text; '' for an empty cell.
 */
export function sourceText(column: Column, row: number): string {
  const kept = keptText(column, row);
  if (kept !== undefined) return kept;
  return cellText(column, row);
}

/**
 * A present cell as the file wrote it, without surrounding spaces ("01", "2.50", where
 * {@link cellText} spells the stored number, "1", "2.5"), '' for a missing one: what reason
 * codes, recourse and the row explorer show, and what an edit is compared with.
 */
export function shownText(column: Column, row: number): string {
  return isMissingCell(column, row) ? '' : sourceText(column, row).trim();
}


/** A new table holding only `rows` (in that order), every column gathered. */
export function takeRows(table: Table, rows: Uint32Array): Table {
  const columns = table.columns.map((column): Column => {
    let missing = 0;
    const texts = keptTextsOf(column, rows);
    if (column.kind === 'numeric') {
      const values = new Float64Array(rows.length);
      for (let i = 0; i < rows.length; i++) if (Number.isNaN((values[i] = column.values[rows[i]]))) missing++;
      return { ...column, values, missing, texts };
    }
    const codes = new Int32Array(rows.length);
    for (let i = 0; i < rows.length; i++) if ((codes[i] = column.codes[rows[i]]) < 0) missing++;
    return { ...column, codes, missing, texts };
  });
  const taken: Table = { source: table.source, rowCount: rows.length, columns, ...(table.delimiter ? { delimiter: table.delimiter } : {}) };
  if (table.rowsOf) taken.rowsOf = Uint32Array.from(rows, (row) => table.rowsOf![row]);
  return taken;
}

/**
 * The column called `name`, or an {@link AuditConfigError} naming the file, the role the
 * column was wanted for, the close matches and the fix.
 */
export function requireColumn(table: Table, name: string, role: string, fix = ''): Column {
  const column = findColumn(table, name);
  if (column) return column;
  const close = closeMatches(name, table.columns.map((c) => c.name));
  throw new AuditConfigError(`${table.source}: no ${role} column ${quote(name)}${close.length ? ` (close matches: ${close.join(', ')})` : ''}.${fix ? ` ${fix}` : ''}`);
}

/**
 * The values that are not missing, in their order: a plain loop (TypedArray `filter()` with
 * a callback took ~250 ms per million values in Node 20).
 */
export function presentValues(values: Float64Array): Float64Array {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) count++;
  const present = new Float64Array(count);
  for (let i = 0, k = 0; i < values.length; i++) if (!Number.isNaN(values[i])) present[k++] = values[i];
  return present;
}

/** A number's text, as a CSV export of its typed file writes it: a boolean's "true"/"false", a float32's shortest decimal ("0.1", not 0.10000000149011612), a double's own. */
export function numberText(value: number, stored: NumericColumn['stored']): string {
  if (stored === 'boolean') return value === 1 ? 'true' : 'false';
  if (stored === 'float32' && Number.isFinite(value)) {
    for (let digits = 1; digits <= 9; digits++) {
      const shorter = Number(value.toPrecision(digits));
      if (Math.fround(shorter) === value) return String(shorter);
    }
  }
  return String(value);
}
