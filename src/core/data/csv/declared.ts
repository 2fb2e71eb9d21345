/**
 * Declared column types (data.dtypes): the table's columns built as declared, a column
 * declared numeric, boolean or date checked to hold only such values and refused otherwise,
 * quoting the first that is not.
 */
import { CsvError, quote } from '../../base/errors';
import { BOOLEAN_TEXTS, isIsoDate, numberText, type CategoricalColumn, type Column, type DeclaredType, type NumericColumn, type Table } from '../table';
import type { ColumnBuilder } from './columns';
import { KeptTextsBuilder } from './kept';
import { parseDecimal, whyText, wholeBeyondDouble } from './numbers';
import { kindText, piiKindOf } from '../pii';

/** A value quoted in a message, or what it is when it looks like personal data (a refusal goes to terminals and CI logs). */
const shown = (value: string) => {
  const kind = piiKindOf(value.trim());
  return kind ? `a value that looks like personal data (${kindText(kind)}, not shown)` : `the value ${quote(value)}`;
};

/** Throws a {@link CsvError} quoting the first value of a column that is not of its declared type. */
export function checkDeclared(column: Column, fileName: string, type: string, fits: (text: string) => boolean, form: string): void {
  let bad: string | undefined;
  if (column.kind === 'numeric') {
    for (const v of column.values) if (!Number.isNaN(v) && !fits(String(v))) {
      bad = String(v);
      break;
    }
  } else {
    const used = new Uint8Array(column.dictionary.length);
    for (const code of column.codes) if (code >= 0) used[code] = 1;
    bad = column.dictionary.find((text, code) => used[code] && !fits(text));
  }
  if (bad !== undefined) {
    throw new CsvError(`${fileName}, column ${quote(column.name)}: declared ${type} but holds ${shown(bad)}; a ${type} is ${form}. Fix the value or declare the column categorical.`);
  }
}

/**
 * The columns of the builders, each built as data.dtypes declares (`dtypes`: by column name)
 * or as read: refused when `dtypes` names a column the file lacks or a column holds a value
 * not of its declared type.
 */
export function declaredColumns(builders: ColumnBuilder[], dtypes: Record<string, DeclaredType>, fileName: string): Column[] {
  for (const name of Object.keys(dtypes)) {
    if (!builders.some((builder) => builder.name === name)) {
      throw new CsvError(`${fileName}: data.dtypes names column ${quote(name)}, which the file does not have.`);
    }
  }
  return builders.map((builder) => {
    const declared = dtypes[builder.name];
    if (declared === 'numeric' && !builder.numeric) {
      const bad = [...builder.dictionary.keys()].find((value) => Number.isNaN(parseDecimal(value)) && Number.isNaN(wholeBeyondDouble(value))) ?? '';
      throw new CsvError(`${fileName}, column ${quote(builder.name)}: declared numeric but holds ${shown(bad)}${piiKindOf(bad.trim()) ? '' : whyText(bad)}. Fix the value or declare the column categorical.`);
    }
    if (declared === 'numeric' || declared === 'categorical') return builder.build(declared);
    // A date keeps its texts; a boolean keeps 0/1 numbers or its texts.
    const column = builder.build(declared === 'date' ? 'categorical' : undefined);
    if (declared === 'boolean') checkDeclared(column, fileName, 'boolean', (text) => BOOLEAN_TEXTS.has(text.toLowerCase()), 'true/false, yes/no, t/f, y/n or 1/0 (any case)');
    if (declared === 'date') checkDeclared(column, fileName, 'date', isIsoDate, 'an ISO 8601 date, 2024-01-31 or 2024-01-31T10:00:00Z');
    return declared ? ({ ...column, declared } as Column) : column;
  });
}

/**
 * A Parquet or Arrow table read as the config says, as a CSV's columns would be: the texts
 * data.missing_values lists (when it is given: a typed file's nulls are its own missing
 * values) are missing in its text columns; data.dtypes turns numbers declared categorical
 * into their texts and texts declared numeric into numbers (refused, quoting the first that
 * is not one), and checks boolean and date against every value. (A delimiter and skipping
 * bad lines concern the audit's CSV files: a typed file has neither.)
 */
export function declaredTable(table: Table, options: { dtypes?: Record<string, DeclaredType>; missingValues?: readonly string[] }, fileName: string): Table {
  if (options.missingValues) table = { ...table, columns: table.columns.map((column) => (column.kind === 'categorical' ? withMissing(column, new Set(options.missingValues)) : column)) };
  const dtypes = options.dtypes ?? {};
  for (const name of Object.keys(dtypes)) {
    if (!table.columns.some((column) => column.name === name)) throw new CsvError(`${fileName}: data.dtypes names column ${quote(name)}, which the file does not have.`);
  }
  const columns = table.columns.map((column): Column => {
    const declared = dtypes[column.name];
    if (declared === 'numeric' && column.kind === 'categorical') return numbersOf(column, fileName);
    if (declared === 'categorical' && column.kind === 'numeric') return textsOf(column);
    if (declared === 'boolean') checkDeclared(column, fileName, 'boolean', (text) => BOOLEAN_TEXTS.has(text.toLowerCase()), 'true/false, yes/no, t/f, y/n or 1/0 (any case)');
    if (declared === 'date') {
      checkDeclared(column, fileName, 'date', isIsoDate, 'an ISO 8601 date, 2024-01-31 or 2024-01-31T10:00:00Z');
      return column.kind === 'numeric' ? column : { ...column, declared: 'date' };
    }
    return declared === 'boolean' ? ({ ...column, declared } as Column) : column;
  });
  return { ...table, columns };
}

/** A text column declared numeric: each text read as a CSV cell declared numeric is. */
function numbersOf(column: CategoricalColumn, fileName: string): NumericColumn {
  const numbers = column.dictionary.map((text) => {
    const bare = text.trim();
    const value = parseDecimal(bare);
    return Number.isNaN(value) ? wholeBeyondDouble(bare) : value;
  });
  const used = new Uint8Array(column.dictionary.length);
  for (const code of column.codes) if (code >= 0) used[code] = 1;
  const bad = column.dictionary.find((_, code) => used[code] && Number.isNaN(numbers[code]));
  if (bad !== undefined) throw new CsvError(`${fileName}, column ${quote(column.name)}: declared numeric but holds ${shown(bad)}${piiKindOf(bad.trim()) ? '' : whyText(bad)}. Fix the value or declare the column categorical.`);
  const values = Float64Array.from(column.codes, (code) => (code < 0 ? Number.NaN : numbers[code]));
  return { kind: 'numeric', name: column.name, values, missing: column.missing };
}

/**
 * A number column declared categorical: each number's text, in first-seen order, as a CSV
 * export of the typed file writes it (Arrow's own CSV writer, polars): a boolean's "true"/"false", a
 * float32's shortest decimal ("0.1", not the widened double's "0.10000000149011612").
 */
function textsOf(column: NumericColumn): CategoricalColumn {
  const codes = new Int32Array(column.values.length);
  const index = new Map<number, number>();
  const dictionary: string[] = [];
  column.values.forEach((value, row) => {
    if (Number.isNaN(value)) {
      codes[row] = -1;
      return;
    }
    let code = index.get(value);
    if (code === undefined) {
      code = dictionary.length;
      index.set(value, code);
      dictionary.push(numberText(value, column.stored));
    }
    codes[row] = code;
  });
  return { kind: 'categorical', name: column.name, codes, dictionary, missing: column.missing };
}

/**
 * A text column whose texts in `tokens` (after trimming, as a CSV cell is read) are missing,
 * each such cell's text kept, as a CSV keeps a missing-value token's (a model that knows the
 * token as a category is fed it, and the input findings say so).
 */
function withMissing(column: CategoricalColumn, tokens: ReadonlySet<string>): CategoricalColumn {
  const gone = column.dictionary.map((text) => tokens.has(text.trim()));
  if (!gone.includes(true)) return column;
  const dictionary: string[] = [];
  const renumbered = column.dictionary.map((text, code) => (gone[code] ? -1 : dictionary.push(text) - 1));
  const kept = new KeptTextsBuilder();
  let missing = 0;
  const codes = Int32Array.from(column.codes, (code, row) => {
    const next = code < 0 ? -1 : renumbered[code];
    if (next < 0) missing++;
    if (code >= 0 && next < 0) kept.keepText(row, column.dictionary[code]);
    return next;
  });
  const texts = kept.take();
  return { ...column, codes, dictionary, missing, ...(texts ? { texts } : {}) };
}
