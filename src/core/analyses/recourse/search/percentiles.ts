/** Where a value sits among a column's sorted values, and the value at a quantile: the recourse search's measure of a numeric change. */

/** Mid-rank percentile of `value` among `sorted` (0–1): the share below it plus half the share equal to it. */
export function percentile(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  let upper = lo;
  hi = sorted.length;
  while (upper < hi) {
    const mid = (upper + hi) >>> 1;
    if (sorted[mid] <= value) upper = mid + 1;
    else hi = mid;
  }
  return (lo + upper) / 2 / sorted.length;
}

/** The observed value at rank ⌊q(n−1)⌋. */
export function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
}
