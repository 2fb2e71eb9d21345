/**
 * Blocks of rows: how many rows a block holds, and copying rows from columns into one
 * (row-major), as both block evaluators read them.
 */

/**
 * Rows scored per block: one tree stays in cache while it walks the whole block, and the
 * block (4,096 rows × features as float32) stays in L2. Measured on 300 trees of depth 6:
 * 256 rows 1.8 s per 100,000 rows, 2,048–8,192 rows 1.1 s (bench/NOTES.md). Models with
 * hundreds of features take fewer rows per block, so a block stays within 4 MiB (the
 * WebAssembly kernel's memory keeps its largest block for the thread's life).
 */
const BLOCK_ROWS = 4096;
const BLOCK_BYTES = 4 * 1024 * 1024;

/** Rows per block for `width` features of `cell` bytes. */
export function blockRowsFor(width: number, cell = 4): number {
  return Math.min(BLOCK_ROWS, Math.max(256, Math.floor(BLOCK_BYTES / (cell * Math.max(1, width)))));
}

/** Writes rows [start, end) into `block` (float32: rounded, as XGBoost reads them), row-major; true when a cell is missing. */
export function fillBlock(block: Float32Array | Float64Array, columns: Float64Array[], rows: Uint32Array, start: number, end: number): boolean {
  const width = columns.length;
  let missing = false;
  for (let r = start; r < end; r++) {
    const base = (r - start) * width;
    for (let j = 0; j < width; j++) {
      const v = columns[j][rows[r]];
      block[base + j] = v;
      if (v !== v) missing = true;
    }
  }
  return missing;
}
