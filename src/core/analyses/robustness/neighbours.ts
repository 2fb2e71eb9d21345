/**
 * The consistency check's neighbour search: a k-d tree over standardized points, and each
 * queried row's mean |Δp| to its k nearest pool points — a job a host's thread can run on a
 * slice of the queries (each query's value is the same wherever it is found).
 */
import { allRows } from '../../base/rows';

/** A neighbour search: the points, their scores, and which queries. */
export interface NeighbourJob {
  /** Standardized points, row-major: the `pool` points the tree is built over, then the queried rows. */
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

/** Runs the neighbour search for every query elsewhere (a host's threads), giving each query's mean |Δp| in query order. */
export type NeighbourRunner = (job: Omit<NeighbourJob, 'from' | 'to'>, signal?: AbortSignal) => Promise<Float64Array>;

/**
 * For queries [from, to) of the job: the mean |Δp| between the queried row's score and its
 * k nearest pool points' (fewer when the pool is smaller), in query order.
 */
export function neighbourGaps(job: NeighbourJob): Float64Array {
  const { points, pool, dims, k, exclude, scores, from, to } = job;
  const tree = new KdTree(points, pool, dims);
  const distances = new Float64Array(k);
  const indices = new Int32Array(k);
  const gaps = new Float64Array(to - from);
  for (let q = from; q < to; q++) {
    const found = tree.nearest(pool + q, k, distances, indices, exclude[q]);
    const score = scores[pool + q];
    let sum = 0;
    for (let j = 0; j < found; j++) sum += Math.abs(score - scores[indices[j]]);
    gaps[q - from] = sum / found;
  }
  return gaps;
}

/** A k-d tree over standardized points (row-major), for k-nearest-neighbour queries. */
export class KdTree {
  private readonly order: Uint32Array;
  private readonly splitDim: Uint8Array;

  constructor(private readonly points: Float64Array, private readonly n: number, private readonly dims: number) {
    this.order = allRows(n);
    this.splitDim = new Uint8Array(n);
    this.build(0, n, 0);
  }

  private key(k: number, dim: number): number {
    return this.points[this.order[k] * this.dims + dim];
  }

  /** Quickselect: puts the median of order[start, end) on `dim` at its middle (O(n) per level). */
  private build(start: number, end: number, depth: number): void {
    if (end - start <= 1) return;
    const dim = depth % this.dims;
    const mid = (start + end) >>> 1;
    let lo = start;
    let hi = end - 1;
    const order = this.order;
    while (lo < hi) {
      const pivot = this.key((lo + hi) >>> 1, dim);
      let i = lo;
      let j = hi;
      while (i <= j) {
        while (this.key(i, dim) < pivot) i++;
        while (this.key(j, dim) > pivot) j--;
        if (i <= j) {
          const t = order[i];
          order[i] = order[j];
          order[j] = t;
          i++;
          j--;
        }
      }
      if (mid <= j) hi = j;
      else if (mid >= i) lo = i;
      else break;
    }
    this.splitDim[mid] = dim;
    this.build(start, mid, depth + 1);
    this.build(mid + 1, end, depth + 1);
  }

  /**
   * The k nearest points of the tree to point `query` of the points array (which may lie
   * past the tree's own points), never point `exclude` (by default the query itself):
   * their indices, nearest first.
   */
  nearest(query: number, k: number, distances: Float64Array, indices: Int32Array, exclude = query): number {
    let count = 0;
    const { points, dims, order, splitDim } = this;
    const base = query * dims;
    const consider = (index: number) => {
      if (index === exclude) return;
      let distance = 0;
      const other = index * dims;
      // Once k are found, a partial sum at or past the k-th distance can only grow: the point
      // is left as soon as it gets there (the same points are kept as by the full sum).
      const bound = count === k ? distances[k - 1] : Number.POSITIVE_INFINITY;
      for (let d = 0; d < dims && distance < bound; d++) {
        const diff = points[other + d] - points[base + d];
        distance += diff * diff;
      }
      if (distance >= bound) return;
      let at = count < k ? count++ : k - 1;
      while (at > 0 && distances[at - 1] > distance) {
        distances[at] = distances[at - 1];
        indices[at] = indices[at - 1];
        at--;
      }
      distances[at] = distance;
      indices[at] = index;
    };
    const search = (start: number, end: number): void => {
      if (end <= start) return;
      const mid = (start + end) >>> 1;
      const point = order[mid];
      consider(point);
      if (end - start === 1) return;
      const dim = splitDim[mid];
      const diff = points[base + dim] - points[point * dims + dim];
      if (diff < 0) {
        search(start, mid);
        if (count < k || diff * diff < distances[k - 1]) search(mid + 1, end);
      } else {
        search(mid + 1, end);
        if (count < k || diff * diff < distances[k - 1]) search(start, mid);
      }
    };
    search(0, this.n);
    return count;
  }
}
