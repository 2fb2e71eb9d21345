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

/** The k nearest pool points to query q of a job: writes their indices, nearest first, and returns how many. */
type Nearest = (q: number, indices: Int32Array) => number;

/** A neighbour search made ready once (the pool laid out for the kernel): the mean |Δp| of queries [from, to), in query order. */
export type NeighbourSearch = (from: number, to: number) => Float64Array;

/**
 * The search over a job's points, ready for any slice of its queries: a thread that answers
 * several slices of one search lays the pool out once.
 */
export function neighbourSearch(job: NeighbourPoints, useKernel = true): NeighbourSearch {
  const { pool, k, scores } = job;
  const nearest = (useKernel && kernelSearch(job)) || scriptSearch(job);
  const indices = new Int32Array(k);
  return (from, to) => {
    const gaps = new Float64Array(to - from);
    for (let q = from; q < to; q++) {
      const found = nearest(q, indices);
      const score = scores[pool + q];
      let sum = 0;
      for (let j = 0; j < found; j++) sum += Math.abs(score - scores[indices[j]]);
      gaps[q - from] = sum / found;
    }
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
  return (q, indices) => {
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
    return count;
  };
}

/** Most bytes the kernel's memory may take; past it the JavaScript search is used. */
const KERNEL_MAX_BYTES = 1 << 30;

let compiled: WebAssembly.Module | null | undefined;

/** The search in WebAssembly over the job's pool laid out in blocks of four, or null where the host has no WebAssembly or the pool is too large. */
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
  const queryAt = blocks * dims * 32;
  const foundAt = queryAt + dims * 16;
  const bytes = foundAt + k * 12;
  if (!compiled || dims === 0 || bytes > KERNEL_MAX_BYTES) return null;
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
  const search = new WebAssembly.Instance(compiled, { env: { memory } }).exports.nearest as (points: number, blocks: number, dims: number, query: number, k: number, exclude: number, found: number) => number;
  // Block b's column d holds points 4b…4b+3 side by side; a last block's missing points are NaN, never nearer than anything.
  const lanes = new Float64Array(memory.buffer, 0, queryAt / 8).fill(Number.NaN);
  for (let i = 0; i < pool; i++) {
    const at = (i >> 2) * dims * 4 + (i & 3);
    for (let d = 0; d < dims; d++) lanes[at + 4 * d] = points[i * dims + d];
  }
  const query = new Float64Array(memory.buffer, queryAt, dims * 2);
  const found = new Int32Array(memory.buffer, foundAt + k * 8, k);
  return (q, indices) => {
    const base = (pool + q) * dims;
    for (let d = 0; d < dims; d++) query[2 * d] = query[2 * d + 1] = points[base + d];
    const count = search(0, blocks, dims, queryAt, k, exclude[q], foundAt);
    indices.set(found.subarray(0, count));
    return count;
  };
}
