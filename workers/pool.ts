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
import { requireColumn, reviveError, runTreeShapJob, SCORING_BATCH_ROWS, sumShap, takeRows, treeShapSlices, type OnnxScoreRunner, type SerializedError, type ShapValues, type TreeEnsemble, type TreeMarginRunner, type TreeShapRunner } from '../src/core';
import { markSent } from './pool-payloads';
import type { PoolJob } from './pool.worker';

type Answer = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

/** Below this much TreeSHAP work (rows × trees × background/10) the pool's start-up and copies cost more than they save. */
const MIN_SHAP_WORK = 20_000;
/** Rows per tree scoring block sent to a worker, at most (see {@link guidedBlocks}). */
const MARGIN_BLOCK_ROWS = 65_536;

type Member = { worker: Worker; /** Ids of the ensembles and models this worker was sent. */ sent: Set<number> };
let pool: Member[] = [];
let nextId = 0;
/** Ensembles and model files are sent to a worker once, then named by id. */
const payloadIds = new WeakMap<TreeEnsemble | Uint8Array, number>();
let nextPayload = 0;

function members(size: number): Member[] {
  while (pool.length < size) pool.push({ worker: new Worker(new URL('./pool.worker.ts', import.meta.url), { type: 'module', name: `plumbline-pool-${pool.length}` }), sent: new Set() });
  return pool.slice(0, size);
}

function payloadId(payload: TreeEnsemble | Uint8Array): number {
  let id = payloadIds.get(payload);
  if (id === undefined) payloadIds.set(payload, (id = ++nextPayload));
  return id;
}

/** Ids of ONNX models by their bytes and the options they are opened with (a positive label changes the score). */
const onnxIds = new WeakMap<Uint8Array, Map<string, number>>();

function onnxModelId(bytes: Uint8Array, open: object): number {
  const key = JSON.stringify(open);
  let byOptions = onnxIds.get(bytes);
  if (!byOptions) onnxIds.set(bytes, (byOptions = new Map()));
  let id = byOptions.get(key);
  if (id === undefined) byOptions.set(key, (id = ++nextPayload));
  return id;
}

/** Rejections of the requests in flight (with the worker each went to), so that ending the pool never leaves one waiting. */
const inFlight = new Map<number, { worker: Worker; reject: (reason: unknown) => void }>();

function stopPool(): void {
  for (const member of pool) member.worker.terminate();
  pool = [];
  const stopped = new DOMException('The worker pool was stopped (an audit was cancelled).', 'AbortError');
  for (const { reject } of [...inFlight.values()]) reject(stopped);
  inFlight.clear();
}

/** Ends one pool worker (its requests in flight fail with `reason`); the others go on, and a new one takes its place on the next use. */
function stopMember(member: Member, reason: unknown): void {
  member.worker.terminate();
  pool = pool.filter((m) => m !== member);
  for (const entry of [...inFlight.values()]) if (entry.worker === member.worker) entry.reject(reason);
}

function run<T>(worker: Worker, job: PoolJob, transfer: Transferable[] = []): Promise<T> {
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    const done = () => {
      inFlight.delete(id);
      worker.removeEventListener('message', listen);
      worker.removeEventListener('error', fail);
    };
    inFlight.set(id, {
      worker,
      reject: (reason) => {
        done();
        reject(reason);
      },
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
async function spread<T>(size: number, count: number, task: (member: Member, index: number) => Promise<T>, signal?: AbortSignal): Promise<T[]> {
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
  const drain = async (member: Member) => {
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

/**
 * Scores `count` rows in `blocks` blocks over the pool: `bounds(b)` gives block b's rows
 * [start, end) and `score` scores them on a worker; results land in row order (then
 * `copied` may take a block's results for its buffer).
 */
async function scoreInBlocks(
  size: number,
  count: number,
  blocks: number,
  bounds: (block: number) => [number, number],
  score: (member: Member, start: number, end: number) => Promise<Float64Array>,
  { signal, onProgress, copied }: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void; copied?: (scores: Float64Array) => void },
): Promise<Float64Array> {
  const out = new Float64Array(count);
  let done = 0;
  await spread(
    size,
    blocks,
    async (member, b) => {
      const [start, end] = bounds(b);
      const scores = await score(member, start, end);
      out.set(scores, start);
      copied?.(scores);
      done += end - start;
      onProgress?.(done, count);
    },
    signal,
  );
  return out;
}

/** Smallest tree scoring block: below this a block's messages cost more than the balance it buys. */
const MARGIN_MIN_BLOCK_ROWS = 4096;
/** Largest tree scoring block in bytes (its cells and margins): wide tables take fewer rows per block. */
const MARGIN_BLOCK_BYTES = 32 * 1024 * 1024;

/**
 * Where the tree scoring blocks of `count` rows of `width` features over `size` workers
 * start (and, last, `count`): guided self-scheduling — each block is the rows left over
 * twice the workers, from {@link MARGIN_BLOCK_ROWS} (or fewer, so that a block stays within
 * {@link MARGIN_BLOCK_BYTES}) down to {@link MARGIN_MIN_BLOCK_ROWS}. The first blocks are
 * large (few messages); the last are small, so a worker slowed by the rest of the machine
 * holds up the end by a small block only, the others taking more blocks meanwhile.
 */
export function guidedBlocks(count: number, size: number, width: number): number[] {
  const most = Math.max(256, Math.min(MARGIN_BLOCK_ROWS, Math.floor(MARGIN_BLOCK_BYTES / (8 * (width + 1)))));
  const least = Math.min(most, MARGIN_MIN_BLOCK_ROWS);
  const starts = [0];
  for (let at = 0; at < count; ) {
    const rows = Math.min(count - at, most, Math.max(least, Math.ceil((count - at) / (2 * size))));
    at += rows;
    starts.push(at);
  }
  return starts;
}

/**
 * Block buffers: a block's cells go to a worker in one buffer, which comes back holding the
 * margins and is used again for a later block. Writing into pages already touched costs a
 * fraction of a fresh buffer's (Chromium took 8–10 ms to copy a 25,000-row block of 14
 * columns into new arrays, on a core the workers need). Kept between calls up to
 * {@link SPARE_BLOCK_BYTES}.
 */
const spareBlocks: ArrayBuffer[] = [];
const SPARE_BLOCK_BYTES = 64 * 1024 * 1024;

function blockBuffer(bytes: number): ArrayBuffer {
  // The smallest spare that holds the block.
  let best = -1;
  for (let i = 0; i < spareBlocks.length; i++) {
    if (spareBlocks[i].byteLength >= bytes && (best < 0 || spareBlocks[i].byteLength < spareBlocks[best].byteLength)) best = i;
  }
  return best >= 0 ? spareBlocks.splice(best, 1)[0] : new ArrayBuffer(bytes);
}

function spareBlock(buffer: ArrayBuffer): void {
  spareBlocks.push(buffer);
  let kept = spareBlocks.reduce((sum, b) => sum + b.byteLength, 0);
  // The oldest go first.
  while (kept > SPARE_BLOCK_BYTES) kept -= spareBlocks.shift()!.byteLength;
}

/** Tree scoring over `size` workers, in blocks of rows (each worker gets the model once: the kernel's memory image, or the trees). */
export function treeMarginPool(size: number): TreeMarginRunner {
  return async ({ ensemble, kernelModel, columns, rows }, options) => {
    const ensembleId = payloadId(ensemble);
    // The WebAssembly kernel's model when it scores these trees (one buffer), otherwise the trees.
    const model = kernelModel ? { kernelModel } : { ensemble };
    const width = columns.length;
    const starts = guidedBlocks(rows.length, size, width);
    const bounds = (b: number): [number, number] => [starts[b], starts[b + 1]];
    const blocks = starts.length - 1;
    // Rows in table order (the whole table, as an audit scores it) are copied as slices.
    let inOrder = true;
    for (let i = 0; i < rows.length && inOrder; i++) inOrder = rows[i] === rows[0] + i;
    return scoreInBlocks(size, rows.length, blocks, bounds, (member, start, end) => {
      // The block's cells, column after column, then room for its margins (copied: the table stays here).
      const count = end - start;
      const block = blockBuffer((width + 1) * count * 8);
      columns.forEach((column, j) => {
        const cells = new Float64Array(block, j * count * 8, count);
        if (inOrder) cells.set(column.subarray(rows[0] + start, rows[0] + end));
        else for (let i = 0; i < count; i++) cells[i] = column[rows[start + i]];
      });
      const job = { kind: 'margins' as const, ensembleId, ...(markSent(member.sent, ensembleId) ? model : {}), block, rows: count, width };
      return run<Float64Array>(member.worker, job, [block]);
    }, { ...options, copied: (margins) => spareBlock(margins.buffer as ArrayBuffer) });
  };
}

/** Rows per ONNX scoring block sent to a worker: a multiple of the scorer's batch, so every onnxruntime call sees the rows it would in one session. */
const ONNX_BLOCK_ROWS = 2 * SCORING_BATCH_ROWS;

/** ONNX scoring over `size` workers, each with its own single-threaded session (the model is sent to each once). */
export function onnxScorePool(size: number): OnnxScoreRunner {
  return async ({ modelBytes, fileName, open, table, columns, rows, features }, options) => {
    const modelId = onnxModelId(modelBytes, open);
    const read = { ...table, columns: columns.map((name) => requireColumn(table, name, 'model input')) };
    const bounds = (b: number): [number, number] => [b * ONNX_BLOCK_ROWS, Math.min(rows.length, (b + 1) * ONNX_BLOCK_ROWS)];
    return scoreInBlocks(size, rows.length, Math.ceil(rows.length / ONNX_BLOCK_ROWS), bounds, (member, start, end) => {
      // The block's rows of the model's columns (copied: the table stays here).
      const block = takeRows(read, rows.subarray(start, end));
      const buffers = block.columns.map((c) => (c.kind === 'numeric' ? c.values.buffer : c.codes.buffer));
      const job = { kind: 'onnx' as const, modelId, ...(markSent(member.sent, modelId) ? { model: { bytes: modelBytes, fileName, open } } : {}), table: block, features };
      return run<Float64Array>(member.worker, job, buffers);
    }, options);
  };
}

/**
 * The SHA-256 of a file, computed by a pool worker reading the Blob itself (in parallel with
 * the parse). A cancelled load ends that worker, so nothing goes on reading the file.
 */
export function sha256InPool(blob: Blob, signal?: AbortSignal): Promise<string> {
  signal?.throwIfAborted();
  const member = members(1)[0];
  const onAbort = () => stopMember(member, signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  return run<string>(member.worker, { kind: 'sha256', blob }).finally(() => signal?.removeEventListener('abort', onAbort));
}
