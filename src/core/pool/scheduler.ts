/**
 * A pool of threads for the CPU-bound parts of an audit that split without changing a
 * single bit of the result — the same scheduler in every host (the app's Web Workers, the
 * CLI's worker threads), which only says how a thread is started ({@link PoolHost}):
 *
 * - TreeSHAP: the job is cut into the core's fixed slices of trees ({@link treeShapSlices});
 *   each thread takes the next slice when it is free and the slices are summed in order
 *   ({@link sumPackedShap}, as in one thread): one thread's arithmetic, whatever the number of threads.
 * - Tree scoring with the project's evaluator: blocks of rows, each row's margin the same
 *   sum of the same trees in the same order as in one thread.
 * - ONNX scoring: blocks of rows at multiples of the scorer's batch, each thread with its
 *   own single-threaded session, every onnxruntime call on the same rows as in one session.
 * - The consistency check's neighbour search: slices of the queries, each thread building
 *   the same search; each query's value is the one thread's, summed here in query order.
 * - The recourse search: slices of the searched rows, each thread with the (tree) model
 *   opened again; a row's answers are its own, whatever rows are searched beside it.
 *
 * A cancelled job stops the pool at once (its threads are ended and started again on the
 * next use).
 */
import { reviveError } from '../base/errors';
import { requireColumn, takeRows } from '../data/table';
import type { OnnxScoreRunner, TreeMarginRunner } from '../model/classifier-types';
import { SCORING_BATCH_ROWS } from '../model/onnx-scorer';
import type { TreeEnsemble } from '../model/tree';
import { packShapWork, runTreeShapJob, treeShapSlices, type TreeShapRunner } from '../analyses/explain/treeshap/jobs';
import { sumPackedShap, type PackedShapValues } from '../analyses/explain/treeshap/values';
import type { ShapValues } from '../analyses/explain/treeshap';
import type { PoolAnswer, PoolJob } from './work';

/** One thread of the pool, as its host starts it. */
export interface PoolThread {
  post(message: unknown, transfer: ArrayBuffer[]): void;
  /** Calls `onMessage` with each message the thread sends and `onError` when it fails; returns what stops listening. */
  listen(onMessage: (data: unknown) => void, onError: (error: Error) => void): () => void;
  terminate(): void;
}

/** How a host starts the pool's threads (`index`: 0, 1, … for their names). */
export type PoolHost = (index: number) => PoolThread;

export type Member = { thread: PoolThread; /** Ids of the ensembles and models this thread was sent. */ sent: Set<number> };

/** Below this much TreeSHAP work (rows × trees × background/10) the pool's start-up and copies cost more than they save. */
const MIN_SHAP_WORK = 20_000;
/** Rows per tree scoring block sent to a thread, at most (see {@link guidedBlocks}). */
const MARGIN_BLOCK_ROWS = 65_536;
/** Smallest tree scoring block: below this a block's messages cost more than the balance it buys. */
const MARGIN_MIN_BLOCK_ROWS = 4096;
/** Largest tree scoring block in bytes (its cells and margins): wide tables take fewer rows per block. */
const MARGIN_BLOCK_BYTES = 32 * 1024 * 1024;
/** Rows per ONNX scoring block sent to a thread: a multiple of the scorer's batch, so every onnxruntime call sees the rows it would in one session. */
const ONNX_BLOCK_ROWS = 2 * SCORING_BATCH_ROWS;
/** Spare block buffers kept between calls, at most (bytes). */
const SPARE_BLOCK_BYTES = 64 * 1024 * 1024;
/** Models a thread keeps, of each kind (see {@link markSent}). */
export const POOL_KEPT_PAYLOADS = 2;

/** The error a job of a stopped pool ends with (named as a cancel is everywhere). */
function stoppedError(): Error {
  const error = new Error('The worker pool was stopped (an audit was cancelled).');
  error.name = 'AbortError';
  return error;
}

/**
 * Pool side: whether payload `id` must go with the job (and notes it as sent, forgetting the
 * oldest beyond {@link POOL_KEPT_PAYLOADS}: a thread keeps as many of each kind, so a model
 * counted as sent is always among those it still holds, and a forgotten one is sent again).
 */
export function markSent(sent: Set<number>, id: number): boolean {
  if (sent.has(id)) return false;
  sent.add(id);
  for (const old of sent) {
    if (sent.size <= POOL_KEPT_PAYLOADS) break;
    sent.delete(old);
  }
  return true;
}

/**
 * Where the tree scoring blocks of `count` rows of `width` features over `size` threads
 * start (and, last, `count`): guided self-scheduling — each block is the rows left over
 * twice the threads, from {@link MARGIN_BLOCK_ROWS} (or fewer, so that a block stays within
 * {@link MARGIN_BLOCK_BYTES}) down to {@link MARGIN_MIN_BLOCK_ROWS}. The first blocks are
 * large (few messages); the last are small, so a thread slowed by the rest of the machine
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

/** The pool's threads, started by the host as they are needed, and the jobs in flight on them. */
export class WorkerPool {
  private members: Member[] = [];
  private nextId = 0;
  /** Jobs sent to the threads so far (for tests and the benchmark: that work went to the pool). */
  jobsSent = 0;
  /** The same count by the jobs' kind (scoring blocks, recourse slices, …). */
  readonly jobsByKind = new Map<string, number>();
  private nextPayload = 0;
  /** Ensembles and model files are sent to a thread once, then named by id. */
  private readonly payloadIds = new WeakMap<TreeEnsemble | Uint8Array | Float64Array, number>();
  /** Ids of models sent to be opened on the threads (see {@link onnxModelId}). */
  private readonly onnxIds = new WeakMap<Uint8Array | TreeEnsemble, Map<string, number>>();
  /** Rejections of the jobs in flight (with the thread each went to), so that ending the pool never leaves one waiting. */
  private readonly inFlight = new Map<number, { thread: PoolThread; reject: (reason: unknown) => void }>();
  /** Jobs in flight per thread, and what waits for a thread to have none (see {@link spread}). */
  private readonly load = new WeakMap<PoolThread, number>();
  private readonly idleWaiters = new WeakMap<PoolThread, (() => void)[]>();
  /**
   * Block buffers: a block's cells go to a thread in one buffer, which comes back holding the
   * margins and is used again for a later block (writing into pages already touched costs a
   * fraction of a fresh buffer's).
   */
  private readonly spareBlocks: ArrayBuffer[] = [];

  constructor(private readonly host: PoolHost) {}

  /** The first `size` threads, started where they are not yet. */
  threads(size: number): Member[] {
    while (this.members.length < size) this.members.push({ thread: this.host(this.members.length), sent: new Set() });
    return this.members.slice(0, size);
  }

  /** Ends every thread; the jobs in flight fail as cancelled. */
  stop(): void {
    for (const member of this.members) member.thread.terminate();
    this.members = [];
    const stopped = stoppedError();
    for (const { reject } of [...this.inFlight.values()]) reject(stopped);
    this.inFlight.clear();
  }

  /** Ends one thread (its jobs in flight fail with `reason`); the others go on, and a new one takes its place on the next use. */
  stopThread(thread: PoolThread, reason: unknown): void {
    thread.terminate();
    this.members = this.members.filter((m) => m.thread !== thread);
    for (const entry of [...this.inFlight.values()]) if (entry.thread === thread) entry.reject(reason);
  }

  /** Of the first `size` threads, the one with the fewest jobs in flight (the last of those tied: spread jobs start from the first). */
  quietest(size: number): Member {
    const members = this.threads(size);
    let best = members[members.length - 1];
    for (let i = members.length - 2; i >= 0; i--) if (this.jobsOn(members[i].thread) < this.jobsOn(best.thread)) best = members[i];
    return best;
  }

  private jobsOn(thread: PoolThread): number {
    return this.load.get(thread) ?? 0;
  }

  /** Resolves once `thread` has no job in flight. */
  private idle(thread: PoolThread): Promise<void> {
    if (this.jobsOn(thread) === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const waiting = this.idleWaiters.get(thread) ?? [];
      waiting.push(resolve);
      this.idleWaiters.set(thread, waiting);
    });
  }

  /** Runs one job on a thread; its answer, or its error revived. */
  run<T>(thread: PoolThread, job: PoolJob | { kind: string; [field: string]: unknown }, transfer: ArrayBuffer[] = []): Promise<T> {
    const id = ++this.nextId;
    this.jobsSent++;
    this.jobsByKind.set(job.kind, (this.jobsByKind.get(job.kind) ?? 0) + 1);
    return new Promise((resolve, reject) => {
      const done = () => {
        if (!this.inFlight.delete(id)) return;
        unlisten();
        const left = this.jobsOn(thread) - 1;
        this.load.set(thread, left);
        if (left > 0) return;
        const waiting = this.idleWaiters.get(thread) ?? [];
        this.idleWaiters.delete(thread);
        for (const resolve of waiting) resolve();
      };
      this.inFlight.set(id, {
        thread,
        reject: (reason) => {
          done();
          reject(reason);
        },
      });
      const unlisten = thread.listen(
        (data) => {
          const answer = data as PoolAnswer;
          if (answer.id !== id) return;
          done();
          if (answer.ok) resolve(answer.value as T);
          else reject(reviveError(answer.error));
        },
        (error) => {
          done();
          reject(new Error(`a pool worker failed: ${error.message}`));
        },
      );
      this.load.set(thread, this.jobsOn(thread) + 1);
      try {
        thread.post({ id, job }, transfer);
      } catch (error) {
        // A job that cannot be sent (not cloneable) fails alone, and its thread is free again.
        done();
        reject(error);
      }
    });
  }

  /**
   * Runs `count` tasks over `size` threads: each takes the next task when it is free; a cancel
   * ends the pool. A thread busy with another caller's job (the metrics, say) takes no task
   * until it is done: the others take them meanwhile, so no task waits in its queue.
   */
  async spread<T>(size: number, count: number, task: (member: Member, index: number) => Promise<T>, signal?: AbortSignal): Promise<T[]> {
    signal?.throwIfAborted();
    let onAbort = () => {};
    const stopped = new Promise<never>((_, reject) => {
      onAbort = () => {
        this.stop();
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    const results: T[] = new Array(count);
    let next = 0;
    let allTaken = () => {};
    const taken = new Promise<void>((resolve) => (allTaken = resolve));
    const drain = async (member: Member) => {
      while (next < count) {
        // (Between this drain's own tasks its thread has none in flight: any are another's.)
        if (this.jobsOn(member.thread) > 0) {
          await Promise.race([this.idle(member.thread), taken]);
          // Woken by the pool's stop (or this thread's): no task goes to a thread that was ended.
          if (!this.members.includes(member)) throw stoppedError();
          continue;
        }
        const index = next++;
        if (next === count) allTaken();
        results[index] = await task(member, index);
      }
    };
    try {
      await Promise.race([Promise.all(this.threads(Math.min(size, count)).map(drain)), stopped]);
    } finally {
      // A later cancel of the same audit no longer needs to end the pool for this job.
      signal?.removeEventListener('abort', onAbort);
    }
    return results;
  }

  /** The id a payload is named by once a thread holds it (an ensemble, a model file, a neighbour search's points). */
  payloadId(payload: TreeEnsemble | Uint8Array | Float64Array): number {
    let id = this.payloadIds.get(payload);
    if (id === undefined) this.payloadIds.set(payload, (id = ++this.nextPayload));
    return id;
  }

  /** Ids of models by what is sent of them (an ONNX file's bytes, a reopened model's trees, an ensemble kept for TreeSHAP) and the options they are opened with (a positive label changes the score): one id per use, since a thread keeps each use in its own map. */
  onnxModelId(bytes: Uint8Array | TreeEnsemble, open: object): number {
    const key = JSON.stringify(open);
    let byOptions = this.onnxIds.get(bytes);
    if (!byOptions) this.onnxIds.set(bytes, (byOptions = new Map()));
    let id = byOptions.get(key);
    if (id === undefined) byOptions.set(key, (id = ++this.nextPayload));
    return id;
  }

  /** A buffer of at least `bytes`: the smallest spare that holds it, or a new one. */
  blockBuffer(bytes: number): ArrayBuffer {
    let best = -1;
    for (let i = 0; i < this.spareBlocks.length; i++) {
      if (this.spareBlocks[i].byteLength >= bytes && (best < 0 || this.spareBlocks[i].byteLength < this.spareBlocks[best].byteLength)) best = i;
    }
    return best >= 0 ? this.spareBlocks.splice(best, 1)[0] : new ArrayBuffer(bytes);
  }

  /** Keeps a block's buffer for a later block (the oldest go first beyond {@link SPARE_BLOCK_BYTES}). */
  spareBlock(buffer: ArrayBuffer): void {
    this.spareBlocks.push(buffer);
    let kept = this.spareBlocks.reduce((sum, b) => sum + b.byteLength, 0);
    while (kept > SPARE_BLOCK_BYTES) kept -= this.spareBlocks.shift()!.byteLength;
  }
}

/** TreeSHAP over `size` threads of `pool` (1, or too little work: in the calling thread). */
export function treeShapOverPool(pool: WorkerPool, size: number): TreeShapRunner {
  return async (job, signal) => {
    const work = job.rows.length * job.ensemble.trees.length * (job.kind === 'interventional' ? Math.max(1, job.background.length / 10) : 1);
    const slices = treeShapSlices(job);
    if (size < 2 || slices.length < 2 || work < MIN_SHAP_WORK) return runTreeShapJob(job, signal);
    // The ensemble goes to each thread once (then named by id), and each thread cuts the slice
    // it is given: the same trees from job to job, whose leaf shapes it keeps.
    // The rows go packed flat, and the values come back so.
    const { ensemble } = job;
    const ensembleId = pool.onnxModelId(ensemble, { treeShap: true });
    const packed = packShapWork(job);
    const parts = await pool.spread(size, slices.length, (member, slice) => pool.run<PackedShapValues>(member.thread, { kind: 'shap', ensembleId, ...(markSent(member.sent, ensembleId) ? { ensemble } : {}), slice, work: packed }), signal);
    return sumPackedShap(parts);
  };
}

/**
 * Scores `count` rows in `blocks` blocks over the pool: `bounds(b)` gives block b's rows
 * [start, end) and `score` scores them on a thread; results land in row order (then
 * `copied` may take a block's results for its buffer).
 */
async function scoreInBlocks(
  pool: WorkerPool,
  size: number,
  count: number,
  blocks: number,
  bounds: (block: number) => [number, number],
  score: (member: Member, start: number, end: number) => Promise<Float64Array>,
  { signal, onProgress, copied }: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void; copied?: (scores: Float64Array) => void },
): Promise<Float64Array> {
  const out = new Float64Array(count);
  let done = 0;
  await pool.spread(
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

/** Tree scoring over `size` threads of `pool`, in blocks of rows (each thread gets the model once: the kernel's memory image, or the trees). */
export function treeMarginsOverPool(pool: WorkerPool, size: number): TreeMarginRunner {
  return async ({ ensemble, kernelModel, columns, rows }, options) => {
    const ensembleId = pool.payloadId(ensemble);
    // The WebAssembly kernel's model when it scores these trees (one buffer), otherwise the trees.
    const model = kernelModel ? { kernelModel } : { ensemble };
    const width = columns.length;
    const starts = guidedBlocks(rows.length, size, width);
    const bounds = (b: number): [number, number] => [starts[b], starts[b + 1]];
    // Rows in table order (the whole table, as an audit scores it) are copied as slices.
    let inOrder = true;
    for (let i = 0; i < rows.length && inOrder; i++) inOrder = rows[i] === rows[0] + i;
    return scoreInBlocks(pool, size, rows.length, starts.length - 1, bounds, (member, start, end) => {
      // The block's cells, column after column, then room for its margins (copied: the table stays here).
      const count = end - start;
      const block = pool.blockBuffer((width + 1) * count * 8);
      columns.forEach((column, j) => {
        const cells = new Float64Array(block, j * count * 8, count);
        if (inOrder) cells.set(column.subarray(rows[0] + start, rows[0] + end));
        else for (let i = 0; i < count; i++) cells[i] = column[rows[start + i]];
      });
      const job: PoolJob = { kind: 'margins', ensembleId, ...(markSent(member.sent, ensembleId) ? model : {}), block, rows: count, width };
      return pool.run<Float64Array>(member.thread, job, [block]);
    }, { ...options, copied: (margins) => pool.spareBlock(margins.buffer as ArrayBuffer) });
  };
}

/** ONNX scoring over `size` threads of `pool`, each with its own single-threaded session (the model is sent to each once). */
export function onnxScoresOverPool(pool: WorkerPool, size: number): OnnxScoreRunner {
  return async ({ modelBytes, fileName, open, table, columns, rows, features }, options) => {
    const modelId = pool.onnxModelId(modelBytes, open);
    const read = { ...table, columns: columns.map((name) => requireColumn(table, name, 'model input')) };
    const bounds = (b: number): [number, number] => [b * ONNX_BLOCK_ROWS, Math.min(rows.length, (b + 1) * ONNX_BLOCK_ROWS)];
    return scoreInBlocks(pool, size, rows.length, Math.ceil(rows.length / ONNX_BLOCK_ROWS), bounds, (member, start, end) => {
      // The block's rows of the model's columns (copied: the table stays here).
      const block = takeRows(read, rows.subarray(start, end));
      // A message about a row of the block names the file's row (a copy: a view would send the whole array).
      block.rowsOf ??= rows.slice(start, end);
      const buffers = block.columns.map((c) => (c.kind === 'numeric' ? c.values.buffer : c.codes.buffer) as ArrayBuffer);
      const job: PoolJob = { kind: 'onnx', modelId, ...(markSent(member.sent, modelId) ? { model: { bytes: modelBytes, fileName, open } } : {}), table: block, features };
      return pool.run<Float64Array>(member.thread, job, buffers);
    }, options);
  };
}
