/**
 * Rows with the wrong number of fields, as a reader meets them: counted, the first few
 * quoted by line number, and the first line of a CRLF file that ends in LF alone (the
 * lines then run together, which is not a quoting problem).
 */
import Papa from 'papaparse';
import { CsvError, quote } from '../../base/errors';
import { countNewlines, isBlank, loneLineFeed, mixedLineEndings } from './records';

/** Rows with the wrong number of fields quoted by line in the message (the rest are counted). */
const MAX_QUOTED_BAD_LINES = 3;

/** A quoted bad row: its line (1 = the first line of the text read) and its fields. */
interface BadLine {
  line: number;
  fields: number;
}

/** The bad rows of a reader's text. */
export class BadRows {
  count = 0;
  private readonly lines: BadLine[] = [];
  /** The first line of a CRLF file that ends in LF alone (0: none). */
  private mixedLine = 0;

  /**
   * Notes the first line of a CRLF file's `segment` (after `lineBase` newlines) that ends in
   * LF alone: the bad rows' error names it, whichever segment they are in. The reader calls
   * it for every segment of text, and only there: the byte path never reads a lone LF.
   */
  lineEnds(segment: string, lineBase: number, delimiter: string | undefined, newline: '\n' | '\r\n' | undefined): void {
    if (this.mixedLine !== 0 || newline !== '\r\n') return;
    const lone = loneLineFeed(segment, delimiter ?? ',');
    if (lone >= 0) this.mixedLine = lineBase + 1 + countNewlines(segment, lone);
  }

  /**
   * Notes `count` bad rows in `segment`, which starts after `lineBase` newlines, and quotes
   * the first few by line, parsing the segment again row by row. `header`: the segment starts
   * with the header row (not a bad row).
   */
  note(segment: string, count: number, lineBase: number, width: number, delimiter: string | undefined, newline: '\n' | '\r\n' | undefined, header: boolean): void {
    this.count += count;
    if (this.lines.length >= MAX_QUOTED_BAD_LINES) return;
    // papaparse drops a U+FEFF that starts its text: past the file's start it is data, kept by
    // parsing from a blank line before it (as the reader parses such a segment).
    const mark = segment.charCodeAt(0) === 0xfeff && newline !== undefined ? newline : '';
    if (mark) {
      segment = mark + segment;
      lineBase--;
    }
    let scannedTo = 0;
    Papa.parse<string[]>(segment, {
      delimiter,
      ...(newline ? { newline } : {}),
      step: (results, parser) => {
        const start = scannedTo;
        scannedTo = results.meta.cursor;
        if (isBlank(results.data)) return;
        if (header) {
          header = false;
          return;
        }
        if (results.data.length === width) return;
        let first = start;
        while (segment.charCodeAt(first) === 10 || segment.charCodeAt(first) === 13) first++;
        let line = lineBase + 1;
        for (let i = segment.indexOf('\n'); i >= 0 && i < first; i = segment.indexOf('\n', i + 1)) line++;
        this.lines.push({ line, fields: results.data.length });
        if (this.lines.length >= MAX_QUOTED_BAD_LINES) parser.abort();
      },
    });
  }

  /** Appends the bad rows of a later slice of the file, whose first line follows `lineBase` newlines. */
  append(slice: BadRows, lineBase: number): void {
    this.count += slice.count;
    if (this.mixedLine === 0 && slice.mixedLine > 0) this.mixedLine = lineBase + slice.mixedLine;
    for (const { line, fields } of slice.lines) if (this.lines.length < MAX_QUOTED_BAD_LINES) this.lines.push({ line: lineBase + line, fields });
  }

  /** The quoted rows, as messages and `table.skipped` show them. */
  examples(): string[] {
    return this.lines.map(({ line, fields }) => `line ${line} has ${fields} field${fields === 1 ? '' : 's'}`);
  }

  /** The load's error when rows are bad and not to be skipped. */
  error(fileName: string, width: number, delimiter: string, configured = false): CsvError {
    if (this.mixedLine > 0) return mixedLineEndings(fileName, this.mixedLine, this.count);
    // A header of one field under a configured delimiter: most likely a file delimited otherwise.
    const fix = configured && width === 1
      ? `The file was read with data.delimiter ${quote(delimiter)}, which applies to every CSV file of the audit: if this one uses another delimiter, export it with ${quote(delimiter)}, or leave data.delimiter out to have each file's detected.`
      : `Quote fields that contain the delimiter ${quote(delimiter)}.`;
    return new CsvError(`${fileName}: ${this.count} row${this.count === 1 ? '' : 's'} with the wrong number of fields (the header has ${width}): ${this.examples().join('; ')}${this.count > this.lines.length ? '; …' : ''}. ${fix}`);
  }

  /** As plain data, for a slice's reader to send back (see slice.ts). */
  state(): BadRowsState {
    return { count: this.count, lines: this.lines, mixedLine: this.mixedLine };
  }

  static of(state: BadRowsState): BadRows {
    const rows = new BadRows();
    rows.count = state.count;
    rows.lines.push(...state.lines);
    rows.mixedLine = state.mixedLine;
    return rows;
  }
}

/** {@link BadRows} as plain data. */
export interface BadRowsState {
  count: number;
  lines: BadLine[];
  mixedLine: number;
}
