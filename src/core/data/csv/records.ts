/**
 * Records as lines of text: blank lines, LFs alone in a CRLF file, and the messages for
 * records that cannot be read (mixed line endings, a record longer than a row may be).
 */
import { CsvError } from '../../base/errors';
import { formatSize, INPUT_LIMITS } from '../../base/limits';

/** A line with nothing but spaces (papaparse gives it as one field). */
export function isBlank(fields: string[]): boolean {
  return fields.length === 1 && fields[0].trim() === '';
}

/** The message for a CRLF file with lines that end in LF alone, from `line` on. */
export function mixedLineEndings(fileName: string, line: number, badRows?: number): CsvError {
  return new CsvError(
    `${fileName}: the file mixes line endings: its first line ends with CRLF (Windows) but line ${line.toLocaleString('en-US')} ends with LF alone, so such lines run together${badRows ? ` (${badRows.toLocaleString('en-US')} row${badRows === 1 ? '' : 's'} with the wrong number of fields)` : ''}. Save the file with one kind of line ending (re-export it, or convert it with dos2unix) and load it again.`,
  );
}

/**
 * Offset of the first LF outside quotes not preceded by CR, or −1, in text that starts at
 * a record's start (an LF inside a quoted cell is part of the cell: Excel writes those in
 * CRLF files). Quotes are followed as papaparse does: one opens a field only at its start.
 */
export function loneLineFeed(text: string, delimiter: string): number {
  const D = delimiter.charCodeAt(0);
  let inQuotes = false;
  let fieldStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inQuotes) {
      if (c === 34) {
        if (text.charCodeAt(i + 1) === 34) i++;
        else inQuotes = false;
      }
      continue;
    }
    if (c === 34 && fieldStart) inQuotes = true;
    else if (c === 10 && (i === 0 || text.charCodeAt(i - 1) !== 13)) return i;
    fieldStart = c === D || c === 10 || c === 13;
  }
  return -1;
}

/** LFs in `text` before offset `end`. */
export function countNewlines(text: string, end: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Why the record at the start of `text` has no end within {@link INPUT_LIMITS.rowChars}:
 * a quote never closed or a cell over the cell limit (naming the column by `columnName` of
 * its position), else the row itself is too long. `row` names the row in the message.
 */
export function longRecordError(text: string, delimiter: string, fileName: string, row: string, columnName: (field: number) => string): CsvError {
  let field = 0;
  let pos = 0;
  for (;;) {
    const start = pos;
    if (text.charCodeAt(pos) === 34) {
      let q = pos + 1;
      for (;;) {
        q = text.indexOf('"', q);
        if (q < 0) break;
        if (text.charCodeAt(q + 1) === 34) q += 2;
        else break;
      }
      if (q < 0) {
        return new CsvError(
          `${fileName}, ${row}, ${columnName(field)}: a quote opens this cell and does not close within ${formatSize(INPUT_LIMITS.rowChars)} (a cell may hold ${formatSize(INPUT_LIMITS.cellChars)}), so the cell runs on over the lines that follow. Close the quote (a quote inside a quoted cell is written "") and load the file again.`,
        );
      }
      pos = q + 1;
    }
    let end = text.indexOf(delimiter, pos);
    if (end < 0) end = text.length;
    if (end - start > INPUT_LIMITS.cellChars) {
      return new CsvError(`${fileName}, ${row}, ${columnName(field)}: the cell holds more than ${formatSize(INPUT_LIMITS.cellChars)} of text (the most a cell may hold). Keep long texts out of the data file.`);
    }
    if (end >= text.length) break;
    pos = end + 1;
    field++;
  }
  return new CsvError(`${fileName}: ${row} is longer than ${formatSize(INPUT_LIMITS.rowChars)} (the most a row may hold). Keep the columns the audit needs and load the file again.`);
}
