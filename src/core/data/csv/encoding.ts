/**
 * A CSV file whose bytes do not read in its encoding (UTF-8 unless data.encoding says
 * otherwise): refused, naming the first cell, since every byte that cannot be read becomes
 * U+FFFD and two names differing in one such letter (Müller, Mäller in Windows-1252) would
 * read as one group, one category, one input value.
 */
import { CsvError, quote } from '../../base/errors';
import { fileRow, type Table } from '../table';
import { encodingName, TEXT_ENCODINGS } from './options';

/** The canonical name of an encoding data.encoding may give, or a {@link CsvError} listing them. */
export function checkEncoding(encoding: string, where: string): string {
  const name = encodingName(encoding);
  if (name) return name;
  throw new CsvError(
    `${where}: the encoding ${quote(encoding)} is not one a CSV file can be read in here. Use utf-8 or a single-byte encoding: ${TEXT_ENCODINGS.filter((e) => e !== 'utf-8').join(', ')}; or save the file as UTF-8.`,
  );
}

/** The refusal of `table`, read from a file of which `count` places did not read in `encoding` (each read as U+FFFD). */
export function unreadableText(table: Table, fileName: string, encoding: string, count: number): CsvError {
  const name = new TextDecoder(encoding).encoding;
  const utf8 = name === 'utf-8';
  const shown = utf8 ? 'UTF-8' : name;
  const where = firstReplaced(table);
  const cell = where ? `${where.row === 0 ? 'the header' : `row ${where.row.toLocaleString('en-US')}`}, column ${quote(where.column)} reads ${quote(where.text)}, where ` : '';
  const fix = utf8
    ? `Say the file's encoding with data.encoding (--encoding): windows-1252 for Excel's "CSV (Comma delimited)" on Windows and most Western European exports; or save the file as "CSV UTF-8" and load it again.`
    : `Check the file's encoding (data.encoding, --encoding), or save the file as UTF-8 and load it again.`;
  return new CsvError(
    `${fileName}: not ${shown} text: ${cell}U+FFFD (\uFFFD) marks what ${shown} cannot read (${count.toLocaleString('en-US')} place${count === 1 ? '' : 's'} in the file). Names that differ in such a letter (Müller, Mäller) would read as one group or category. ${fix}`,
  );
}

/** The first cell (row 1 is the first data row; 0 the header) holding U+FFFD. */
function firstReplaced(table: Table): { row: number; column: string; text: string } | null {
  const named = table.columns.find((column) => column.name.includes('\uFFFD'));
  if (named) return { row: 0, column: named.name, text: named.name };
  let best: { row: number; column: string; text: string } | null = null;
  for (const column of table.columns) {
    if (column.kind !== 'categorical') continue;
    const bad = new Uint8Array(column.dictionary.length);
    column.dictionary.forEach((text, code) => (bad[code] = text.includes('\uFFFD') ? 1 : 0));
    if (!bad.includes(1)) continue;
    const limit = best ? best.row - 1 : column.codes.length;
    for (let row = 0; row < limit; row++) {
      const code = column.codes[row];
      if (code >= 0 && bad[code]) {
        best = { row: row + 1, column: column.name, text: column.dictionary[code] };
        break;
      }
    }
  }
  return best ? { ...best, row: fileRow(table, best.row - 1) } : null;
}
