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

  /** The walk's stack of ranges [start, end) and their gates: two entries per level of the tree. */
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly gates: Float64Array;
  private readonly inOrder: Float64Array;

  constructor(private readonly points: Float64Array, private readonly n: number, private readonly dims: number) {
    this.order = allRows(n);
    this.splitDim = new Uint8Array(n);
    this.build(0, n, 0);
    // The tree's points in its own order: the walk reads them near one another, not scattered.
    this.inOrder = new Float64Array(n * dims);
    for (let m = 0; m < n; m++) for (let d = 0; d < dims; d++) this.inOrder[m * dims + d] = points[this.order[m] * dims + d];
    const depth = 2 * (Math.ceil(Math.log2(n + 1)) + 2);
    this.starts = new Int32Array(depth);
    this.ends = new Int32Array(depth);
    this.gates = new Float64Array(depth);
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
    const { points, inOrder, dims, order, splitDim, starts, ends, gates } = this;
    const base = query * dims;
    let count = 0;
    // Depth first, the near side of each split before its far side, which is entered only if
    // the split is nearer than the k-th point found by then: an explicit stack (no closures or
    // recursion per query), each far side pushed under its near side with the squared split
    // distance it must beat when it comes off (−1: none) — the order the recursive walk took,
    // so ties at the k-th distance keep the same points.
    let top = 0;
    starts[0] = 0;
    ends[0] = this.n;
    gates[0] = -1;
    top = 1;
    while (top > 0) {
      top--;
      const start = starts[top];
      const end = ends[top];
      if (end <= start) continue;
      const gate = gates[top];
      if (gate >= 0 && count === k && !(gate < distances[k - 1])) continue;
      const mid = (start + end) >>> 1;
      const point = order[mid];
      const other = mid * dims;
      if (point !== exclude) {
        // Once k are found, a partial sum at or past the k-th distance can only grow: the point
        // is left once it gets there, checked every fourth column (the same points are kept as
        // by the full sum, and a point kept has every column added in the same order).
        const bound = count === k ? distances[k - 1] : Number.POSITIVE_INFINITY;
        let distance = 0;
        let d = 0;
        for (; d + 4 <= dims && distance < bound; d += 4) {
          const d0 = inOrder[other + d] - points[base + d];
          const d1 = inOrder[other + d + 1] - points[base + d + 1];
          const d2 = inOrder[other + d + 2] - points[base + d + 2];
          const d3 = inOrder[other + d + 3] - points[base + d + 3];
          distance += d0 * d0;
          distance += d1 * d1;
          distance += d2 * d2;
          distance += d3 * d3;
        }
        for (; d < dims && distance < bound; d++) {
          const diff = inOrder[other + d] - points[base + d];
          distance += diff * diff;
        }
        if (distance < bound) {
          let at = count < k ? count++ : k - 1;
          while (at > 0 && distances[at - 1] > distance) {
            distances[at] = distances[at - 1];
            indices[at] = indices[at - 1];
            at--;
          }
          distances[at] = distance;
          indices[at] = point;
        }
      }
      if (end - start === 1) continue;
      const dim = splitDim[mid];
      const diff = points[base + dim] - inOrder[other + dim];
      const far = diff * diff;
      if (diff < 0) {
        starts[top] = mid + 1;
        ends[top] = end;
        gates[top++] = far;
        starts[top] = start;
        ends[top] = mid;
        gates[top++] = -1;
      } else {
        starts[top] = start;
        ends[top] = mid;
        gates[top++] = far;
        starts[top] = mid + 1;
        ends[top] = end;
        gates[top++] = -1;
      }
    }
    return count;
  }
}
