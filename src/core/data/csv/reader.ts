/**
 * The CSV reader: bytes or text in pieces to a columnar table — past the file's head, records
 * read from the bytes by the fast path (bytes.ts, fast.ts); otherwise text, records found by
 * following quotes and parsed a segment at a time (the fast path on the segment's bytes,
 * else papaparse) — with a second pass for the first rows of columns that turn out to hold
 * text.
 */
import Papa from 'papaparse';
import { BadRows } from './bad-rows';
import { CsvError, quote } from '../../base/errors';
import { INPUT_LIMITS } from '../../base/limits';
import type { Table } from '../table';
import type { ColumnBuilder, SliceRows, SliceStart, SpareBuffers } from './columns';
import { declaredColumns } from './declared';
import { detectDelimiter, DETECT_WINDOW, NUL_WINDOW, utf16Error, utf16Order } from './dialect';
import { ByteFront, MAX_CARRY } from './bytes';
import type { FastRead } from './fast';
import { readHeader } from './header';
import { DEFAULT_MISSING_VALUES, type CsvOptions } from './options';
import { PendingText } from './pending';
import { followQuotes, type QuoteState } from './quotes';
import { countNewlines, isBlank, longRecordError, loneLineFeed, mixedLineEndings } from './records';

/**
 * Reads CSV text that arrives in pieces (split anywhere: inside a quoted field, between
 * CR and LF) into a columnar {@link Table}, holding only the unfinished last record
 * between pieces. Complete records are parsed a segment at a time (fast.ts where the segment
 * is well formed, else papaparse, so unusual input is read as papaparse reads it); a record
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
  /** Rows with the wrong number of fields. */
  private bad = new BadRows();
  /** Rows read so far (progress). */
  rows = 0;
  /** A second-pass reader stops once it has every text wanted. */
  done = false;
  private backfillTarget: CsvReader | undefined;
  /** The header row's fields, as read (a slice's reader is given them). */
  private headerFields: string[] | undefined;
  /** A reader of a later slice of the file (see slice.ts): its text starts at a record, after the header. */
  private sliced = false;
  private backfilled = false;
  private ended = false;

  /** Makes room for about `rows` rows in every column (from the loader's estimate; over `spare` buffers first). */
  reserve(rows: number, spare?: SpareBuffers): void {
    for (const builder of this.builders ?? []) builder.reserve(rows, spare);
  }

  /** Columns of the header (0 until it is read). */
  get columns(): number {
    return this.builders?.length ?? 0;
  }

  constructor(private readonly options: CsvOptions) {
    this.delimiter = options.delimiter;
    this.missingValues = new Set(['', ...(options.missingValues ?? DEFAULT_MISSING_VALUES)]); // an empty cell is always missing
    this.front = new ByteFront(this, options.encoding);
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
    // Segments of 32–96 KB (smaller where the reader goes back to bytes, see handOver): their
    // strings stay in V8's young generation (over ~128 KB they live until a full collection).
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
    const state: QuoteState = { pos: this.scanned - start, inQuotes: this.inQuotes, cut: this.cut };
    followQuotes(this.pending.tail(start), start, state, this.delimiter, this.newline);
    this.scanned = start + state.pos;
    this.inQuotes = state.inQuotes;
    this.cut = state.cut;
    return state.cut;
  }

  /** Bytes in (see bytes.ts): read by the fast path where it can, else decoded and pushed as text. */
  private readonly front: ByteFront;

  /** The next bytes of the file (UTF-8), see {@link ByteFront.push}. */
  pushBytes(chunk: Uint8Array): void {
    if (!this.done) this.front.push(chunk);
  }

  /** Ends the bytes: what is held of them read as text (then {@link end}). */
  endBytes(): void {
    this.front.end();
  }

  /** Characters not valid UTF-8 in the bytes read (read as U+FFFD). */
  get replaced(): number {
    return this.front.replaced;
  }

  /** Whether the fast path may read the file's bytes now (the header and the dialect are known). */
  get fastReady(): boolean {
    return !this.done && this.builders !== undefined && !this.backfillTarget && this.delimiter?.length === 1 && this.newline !== undefined;
  }

  /** The text's complete records parsed, its unfinished one handed over to be read on as bytes (undefined: read on as text, see bytes.ts). */
  handOver(): string | undefined {
    if (!this.fastReady) return undefined;
    const cut = this.lastRecordEnd();
    // A long record stays text (held in pieces; not joined here at every chunk).
    if (this.pending.length - (cut + 1) > MAX_CARRY) return undefined;
    if (cut >= 0) {
      const segment = this.pending.take(cut + 1);
      this.scanned -= cut + 1;
      this.cut = -1;
      this.parseSegment(segment);
    }
    const rest = this.pending.text();
    if (this.done || rest.includes('\uFFFD')) return undefined;
    this.pending = new PendingText();
    this.scanned = 0;
    this.inQuotes = false;
    this.cut = -1;
    return rest;
  }

  /**
   * The fast path over `bytes` (fast.ts): its rows added, its bad rows quoted (from `text`,
   * the bytes' text, when given), its lines counted; null, changing nothing, where it gives up.
   */
  readFast(bytes: Uint8Array, final: boolean, text?: string): FastRead | null {
    const read = this.front.fast.read(bytes, this.delimiter!.charCodeAt(0), this.newline === '\r\n', final, this.builders!);
    if (!read) return null;
    this.rows += read.rows;
    if (read.bad > 0) this.noteBadRows(text ?? this.front.cells.peek(bytes, 0, read.used), read.bad);
    this.lineBase += read.lines;
    return read;
  }

  /** A segment of text by the fast path (as its bytes), where it can. */
  private fastText(segment: string): boolean {
    const bytes = this.fastReady ? this.front.bytesOf(segment) : undefined;
    return bytes !== undefined && this.front.uncounted(() => this.readFast(bytes, true, segment) !== null);
  }

  private parseSegment(segment: string): void {
    if (this.done) return;
    if (!this.backfillTarget) this.bad.lineEnds(segment, this.lineBase, this.delimiter, this.newline);
    if (this.builders && !this.backfillTarget && this.fastText(segment)) return;
    const { fileName } = this.options;
    // Blank lines are skipped here (papaparse's own "greedy" test joins every row's fields).
    // papaparse drops a U+FEFF that starts its text: in a segment past the file's start it is
    // data (a cell's first character), kept by parsing from a blank line before it.
    const keepMark = segment.charCodeAt(0) === 0xfeff && this.newline !== undefined;
    const rows = Papa.parse<string[]>(keepMark ? this.newline + segment : segment, { delimiter: this.delimiter, ...(this.newline ? { newline: this.newline } : {}) }).data;
    let start = 0;
    while (start < rows.length && isBlank(rows[start])) start++;
    if (!this.builders && start < rows.length) {
      this.headerFields = rows[start];
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

  /** Counts bad rows and quotes the first few by line. */
  private noteBadRows(segment: string, count: number): void {
    this.bad.note(segment, count, this.lineBase, this.builders!.length, this.delimiter, this.newline, this.lineBase === 0 && !this.sliced);
  }

  /**
   * A reader for a later slice of the file, read on a thread (see slice.ts): its text starts
   * at a record after the header, whose fields and dialect the first reader found.
   * `categorical`: columns read as text from the first row (they hold text before the slice).
   */
  static forSlice(options: CsvOptions, slice: SliceStart): CsvReader {
    const reader = new CsvReader(options);
    reader.started = true; // a slice starts with no byte-order mark: its first character is data, even U+FEFF
    reader.front.keepMark();
    reader.sliced = true;
    reader.delimiter = slice.delimiter;
    reader.newline = slice.newline;
    reader.headerFields = slice.header;
    reader.builders = readHeader(slice.header, options.fileName, reader.missingValues, options.dtypes ?? {});
    for (const i of slice.categorical) reader.builders[i].numeric = false;
    return reader;
  }

  /** Where a slice of the file may start, once the header is read: its fields, the dialect, the columns holding text so far. */
  get sliceStart(): SliceStart | undefined {
    if (!this.builders || !this.headerFields || this.delimiter === undefined || this.newline === undefined || this.backfillTarget) return undefined;
    const categorical = this.builders.flatMap((builder, i) => (builder.numeric ? [] : [i]));
    return { header: this.headerFields, delimiter: this.delimiter, newline: this.newline, categorical };
  }

  /**
   * Whether the text so far ends where a record ends (outside quotes, at the file's line
   * ending), and parses what it holds: the next slice's text may then follow it. False,
   * parsing nothing, when the text ends inside a record.
   */
  endRecords(): boolean {
    const front = this.front.endsOnRecord;
    if (front !== undefined) return front;
    if (this.pending.length === 0) return !this.inQuotes;
    if (this.inQuotes || this.scanned !== this.pending.length || this.cut !== this.pending.length - 1) return false;
    const segment = this.pending.take(this.pending.length);
    this.scanned = 0;
    this.cut = -1;
    this.parseSegment(segment);
    return true;
  }

  /** The rows read, as a slice's reader sends them back: call after {@link end}. */
  sliceState(): SliceRows {
    return { rows: this.rows, lines: this.lineBase, bad: this.bad.state(), columns: this.builders!.map((builder) => builder.sliceState()) };
  }

  /** Columns whose rows wait for a second pass (their numbers' texts may not read back). */
  get awaitingColumns(): number[] {
    return (this.builders ?? []).flatMap((builder, i) => (builder.awaitingTexts ? [i] : []));
  }

  /**
   * Appends a later slice's rows (read by {@link forSlice} from where this reader's text ended, see {@link endRecords})
   * as one pass would have; false, changing nothing, where it cannot tell what one pass would have read (ColumnBuilder.canAbsorb).
   */
  absorb(slice: SliceRows): boolean {
    const builders = this.builders!;
    if (slice.columns.length !== builders.length || !builders.every((builder, i) => builder.canAbsorb(slice.columns[i]))) return false;
    builders.forEach((builder, i) => builder.absorb(slice.columns[i]));
    this.bad.append(BadRows.of(slice.bad), this.lineBase);
    this.rows += slice.rows;
    this.lineBase += slice.lines;
    return true;
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
    if (this.bad.count > 0 && !this.options.skipBadRows) throw this.bad.error(fileName, builders.length, this.delimiter ?? ',', this.options.delimiter !== undefined);
    if (this.rows === 0) throw new CsvError(`${fileName}: the file has a header row but no data rows.`);
    const columns = declaredColumns(builders, this.options.dtypes ?? {}, fileName);
    return { source: fileName, rowCount: this.rows, columns, delimiter: this.delimiter ?? ',', ...(this.bad.count > 0 ? { skipped: { rows: this.bad.count, examples: this.bad.examples() } } : {}) };
  }
}
