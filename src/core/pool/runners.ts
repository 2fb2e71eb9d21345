/**
 * The pool's runners for the data's own passes: the consistency check's neighbour search in
 * slices of the queries, the sorts of large columns a column a job, and the slices of a large
 * CSV file as they are cut (the scoring and TreeSHAP runners are in ./scheduler).
 */
import type { SortRunner } from '../base/order';
import { neighbourGaps, type NeighbourRunner } from '../analyses/robustness/neighbours';
import type { CsvSliceResult } from '../data/csv/slice';
import type { CsvSliceRunner } from '../data/slices';
import type { PoolThread, WorkerPool } from './scheduler';

/** Below this much neighbour search work (queries × pool points × dimensions) a thread's copy of the points costs more than it saves. */
const MIN_NEIGHBOUR_WORK = 20_000_000;

/** The array in memory the threads share (no copy per thread), copied there where the host has such memory (Node; a cross-origin-isolated page) and it is not; else the array. */
function shared<T extends Float64Array | Int32Array>(array: T): T {
  if (typeof SharedArrayBuffer !== 'function' || array.buffer instanceof SharedArrayBuffer) return array;
  const copy = new (array.constructor as new (buffer: SharedArrayBuffer) => T)(new SharedArrayBuffer(array.byteLength));
  copy.set(array);
  return copy;
}

/**
 * The consistency check's neighbour search over `size` threads of `pool`: two slices of the
 * queries per thread, the values joined in query order; in the calling thread for one thread
 * or a small search. A thread is sent the points with its first slice (shared, not copied,
 * where the host can) and lays the pool out once for the kernel.
 */
export function neighboursOverPool(pool: WorkerPool, size: number): NeighbourRunner {
  return async (job, signal) => {
    const queries = job.exclude.length;
    const local = () => neighbourGaps({ ...job, from: 0, to: queries });
    if (size < 2 || queries < 2 || queries * job.pool * job.dims < MIN_NEIGHBOUR_WORK) return local();
    const searchId = pool.payloadId(job.points);
    const search = { ...job, points: shared(job.points), scores: shared(job.scores), exclude: shared(job.exclude) };
    const holding = new Set<PoolThread>();
    // Two slices a thread: a thread still busy with another job (the metrics) when the search
    // starts takes the later slices once it is free.
    const slices = Math.min(2 * size, queries);
    const bounds = (i: number) => [Math.floor((i * queries) / slices), Math.floor(((i + 1) * queries) / slices)];
    let parts: Float64Array[];
    try {
      parts = await pool.spread(Math.min(size, slices), slices, ({ thread }, i) => {
        const first = !holding.has(thread);
        holding.add(thread);
        return pool.run<Float64Array>(thread, { kind: 'neighbours', searchId, ...(first ? { search } : {}), from: bounds(i)[0], to: bounds(i)[1] });
      }, signal);
    } finally {
      // Each thread lets its copy of the search go (its WebAssembly memory and the points): the app's pool outlives an audit.
      for (const thread of holding) pool.run(thread, { kind: 'forget-search', searchId }).catch(() => {});
    }
    const gaps = new Float64Array(queries);
    parts.forEach((part, i) => gaps.set(part, bounds(i)[0]));
    return gaps;
  };
}

/** Columns' present values sorted over `size` threads of `pool`, a column a job (each sent as a copy, its sort moved back). */
export function sortsOverPool(pool: WorkerPool, size: number): SortRunner {
  return (columns, signal) =>
    pool.spread(size, columns.length, ({ thread }, i) => {
      const values = columns[i].slice();
      return pool.run<Float64Array>(thread, { kind: 'sort', values }, [values.buffer as ArrayBuffer]);
    }, signal);
}

/**
 * Slices of a CSV file read over `size` threads as they are cut (see data/slices.ts): each
 * goes to the thread with the fewest jobs in flight ({@link WorkerPool.quietest}), its bytes
 * moved, not copied.
 */
export function csvSlicesOverPool(pool: WorkerPool, size: number): CsvSliceRunner {
  return (job) => pool.run<CsvSliceResult>(pool.quietest(size).thread, { kind: 'csv', job }, [job.bytes.buffer as ArrayBuffer, ...(job.spares ?? [])]);
}
