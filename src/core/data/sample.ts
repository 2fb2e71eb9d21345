import { allRows } from './table';
import { Random } from '../base/random';

/**
 * A seeded sample of `size` rows, stratified by the 0/1 labels: each class keeps its share
 * (rounded, at least one row of a class that has any), rows drawn without replacement
 * (partial Fisher–Yates) and returned in ascending order.
 */
export function stratifiedSample(labels: Uint8Array, size: number, seed: number, stream = 'sample/test'): Uint32Array {
  const n = labels.length;
  if (size >= n) return allRows(n);
  const random = new Random(seed, stream);
  const byClass: number[][] = [[], []];
  for (let i = 0; i < n; i++) byClass[labels[i]].push(i);
  const positives = byClass[1].length;
  let takePositives = Math.round((size * positives) / n);
  if (positives > 0 && takePositives === 0) takePositives = 1;
  if (positives < n && takePositives === size) takePositives = size - 1;
  const chosen: number[] = [];
  for (const [members, take] of [[byClass[0], size - takePositives], [byClass[1], takePositives]] as const) {
    const pool = members.slice();
    for (let k = 0; k < take; k++) {
      const j = k + random.int(pool.length - k);
      [pool[k], pool[j]] = [pool[j], pool[k]];
      chosen.push(pool[k]);
    }
  }
  return Uint32Array.from(chosen).sort();
}

/** A seeded sample of `size` of the rows 0…n−1 (a partial Fisher–Yates shuffle: `size` draws, whatever n), in row order. */
export function sampleIndices(n: number, size: number, seed: number, stream: string): Uint32Array {
  const rows = allRows(n);
  const random = new Random(seed, stream);
  const take = Math.min(size, n);
  for (let i = 0; i < take; i++) {
    const j = i + random.int(n - i);
    const kept = rows[j];
    rows[j] = rows[i];
    rows[i] = kept;
  }
  return rows.slice(0, take).sort();
}
