/**
 * The audit worker's pool of Web Workers (one per core, up to 4): the core's scheduler
 * ({@link WorkerPool}) over threads started from pool.worker.ts, for TreeSHAP, tree scoring,
 * the consistency check's neighbour search, the recourse search of tree models, ONNX
 * scoring when this page has no onnxruntime threads (see src/core/pool), the slices of
 * large CSV files, the metrics of large tables, and the hashing of data files while the audit worker parses them.
 */
import { csvSlicesOverPool, neighboursOverPool, metricsOverPool, onnxScoresOverPool, recourseOverPool, sortsOverPool, treeMarginsOverPool, treeShapOverPool, WorkerPool, type CsvSliceRunner, type NeighbourRunner, type OnnxScoreRunner, type MetricsRunner, type PoolThread, type RecourseRunner, type SortRunner, type TreeMarginRunner, type TreeShapRunner } from '../src/core';

/** A Web Worker as a thread of the core's pool. */
function webWorker(index: number): PoolThread {
  const worker = new Worker(new URL('./pool.worker.ts', import.meta.url), { type: 'module', name: `plumbline-pool-${index}` });
  return {
    post: (message, transfer) => worker.postMessage(message, transfer),
    listen(onMessage, onError) {
      const message = (event: MessageEvent) => onMessage(event.data);
      const error = (event: ErrorEvent) => onError(new Error(event.message));
      worker.addEventListener('message', message);
      worker.addEventListener('error', error);
      return () => {
        worker.removeEventListener('message', message);
        worker.removeEventListener('error', error);
      };
    },
    terminate: () => worker.terminate(),
  };
}

const pool = new WorkerPool(webWorker);

/** TreeSHAP over `size` workers (1: in the calling thread). */
export const treeShapPool = (size: number): TreeShapRunner => treeShapOverPool(pool, size);
/** Tree scoring over `size` workers, in blocks of rows. */
export const treeMarginPool = (size: number): TreeMarginRunner => treeMarginsOverPool(pool, size);
/** ONNX scoring over `size` workers, each with its own single-threaded session. */
export const onnxScorePool = (size: number): OnnxScoreRunner => onnxScoresOverPool(pool, size);
/** The consistency check's neighbour search over `size` workers, in slices of the queries. */
export const neighbourPool = (size: number): NeighbourRunner => neighboursOverPool(pool, size);
/** The sorts of large numeric columns (drift, the data profile) over `size` workers, a column a job. */
export const sortPool = (size: number): SortRunner => sortsOverPool(pool, size);
/** The recourse search over `size` workers, in slices of the rows, for a tree model the workers open again. */
export const recoursePool = (size: number): RecourseRunner => recourseOverPool(pool, size);
/** The metrics of a large table on one of `size` workers, beside the drift, explanations and data profile. */
export const metricsPool = (size: number): MetricsRunner => metricsOverPool(pool, size);

/** Slices of a large CSV file read over `size` workers as the audit worker cuts them (see src/core/data/slices.ts). */
export const csvSlicePool = (size: number): CsvSliceRunner => csvSlicesOverPool(pool, size);

/**
 * The SHA-256 of a file, computed by a pool worker reading the Blob itself (in parallel with
 * the parse). A cancelled load ends that worker, so nothing goes on reading the file.
 */
export function sha256InPool(blob: Blob, signal?: AbortSignal): Promise<string> {
  signal?.throwIfAborted();
  const { thread } = pool.threads(1)[0];
  const onAbort = () => pool.stopThread(thread, signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  return pool.run<string>(thread, { kind: 'sha256', blob }).finally(() => signal?.removeEventListener('abort', onAbort));
}
