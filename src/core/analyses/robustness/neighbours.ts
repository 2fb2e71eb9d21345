/**
 * The consistency check's neighbour search: each queried row's mean |Δp| to its k nearest
 * pool points, by brute force over standardized points — a job a host's thread can run on a
 * slice of the queries (each query's value is the same wherever it is found). The k nearest
 * are the k smallest by (distance, pool index): a point is kept only when strictly nearer
 * than the k-th held, the pool scanned in order, so equal distances go to the lower index
 * whatever the search, and a distance is its column-by-column sum of squares in column order.
 * WebAssembly (neighbours.wat, four points in two f64x2) where the host has it; the same search
 * in JavaScript where not, to the bit.
 */
import { NEIGHBOURS_KERNEL } from './neighbours-wasm';

/** A neighbour search: the points, their scores, and which queries. */
export interface NeighbourJob {
  /** Standardized points, row-major: the `pool` points searched among, then the queried rows. */
  points: Float64Array;
  pool: number;
  dims: number;
  k: number;
  /** Per query, the pool index of the same row (−1: none), which is never its own neighbour. */
  exclude: Int32Array;
  /** The scores of the pool points, then of the queried rows. */
  scores: Float64Array;
  /** The queries of this job: [from, to). */
  from: number;
  to: number;
}

/** A neighbour search's points and scores, without the slice of its queries. */
export type NeighbourPoints = Omit<NeighbourJob, 'from' | 'to'>;

/** Runs the neighbour search for every query elsewhere (a host's threads), giving each query's mean |Δp| in query order. */
export type NeighbourRunner = (job: NeighbourPoints, signal?: AbortSignal) => Promise<Float64Array>;

/** Finds the k nearest pool points of queries [from, to) and calls `visit` with each query's (their indices, nearest first), in query order. */
type Nearest = (from: number, to: number, visit: (q: number, indices: Int32Array) => void) => void;

/** A neighbour search made ready once (the pool laid out for the kernel): the mean |Δp| of queries [from, to), in query order. */
export type NeighbourSearch = (from: number, to: number) => Float64Array;

/**
 * The search over a job's points, ready for any slice of its queries: a thread that answers
 * several slices of one search lays the pool out once.
 */
export function neighbourSearch(job: NeighbourPoints, useKernel = true): NeighbourSearch {
  const { pool, scores } = job;
  const nearest = (useKernel && kernelSearch(job)) || scriptSearch(job);
  return (from, to) => {
    const gaps = new Float64Array(to - from);
    nearest(from, to, (q, indices) => {
      const score = scores[pool + q];
      let sum = 0;
      for (let j = 0; j < indices.length; j++) sum += Math.abs(score - scores[indices[j]]);
      gaps[q - from] = sum / indices.length;
    });
    return gaps;
  };
}

/**
 * For queries [from, to) of the job: the mean |Δp| between the queried row's score and its
 * k nearest pool points' (fewer when the pool is smaller), in query order.
 */
export function neighbourGaps(job: NeighbourJob, useKernel = true): Float64Array {
  return neighbourSearch(job, useKernel)(job.from, job.to);
}

/** The search in JavaScript: what neighbours.wat does, one point at a time. */
function scriptSearch(job: NeighbourPoints): Nearest {
  const { points, pool, dims, k, exclude } = job;
  const distances = new Float64Array(k);
  const indices = new Int32Array(k);
  return (from, to, visit) => {
    for (let q = from; q < to; q++) {
      const base = (pool + q) * dims;
      const excluded = exclude[q];
      let count = 0;
      let bound = Number.POSITIVE_INFINITY;
      for (let i = 0; i < pool; i++) {
        const other = i * dims;
        let distance = 0;
        for (let d = 0; d < dims; d++) {
          const diff = points[other + d] - points[base + d];
          distance += diff * diff;
          // A sum only grows: once at the k-th distance the point cannot be kept.
          if ((d & 3) === 3 && !(distance < bound)) break;
        }
        if (i === excluded || !(distance < bound)) continue;
        let at = count < k ? count++ : k - 1;
        while (at > 0 && distances[at - 1] > distance) {
          distances[at] = distances[at - 1];
          indices[at] = indices[at - 1];
          at--;
        }
        distances[at] = distance;
        indices[at] = i;
        if (count === k) bound = distances[k - 1];
      }
      visit(q, indices.subarray(0, count));
    }
  };
}

/** Most bytes the kernel's memory may take; past it the JavaScript search is used. */
const KERNEL_MAX_BYTES = 1 << 30;
/** Queries searched together, each run of the pool's blocks visited for all of them while it is in the core's cache. */
const QUERY_BATCH = 256;
/** Bytes of pool points in one run of blocks (see {@link QUERY_BATCH}). */
const RUN_BYTES = 256 * 1024;

let compiled: WebAssembly.Module | null | undefined;

type KernelNearest = (points: number, blocks: number, dims: number, query: number, k: number, exclude: number, found: number, from: number, held: number) => number;

/**
 * The search in WebAssembly over the job's pool laid out in blocks of four, or null where the
 * host has no WebAssembly or the pool is too large. Queries go in batches, and each batch
 * through the pool in runs of blocks that stay in cache (two threads reading the whole pool
 * for every query slowed each other by a tenth); each query's search carries on from run
 * to run, so it keeps what the whole scan keeps.
 */
function kernelSearch(job: NeighbourPoints): Nearest | null {
  const { points, pool, dims, k, exclude } = job;
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(NEIGHBOURS_KERNEL);
    } catch {
      compiled = null;
    }
  }
  const blocks = Math.ceil(pool / 4);
  const blockBytes = dims * 32;
  const queryBytes = dims * 16;
  // k distances (f64) then k indices (i32), padded to a multiple of 8 bytes.
  const foundBytes = k * 16;
  const queryAt = blocks * blockBytes;
  const foundAt = queryAt + QUERY_BATCH * queryBytes;
  const bytes = foundAt + QUERY_BATCH * foundBytes;
  if (!compiled || dims === 0 || k === 0 || bytes > KERNEL_MAX_BYTES) return null;
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
  const search = new WebAssembly.Instance(compiled, { env: { memory } }).exports.nearest as KernelNearest;
  // Block b's column d holds points 4b…4b+3 side by side; a last block's missing points are NaN, never nearer than anything.
  const lanes = new Float64Array(memory.buffer, 0, queryAt / 8).fill(Number.NaN);
  for (let i = 0; i < pool; i++) {
    const at = (i >> 2) * dims * 4 + (i & 3);
    for (let d = 0; d < dims; d++) lanes[at + 4 * d] = points[i * dims + d];
  }
  const query = new Float64Array(memory.buffer, queryAt, QUERY_BATCH * dims * 2);
  const held = new Int32Array(QUERY_BATCH);
  const run = Math.max(1, Math.floor(RUN_BYTES / blockBytes));
  return (from, to, visit) => {
    for (let start = from; start < to; start += QUERY_BATCH) {
      const end = Math.min(to, start + QUERY_BATCH);
      for (let q = start; q < end; q++) {
        const base = (pool + q) * dims;
        const at = (q - start) * dims * 2;
        for (let d = 0; d < dims; d++) query[at + 2 * d] = query[at + 2 * d + 1] = points[base + d];
      }
      held.fill(0);
      for (let first = 0; first < blocks; first += run) {
        const last = Math.min(blocks, first + run);
        for (let q = start; q < end; q++) {
          const i = q - start;
          held[i] = search(0, last, dims, queryAt + i * queryBytes, k, exclude[q], foundAt + i * foundBytes, first, held[i]);
        }
      }
      for (let q = start; q < end; q++) {
        const i = q - start;
        visit(q, new Int32Array(memory.buffer, foundAt + i * foundBytes + k * 8, held[i]));
      }
    }
  };
}
