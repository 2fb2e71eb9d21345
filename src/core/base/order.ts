/**
 * Sorting scores once per audit. A least-significant-digit radix sort on the float64 bit
 * patterns (made order-preserving) sorts a million scores in a few tens of milliseconds,
 * where a comparator sort of indices takes a second; every rank-based metric then walks
 * the same order.
 */

/**
 * How many of the ascending `edges` lie at or below `value` (bisection; a NaN edge counts as
 * above every value): the bin of `value` among bins [e_i, e_i+1), counted from the one below
 * the first edge.
 */
export function edgesAtOrBelow(edges: readonly number[], value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Row indices ordered by ascending score (stable: equal scores keep row order). */
export function ascendingOrder(scores: Float64Array, rows?: Uint32Array): Uint32Array {
  const n = rows ? rows.length : scores.length;
  const order = new Uint32Array(n);
  radixSort(orderedKeys(scores, rows ?? null, n), order);
  if (rows) for (let k = 0; k < n; k++) order[k] = rows[order[k]];
  return order;
}

/**
 * The radix sort's working arrays, kept from one sort to the next and let go once no sort
 * has used them for {@link SCRATCH_IDLE_MS}. A sort of a million values needs 24 MB of keys
 * and positions and 1 MB of digit counts; made afresh for every sort, their pages were
 * faulted in and zeroed each time, which cost more than the sort itself — 2.5–3× its time in
 * Chromium's workers (measured: 137–171 ms against 50–60 ms a million scores). Kept by a
 * plain reference: a pool thread sorts a column a task, and a weak one was collected between.
 */
interface SortScratch {
  high: Uint32Array;
  low: Uint32Array;
  nextHigh: Uint32Array;
  nextLow: Uint32Array;
  order: Uint32Array;
  /** The positions {@link rocAuc} sorts (no fresh array per call). */
  positions: Uint32Array;
  counts: Uint32Array;
}

/** How long the sort's working arrays are kept after their last use. */
const SCRATCH_IDLE_MS = 2000;

let kept: SortScratch | null = null;
let lastUsed = 0;
let releasing = false;

/** Lets the working arrays go once they have been idle for {@link SCRATCH_IDLE_MS} (a timer that never keeps a Node process alive). */
function releaseWhenIdle(): void {
  if (releasing) return;
  releasing = true;
  const check = () => {
    const idle = performance.now() - lastUsed;
    if (idle < SCRATCH_IDLE_MS) return void unref(setTimeout(check, SCRATCH_IDLE_MS - idle));
    kept = null;
    releasing = false;
  };
  unref(setTimeout(check, SCRATCH_IDLE_MS));
}

function unref(timer: unknown): void {
  (timer as { unref?: () => void }).unref?.();
}

/** Working arrays for `n` keys: the kept ones if they are large enough. */
function sortScratch(n: number): SortScratch {
  lastUsed = performance.now();
  releaseWhenIdle();
  if (kept && kept.high.length >= n) return kept;
  const size = Math.max(n, 4096);
  kept = {
    high: new Uint32Array(size),
    low: new Uint32Array(size),
    nextHigh: new Uint32Array(size),
    nextLow: new Uint32Array(size),
    order: new Uint32Array(size),
    positions: new Uint32Array(size),
    counts: new Uint32Array(4 * 65536),
  };
  return kept;
}

/** Order-preserving 64-bit keys of float64 values, in the scratch's `high` and `low` words (see {@link orderedKeys}). */
interface Keys {
  high: Uint32Array;
  low: Uint32Array;
  scratch: SortScratch;
}

/**
 * Float64 values as order-preserving 64-bit keys (high and low 32-bit words): the sign bit
 * of positives flipped, every bit of negatives; the values at `rows` when given. With
 * `present` below the length, that many keys, the NaN values left out. The keys lie in the
 * sort's scratch, valid until the next sort.
 */
function orderedKeys(values: Float64Array, rows: Uint32Array | null, present: number): Keys {
  const n = rows ? rows.length : values.length;
  const skipMissing = present < n;
  // The float64 bit patterns, read as 32-bit words (little-endian: low word first).
  const words = new Uint32Array(values.buffer, values.byteOffset, 2 * values.length);
  const scratch = sortScratch(present);
  const high = scratch.high.subarray(0, present);
  const low = scratch.low.subarray(0, present);
  for (let i = 0, k = 0; i < n; i++) {
    const at = rows ? rows[i] : i;
    if (skipMissing && values[at] !== values[at]) continue;
    let h = words[2 * at + 1];
    let l = words[2 * at];
    if (h & 0x80000000) {
      h = ~h >>> 0;
      l = ~l >>> 0;
    } else h = (h | 0x80000000) >>> 0;
    high[k] = h;
    low[k++] = l;
  }
  return { high, low, scratch };
}

/**
 * LSD radix sort of 64-bit keys, 16 bits a pass (a pass is skipped where every key has the
 * same digit, common for the high words), stable. With `order`, the keys' positions travel
 * with them (so each pass reads sequentially) and end in `order`: the keys' ranks, 0…n−1
 * where no pass moved a key. The four passes' digit counts are taken in one read of the
 * keys. Returns the sorted keys (in the scratch, valid until the next sort).
 */
function radixSort(keys: Keys, order: Uint32Array | null): { high: Uint32Array; low: Uint32Array } {
  let { high, low } = keys;
  const { scratch } = keys;
  const n = low.length;
  let nextLow = scratch.nextLow.subarray(0, n);
  let nextHigh = scratch.nextHigh.subarray(0, n);
  // The positions ping-pong between `order` and the scratch's (null: no pass has moved a key yet).
  let positions: Uint32Array | null = null;
  const spare = scratch.order.subarray(0, n);
  // counts[pass · 65536 + digit], passes: low word's low and high halves, then the high word's.
  const counts = scratch.counts;
  counts.fill(0);
  for (let k = 0; k < n; k++) {
    const l = low[k];
    const h = high[k];
    counts[l & 0xffff]++;
    counts[65536 + (l >>> 16)]++;
    counts[131072 + (h & 0xffff)]++;
    counts[196608 + (h >>> 16)]++;
  }
  for (let pass = 0; pass < 4; pass++) {
    const digits = pass < 2 ? low : high;
    const shift = (pass & 1) * 16;
    const base = pass * 65536;
    if (n === 0 || counts[base + ((digits[0] >>> shift) & 0xffff)] === n) continue;
    let sum = 0;
    for (let d = base; d < base + 65536; d++) {
      const c = counts[d];
      counts[d] = sum;
      sum += c;
    }
    // The positions' copy in its own loop: a test per key costs a tenth of the sort.
    if (order) {
      const into: Uint32Array = positions === order ? spare : order;
      if (positions) {
        const from = positions;
        for (let k = 0; k < n; k++) {
          const at = counts[base + ((digits[k] >>> shift) & 0xffff)]++;
          nextLow[at] = low[k];
          nextHigh[at] = high[k];
          into[at] = from[k];
        }
      } else {
        for (let k = 0; k < n; k++) {
          const at = counts[base + ((digits[k] >>> shift) & 0xffff)]++;
          nextLow[at] = low[k];
          nextHigh[at] = high[k];
          into[at] = k;
        }
      }
      positions = into;
    } else {
      for (let k = 0; k < n; k++) {
        const at = counts[base + ((digits[k] >>> shift) & 0xffff)]++;
        nextLow[at] = low[k];
        nextHigh[at] = high[k];
      }
    }
    [low, nextLow] = [nextLow, low];
    [high, nextHigh] = [nextHigh, high];
  }
  if (order) {
    if (!positions) for (let k = 0; k < n; k++) order[k] = k;
    else if (positions !== order) order.set(positions);
  }
  return { high, low };
}

/**
 * ROC AUC of `scores` for `labels` (ties counted half), the value {@link rankMetricsByGroup}
 * gives for one group, to the bit (the same sums in the same order), without its standard
 * error or average precision, and in the sort's working arrays: no copy of the scores,
 * labels or groups in score order, which a check of many columns would make afresh for each.
 * Null when either class is absent.
 */
export function rocAuc(labels: Uint8Array, scores: Float64Array): number | null {
  const n = scores.length;
  let n1 = 0;
  for (let k = 0; k < n; k++) n1 += labels[k] === 1 ? 1 : 0;
  const n0 = n - n1;
  if (n1 === 0 || n0 === 0) return null;
  const keys = orderedKeys(scores, null, n);
  const order = keys.scratch.positions.subarray(0, n);
  radixSort(keys, order);
  let negBelow = 0;
  let sum10 = 0;
  for (let start = 0; start < n; ) {
    const score = scores[order[start]];
    let pt = 0;
    let nt = 0;
    // The block's first score is always taken: a NaN, equal to nothing, is a block of its own.
    let k = start;
    do {
      if (labels[order[k]] === 1) pt++;
      else nt++;
      k++;
    } while (k < n && scores[order[k]] === score);
    if (pt > 0) sum10 += pt * ((negBelow + 0.5 * nt) / n0);
    negBelow += nt;
    start = k;
  }
  return sum10 / n1;
}

/**
 * Sorts numbers in place, ascending, as `Float64Array.prototype.sort()` does (−0 before +0;
 * no NaN expected), by an LSD radix sort on the order-preserving float64 bits: a million
 * numbers in ~40 ms where Node 20's built-in sort takes ~200 ms. Below a few thousand the
 * built-in sort is used (the radix passes' fixed cost would dominate). Returns `values`.
 */
export function sortNumbers(values: Float64Array): Float64Array {
  if (values.length < 4096) return values.sort();
  const { high, low } = radixSort(orderedKeys(values, null, values.length), null);
  return fromKeys(high, low, values);
}

/** Sorts columns' present values elsewhere (a host's pool of threads): `sortPresent` of each, in order. */
export type SortRunner = (columns: Float64Array[], signal?: AbortSignal) => Promise<Float64Array[]>;

/**
 * The values that are not NaN, ascending, in a new array (−0 before +0): the keys are taken
 * straight from the values, the missing ones left out, with no copy of the present values
 * first. `inPlace`: written over the first cells of `values` instead (a pool thread's copy of
 * a column, sent back sorted), returned as a view of them, with no new array.
 */
export function sortPresent(values: Float64Array, inPlace = false): Float64Array {
  const n = values.length;
  let present = 0;
  for (let i = 0; i < n; i++) if (values[i] === values[i]) present++;
  if (present < 4096) {
    const out = inPlace ? values.subarray(0, present) : new Float64Array(present);
    // k never passes i: in place, a cell is read before it is written over.
    for (let i = 0, k = 0; i < n; i++) if (values[i] === values[i]) out[k++] = values[i];
    return out.sort();
  }
  // The keys are read out of the values first, so the sorted values may go back over them.
  const { high, low } = radixSort(orderedKeys(values, null, present), null);
  return fromKeys(high, low, inPlace ? values.subarray(0, present) : new Float64Array(present));
}

/** Order-preserving keys back to float64 bits, written into `out`. Returns `out`. */
function fromKeys(high: Uint32Array, low: Uint32Array, out: Float64Array): Float64Array {
  const n = out.length;
  const words = new Uint32Array(out.buffer, out.byteOffset, 2 * n);
  for (let k = 0; k < n; k++) {
    let h = high[k];
    let l = low[k];
    if (h & 0x80000000) h = (h & 0x7fffffff) >>> 0;
    else {
      h = ~h >>> 0;
      l = ~l >>> 0;
    }
    words[2 * k + 1] = h;
    words[2 * k] = l;
  }
  return out;
}
