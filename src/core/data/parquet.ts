import { CsvError } from '../base/errors';

/**
 * Turns the bytes of a Parquet file into Arrow IPC bytes. The core holds no WebAssembly
 * loader of its own: each host registers parquet-wasm's reader (Node loads the module
 * from disk, the worker fetches its .wasm asset from the app's own origin).
 */
export type ParquetDecoder = (bytes: Uint8Array) => Uint8Array;

let decoder: ParquetDecoder | null = null;

/** Registers the host's Parquet reader (see {@link ParquetDecoder}). */
export function useParquetDecoder(decode: ParquetDecoder): void {
  decoder = decode;
}

/** Whether bytes start like a Parquet file ("PAR1"). */
export function looksLikeParquet(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x41 && bytes[2] === 0x52 && bytes[3] === 0x31;
}

/** The Arrow IPC bytes of a Parquet file, or a {@link CsvError} saying why not. */
export function parquetToArrow(bytes: Uint8Array, fileName: string): Uint8Array {
  const n = bytes.length;
  if (n < 12 || bytes[n - 4] !== 0x50 || bytes[n - 3] !== 0x41 || bytes[n - 2] !== 0x52 || bytes[n - 1] !== 0x31) {
    throw new CsvError(`${fileName}: starts like a Parquet file but does not end with its footer ("PAR1"); the file is cut short or damaged. Copy or export it again.`);
  }
  if (!decoder) throw new CsvError(`${fileName}: this host has no Parquet reader loaded. Convert the file to CSV or Arrow, or use the plumbline CLI or the app.`);
  try {
    return decoder(bytes);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new CsvError(`${fileName}: not a readable Parquet file (${message.slice(0, 300)}). Write it again with pyarrow, pandas or polars, or export the CSV.`);
  }
}
