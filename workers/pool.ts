/**
 * A pool of workers started from the audit worker (one per core, up to 4), for the
 * CPU-bound parts of an audit that split without changing a single bit of the result:
 *
 * - TreeSHAP: the job is cut into the core's fixed slices of trees ({@link treeShapSlices});
 *   each worker takes the next slice when it is free and the slices are summed in order
 *   ({@link sumShap}) — the CLI's arithmetic, whatever the number of workers.
 * - Tree scoring with the project's evaluator: blocks of rows, each row's margin the same
 *   sum of the same trees in the same order as in one thread.
 * - ONNX scoring when this page has no onnxruntime threads (not cross-origin isolated):
 *   blocks of rows, each worker with its own single-threaded session, every onnxruntime
 *   call on the same rows as in one session.
 *
 * A cancelled audit stops the pool at once (its workers are ended and started again on
 * the next use).
 */
import { runTreeShapJob, sumShap, treeShapSlices, type ShapValues, type TreeShapRunner } from '../src/core/explain/treeshap';
import { reviveError, type SerializedError } from '../src/core/errors';
import type { OnnxScoreRunner, TreeMarginRunner } from '../src/core/model/classifier';
import { requireColumn, takeRows } from '../src/core/data/table';
import { SCORING_BATCH_ROWS } from '../src/core/model/onnx-scorer';
import type { TreeEnsemble } from '../src/core/model/trees';
import type { PoolJob } from './pool.worker';

type Answer = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

/** Below this much TreeSHAP work (rows × trees × background/10) the pool's start-up and copies cost more than they save. */
const MIN_SHAP_WORK = 20_000;
/** Rows per scoring block sent to a worker, at most (blocks are equal, a multiple of the workers in number). */
const MARGIN_BLOCK_ROWS = 32_768;

let pool: { worker: Worker; ensembles: Set<number>; models: Set<number> }[] = [];
let nextId = 0;
const ensembleIds = new WeakMap<TreeEnsemble, number>();
let nextEnsemble = 0;
const modelIds = new WeakMap<Uint8Array, number>();

function members(size: number) {
  while (pool.length < size) pool.push({ worker: new Worker(new URL('./pool.worker.ts', import.meta.url), { type: 'module', name: `plumbline-pool-${pool.length}` }), ensembles: new Set(), models: new Set() });
  return pool.slice(0, size);
}

/** Rejections of the requests in flight, so that ending the pool never leaves one waiting. */
const inFlight = new Map<number, (reason: unknown) => void>();

function stopPool(): void {
  for (const member of pool) member.worker.terminate();
  pool = [];
  const stopped = new DOMException('The worker pool was stopped (an audit was cancelled).', 'AbortError');
  for (const reject of inFlight.values()) reject(stopped);
  inFlight.clear();
}

function run<T>(worker: Worker, job: PoolJob, transfer: Transferable[] = []): Promise<T> {
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    const done = () => {
      inFlight.delete(id);
      worker.removeEventListener('message', listen);
      worker.removeEventListener('error', fail);
    };
    inFlight.set(id, (reason) => {
      done();
      reject(reason);
    });
    const listen = (event: MessageEvent<Answer>) => {
      if (event.data.id !== id) return;
      done();
      if (event.data.ok) resolve(event.data.value as T);
      else reject(reviveError(event.data.error));
    };
    const fail = (event: ErrorEvent) => {
      done();
      reject(new Error(`a pool worker failed: ${event.message}`));
    };
    worker.addEventListener('message', listen);
    worker.addEventListener('error', fail);
    worker.postMessage({ id, job }, transfer);
  });
}

/** Runs `count` tasks over the pool: each worker takes the next task when it is free; a cancel ends the pool. */
async function spread<T>(size: number, count: number, task: (member: ReturnType<typeof members>[number], index: number) => Promise<T>, signal?: AbortSignal): Promise<T[]> {
  signal?.throwIfAborted();
  let onAbort = () => {};
  const stopped = new Promise<never>((_, reject) => {
    onAbort = () => {
      stopPool();
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  const results: T[] = new Array(count);
  let next = 0;
  const drain = async (member: ReturnType<typeof members>[number]) => {
    while (next < count) {
      const index = next++;
      results[index] = await task(member, index);
    }
  };
  try {
    await Promise.race([Promise.all(members(Math.min(size, count)).map(drain)), stopped]);
  } finally {
    // A later cancel of the same audit no longer needs to end the pool for this job.
    signal?.removeEventListener('abort', onAbort);
  }
  return results;
}

/** TreeSHAP over `size` workers (1: in the calling thread). */
export function treeShapPool(size: number): TreeShapRunner {
  return async (job, signal) => {
    const work = job.rows.length * job.ensemble.trees.length * (job.kind === 'interventional' ? Math.max(1, job.background.length / 10) : 1);
    const slices = treeShapSlices(job);
    if (size < 2 || slices.length < 2 || work < MIN_SHAP_WORK) return runTreeShapJob(job, signal);
    return sumShap(await spread(size, slices.length, ({ worker }, i) => run<ShapValues>(worker, { kind: 'shap', job: slices[i] }), signal));
  };
}

/** Tree scoring over `size` workers, in blocks of rows (each worker gets the ensemble once). */
export function treeMarginPool(size: number): TreeMarginRunner {
  return async ({ ensemble, columns, rows }, { signal, onProgress }) => {
    let ensembleId = ensembleIds.get(ensemble);
    if (ensembleId === undefined) ensembleIds.set(ensemble, (ensembleId = ++nextEnsemble));
    // Equal blocks, as many as a multiple of the workers, so none waits on the last one.
    const blocks = size * Math.ceil(rows.length / (size * MARGIN_BLOCK_ROWS));
    const blockRows = Math.ceil(rows.length / blocks);
    const out = new Float64Array(rows.length);
    let done = 0;
    await spread(
      size,
      blocks,
      async (member, b) => {
        const start = Math.min(rows.length, b * blockRows);
        const end = Math.min(rows.length, start + blockRows);
        // The block's cells, column by column (copied: the table stays here).
        const block = columns.map((column) => {
          const cells = new Float64Array(end - start);
          for (let i = start; i < end; i++) cells[i - start] = column[rows[i]];
          return cells;
        });
        const first = !member.ensembles.has(ensembleId);
        member.ensembles.add(ensembleId);
        const margins = await run<Float64Array>(member.worker, { kind: 'margins', ensembleId, ...(first ? { ensemble } : {}), columns: block }, block.map((c) => c.buffer));
        out.set(margins, start);
        done += end - start;
        onProgress?.(done, rows.length);
      },
      signal,
    );
    return out;
  };
}

/** Rows per ONNX scoring block sent to a worker: a multiple of the scorer's batch, so every onnxruntime call sees the rows it would in one session. */
const ONNX_BLOCK_ROWS = 2 * SCORING_BATCH_ROWS;

/** ONNX scoring over `size` workers, each with its own single-threaded session (the model is sent to each once). */
export function onnxScorePool(size: number): OnnxScoreRunner {
  return async ({ modelBytes, fileName, table, columns, rows, features }, { signal, onProgress }) => {
    let modelId = modelIds.get(modelBytes);
    if (modelId === undefined) modelIds.set(modelBytes, (modelId = ++nextEnsemble));
    const read = { ...table, columns: columns.map((name) => requireColumn(table, name, 'model input')) };
    const blocks = Math.ceil(rows.length / ONNX_BLOCK_ROWS);
    const out = new Float64Array(rows.length);
    let done = 0;
    await spread(
      size,
      blocks,
      async (member, b) => {
        const start = b * ONNX_BLOCK_ROWS;
        const end = Math.min(rows.length, start + ONNX_BLOCK_ROWS);
        // The block's rows of the model's columns (copied: the table stays here).
        const block = takeRows(read, rows.subarray(start, end));
        const first = !member.models.has(modelId);
        member.models.add(modelId);
        const buffers = block.columns.map((c) => (c.kind === 'numeric' ? c.values.buffer : c.codes.buffer));
        const scores = await run<Float64Array>(member.worker, { kind: 'onnx', modelId, ...(first ? { model: { bytes: modelBytes, fileName } } : {}), table: block, features }, buffers);
        out.set(scores, start);
        done += end - start;
        onProgress?.(done, rows.length);
      },
      signal,
    );
    return out;
  };
}

/** The SHA-256 of a file, computed by a pool worker reading the Blob itself (in parallel with the parse). */
export function sha256InPool(blob: Blob): Promise<string> {
  return run<string>(members(1)[0].worker, { kind: 'sha256', blob });
}
