/**
 * How drift counts a column: decile edges of a sorted reference, the shares of values in
 * those bins (value by value, or by bisection over values already sorted), and the counts of
 * a categorical column's values.
 */
import { edgesAtOrBelow } from '../../base/order';
import type { Column } from '../../data/table';

/** Linear-interpolation quantile of sorted values (numpy's default). */
function quantile(sorted: Float64Array, p: number): number {
  const position = p * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(sorted.length - 1, lower + 1);
  const gap = sorted[upper] - sorted[lower];
  const fraction = position - lower;
  // Two values more than the largest double apart: the gap overflows, so the ends are weighed instead.
  return Number.isFinite(gap) ? sorted[lower] + gap * fraction : sorted[lower] * (1 - fraction) + sorted[upper] * fraction;
}

/** Interior edges at the k/B quantiles of sorted reference values (linear interpolation), duplicates merged. */
export function decileEdges(sortedReference: Float64Array, bins = 10): number[] {
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const edge = quantile(sortedReference, k / bins);
    if (sortedReference.length && (edges.length === 0 || edge > edges[edges.length - 1])) edges.push(edge);
  }
  return edges;
}

/**
 * {@link binShares} of values in ascending order (no NaN): each bin's count is where its
 * edges fall among the values, found by bisection, instead of each value's bin.
 */
export function sortedBinShares(sorted: Float64Array, total: number, edges: number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  // below: how many values lie below the edge (a value equal to an edge is in the bin above it).
  let before = 0;
  for (let k = 0; k <= edges.length; k++) {
    let below = sorted.length;
    if (k < edges.length) {
      let lo = before;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        // The test of edgesAtOrBelow, negated (the same where an edge is NaN: a value is never at or past it).
        if (!(edges[k] <= sorted[mid])) lo = mid + 1;
        else hi = mid;
      }
      below = lo;
    }
    counts[k] = below - before;
    before = below;
  }
  return counts.map((c) => c / Math.max(1, total));
}

/** Shares of non-missing values in bins [e_i, e_i+1) over `total` rows (missing rows count in the total). */
export function binShares(values: Float64Array, total: number, edges: number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isNaN(v)) counts[edgesAtOrBelow(edges, v)]++;
  }
  return counts.map((c) => c / Math.max(1, total));
}

/** Rows per value of a column (missing as "(missing)"), in the order the values first occur. */
export function categoryCounts(column: Column): Map<string, number> {
  const counts = new Map<string, number>();
  if (column.kind === 'numeric') {
    for (let i = 0; i < column.values.length; i++) {
      const key = Number.isNaN(column.values[i]) ? '(missing)' : String(column.values[i]);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }
  // Counted by code, then named in the order the codes first occur (missing as code −1): the
  // map a count by name row by row makes, in the same order, without a lookup per row.
  const { codes, dictionary } = column;
  const byCode = new Float64Array(dictionary.length + 1);
  const firstSeen: number[] = [];
  for (let i = 0; i < codes.length; i++) {
    const slot = codes[i] < 0 ? dictionary.length : codes[i];
    if (byCode[slot]++ === 0) firstSeen.push(slot);
  }
  for (const slot of firstSeen) {
    const key = slot === dictionary.length ? '(missing)' : dictionary[slot];
    counts.set(key, (counts.get(key) ?? 0) + byCode[slot]);
  }
  return counts;
}
