import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { CsvError } from '../base/errors';
import { loadArrow, looksLikeArrow, tableFromArrow } from './arrow';
import { CsvReader, utf16Error, type CsvOptions } from './csv';
import { concatBytes } from './csv/bytes';
import { CsvSlices, MIN_SLICED_BYTES, type CsvSliceRunner } from './slices';
import { INPUT_LIMITS } from '../base/limits';
import { looksLikeParquet, parquetToArrow } from './parquet';
import { declaredTable } from './csv/declared';
import { checkEncoding, unreadableText } from './csv/encoding';
import type { Table } from './table';

/**
 * The data formats, recognised by their first bytes and tried in this order: Arrow IPC and
 * Parquet by their magic numbers, CSV for everything else (it is read as text, streaming;
 * the other two are read whole). The model formats have their own registry (model/classifier).
 */
export const DATA_FORMATS: readonly { id: 'csv' | 'arrow' | 'parquet'; match: (head: Uint8Array) => boolean }[] = [
  { id: 'arrow', match: looksLikeArrow },
  { id: 'parquet', match: looksLikeParquet },
  { id: 'csv', match: () => true },
];

/** The format of a data file from its first 8 bytes (or all of a shorter file). */
export function dataFormatOf(head: Uint8Array): LoadedTable['format'] {
  return DATA_FORMATS.find((f) => f.match(head))!.id;
}

/** A file the user supplied, as bytes plus the name shown in messages. */
export interface InputFile {
  fileName: string;
  bytes: Uint8Array;
}

/** A data file read into a table, with what the manifest and the findings need. */
export interface LoadedTable {
  table: Table;
  format: 'csv' | 'arrow' | 'parquet';
  /** SHA-256 of the file's bytes, computed while reading them. */
  sha256: string;
  bytes: number;
}

/** Progress of a load: bytes read of the total, and rows parsed so far. */
export interface LoadProgress {
  bytes: number;
  totalBytes: number;
  rows: number;
}

/** Options of {@link TableLoader}. */
export interface LoadOptions extends Omit<CsvOptions, 'fileName'> {
  /** The file's size in bytes, when known (progress and the memory estimate). */
  totalBytes?: number;
  /**
   * Memory the table may take, in bytes. Once the first rows are read, the table's size is
   * estimated from the file's size and the load is refused before it runs out of memory.
   */
  memoryLimit?: number;
  /**
   * The SHA-256 to use (Node's native one in the CLI), a fresh one on each call (a file whose
   * slices do not work out is read, and hashed, again); {@link nobleSha256} by default; null
   * when the host hashes the file elsewhere (the result's `sha256` is then empty for it to fill).
   */
  hash?: (() => IncrementalHash) | null;
  /**
   * Reads a large CSV file's slices on the pool's threads ({@link CsvSlices}); the table is
   * the one a single pass makes. Used by {@link loadTableStream} when it can read the file
   * again (`reopen`), should slicing not work out.
   */
  csvSlices?: CsvSliceRunner;
  /** Bytes per slice (tests read small files in slices). */
  sliceBytes?: number;
}

const GIB = 1024 ** 3;

/** A SHA-256 fed piece by piece. */
export interface IncrementalHash {
  update(bytes: Uint8Array): void;
  digestHex(): string;
}

/** The core's own SHA-256 (@noble/hashes, pure JavaScript); hosts may give a faster one. */
export function nobleSha256(): IncrementalHash {
  const hash = sha256.create();
  return { update: (bytes) => void hash.update(bytes), digestHex: () => bytesToHex(hash.digest()) };
}

/**
 * Reads a data file that arrives in byte chunks: CSV (UTF-8, decoded and parsed piece by
 * piece, never held whole), Arrow IPC or Parquet (recognised by their first bytes; these
 * formats need the whole file). The SHA-256 of the bytes is computed on the way.
 */
export class TableLoader {
  private csv: CsvReader | undefined;
  private binary: Uint8Array[] | undefined;
  private format: LoadedTable['format'] | undefined;
  private head: Uint8Array = new Uint8Array(0);
  private replaced = 0;
  private estimated = false;
  /** Bytes per row at the first estimate (0: no reservation pending). */
  private firstRate = 0;
  private ended = false;
  private readonly hash: IncrementalHash | null;
  /** The slicing of a large CSV file over the pool (see {@link LoadOptions.csvSlices}). */
  private slices: CsvSlices | undefined;
  /** Bytes fed to this thread's CSV reader. */
  private fed = 0;
  bytes = 0;

  constructor(private readonly fileName: string, private readonly options: LoadOptions = {}) {
    this.hash = options.hash === null ? null : (options.hash ?? nobleSha256)();
  }

  /** Rows parsed so far (CSV). */
  get rows(): number {
    return this.csv?.rows ?? 0;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.hash?.update(chunk);
    this.bytes += chunk.length;
    if (this.format === undefined) {
      // The format is decided on the first 8 bytes, however the chunks fall.
      if (this.head.length > 0 || chunk.length < 8) {
        this.head = concatBytes([this.head, chunk]);
        if (this.head.length < 8) return;
        chunk = this.head;
        this.head = new Uint8Array(0);
      }
      checkNotUtf16(chunk, this.fileName);
      this.format = dataFormatOf(chunk);
      if (this.format === 'csv') this.startCsv();
      else this.binary = [];
    }
    if (this.binary) {
      this.binary.push(chunk);
      return;
    }
    if (this.slices) this.slices.push(chunk);
    else this.feed(chunk);
  }

  private startCsv(): void {
    const { csvSlices, sliceBytes, totalBytes, hash, memoryLimit, ...csvOptions } = this.options;
    const options = { fileName: this.fileName, ...csvOptions, ...(csvOptions.encoding ? { encoding: checkEncoding(csvOptions.encoding, this.fileName) } : {}) };
    this.csv = new CsvReader(options);
    if (csvSlices && (totalBytes ?? 0) >= (sliceBytes ? 0 : MIN_SLICED_BYTES)) {
      this.slices = new CsvSlices(this.csv, (bytes) => this.feed(bytes), csvSlices, options, sliceBytes);
    }
  }

  /** Bytes to this thread's CSV reader. */
  private feed(chunk: Uint8Array): void {
    this.csv!.pushBytes(chunk);
    this.fed += chunk.length;
    this.checkRows();
  }

  /** The memory estimate after the first 1,000 rows, the columns sized after 10,000. */
  private checkRows(): void {
    if (!this.estimated && this.csv!.rows >= 1000) this.checkMemory();
    else if (this.firstRate > 0 && this.csv!.rows >= 10_000) this.reserve();
  }

  /** Bytes whose rows the reader holds. */
  private get rowBytes(): number {
    return this.slices ? Math.max(this.fed, this.slices.bytesRead) : this.fed;
  }

  /** Whether slices are in flight on the pool (then {@link joinSlices} before {@link end}). */
  get slicing(): boolean {
    return this.slices !== undefined;
  }

  /** Whether the file is Arrow or Parquet, read by apache-arrow (which {@link loadArrow} loads). */
  get needsArrow(): boolean {
    return this.format === 'arrow' || this.format === 'parquet';
  }

  /** Whether a slice could not be used (the rest of the file need not be read: it is read again in one pass). */
  get slicesFailed(): boolean {
    return this.slices?.failed ?? false;
  }

  /** Waits while the most slices are in flight (their bytes wait in memory). */
  async room(): Promise<void> {
    await this.slices?.room();
    if (this.slices) this.checkRows();
  }

  /** Appends every slice; false when the file must be read again in one pass (see {@link CsvSlices}). */
  async joinSlices(): Promise<boolean> {
    if (!this.slices) return true;
    const ok = await this.slices.finish();
    this.replaced += this.slices.replaced;
    return ok;
  }

  /**
   * Estimates the rows from the bytes per row so far and refuses a file whose table would
   * not fit (eight bytes per cell: a number, or a category code with room for its dictionary).
   */
  private checkMemory(): void {
    this.estimated = true;
    const { totalBytes, memoryLimit } = this.options;
    if (!totalBytes) return;
    const columns = this.csv!.columns;
    const rows = Math.round((totalBytes / this.rowBytes) * this.csv!.rows);
    const need = rows * columns * 8;
    if (memoryLimit && need > memoryLimit) {
      throw new CsvError(
        `${this.fileName}: about ${rows.toLocaleString('en-US')} rows × ${columns} columns need about ${(need / GIB).toFixed(1)} GiB in memory, more than the ${(memoryLimit / GIB).toFixed(1)} GiB this host allows. Audit a sample of the rows (split the file, or keep the columns the audit needs), or run the plumbline CLI on a machine with more memory.`,
      );
    }
    this.firstRate = this.rowBytes / this.csv!.rows;
  }

  /**
   * Sizes the columns once for the estimated rows (5% spare) instead of letting them double
   * as rows come — when the bytes per row after 10,000 rows agree within 25% with those
   * after 1,000 (a file whose rows grow or shrink keeps doubling: a wrong estimate would
   * reserve too much).
   */
  private reserve(): void {
    const rate = this.rowBytes / this.csv!.rows;
    const first = this.firstRate;
    this.firstRate = 0;
    const { totalBytes } = this.options;
    if (!totalBytes || Math.abs(rate - first) > 0.25 * first) return;
    this.csv!.reserve(Math.ceil((totalBytes / rate) * 1.05));
  }

  /**
   * Ends the bytes. True when a second pass over them is wanted: a column turned out to
   * hold text after numbers whose texts must be read again ({@link secondPass}).
   */
  end(): boolean {
    if (this.format === undefined) {
      // Fewer than 8 bytes: only CSV is possible.
      checkNotUtf16(this.head, this.fileName);
      this.format = 'csv';
      this.csv = new CsvReader({ fileName: this.fileName, ...this.options });
      this.csv.pushBytes(this.head);
    }
    if (!this.csv) return false;
    if (!this.ended) {
      this.ended = true;
      this.csv.endBytes();
      this.csv.end();
    }
    return this.csv.needsBackfill;
  }

  /** The second pass: give it the file's bytes again from the start, until `done`. */
  secondPass(): { push(chunk: Uint8Array): void; readonly done: boolean; end(): void } {
    const reader = this.csv!.backfillReader();
    const decoder = new TextDecoder(this.options.encoding ?? 'utf-8');
    return {
      push: (chunk) => reader.push(decoder.decode(chunk, { stream: true })),
      get done() {
        return reader.done;
      },
      end: () => {
        reader.push(decoder.decode());
        reader.end();
      },
    };
  }

  finish(): LoadedTable {
    this.end();
    let table: Table;
    if (this.csv) {
      try {
        table = this.csv.finish();
      } catch (error) {
        // A declared type's refusal of "2\uFFFD" is the encoding's fault: said as such.
        const replaced = this.replaced + this.csv.replaced;
        if (replaced > 0 && error instanceof CsvError) throw unreadableText({ source: this.fileName, rowCount: 0, columns: [] }, this.fileName, this.options.encoding ?? 'utf-8', replaced);
        throw error;
      }
    } else {
      const bytes = concatBytes(this.binary!);
      this.binary = [];
      table = declaredTable(tableFromArrow(this.format === 'parquet' ? parquetToArrow(bytes, this.fileName) : bytes, this.fileName), this.options, this.fileName);
      if (table.columns.length > INPUT_LIMITS.columns) {
        throw new CsvError(
          `${this.fileName}: the table has ${table.columns.length.toLocaleString('en-US')} columns, more than the ${INPUT_LIMITS.columns.toLocaleString('en-US')} a data file may have. Keep the columns the audit needs (target, protected attributes, model inputs) and load the file again.`,
        );
      }
    }
    const replaced = this.replaced + (this.csv?.replaced ?? 0);
    if (replaced > 0) throw unreadableText(table, this.fileName, this.options.encoding ?? 'utf-8', replaced);
    return { table, format: this.format!, sha256: this.hash?.digestHex() ?? '', bytes: this.bytes };
  }
}

/** A UTF-16 byte-order mark at the start of a data file: refused with what to do (the UTF-8 decoder would make it NULs and U+FFFD). */
function checkNotUtf16(head: Uint8Array, fileName: string): void {
  if (head[0] === 0xff && head[1] === 0xfe) throw utf16Error(fileName, 'little-endian', true);
  if (head[0] === 0xfe && head[1] === 0xff) throw utf16Error(fileName, 'big-endian', true);
}

/** Bytes fed to a loader at a time when the whole file is already in memory. */
const CHUNK = 4 * 1024 * 1024;

/**
 * Reads a data file that is all in memory (see {@link TableLoader}), fed to the loader
 * `chunkSize` bytes at a time (the tests feed it pieces down to 1 byte).
 */
export function loadTableBytes(bytes: Uint8Array, fileName: string, options: LoadOptions = {}, chunkSize = CHUNK): LoadedTable {
  // In one pass: slices are read over the pool by loadTableStream, which waits for them.
  const { csvSlices: _, ...oneThread } = options;
  const loader = new TableLoader(fileName, { totalBytes: bytes.length, ...oneThread });
  for (let at = 0; at < bytes.length; at += chunkSize) loader.push(bytes.subarray(at, at + chunkSize));
  if (loader.end()) {
    const second = loader.secondPass();
    for (let at = 0; at < bytes.length && !second.done; at += chunkSize) second.push(bytes.subarray(at, at + chunkSize));
    second.end();
  }
  return loader.finish();
}

/**
 * Loads what reading these bytes needs before {@link loadTableBytes} or {@link readTable}
 * (which are synchronous): apache-arrow for an Arrow or Parquet file, loaded only then
 * (see {@link loadArrow}).
 */
export async function loadReaderFor(bytes: Uint8Array): Promise<void> {
  if (dataFormatOf(bytes.subarray(0, 8)) !== 'csv') await loadArrow();
}

/** Reads a data file by its bytes: an Arrow IPC file, a Parquet file, or CSV text (UTF-8). */
export function readTable(bytes: Uint8Array, fileName: string, options: Omit<CsvOptions, 'fileName'> = {}): Table {
  return loadTableBytes(bytes, fileName, options).table;
}

/**
 * Reads a data file from a stream of chunks (a browser File's stream, a Node file stream),
 * reporting progress after each chunk and stopping at the signal.
 */
export async function loadTableStream(
  fileName: string,
  chunks: AsyncIterable<Uint8Array>,
  options: LoadOptions & {
    onProgress?: (progress: LoadProgress) => void;
    signal?: AbortSignal;
    /** The same bytes again from the start, for the rare second pass (see {@link TableLoader.end}); without it, such columns take their numbers' texts. */
    reopen?: () => AsyncIterable<Uint8Array>;
  } = {},
): Promise<LoadedTable> {
  const { onProgress, signal, reopen, csvSlices, ...loadOptions } = options;
  // Slices over the pool only where the file can be read again, should slicing not work out.
  const loader = new TableLoader(fileName, { ...loadOptions, ...(reopen && csvSlices ? { csvSlices } : {}) });
  for await (const chunk of chunks) {
    signal?.throwIfAborted();
    loader.push(chunk);
    if (loader.slicing) await loader.room();
    if (loader.slicesFailed) break;
    onProgress?.({ bytes: loader.bytes, totalBytes: options.totalBytes ?? loader.bytes, rows: loader.rows });
  }
  signal?.throwIfAborted();
  if (!(await loader.joinSlices())) {
    signal?.throwIfAborted();
    return loadTableStream(fileName, reopen!(), { ...options, csvSlices: undefined });
  }
  if (loader.end() && reopen) {
    const second = loader.secondPass();
    for await (const chunk of reopen()) {
      signal?.throwIfAborted();
      second.push(chunk);
      if (second.done) break;
    }
    second.end();
  }
  if (loader.needsArrow) await loadArrow();
  return loader.finish();
}
