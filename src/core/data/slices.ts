/**
 * A CSV file read in slices over the pool's threads: the loading thread reads the first
 * slice itself (the header, the dialect, the memory estimate), then cuts the bytes that
 * follow into slices at newlines and sends each to a thread, which reads it as the loading
 * thread would have read on ({@link readCsvSlice}); the rows come back and are appended in
 * file order ({@link CsvReader.absorb}). The table is the one a single pass makes, to the
 * byte: a slice is cut where the quotes so far are balanced, and it counts only if the slice
 * before it ended where a record ends, read by the reader's own rules; where that fails, or
 * a slice's rows cannot follow the rows before (a column that turns to text after numbers
 * whose texts may not read back), or a slice fails, the file is read again in one pass.
 */
import { INPUT_LIMITS } from '../base/limits';
import type { CsvOptions, CsvReader } from './csv';
import type { CsvSliceJob, CsvSliceResult } from './csv/slice';

/** Reads a slice on a thread of the pool. */
export type CsvSliceRunner = (job: CsvSliceJob) => Promise<CsvSliceResult>;

/** Bytes of the first slice, which the loading thread reads itself. */
const FIRST_SLICE_BYTES = 1 << 20;
/** The first slice holds at least this much: the delimiter is detected on the text's first 64 K characters (see csv/dialect). */
const MIN_FIRST_SLICE_BYTES = 256 << 10;
/** Bytes of each later slice (a slice ends at the first newline after this many). */
export const CSV_SLICE_BYTES = 4 << 20;
/** Files smaller than this are read in one pass (slices would not pay for their messages). */
export const MIN_SLICED_BYTES = 8 << 20;
/** Slices sent and not yet appended, at most: their bytes and rows wait in memory. */
const MAX_IN_FLIGHT = 4;

/** The slicing of one file while its chunks come (see the module's comment). */
export class CsvSlices {
  /** `first`: the loading thread reads; `slices`: cutting; `one`: the loading thread reads the rest (no slices). */
  private phase: 'first' | 'slices' | 'one' = 'first';
  /** Whether the quotes in the bytes so far are odd in number (a newline there is inside a quoted field). */
  private oddQuotes = false;
  /** The last byte handled (a CR before a slice's first LF). */
  private lastByte = -1;
  private crlf = false;
  /** Bytes of the slice being cut (the first slice's were fed to the reader). */
  private current = 0;
  private gathered: Uint8Array[] = [];
  private readonly inFlight: { result: Promise<CsvSliceResult>; bytes: number }[] = [];
  /** A slice could not be used: the file is to be read again in one pass. */
  failed = false;
  /** Buffers of slices read, for later slices' bytes (pages already touched cost a fraction of fresh ones). */
  private readonly spares: ArrayBuffer[] = [];
  /** Buffers of appended slices' columns, for a later slice's columns (see {@link SpareBuffers}). */
  private columnSpares: ArrayBuffer[] = [];
  /** Bytes whose rows the reader holds (the first slice and those appended). */
  bytesRead = 0;
  /** Characters of the slices not valid UTF-8 (U+FFFD). */
  replaced = 0;

  constructor(
    private readonly reader: CsvReader,
    /** Feeds bytes to the loading thread's reader. */
    private readonly feed: (bytes: Uint8Array) => void,
    private readonly run: CsvSliceRunner,
    private readonly options: CsvOptions,
    private readonly sliceBytes = CSV_SLICE_BYTES,
    private readonly firstBytes = Math.max(MIN_FIRST_SLICE_BYTES, Math.min(FIRST_SLICE_BYTES, sliceBytes)),
  ) {}

  /** The next chunk of the file. */
  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.phase === 'one') {
        this.take(chunk, at, chunk.length, false);
        return;
      }
      const room = (this.phase === 'first' ? this.firstBytes : this.sliceBytes) - this.current;
      if (room > 0) {
        const to = Math.min(chunk.length, at + room);
        this.take(chunk, at, to, false);
        at = to;
        continue;
      }
      if (this.phase === 'first' && this.current === this.firstBytes) {
        // The dialect is known by now (or the file is not one to slice).
        const start = this.reader.sliceStart;
        if (!start) {
          this.phase = 'one';
          continue;
        }
        this.crlf = start.newline === '\r\n';
      }
      const cut = this.findCut(chunk, at);
      this.take(chunk, at, cut < 0 ? chunk.length : cut, true);
      // No balanced newline within a record's most bytes past the slice's size (a stray or
      // unclosed quote): slicing stops and the rest is not held (the file is read again in one pass).
      if (cut < 0 && this.phase === 'slices' && this.current > this.sliceBytes + 3 * INPUT_LIMITS.rowChars) this.fail();
      if (cut < 0) return;
      at = cut;
      this.endSlice(false);
    }
  }

  /** Bytes `from`–`to` of the chunk to the current slice (`counted`: their quotes are counted already). */
  private take(chunk: Uint8Array, from: number, to: number, counted: boolean): void {
    if (to <= from) return;
    if (!counted) this.countQuotes(chunk, from, to);
    this.lastByte = chunk[to - 1];
    this.current += to - from;
    if (this.phase === 'slices') {
      if (!this.failed) this.gathered.push(chunk.subarray(from, to));
    } else {
      this.feed(chunk.subarray(from, to));
      this.bytesRead += to - from;
    }
  }

  private countQuotes(chunk: Uint8Array, from: number, to: number): void {
    let odd = this.oddQuotes;
    for (let q = chunk.indexOf(34, from); q >= 0 && q < to; q = chunk.indexOf(34, q + 1)) odd = !odd;
    this.oddQuotes = odd;
  }

  /**
   * The offset just after the first newline from `from` with the quotes before it balanced
   * (and, in a CRLF file, a CR before it), or −1; the quotes up to there (or to the chunk's
   * end) are counted.
   */
  private findCut(chunk: Uint8Array, from: number): number {
    let odd = this.oddQuotes;
    let quote = chunk.indexOf(34, from);
    for (let at = from; ; ) {
      const newline = chunk.indexOf(10, at);
      const end = newline < 0 ? chunk.length : newline;
      while (quote >= 0 && quote < end) {
        odd = !odd;
        quote = chunk.indexOf(34, quote + 1);
      }
      if (newline < 0) {
        this.oddQuotes = odd;
        return -1;
      }
      const before = newline > 0 ? chunk[newline - 1] : this.lastByte;
      if (!odd && (!this.crlf || before === 13)) {
        this.oddQuotes = odd;
        return newline + 1;
      }
      at = newline + 1;
    }
  }

  /** The slice being cut is complete (`last`: at the file's end). */
  private endSlice(last: boolean): void {
    this.current = 0;
    if (this.phase === 'first') {
      // The first slice must end where a record ends, by the reader's own rules; else the
      // loading thread reads on alone.
      this.phase = this.reader.endRecords() ? 'slices' : 'one';
      return;
    }
    const parts = this.gathered;
    this.gathered = [];
    if (this.failed || parts.length === 0) return;
    const length = parts.reduce((n, part) => n + part.length, 0);
    const spare = this.spares.findIndex((buffer) => buffer.byteLength >= length);
    // Room for a slice that runs on a little past its size to its newline.
    const buffer = spare >= 0 ? this.spares.splice(spare, 1)[0] : new ArrayBuffer(length + (length >> 4));
    const bytes = new Uint8Array(buffer, 0, length);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    const start = this.reader.sliceStart!;
    // Sized for 10% more rows than the bytes per row so far give (a column grows past that if need be).
    const rows = Math.ceil((length / Math.max(1, this.bytesRead)) * this.reader.rows * 1.1);
    const spares = this.columnSpares;
    this.columnSpares = [];
    const result = this.run({ bytes, options: this.options, start, last, rows, spares });
    result.catch(() => undefined); // awaited in order by appendNext()
    this.inFlight.push({ result, bytes: length });
  }

  /** Slicing is given up: what is gathered is let go. */
  private fail(): void {
    this.failed = true;
    this.gathered = [];
  }

  /** Waits, appending finished slices in order, until fewer than the most slices are in flight. */
  async room(): Promise<void> {
    while (this.inFlight.length >= MAX_IN_FLIGHT) await this.appendNext();
  }

  /** The file has ended: the last slice goes out and every slice is appended; false when the file must be read again in one pass. */
  async finish(): Promise<boolean> {
    if (this.phase === 'slices') this.endSlice(true);
    while (this.inFlight.length > 0) await this.appendNext();
    return !this.failed;
  }

  private async appendNext(): Promise<void> {
    const { result, bytes } = this.inFlight.shift()!;
    let slice: CsvSliceResult;
    try {
      slice = await result;
    } catch (error) {
      // A slice that fails (a cell over the limit, an unclosed quote) fails again in one
      // pass, which names the row in the whole file.
      // (A pool stopped by a cancel fails its jobs too: this load's own cancel ends it after the fallback's check.)
      this.failed = true;
      return;
    }
    if (slice.spare && this.spares.length < MAX_IN_FLIGHT) this.spares.push(slice.spare);
    if (this.failed) return;
    if ((!slice.endsOnRecord && !slice.last) || !this.reader.absorb(slice)) {
      this.failed = true;
      return;
    }
    this.replaced += slice.replaced;
    this.bytesRead += bytes;
    // The reader copied the columns' values: their buffers can hold the next slice's (one slice's worth kept).
    this.columnSpares = [...new Set(slice.columns.map((column) => column.values.buffer as ArrayBuffer))].filter((buffer) => buffer.byteLength > 0);
  }
}
