/**
 * Counting rows identical in every column to an earlier row, for the data profile.
 */
import type { Table } from '../../data/table';
import { ascendingOrder } from '../../base/order';

/** The 32-bit words of the NaN every NaN cell is hashed as (the words of `Number.NaN` in a Float64Array). */
const NAN_WORDS = new Uint32Array(Float64Array.of(Number.NaN).buffer);

/**
 * Rows identical in every column to an earlier row. Each row gets a 52-bit hash of its
 * cells (two 32-bit mixes of the float64 bits or category codes, −0 as 0 and every NaN
 * alike); rows are radix-sorted by hash and only rows with equal hashes are compared cell
 * by cell, so a collision can never count a row as a duplicate.
 */
export function duplicateRows(table: Table): number {
  const n = table.rowCount;
  const h1 = new Uint32Array(n).fill(0x811c9dc5);
  const h2 = new Uint32Array(n).fill(0x2545f491);
  const mix = (h: number, x: number, m: number) => {
    h = Math.imul(h ^ x, m);
    return (h ^ (h >>> 15)) >>> 0;
  };
  for (const column of table.columns) {
    if (column.kind === 'numeric') {
      const values = column.values;
      // The float64s' 32-bit words read in place (a Float64Array starts at a multiple of 8
      // bytes), −0 taken as 0 and every NaN as the one NaN: the words a copy of each value
      // through a scratch cell would give, without the copy.
      const words = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        let first = 0;
        let second = 0;
        if (v !== v) {
          first = NAN_WORDS[0];
          second = NAN_WORDS[1];
        } else if (v !== 0) {
          first = words[2 * i];
          second = words[2 * i + 1];
        }
        h1[i] = mix(mix(h1[i], first, 0x9e3779b1), second, 0x85ebca6b);
        h2[i] = mix(mix(h2[i], second, 0xc2b2ae35), first, 0x27d4eb2f);
      }
    } else {
      const codes = column.codes;
      for (let i = 0; i < n; i++) {
        h1[i] = mix(h1[i], codes[i] + 1, 0x9e3779b1);
        h2[i] = mix(h2[i], codes[i] + 1, 0xc2b2ae35);
      }
    }
  }
  // A plain loop: Float64Array.from(h1, fn) calls fn per row, ~10× slower at a million.
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = h1[i] * 1048576 + (h2[i] >>> 12);
  const order = ascendingOrder(keys);
  const same = (a: number, b: number) =>
    table.columns.every((column) => {
      if (column.kind === 'categorical') return column.codes[a] === column.codes[b];
      const x = column.values[a];
      const y = column.values[b];
      return x === y || (x !== x && y !== y);
    });
  let duplicates = 0;
  for (let start = 0; start < n; ) {
    const key = keys[order[start]];
    let end = start + 1;
    while (end < n && keys[order[end]] === key) end++;
    if (end === start + 1) {
      // A hash no other row has: most rows.
      start = end;
      continue;
    }
    // Within a run of equal hashes, a row is a duplicate when it equals a distinct row before it.
    const distinct: number[] = [];
    for (let k = start; k < end; k++) {
      if (distinct.some((row) => same(row, order[k]))) duplicates++;
      else distinct.push(order[k]);
    }
    start = end;
  }
  return duplicates;
}
