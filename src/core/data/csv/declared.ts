/**
 * Declared column types (data.dtypes): the table's columns built as declared, a column
 * declared numeric, boolean or date checked to hold only such values and refused otherwise,
 * quoting the first that is not.
 */
import { CsvError, quote } from '../../base/errors';
import { BOOLEAN_TEXTS, isIsoDate, type Column, type DeclaredType } from '../table';
import type { ColumnBuilder } from './columns';
import { parseDecimal, whyText } from './numbers';

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
    throw new CsvError(`${fileName}, column ${quote(column.name)}: declared ${type} but holds the value ${quote(bad)}; a ${type} is ${form}. Fix the value or declare the column categorical.`);
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
      const bad = [...builder.dictionary.keys()].find((value) => Number.isNaN(parseDecimal(value))) ?? '';
      throw new CsvError(`${fileName}, column ${quote(builder.name)}: declared numeric but holds the value ${quote(bad)}${whyText(bad)}. Fix the value or declare the column categorical.`);
    }
    if (declared === 'numeric' || declared === 'categorical') return builder.build(declared);
    // A date keeps its texts; a boolean keeps 0/1 numbers or its texts.
    const column = builder.build(declared === 'date' ? 'categorical' : undefined);
    if (declared === 'boolean') checkDeclared(column, fileName, 'boolean', (text) => BOOLEAN_TEXTS.has(text.toLowerCase()), 'true/false, yes/no, t/f, y/n or 1/0 (any case)');
    if (declared === 'date') checkDeclared(column, fileName, 'date', isIsoDate, 'an ISO 8601 date, 2024-01-31 or 2024-01-31T10:00:00Z');
    return declared ? ({ ...column, declared } as Column) : column;
  });
}
