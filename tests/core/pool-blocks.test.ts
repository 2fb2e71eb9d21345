import { describe, expect, it } from 'vitest';
import { guidedBlocks } from '../../src/core/pool';

describe('tree scoring blocks of the worker pool', () => {
  it('cover every row once, in order, from large blocks down to small ones, within the byte limit', () => {
    for (const [count, size, width] of [[100_000, 2, 14], [1_000_000, 4, 30], [5_000, 2, 14], [1, 2, 3], [0, 2, 3], [300_000, 2, 1500], [20_000, 3, 20_000]]) {
      const starts = guidedBlocks(count, size, width);
      const label = `${count} rows × ${width} features over ${size} workers`;
      expect(starts[0], label).toBe(0);
      expect(starts[starts.length - 1], label).toBe(count);
      const rows = starts.slice(1).map((end, b) => end - starts[b]);
      expect(rows.every((r) => r > 0), label).toBe(true);
      // Each block's cells and margins in float64 stay within 32 MiB (at least 256 rows a block).
      expect(Math.max(...rows, 0) * 8 * (width + 1) <= 32 * 1024 * 1024 || Math.max(...rows) === 256, label).toBe(true);
      // Blocks never grow, and each takes about the rows left over twice the workers.
      for (let b = 1; b < rows.length; b++) expect(rows[b] <= rows[b - 1], `${label}, block ${b}`).toBe(true);
      if (count >= 4096 * 2 * size && width < 100) expect(rows[0], label).toBe(Math.min(65_536, Math.ceil(count / (2 * size))));
    }
  });
});
