/// <reference lib="webworker" />
/**
 * The tables the audit worker has read, by data id: reading a data file (CSV, Arrow or
 * Parquet) from its Blob in chunks that a Cancel interrupts, hashing it, and keeping it for
 * audits, data checks and the row explorer until the page lets it go.
 */
import { createSHA256 } from 'hash-wasm';
import { blobSha256, chunksOf } from './blob';
import { csvSlicePool, sha256InPool } from './pool';
import { AuditConfigError, browserMemory, dataFormatOf, loadTableStream, looksLikeParquet, MIN_SLICED_BYTES, useParquetDecoder, type LoadedTable, type LoadProgress } from '../src/core';
import { poolWorkers } from './worker-settings';
import type { CsvReadOptions, DataRef, DataSummary } from './worker-types';

declare const self: DedicatedWorkerGlobalScope;

/** The tables read, by data id. */
export const tables = new Map<string, { fileName: string; loaded: LoadedTable }>();

/** The table a reference names; a table no longer loaded is refused, saying to choose the file again. */
export function loadedTable(ref: DataRef): { fileName: string; loaded: LoadedTable } {
  const stored = tables.get(ref.dataId);
  if (!stored) throw new AuditConfigError(`${ref.fileName} is no longer loaded: choose the file again.`);
  return { fileName: ref.fileName, loaded: stored.loaded };
}
/**
 * The table may take half the device memory the browser reports (at most 8 GiB, which is
 * what it reports at most): beyond that the load is refused with the estimate, before the
 * tab runs out of memory. The page checks an audit's tables and stages against the same.
 */
const memoryLimit = browserMemory((self.navigator as WorkerNavigator & { deviceMemory?: number }).deviceMemory).bytes;

/**
 * Every this many milliseconds of reading, the load lets the worker's other messages in:
 * a Blob's stream can hand over chunk after chunk as microtasks, and without a task
 * boundary the page's Cancel (a message) would wait until the whole file was read.
 */
const LOAD_YIELD_MS = 25;

/** A task boundary (a message through a channel of its own: no timer clamping). */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/**
 * The chunks of a Blob, read so that a Cancel is seen within one chunk: the signal is
 * checked before each chunk is handed on, and the worker takes its messages at least every
 * {@link LOAD_YIELD_MS} ms.
 */
async function* cancellableChunks(blob: Blob, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  let yielded = performance.now();
  for await (const chunk of chunksOf(blob)) {
    if (performance.now() - yielded >= LOAD_YIELD_MS) {
      await nextTask();
      yielded = performance.now();
    }
    signal.throwIfAborted();
    yield chunk;
  }
}

let parquetReady: Promise<void> | null = null;

/** parquet-wasm, loaded from the app's own assets the first time a Parquet file comes. */
function loadParquet(): Promise<void> {
  parquetReady ??= (async () => {
    const [{ default: init, readParquet }, { default: wasmUrl }] = await Promise.all([
      import('parquet-wasm/esm'),
      import('parquet-wasm/esm/parquet_wasm_bg.wasm?url'),
    ]);
    await init({ module_or_path: wasmUrl });
    useParquetDecoder((bytes) => readParquet(bytes).intoIPCStream());
  })();
  return parquetReady;
}

/**
 * Reads a data file from its Blob in chunks, reporting bytes and rows at most every 100 ms,
 * and keeps the table under `dataId` (a table loaded under that id before is let go first:
 * two large files are never held at once). `controller` cancels it.
 */
export async function readTable(dataId: string, blob: Blob, fileName: string, controller: AbortController, onProgress: ((progress: LoadProgress) => void) | undefined, csv: CsvReadOptions): Promise<DataSummary> {
  tables.delete(dataId);
  const head = new Uint8Array(await blob.slice(0, 8).arrayBuffer());
  if (looksLikeParquet(head)) await loadParquet();
  let last = 0;
  // The SHA-256 is hash-wasm's. A large CSV is read in slices over the pool's workers (the
  // table one pass gives) and hashed here as it is read, the pool's workers being busy
  // reading. Other files are parsed here while a pool worker hashes them (one core: both here).
  const slicing = poolWorkers > 1 && blob.size >= MIN_SLICED_BYTES && dataFormatOf(head) === 'csv';
  const digest = poolWorkers > 1 && !slicing ? sha256InPool(blob, controller.signal) : null;
  digest?.catch(() => undefined); // a failed or cancelled load never awaits it
  const sha = digest ? null : await createSHA256();
  const loaded = await loadTableStream(fileName, cancellableChunks(blob, controller.signal), {
    ...csv,
    // A fresh hash for each read of the file (slices that do not work out read it again).
    hash: sha
      ? () => {
          sha.init();
          return { update: (bytes) => void sha.update(bytes), digestHex: () => sha.digest('hex') };
        }
      : null,
    totalBytes: blob.size,
    memoryLimit,
    ...(slicing ? { csvSlices: csvSlicePool(poolWorkers) } : {}),
    signal: controller.signal,
    reopen: () => cancellableChunks(blob, controller.signal),
    onProgress: (progress) => {
      const now = performance.now();
      if (now - last < 100 && progress.bytes < progress.totalBytes) return;
      last = now;
      onProgress?.(progress);
    },
  });
  // Should the pool have been stopped meanwhile (a cancelled audit), the file is hashed here.
  // (A cancelled load's digest failed because of the Cancel: that file is not hashed again.)
  if (digest) loaded.sha256 = await digest.catch(() => (controller.signal.throwIfAborted(), blobSha256(blob)));
  // A Cancel that came while the file was hashed (or Parquet decoded) keeps no table.
  controller.signal.throwIfAborted();
  tables.set(dataId, { fileName, loaded });
  const { table } = loaded;
  return {
    rows: table.rowCount,
    format: loaded.format,
    bytes: loaded.bytes,
    sha256: loaded.sha256,
    columns: table.columns.map((column) => ({
      name: column.name,
      kind: column.kind,
      missing: column.missing,
      distinct: column.kind === 'categorical' ? column.dictionary.length : null,
      sample: column.kind === 'categorical' ? column.dictionary.slice(0, 12) : [],
    })),
  };
}

/** Forgets tables the page no longer shows. */
export function releaseTables(keep: string[]): void {
  for (const id of [...tables.keys()]) if (!keep.includes(id)) tables.delete(id);
}
