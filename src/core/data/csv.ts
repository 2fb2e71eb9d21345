import Papa from 'papaparse';
import { CsvError, quote } from '../errors';
import type { CategoricalColumn, Column, NumericColumn, Table } from './table';

/** Cell texts read as missing unless the caller says otherwise. */
export const DEFAULT_MISSING_VALUES: readonly string[] = ['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', '?'];

/** Options of {@link parseCsv}. */
export interface CsvOptions {
  /** File name used in messages and in the table. */
  fileName: string;
  /** Field delimiter; detected among `,` `;` tab `|` when omitted. */
  delimiter?: string;
  /** Cell texts (after trimming) that mean "missing". */
  missingValues?: readonly string[];
  /** Columns forced to a type instead of the inferred one. */
  dtypes?: Record<string, 'numeric' | 'categorical'>;
  /** Skip rows with the wrong number of fields (counted in `table.skipped`) instead of failing. */
  skipBadRows?: boolean;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const MAX_QUOTED_BAD_LINES = 3;

/**
 * A decimal number, or NaN. Fast path: Number() on text that starts like a decimal (a
 * digit, sign or dot) and holds no hex/octal/binary prefix or "Infinity"; the strict
 * pattern decides the rare doubtful cases.
 */
function parseDecimal(text: string): number {
  const first = text.charCodeAt(0);
  if (!((first >= 48 && first <= 57) || first === 43 || first === 45 || first === 46)) return Number.NaN;
  const value = Number(text);
  if (!Number.isFinite(value)) return Number.NaN;
  const second = text.charCodeAt(1);
  // "0x1A", "0b1", "0o7" parse as numbers in JavaScript but are not decimals.
  if (first === 48 && (second === 120 || second === 88 || second === 98 || second === 66 || second === 111 || second === 79)) return DECIMAL.test(text) ? value : Number.NaN;
  return value;
}

/** Trims only when needed (most cells have no surrounding spaces). */
function trimmed(raw: string): string {
  const n = raw.length;
  if (n === 0) return raw;
  const a = raw.charCodeAt(0);
  const b = raw.charCodeAt(n - 1);
  return a <= 32 || b <= 32 ? raw.trim() : raw;
}

/**
 * One column while rows arrive. Numbers go straight into a growing Float64Array as long as
 * every cell is a decimal; categorical texts are dictionary-encoded into a growing
 * Int32Array. A column that stops being numeric at row k is demoted: later rows are
 * encoded as text, and the texts of rows before k are read again in a second pass (so
 * "007" stays "007"), which is paid only by such columns.
 */
class ColumnBuilder {
  numbers = new Float64Array(1024);
  codes: Int32Array | null = null;
  dictionary = new Map<string, number>();
  numeric = true;
  /** Row at which a numeric column turned out to hold text (−1: never). */
  demotedAt = -1;
  missing = 0;
  count = 0;

  /** Longest missing-value token: longer cells skip the set lookup. */
  readonly longestMissing: number;

  constructor(readonly name: string, readonly missingValues: ReadonlySet<string>, categorical = false) {
    this.longestMissing = Math.max(0, ...[...missingValues].map((v) => v.length));
    // A column declared categorical keeps its texts from the first row ("02139" stays).
    if (categorical) this.numeric = false;
  }

  push(raw: string): void {
    const text = trimmed(raw);
    const row = this.count++;
    if (text.length <= this.longestMissing && this.missingValues.has(text)) {
      this.missing++;
      if (this.numeric) this.setNumber(row, Number.NaN);
      else this.setCode(row, -1);
      return;
    }
    if (this.numeric) {
      const value = parseDecimal(text);
      if (!Number.isNaN(value)) {
        this.setNumber(row, value);
        return;
      }
      this.numeric = false;
      this.demotedAt = row;
      this.codes = new Int32Array(Math.max(1024, this.numbers.length));
    }
    let code = this.dictionary.get(text);
    if (code === undefined) {
      code = this.dictionary.size;
      this.dictionary.set(text, code);
    }
    this.setCode(row, code);
  }

  private setNumber(row: number, value: number): void {
    if (row >= this.numbers.length) {
      const grown = new Float64Array(this.numbers.length * 2);
      grown.set(this.numbers);
      this.numbers = grown;
    }
    this.numbers[row] = value;
  }

  private setCode(row: number, code: number): void {
    if (!this.codes) this.codes = new Int32Array(Math.max(1024, row + 1));
    if (row >= this.codes.length) {
      const grown = new Int32Array(Math.max(this.codes.length * 2, row + 1));
      grown.set(this.codes);
      this.codes = grown;
    }
    this.codes[row] = code;
  }

  /** Second pass for a demoted column: the texts of the rows before it was demoted. */
  backfill(row: number, raw: string): void {
    const text = trimmed(raw);
    if (this.missingValues.has(text)) {
      this.codes![row] = -1;
      return;
    }
    let code = this.dictionary.get(text);
    if (code === undefined) {
      code = this.dictionary.size;
      this.dictionary.set(text, code);
    }
    this.codes![row] = code;
  }

  build(forced?: 'numeric' | 'categorical'): Column {
    const kind = forced ?? (this.numeric && this.count > this.missing ? 'numeric' : 'categorical');
    if (kind === 'numeric') {
      const column: NumericColumn = { kind, name: this.name, values: this.numbers.slice(0, this.count), missing: this.missing };
      return column;
    }
    if (this.numeric) {
      // An all-missing column, or one forced categorical: encode the numbers' texts.
      for (let row = 0; row < this.count; row++) {
        const value = this.numbers[row];
        this.setCode(row, Number.isNaN(value) ? -1 : this.codeOf(String(value)));
      }
    }
    const column: CategoricalColumn = {
      kind,
      name: this.name,
      codes: (this.codes ?? new Int32Array(0)).slice(0, this.count),
      dictionary: [...this.dictionary.keys()],
      missing: this.missing,
    };
    return column;
  }

  private codeOf(text: string): number {
    let code = this.dictionary.get(text);
    if (code === undefined) {
      code = this.dictionary.size;
      this.dictionary.set(text, code);
    }
    return code;
  }
}

/** The delimiter among `,` `;` tab `|` that splits the first lines most consistently. */
export function detectDelimiter(text: string): string {
  const sample = text.slice(0, 64 * 1024).split(/\r?\n/).filter((line) => line.length > 0).slice(0, 20);
  let best = ',';
  let bestScore = -1;
  for (const delimiter of [',', ';', '\t', '|']) {
    const counts = sample.map((line) => line.split(delimiter).length - 1);
    if (counts.length === 0 || counts[0] === 0) continue;
    const consistent = counts.filter((count) => count === counts[0]).length;
    const score = consistent * 1000 + counts[0];
    if (score > bestScore) {
      bestScore = score;
      best = delimiter;
    }
  }
  return best;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Reads CSV text into a columnar {@link Table}. The header row names the columns; a
 * column is numeric when every non-missing cell in the whole column is a decimal number,
 * categorical otherwise. Rows with the wrong number of fields fail the load, quoting the
 * first few by line number.
 */
export function parseCsv(text: string, options: CsvOptions): Table {
  const { fileName } = options;
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const nul = text.indexOf('\u0000');
  if (nul >= 0 && nul < 8192) {
    throw new CsvError(`${fileName}: this is a binary file, not CSV text (it holds NUL bytes from offset ${nul}). Choose the CSV export of the data.`);
  }
  if (text.trim().length === 0) {
    throw new CsvError(`${fileName}: the file is empty. A CSV needs a header row and at least one data row.`);
  }
  const delimiter = options.delimiter ?? detectDelimiter(text);
  const missingValues = new Set(options.missingValues ?? DEFAULT_MISSING_VALUES);

  let builders: ColumnBuilder[] | undefined;
  let rowCount = 0;
  let rowStart = 0;
  const badLines: string[] = [];
  let badCount = 0;

  Papa.parse<string[]>(text, {
    delimiter,
    skipEmptyLines: 'greedy',
    step: (results) => {
      const fields = results.data;
      const start = rowStart;
      rowStart = results.meta.cursor;
      if (!builders) {
        builders = readHeader(fields, fileName, missingValues, options.dtypes ?? {});
        return;
      }
      if (fields.length !== builders.length) {
        badCount++;
        if (badLines.length < MAX_QUOTED_BAD_LINES) {
          let first = start;
          while (text.charCodeAt(first) === 10 || text.charCodeAt(first) === 13) first++;
          const line = lineOf(text, first);
          badLines.push(`line ${line} has ${fields.length} field${fields.length === 1 ? '' : 's'}`);
        }
        return;
      }
      for (let i = 0; i < fields.length; i++) builders[i].push(fields[i]);
      rowCount++;
    },
  });

  if (!builders) throw new CsvError(`${fileName}: the file is empty. A CSV needs a header row and at least one data row.`);
  if (badCount > 0 && !options.skipBadRows) {
    throw new CsvError(
      `${fileName}: ${badCount} row${badCount === 1 ? '' : 's'} with the wrong number of fields (the header has ${builders.length}): ${badLines.join('; ')}${badCount > badLines.length ? '; …' : ''}. Quote fields that contain the delimiter ${quote(delimiter)}.`,
    );
  }
  if (rowCount === 0) {
    throw new CsvError(`${fileName}: the file has a header row but no data rows.`);
  }
  const demoted = builders.filter((builder) => builder.demotedAt > 0);
  if (demoted.length > 0) {
    // Second pass, only over the rows before each demotion, for the demoted columns' texts.
    const last = Math.max(...demoted.map((b) => b.demotedAt));
    const indexes = demoted.map((b) => builders!.indexOf(b));
    let row = -1;
    Papa.parse<string[]>(text, {
      delimiter,
      skipEmptyLines: 'greedy',
      step: (results, parser) => {
        // Rows skipped in the first pass (wrong field count) are skipped here too.
        if (row >= 0 && results.data.length !== builders!.length) return;
        if (row >= 0) {
          demoted.forEach((builder, k) => {
            if (row < builder.demotedAt) builder.backfill(row, results.data[indexes[k]]);
          });
        }
        row++;
        if (row >= last) parser.abort();
      },
    });
  }
  const dtypes = options.dtypes ?? {};
  for (const name of Object.keys(dtypes)) {
    if (!builders.some((builder) => builder.name === name)) {
      throw new CsvError(`${fileName}: data.dtypes names column ${quote(name)}, which the file does not have.`);
    }
  }
  const columns = builders.map((builder) => {
    const forced = dtypes[builder.name];
    if (forced === 'numeric' && !builder.numeric) {
      const bad = [...builder.dictionary.keys()].find((value) => Number.isNaN(parseDecimal(value))) ?? '';
      throw new CsvError(`${fileName}, column ${quote(builder.name)}: declared numeric but holds the value ${quote(bad)}. Fix the value or declare the column categorical.`);
    }
    return builder.build(forced);
  });
  return { source: fileName, rowCount, columns, ...(badCount > 0 ? { skipped: { rows: badCount, examples: badLines } } : {}) };
}

function readHeader(fields: string[], fileName: string, missingValues: ReadonlySet<string>, dtypes: Record<string, string>): ColumnBuilder[] {
  const seen = new Map<string, number>();
  return fields.map((raw, index) => {
    const name = raw.trim();
    if (name === '') {
      throw new CsvError(`${fileName}: column ${index + 1} of the header has no name. Give every column a name.`);
    }
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      throw new CsvError(`${fileName}: the column name ${quote(name)} appears twice (columns ${earlier + 1} and ${index + 1}). Rename one of them.`);
    }
    seen.set(name, index);
    return new ColumnBuilder(name, missingValues, dtypes[name] === 'categorical');
  });
}
