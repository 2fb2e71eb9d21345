/**
 * A later slice of a CSV file read on a thread of the pool: its bytes, which start at a
 * record after the header, read as the first reader would have read on (the same header,
 * dialect and options; columns that already hold text read as text), the rows sent back for
 * the first reader to append in order ({@link CsvReader.absorb}).
 */
import type { CsvOptions } from './options';
import { SpareBuffers, type SliceRows, type SliceStart } from './columns';
import { CsvReader } from './reader';

/** A slice of the file for a thread to read. */
export interface CsvSliceJob {
  bytes: Uint8Array;
  options: CsvOptions;
  start: SliceStart;
  /** The file's last slice (it may end anywhere; the others end at a newline). */
  last: boolean;
  /** About how many rows it holds (from the bytes per row so far): the columns are sized once. */
  rows: number;
  /** Buffers of earlier slices' columns, appended and sent back, for this slice's columns (see {@link SpareBuffers}). */
  spares?: ArrayBuffer[];
}

/** What a thread read from a slice. */
export interface CsvSliceResult extends SliceRows {
  last: boolean;
  /** Whether the text ended where a record ends: the next slice then starts at a record, as assumed. */
  endsOnRecord: boolean;
  /** Characters not valid UTF-8, read as U+FFFD. */
  replaced: number;
  /** The job's byte buffer, sent back for a later slice's bytes. */
  spare?: ArrayBuffer;
}

/**
 * Reads a slice. A column that turned to text after numbers whose texts may not read back
 * ("007") is read again as text from the slice's first row: one pass over the file would
 * read those texts again, and the first reader decides whether it can use them.
 */
export function readCsvSlice(job: CsvSliceJob): CsvSliceResult {
  const spare = new SpareBuffers(job.spares ?? []);
  const first = readOnce(job, job.start.categorical, spare);
  let { result } = first;
  if (first.awaiting.length) {
    result = readOnce(job, [...job.start.categorical, ...first.awaiting], spare).result;
    // Read as text because a number's text might not read back: it cannot follow numbers.
    for (const i of first.awaiting) result.columns[i].inexact = true;
  }
  result.spare = job.bytes.buffer as ArrayBuffer;
  return result;
}

function readOnce(job: CsvSliceJob, categorical: number[], spare: SpareBuffers): { result: CsvSliceResult; awaiting: number[] } {
  const reader = CsvReader.forSlice(job.options, { ...job.start, categorical });
  reader.reserve(job.rows, spare);
  reader.pushBytes(job.bytes);
  reader.endBytes();
  const endsOnRecord = reader.endRecords();
  const replaced = reader.replaced;
  // A slice cut inside a record is of no use (the first reader reads the file in one pass).
  if (!endsOnRecord && !job.last) return { result: { rows: 0, lines: 0, bad: { count: 0, lines: [], mixedLine: 0 }, columns: [], last: false, endsOnRecord, replaced }, awaiting: [] };
  reader.end();
  const awaiting = reader.awaitingColumns;
  return { result: { ...reader.sliceState(), last: job.last, endsOnRecord, replaced }, awaiting };
}

/** The buffers of a result, moved to the first reader rather than copied. */
export function sliceTransfers(result: CsvSliceResult): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>(result.spare ? [result.spare] : []);
  for (const column of result.columns) {
    buffers.add(column.values.buffer as ArrayBuffer);
    if (column.texts) {
      buffers.add(column.texts.rows.buffer as ArrayBuffer);
      buffers.add(column.texts.codes.buffer as ArrayBuffer);
    }
  }
  return [...buffers];
}
