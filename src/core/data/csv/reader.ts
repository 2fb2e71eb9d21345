/**
 * The CSV reader: text in pieces to a columnar table, records found by following quotes,
 * parsed a segment at a time (the fast field scanner, else papaparse), with a second pass
 * for the first rows of columns that turn out to hold text.
 */
import Papa from 'papaparse';
import { CsvError, quote } from '../../base/errors';
import { INPUT_LIMITS } from '../../base/limits';
import type { Table } from '../table';
import type { ColumnBuilder } from './columns';
import { declaredColumns } from './declared';
import { detectDelimiter, DETECT_WINDOW, NUL_WINDOW, utf16Error, utf16Order } from './dialect';
import { FieldScanner } from './fields';
import { readHeader } from './header';
import { DEFAULT_MISSING_VALUES, type CsvOptions } from './options';
import { PendingText } from './pending';
import { countNewlines, isBlank, isBlankRange, longRecordError, loneLineFeed, mixedLineEndings } from './records';

/** Rows with the wrong number of fields quoted by line in the message (the rest are counted). */
const MAX_QUOTED_BAD_LINES = 3;

/**
 * Reads CSV text that arrives in pieces (split anywhere: inside a quoted field, between
 * CR and LF) into a columnar {@link Table}, holding only the unfinished last record
 * between pieces. Complete records are parsed by papaparse a segment at a time; a record
 * ends at a newline outside quotes, found by following quotes the way papaparse does (a
 * quote opens a field only at the field's start; `""` inside is an escaped quote). The
 * header row names the columns; a column is numeric when every non-missing cell in the
 * whole column is a decimal number, categorical otherwise. Rows with the wrong number of
 * fields fail the load (or are skipped and counted), quoting the first few by line number.
 */
export class CsvReader {
  private pending = new PendingText();
  /** Where quote-following resumes in `pending`, and whether that point is inside quotes. */
  private scanned = 0;
  private inQuotes = false;
  /** The last record end found in `pending` (−1: none yet). */
  private cut = -1;
  private started = false;
  private delimiter: string | undefined;
  private newline: '\n' | '\r\n' | undefined;
  private builders: ColumnBuilder[] | undefined;
  private readonly missingValues: ReadonlySet<string>;
  /** Newlines in the segments parsed so far (line numbers of bad rows). */
  private lineBase = 0;
  private badCount = 0;
  private readonly badLines: string[] = [];
  /** The first line of a CRLF file that ends in LF alone, once rows with the wrong field count were found (0: none). */
  private mixedLine = 0;
  /** Rows read so far (progress). */
  rows = 0;
  /** A second-pass reader stops once it has every text wanted. */
  done = false;
  private backfillTarget: CsvReader | undefined;
  private backfilled = false;
  private ended = false;

  /** Makes room for about `rows` rows in every column (from the loader's estimate). */
  reserve(rows: number): void {
    for (const builder of this.builders ?? []) builder.reserve(rows);
  }

  /** Columns of the header (0 until it is read). */
  get columns(): number {
    return this.builders?.length ?? 0;
  }

  constructor(private readonly options: CsvOptions) {
    this.delimiter = options.delimiter;
    this.missingValues = new Set(options.missingValues ?? DEFAULT_MISSING_VALUES);
  }

  /** The next piece of the text. */
  push(text: string): void {
    if (this.done) return;
    if (!this.started) {
      if (text.length === 0) return;
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.pending.length < NUL_WINDOW && this.builders === undefined) {
      const head = (this.pending.text() + text.slice(0, NUL_WINDOW)).slice(0, NUL_WINDOW);
      const nul = head.indexOf('\u0000');
      if (nul >= 0) {
        const utf16 = utf16Order(head);
        if (utf16) throw utf16Error(this.options.fileName, utf16);
        throw new CsvError(`${this.options.fileName}: this is a binary file, not CSV text (it holds NUL bytes from offset ${nul}). Choose the CSV export of the data.`);
      }
    }
    this.pending.add(text);
    if (this.delimiter === undefined) {
      // The delimiter is detected on the first 64 KB, as when the whole text is at hand.
      if (this.pending.length < DETECT_WINDOW) return;
      this.settleDialect();
    }
    const cut = this.lastRecordEnd();
    // A record still open past the row limit is refused before more of it is held.
    if (cut < 0 && this.pending.length > INPUT_LIMITS.rowChars) this.refuseLongRecord();
    // Segments of 32–96 KB: large enough that a parse call's set-up does not matter, small
    // enough that their strings stay in V8's young generation (strings over ~128 KB go to
    // the large-object space and live until a full collection, which inflates peak memory).
    if (cut < 0 || (cut < 32 * 1024 && this.pending.length < 96 * 1024)) return;
    const segment = this.pending.take(cut + 1);
    this.scanned -= cut + 1;
    this.cut = -1;
    this.parseSegment(segment);
    if (this.pending.length > INPUT_LIMITS.rowChars) this.refuseLongRecord();
  }

  /**
   * The record at the start of `pending` has no end within {@link INPUT_LIMITS.rowChars}:
   * says why, naming the row and, where one cell is the cause, its column — a quote never
   * closed, a cell over the cell limit, or a CRLF file whose later lines end in LF alone
   * (they would all read as one record).
   */
  private refuseLongRecord(): never {
    const { fileName } = this.options;
    const text = this.pending.text();
    const delimiter = this.delimiter ?? ',';
    const row = this.builders ? `row ${(this.rows + 1).toLocaleString('en-US')}` : 'the header row';
    if (this.newline === '\r\n') {
      const lone = loneLineFeed(text, delimiter);
      if (lone >= 0) throw mixedLineEndings(fileName, this.lineBase + 1 + countNewlines(text, lone));
    }
    throw longRecordError(text, delimiter, fileName, row, (field) => this.columnName(field));
  }

  /** A column named for messages: by the header, or by its position while the header is read. */
  private columnName(field: number): string {
    const builder = this.builders?.[field];
    return builder ? `column ${quote(builder.name)}` : `column ${field + 1}`;
  }

  /** Delimiter and line ending, from the start of the text. */
  private settleDialect(): void {
    const pending = this.pending.text();
    this.delimiter ??= detectDelimiter(pending);
    const first = pending.indexOf('\n');
    if (first >= 0) this.newline = first > 0 && pending.charCodeAt(first - 1) === 13 ? '\r\n' : '\n';
    // Quotes are followed from the start again, now that the delimiter is known.
    this.scanned = 0;
    this.inQuotes = false;
    this.cut = -1;
  }

  /**
   * The offset of the last newline in `pending` that ends a record (outside quotes), or
   * −1. Follows quotes from where the last call stopped.
   */
  private lastRecordEnd(): number {
    // Only the text not yet followed is scanned, with the one character before it.
    const start = Math.max(0, this.scanned - 1);
    const text = this.pending.tail(start);
    const delimiter = this.delimiter;
    let pos = this.scanned - start;
    let inQuotes = this.inQuotes;
    let cut = this.cut;
    for (;;) {
      const quote = text.indexOf('"', pos);
      const end = quote < 0 ? text.length : quote;
      if (!inQuotes && end > pos) {
        let newline = text.lastIndexOf('\n', end - 1);
        // In a CRLF file a lone LF is part of a field, not a record end.
        if (this.newline === '\r\n') while (newline >= pos && text.charCodeAt(newline - 1) !== 13) newline = newline > 0 ? text.lastIndexOf('\n', newline - 1) : -1;
        if (newline >= pos) cut = start + newline;
      }
      if (quote < 0) {
        pos = text.length;
        break;
      }
      if (inQuotes) {
        if (quote + 1 >= text.length) {
          pos = quote; // is it `""` or the closing quote? The next piece says.
          break;
        }
        if (text.charCodeAt(quote + 1) === 34) pos = quote + 2;
        else {
          // Like papaparse, a quote closes the field only before the delimiter or a line
          // end (spaces allowed between); elsewhere it is a stray quote inside the field.
          let next = quote + 1;
          while (text.charCodeAt(next) === 32) next++;
          if (next >= text.length) {
            pos = quote;
            break;
          }
          const after = text[next];
          if (after === delimiter || after === '\n' || after === '\r') inQuotes = false;
          pos = quote + 1;
        }
      } else {
        const before = quote === 0 ? '\n' : text[quote - 1];
        if (before === '\n' || before === '\r' || before === delimiter) inQuotes = true;
        pos = quote + 1;
      }
    }
    this.scanned = start + pos;
    this.inQuotes = inQuotes;
    this.cut = cut;
    return cut;
  }

  /** The fast path's field boundaries, reused between segments. */
  private readonly fields = new FieldScanner();

  /**
   * The fast path for well-formed segments: fields found by scanning the characters and
   * numbers read straight from the text, with no row arrays or number strings. It handles
   * the common dialect — one-character delimiter, the file's line ending, fields quoted as
   * a whole — and gives up (returning false, before changing anything) on anything else:
   * a stray quote, text after a closing quote, a lone CR. papaparse then reads the segment,
   * so unusual input is read exactly as papaparse reads it.
   */
  private fastSegment(segment: string): boolean {
    const delimiter = this.delimiter!;
    if (delimiter.length !== 1 || this.newline === undefined) return false;
    const rows = this.fields.scan(segment, delimiter.charCodeAt(0), this.newline === '\r\n');
    if (rows < 0) return false;
    const { starts, ends, quoted, rowEnds } = this.fields;
    // Every field is found: add the rows.
    const builders = this.builders!;
    const width = builders.length;
    let bad = 0;
    let first = 0;
    for (let r = 0; r < rows; r++) {
      const last = rowEnds[r];
      const count = last - first;
      const blank = count === 1 && isBlankRange(segment, starts[first], ends[first]);
      if (count !== width || blank) {
        if (!blank) bad++;
        first = last;
        continue;
      }
      for (let i = 0; i < width; i++) {
        const f = first + i;
        if (quoted[f] === 2) builders[i].push(segment.slice(starts[f], ends[f]).replaceAll('""', '"'));
        else builders[i].pushRange(segment, starts[f], ends[f]);
      }
      this.rows++;
      first = last;
    }
    if (bad > 0) this.noteBadRows(segment, bad);
    for (let i = segment.indexOf('\n'); i >= 0; i = segment.indexOf('\n', i + 1)) this.lineBase++;
    return true;
  }

  private parseSegment(segment: string): void {
    if (this.done) return;
    if (this.builders && !this.backfillTarget && this.fastSegment(segment)) return;
    const { fileName } = this.options;
    // Blank lines are skipped here (papaparse's own "greedy" test joins every row's fields).
    const rows = Papa.parse<string[]>(segment, { delimiter: this.delimiter, ...(this.newline ? { newline: this.newline } : {}) }).data;
    let start = 0;
    while (start < rows.length && isBlank(rows[start])) start++;
    if (!this.builders && start < rows.length) {
      this.builders = readHeader(rows[start], fileName, this.missingValues, this.options.dtypes ?? {});
      start++;
    }
    const builders = this.builders;
    if (builders) {
      const width = builders.length;
      let badInSegment = 0;
      const target = this.backfillTarget;
      for (let r = start; r < rows.length; r++) {
        const fields = rows[r];
        if (fields.length !== width || (width === 1 && isBlank(fields))) {
          if (!isBlank(fields)) badInSegment++;
          continue;
        }
        if (target) {
          if (!target.backfillRow(this.rows++, fields)) {
            this.done = true;
            return;
          }
          continue;
        }
        for (let i = 0; i < width; i++) builders[i].push(fields[i]);
        this.rows++;
      }
      if (badInSegment > 0 && !target) this.noteBadRows(segment, badInSegment);
    }
    for (let i = segment.indexOf('\n'); i >= 0; i = segment.indexOf('\n', i + 1)) this.lineBase++;
  }

  /** Whether a demoted column waits for the texts of its first rows (a second pass, {@link backfillReader}). */
  get needsBackfill(): boolean {
    return this.builders?.some((builder) => builder.awaitingTexts) ?? false;
  }

  /**
   * A reader for the second pass: give it the file's text again from the start; it reads
   * only as far as the last row whose text is still wanted (then `done` is true).
   */
  backfillReader(): CsvReader {
    this.end();
    const reader = new CsvReader(this.options);
    reader.delimiter = this.delimiter;
    reader.newline = this.newline;
    reader.backfillTarget = this;
    return reader;
  }

  /** Second pass: one row's fields; false once no later row is wanted. */
  private backfillRow(row: number, fields: string[]): boolean {
    let wanted = false;
    for (let i = 0; i < this.builders!.length; i++) {
      const builder = this.builders![i];
      if (!builder.awaitingTexts || row >= builder.demotedAt) continue;
      builder.backfill(row, fields[i]);
      if (row + 1 < builder.demotedAt) wanted = true;
    }
    if (!wanted) this.backfilled = true;
    return wanted;
  }

  /** Counts bad rows and quotes the first few by line, parsing the segment again row by row. */
  private noteBadRows(segment: string, count: number): void {
    this.badCount += count;
    if (this.mixedLine === 0 && this.newline === '\r\n') {
      // LF alone in a CRLF file: the lines run together, which is not a quoting problem.
      const lone = loneLineFeed(segment, this.delimiter ?? ',');
      if (lone >= 0) this.mixedLine = this.lineBase + 1 + countNewlines(segment, lone);
    }
    if (this.badLines.length >= MAX_QUOTED_BAD_LINES) return;
    const width = this.builders!.length;
    let header = this.lineBase === 0;
    const lineBase = this.lineBase;
    let scannedTo = 0;
    Papa.parse<string[]>(segment, {
      delimiter: this.delimiter,
      ...(this.newline ? { newline: this.newline } : {}),
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
        this.badLines.push(`line ${line} has ${results.data.length} field${results.data.length === 1 ? '' : 's'}`);
        if (this.badLines.length >= MAX_QUOTED_BAD_LINES) parser.abort();
      },
    });
  }

  /** Ends the text: parses what is left. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.delimiter === undefined) this.settleDialect();
    if (this.pending.length > 0) {
      const rest = this.pending.take(this.pending.length);
      if (rest.trim().length > 0 || !this.builders) this.parseSegment(rest);
    }
  }

  /**
   * Ends the text and returns the table. Demoted columns whose first rows' texts a second
   * pass did not supply get them from their numbers (`String(n)`).
   */
  finish(): Table {
    const { fileName } = this.options;
    this.end();
    for (const builder of this.builders ?? []) builder.settle(this.backfilled);
    const builders = this.builders;
    if (!builders) throw new CsvError(`${fileName}: the file is empty. A CSV needs a header row and at least one data row.`);
    if (this.badCount > 0 && !this.options.skipBadRows) {
      if (this.mixedLine > 0) throw mixedLineEndings(fileName, this.mixedLine, this.badCount);
      throw new CsvError(
        `${fileName}: ${this.badCount} row${this.badCount === 1 ? '' : 's'} with the wrong number of fields (the header has ${builders.length}): ${this.badLines.join('; ')}${this.badCount > this.badLines.length ? '; …' : ''}. Quote fields that contain the delimiter ${quote(this.delimiter ?? ',')}.`,
      );
    }
    if (this.rows === 0) throw new CsvError(`${fileName}: the file has a header row but no data rows.`);
    const columns = declaredColumns(builders, this.options.dtypes ?? {}, fileName);
    return { source: fileName, rowCount: this.rows, columns, ...(this.badCount > 0 ? { skipped: { rows: this.badCount, examples: [...this.badLines] } } : {}) };
  }
}

/** Reads CSV text that is all in memory (see {@link CsvReader}). */
export function parseCsv(text: string, options: CsvOptions): Table {
  const reader = new CsvReader(options);
  reader.push(text);
  reader.end();
  if (reader.needsBackfill) {
    const second = reader.backfillReader();
    second.push(text);
    second.end();
  }
  return reader.finish();
}
