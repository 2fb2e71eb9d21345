/** Row index lists, the one shape every layer passes rows in (no imports: any module may use it). */

/**
 * The row numbers 0…n−1. (A plain loop: `Uint32Array.from` with a map function calls it
 * per row, ~15× slower — 6 ms for 100,000 rows.)
 */
export function allRows(n: number): Uint32Array<ArrayBuffer> {
  const rows = new Uint32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  return rows;
}

/**
 * `values[rows[i]]` for every i, as a new Float64Array (`Float64Array.from(rows, (r) =>
 * values[r])` calls its function per row: ~13× slower, 325 ms a million rows in Node 20).
 */
export function gather(values: ArrayLike<number>, rows: ArrayLike<number>): Float64Array<ArrayBuffer> {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = values[rows[i]];
  return out;
}

/** `scale · values[i]` for every i, as a new Float64Array (a plain loop, as {@link gather}). */
export function scaled(values: ArrayLike<number>, scale: number): Float64Array<ArrayBuffer> {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = scale * values[i];
  return out;
}

/**
 * 1 where `test(i)` holds, else 0, for i in 0…n−1 (a plain loop: `Uint8Array.from(values,
 * fn)` calls its function through the iterator protocol, ~10× slower at a million rows).
 */
export function flags(n: number, test: (i: number) => boolean): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (test(i)) out[i] = 1;
  return out;
}

/** Row i's entry in column `columns[i]` of a row-major `rows × width` table, for every row (a plain loop, as {@link gather}). */
export function entriesAt(values: ArrayLike<number>, width: number, columns: ArrayLike<number>): Float64Array<ArrayBuffer> {
  const out = new Float64Array(columns.length);
  for (let i = 0; i < columns.length; i++) out[i] = values[i * width + columns[i]];
  return out;
}

/**
 * A zeroed Float64Array of `length` in memory a host's threads can share (a SharedArrayBuffer,
 * where the host has one: Node, a cross-origin-isolated page), so that sending it to a
 * thread copies nothing; a plain one elsewhere.
 */
export function sharedFloat64(length: number): Float64Array {
  return typeof SharedArrayBuffer === 'function' ? new Float64Array(new SharedArrayBuffer(length * 8)) : new Float64Array(length);
}
