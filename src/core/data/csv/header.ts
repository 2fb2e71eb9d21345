/**
 * The header row: the column names, checked (named, unique, within the limits), each made
 * the builder of its column, typed as data.dtypes declares.
 */
import { CsvError, quote } from '../../base/errors';
import { formatSize, INPUT_LIMITS } from '../../base/limits';
import { ColumnBuilder } from './columns';

/** The builders of the columns the header row `fields` names (categorical where declared categorical or date). */
export function readHeader(fields: string[], fileName: string, missingValues: ReadonlySet<string>, dtypes: Record<string, string>): ColumnBuilder[] {
  if (fields.length > INPUT_LIMITS.columns) {
    throw new CsvError(
      `${fileName}: the header has ${fields.length.toLocaleString('en-US')} columns, more than the ${INPUT_LIMITS.columns.toLocaleString('en-US')} a data file may have. Keep the columns the audit needs (target, protected attributes, model inputs) and load the file again.`,
    );
  }
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
    if (raw.length > INPUT_LIMITS.cellChars) throw new CsvError(`${fileName}: column ${index + 1} of the header has a name of ${formatSize(raw.length)}, more than the ${formatSize(INPUT_LIMITS.cellChars)} a cell may hold. Is the first line a header row?`);
    return new ColumnBuilder(name, missingValues, dtypes[name] === 'categorical' || dtypes[name] === 'date' ? 'categorical' : dtypes[name] === 'numeric' ? 'numeric' : null, fileName);
  });
}
