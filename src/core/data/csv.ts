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
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const MAX_QUOTED_BAD_LINES = 3;

/**
 * One column while rows arrive: numbers are kept as long as every cell parses as one,
 * and the dictionary of distinct texts alongside, so that a column which turns out not
 * to be numeric keeps the texts exactly as written ("007" stays "007").
 */
class ColumnBuilder {
  numbers: number[] = [];
  codes: number[] = [];
  dictionary = new Map<string, number>();
  numeric = true;
  missing = 0;

  constructor(readonly name: string, readonly missingValues: ReadonlySet<string>) {}

  push(raw: string): void {
    const text = raw.trim();
    if (this.missingValues.has(text)) {
      this.missing++;
      this.numbers.push(Number.NaN);
      this.codes.push(-1);
      return;
    }
    if (this.numeric) {
      if (DECIMAL.test(text)) this.numbers.push(Number(text));
      else this.numeric = false;
    }
    let code = this.dictionary.get(text);
    if (code === undefined) {
      code = this.dictionary.size;
      this.dictionary.set(text, code);
    }
    this.codes.push(code);
  }

  build(forced?: 'numeric' | 'categorical'): Column {
    const kind = forced ?? (this.numeric && this.dictionary.size > 0 ? 'numeric' : 'categorical');
    if (kind === 'numeric') {
      const column: NumericColumn = { kind, name: this.name, values: Float64Array.from(this.numbers), missing: this.missing };
      return column;
    }
    const column: CategoricalColumn = {
      kind,
      name: this.name,
      codes: Int32Array.from(this.codes),
      dictionary: [...this.dictionary.keys()],
      missing: this.missing,
    };
    return column;
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
        builders = readHeader(fields, fileName, missingValues);
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
  if (badCount > 0) {
    throw new CsvError(
      `${fileName}: ${badCount} row${badCount === 1 ? '' : 's'} with the wrong number of fields (the header has ${builders.length}): ${badLines.join('; ')}${badCount > badLines.length ? '; …' : ''}. Quote fields that contain the delimiter ${quote(delimiter)}.`,
    );
  }
  if (rowCount === 0) {
    throw new CsvError(`${fileName}: the file has a header row but no data rows.`);
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
      const bad = [...builder.dictionary.keys()].find((value) => !DECIMAL.test(value)) ?? '';
      throw new CsvError(`${fileName}, column ${quote(builder.name)}: declared numeric but holds the value ${quote(bad)}. Fix the value or declare the column categorical.`);
    }
    return builder.build(forced);
  });
  return { source: fileName, rowCount, columns };
}

function readHeader(fields: string[], fileName: string, missingValues: ReadonlySet<string>): ColumnBuilder[] {
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
    return new ColumnBuilder(name, missingValues);
  });
}
