/**
 * The fast path for well-formed CSV: fields found by scanning the bytes, numbers read straight
 * from them and categories found by them, with no row arrays and no strings for most cells.
 * It handles the common dialect — one-character delimiter, the file's line ending, fields
 * quoted as a whole — and gives up (before changing anything) on anything else: a stray
 * quote, text after a closing quote, a lone CR. papaparse then reads that text, so unusual
 * input is read exactly as papaparse reads it.
 */
import type { CellText } from './cell-text';
import type { ColumnBuilder } from './columns';
import { FieldScanner } from './fields';

/** What {@link FastRows.read} added. */
export interface FastRead {
  rows: number;
  /** Rows with the wrong number of fields (skipped here; the reader counts and quotes them). */
  bad: number;
  /** Bytes of the rows read (the rest is an unfinished row). */
  used: number;
  /** Line feeds in those bytes. */
  lines: number;
}

export class FastRows {
  private readonly fields = new FieldScanner();
  private readonly result: FastRead = { rows: 0, bad: 0, used: 0, lines: 0 };

  constructor(private readonly cells: CellText) {}

  /**
   * Adds the complete rows of `bytes` to `builders` (see FieldScanner.scan for `final`), or
   * gives up, adding nothing, with null.
   */
  read(bytes: Uint8Array, D: number, crlf: boolean, final: boolean, builders: ColumnBuilder[]): FastRead | null {
    const rows = this.fields.scan(bytes, D, crlf, final);
    if (rows < 0) return null;
    const { starts, ends, quoted, rowEnds, consumed } = this.fields;
    const cells = this.cells;
    const width = builders.length;
    let bad = 0;
    let added = 0;
    let first = 0;
    for (let r = 0; r < rows; r++) {
      const last = rowEnds[r];
      const count = last - first;
      const blank = count === 1 && this.isBlank(bytes, starts[first], ends[first]);
      if (count !== width || blank) {
        if (!blank) {
          bad++;
          // Its characters are counted as any read (U+FFFD), though no column takes them.
          for (let f = first; f < last; f++) cells.of(bytes, starts[f], ends[f]);
        }
        first = last;
        continue;
      }
      for (let i = 0; i < width; i++) {
        const f = first + i;
        if (quoted[f] === 2) builders[i].push(cells.of(bytes, starts[f], ends[f]).replaceAll('""', '"'));
        else builders[i].pushRange(bytes, starts[f], ends[f], cells);
      }
      added++;
      first = last;
    }
    let lines = 0;
    for (let i = bytes.indexOf(10); i >= 0 && i < consumed; i = bytes.indexOf(10, i + 1)) lines++;
    const result = this.result;
    result.rows = added;
    result.bad = bad;
    result.used = consumed;
    result.lines = lines;
    return result;
  }

  /** Whether a row's one field holds only white space (a blank line, as `trim` reads it). */
  private isBlank(bytes: Uint8Array, from: number, to: number): boolean {
    for (let i = from; i < to; i++) {
      const b = bytes[i];
      if (b >= 128) return this.cells.peek(bytes, from, to).trim() === '';
      if (b !== 32 && (b < 9 || b > 13)) return false;
    }
    return true;
  }
}
