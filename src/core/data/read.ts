import { looksLikeArrow, tableFromArrow } from './arrow';
import { parseCsv, type CsvOptions } from './csv';
import type { Table } from './table';

/** Reads a data file by its bytes: an Arrow IPC file, or CSV text (UTF-8). */
export function readTable(bytes: Uint8Array, fileName: string, options: Omit<CsvOptions, 'fileName'> = {}): Table {
  if (looksLikeArrow(bytes)) return tableFromArrow(bytes, fileName);
  return parseCsv(new TextDecoder('utf-8').decode(bytes), { fileName, ...options });
}
