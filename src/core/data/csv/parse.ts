/** CSV text that is all in memory, read in one call. */
import type { Table } from '../table';
import type { CsvOptions } from './options';
import { CsvReader } from './reader';

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
