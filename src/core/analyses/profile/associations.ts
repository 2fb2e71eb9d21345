/**
 * Association measures between two columns, as the proxy check reads them: Cramér's V of two
 * categorical variables (dense or sparse counting), the correlation ratio η of a numeric
 * variable across categories (a protected attribute written as a few numbers is categories
 * too), and |Pearson r| of a numeric column against an attribute of many numbers.
 */
import type { Column, NumericColumn } from '../../data/table';
import { numberGroupKey, spacedGroups } from '../../metrics/groups';

/** Codes 0…k−1 per row of a column (missing → its own code), for association measures. */
export function categoricalCodes(column: Column): { codes: Int32Array; levels: number } {
  // A text written with and without spaces is two groups, as fairness groups it.
  const spaced = column.kind === 'categorical' ? spacedGroups(column) : null;
  if (column.kind === 'categorical' && !spaced) {
    const levels = column.dictionary.length + 1;
    const codes = new Int32Array(column.codes.length);
    for (let i = 0; i < codes.length; i++) codes[i] = column.codes[i] < 0 ? levels - 1 : column.codes[i];
    return { codes, levels };
  }
  const map = new Map<number | string, number>();
  // A column of codes ("01" beside "1") by its texts, as fairness groups it.
  const keyOf = spaced ?? numberGroupKey(column as NumericColumn);
  // Plain loops: TypedArray.from with a function is ~13× slower per row in Node.
  const codes = new Int32Array(column.kind === 'numeric' ? column.values.length : column.codes.length);
  for (let i = 0; i < codes.length; i++) {
    const key = (column.kind === 'numeric' ? Number.isNaN(column.values[i]) : column.codes[i] < 0) ? Number.NaN : keyOf(i);
    let code = map.get(key);
    if (code === undefined) map.set(key, (code = map.size));
    codes[i] = code;
  }
  return { codes, levels: map.size };
}

/** Cells of a contingency table counted in a dense array; larger tables are counted sparsely. */
const DENSE_CELLS = 1 << 22;

/** Cramér's V of two categorical variables, bias-corrected (see {@link correctedV}). */
export function cramersV(a: Int32Array, levelsA: number, b: Int32Array, levelsB: number): number {
  const n = a.length;
  if (levelsA * levelsB > DENSE_CELLS) return sparseCramersV(a, levelsA, b, levelsB);
  const table = new Float64Array(levelsA * levelsB);
  const rowTotals = new Float64Array(levelsA);
  const colTotals = new Float64Array(levelsB);
  for (let i = 0; i < n; i++) {
    table[a[i] * levelsB + b[i]]++;
    rowTotals[a[i]]++;
    colTotals[b[i]]++;
  }
  let chi2 = 0;
  for (let r = 0; r < levelsA; r++) {
    if (rowTotals[r] === 0) continue;
    for (let c = 0; c < levelsB; c++) {
      if (colTotals[c] === 0) continue;
      const expectedCount = (rowTotals[r] * colTotals[c]) / n;
      chi2 += ((table[r * levelsB + c] - expectedCount) * (table[r * levelsB + c] - expectedCount)) / expectedCount;
    }
  }
  return correctedV(chi2, n, rowTotals.filter((t) => t > 0).length, colTotals.filter((t) => t > 0).length);
}

/**
 * Cramér's V from χ², bias-corrected (Bergsma 2013): φ² less its expectation under
 * independence, (r − 1)(c − 1)/(n − 1), over min(r̃, c̃) − 1 with r̃ = r − (r − 1)²/(n − 1)
 * (r, c: the levels present). The plain V of a column of about one row a value against any
 * attribute is near 1 whatever the data; the corrected one near 0 when they are independent.
 */
function correctedV(chi2: number, n: number, r: number, c: number): number {
  if (r <= 1 || c <= 1 || n <= 1) return 0;
  const phi2 = Math.max(0, chi2 / n - ((r - 1) * (c - 1)) / (n - 1));
  const rows = r - ((r - 1) * (r - 1)) / (n - 1);
  const cols = c - ((c - 1) * (c - 1)) / (n - 1);
  const k = Math.min(rows, cols) - 1;
  return k <= 0 ? 0 : Math.sqrt(Math.min(1, phi2 / k));
}

/**
 * Cramér's V of a table too large to hold densely (a text column of many values against an
 * attribute of many groups): only the cells that occur are counted, and
 * χ² = n·(Σ O²/(R·C) − 1) over them.
 */
export function sparseCramersV(a: Int32Array, levelsA: number, b: Int32Array, levelsB: number): number {
  const n = a.length;
  const cells = new Map<number, number>();
  const rowTotals = new Float64Array(levelsA);
  const colTotals = new Float64Array(levelsB);
  for (let i = 0; i < n; i++) {
    const key = a[i] * levelsB + b[i];
    cells.set(key, (cells.get(key) ?? 0) + 1);
    rowTotals[a[i]]++;
    colTotals[b[i]]++;
  }
  let sum = 0;
  for (const [key, count] of cells) sum += (count * count) / (rowTotals[Math.floor(key / levelsB)] * colTotals[key % levelsB]);
  const chi2 = Math.max(0, n * (sum - 1));
  return correctedV(chi2, n, rowTotals.filter((t) => t > 0).length, colTotals.filter((t) => t > 0).length);
}
/**
 * What η's denominator reads of a numeric column, the same whatever the categories: its
 * present values' count, and their deviations measured from the first present value
 * (`shift`), so that a column of one repeated value (0.7 on every row, whose mean in floating
 * point is not exactly 0.7) has a sum of squares of exactly 0, not rounding noise that η
 * would divide by.
 */
export interface Spread {
  n: number;
  /** The first present value, which every deviation is taken from. */
  shift: number;
  /** Mean of (value − shift). */
  mean: number;
  /** Σ (value − shift − mean)². */
  squares: number;
}

/** The {@link Spread} of a numeric column (missing numbers skipped). */
export function spreadOf(values: Float64Array): Spread {
  let shift = Number.NaN;
  let total = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) continue;
    if (n === 0) shift = v;
    total += v - shift;
    n++;
  }
  if (n === 0) return { n, shift, mean: Number.NaN, squares: 0 };
  const mean = total / n;
  let squares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === v) squares += (v - shift - mean) * (v - shift - mean);
  }
  return { n, shift, mean, squares };
}

/**
 * Correlation ratio of a numeric variable across the categories (missing numbers skipped),
 * bias-corrected as Cramér's V is: √ε², ε² = 1 − (SS_within / (n − k)) / (SS_total / (n − 1))
 * (Kelley 1935), floored at 0 — η² itself grows by about (k − 1)/(n − 1) with noise alone, so
 * an attribute of many small groups read a noise column as a proxy. 0 for a column of one
 * value or a group a row; at most 1. `spread`: the column's {@link spreadOf}, computed once
 * where the column is measured against several attributes.
 */
export function correlationRatio(values: Float64Array, codes: Int32Array, levels: number, spread: Spread = spreadOf(values)): number {
  const { n, shift, mean, squares } = spread;
  if (n === 0 || squares === 0) return 0;
  const sums = new Float64Array(levels);
  const counts = new Float64Array(levels);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) continue;
    sums[codes[i]] += v - shift;
    counts[codes[i]]++;
  }
  let between = 0;
  let groups = 0;
  for (let k = 0; k < levels; k++) {
    if (counts[k] === 0) continue;
    groups++;
    between += counts[k] * ((sums[k] / counts[k] - mean) * (sums[k] / counts[k] - mean));
  }
  if (n <= groups) return 0;
  // Rounding could make the between-group sum pass the total: the within sum is never below 0.
  const within = Math.max(0, squares - between);
  const epsilon2 = 1 - within / (n - groups) / (squares / (n - 1));
  return Math.min(1, Math.sqrt(Math.max(0, epsilon2)));
}
/**
 * |Pearson r| over rows where both are present: 0 where either holds one value (deviations
 * are taken from the first present pair, so a repeated value deviates by exactly 0), at most 1.
 */
export function absPearson(a: Float64Array, b: Float64Array): number {
  let n = 0;
  let sa = 0;
  let sb = 0;
  let shiftA = 0;
  let shiftB = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) || Number.isNaN(b[i])) continue;
    if (n === 0) {
      shiftA = a[i];
      shiftB = b[i];
    }
    n++;
    sa += a[i] - shiftA;
    sb += b[i] - shiftB;
  }
  if (n < 2) return 0;
  const ma = sa / n;
  const mb = sb / n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) || Number.isNaN(b[i])) continue;
    const da = a[i] - shiftA - ma;
    const db = b[i] - shiftB - mb;
    cov += da * db;
    va += da * da;
    vb += db * db;
  }
  return va === 0 || vb === 0 ? 0 : Math.min(1, Math.abs(cov / Math.sqrt(va * vb)));
}
