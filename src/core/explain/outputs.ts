import { allRows, findColumn, cellText, type Column, type Table } from '../data/table';
import type { Classifier } from '../model/classifier';
import { rocAuc } from '../metrics/ranking';
import { Random } from '../random';
import { toCsv } from '../data/csv-export';

/** Mean |SHAP| per column, largest first (ties by column name). */
export function globalImportance(columns: string[], values: number[][]): { column: string; mean_abs_shap: number }[] {
  return columns
    .map((column, j) => ({ column, mean_abs_shap: values.reduce((sum, row) => sum + Math.abs(row[j]), 0) / Math.max(1, values.length) }))
    .sort((a, b) => b.mean_abs_shap - a.mean_abs_shap || (a.column < b.column ? -1 : 1));
}

/** One reason for an adverse decision: the column, the applicant's value, and its push. */
export interface Reason {
  column: string;
  value: string;
  shap: number;
}

/** Options of {@link reasonCodes}. */
export interface ReasonOptions {
  /** Reasons per row. Default 4. */
  count?: number;
  /** Which decision is adverse: a score below the threshold (`negative`, lending) or at/above it (`positive`, e.g. risk flags). */
  adverse: 'negative' | 'positive';
  threshold: number;
  /** Columns that may never be a reason (protected attributes, their proxies, excluded columns). */
  excluded: string[];
}

/**
 * Adverse-action reason codes: for each explained row whose decision is adverse, the top
 * columns pushing the score toward the adverse side (most negative SHAP when adverse is
 * a low score), with the applicant's value. Excluded columns never appear; ties are broken
 * by column name so the codes are deterministic.
 */
export function reasonCodes(table: Table, rows: number[], columns: string[], values: number[][], scores: Float64Array, options: ReasonOptions): { row: number; score: number; reasons: Reason[] }[] {
  const count = options.count ?? 4;
  const excluded = new Set(options.excluded);
  const sign = options.adverse === 'negative' ? -1 : 1;
  const out: { row: number; score: number; reasons: Reason[] }[] = [];
  rows.forEach((row, r) => {
    const adverse = options.adverse === 'negative' ? scores[r] < options.threshold : scores[r] >= options.threshold;
    if (!adverse) return;
    const candidates = columns
      .map((column, j) => ({ column, push: sign * values[r][j], shap: values[r][j] }))
      .filter((c) => !excluded.has(c.column) && c.push > 0)
      .sort((a, b) => b.push - a.push || (a.column < b.column ? -1 : 1))
      .slice(0, count);
    out.push({
      row,
      score: scores[r],
      reasons: candidates.map((c) => ({ column: c.column, value: cellText(findColumn(table, c.column)!, row - 1), shap: c.shap })),
    });
  });
  return out;
}

/** A copy of a column with its values permuted over `rows` (others unchanged). */
function permuted(column: Column, random: Random): Column {
  const n = column.kind === 'numeric' ? column.values.length : column.codes.length;
  const order = allRows(n);
  for (let i = n - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  if (column.kind === 'numeric') return { ...column, values: Float64Array.from(order, (i) => column.values[i]) };
  return { ...column, codes: Int32Array.from(order, (i) => column.codes[i]) };
}

/**
 * Permutation importance: the drop in ROC AUC when one column's values are shuffled across
 * the rows (seeded, `repeats` times; mean and standard deviation of the drop).
 */
export async function permutationImportance(classifier: Classifier, table: Table, labels: Uint8Array, columns: string[], options: { repeats?: number; seed: number; features?: string[] }): Promise<{ column: string; mean_drop: number; sd_drop: number }[]> {
  const baseline = rocAuc(labels, await classifier.score(table, { features: options.features }))?.auc ?? Number.NaN;
  const repeats = options.repeats ?? 5;
  const result: { column: string; mean_drop: number; sd_drop: number }[] = [];
  for (const name of columns) {
    const random = new Random(options.seed, `explain/permutation/${name}`);
    const drops: number[] = [];
    for (let k = 0; k < repeats; k++) {
      const shuffled: Table = { ...table, columns: table.columns.map((c) => (c.name === name ? permuted(c, random) : c)) };
      const auc = rocAuc(labels, await classifier.score(shuffled, { features: options.features }))?.auc ?? Number.NaN;
      drops.push(baseline - auc);
    }
    const mean = drops.reduce((a, b) => a + b, 0) / repeats;
    const sd = Math.sqrt(drops.reduce((a, b) => a + ((b - mean) * (b - mean)), 0) / Math.max(1, repeats - 1));
    result.push({ column: name, mean_drop: mean, sd_drop: sd });
  }
  return result.sort((a, b) => b.mean_drop - a.mean_drop || (a.column < b.column ? -1 : 1));
}

/**
 * Partial dependence and ICE for one column: the model's average prediction (and each of
 * the first `iceRows` rows' predictions) with the column set to each grid value — the
 * deciles of a numeric column, or every category of a categorical one.
 */
export async function partialDependence(classifier: Classifier, table: Table, column: string, options: { features?: string[]; iceRows?: number } = {}): Promise<{ column: string; grid: string[]; pdp: number[]; ice: number[][] }> {
  const source = findColumn(table, column)!;
  let grid: { label: string; set: (c: Column) => Column }[];
  const n = table.rowCount;
  if (source.kind === 'numeric') {
    const sorted = source.values.filter((v) => !Number.isNaN(v)).sort();
    const points = [...new Set(Array.from({ length: 11 }, (_, k) => sorted[Math.min(sorted.length - 1, Math.floor((k / 10) * (sorted.length - 1)))]))];
    grid = points.map((v) => ({ label: String(v), set: (c) => ({ ...(c as typeof source), values: new Float64Array(n).fill(v), missing: 0 }) }));
  } else {
    grid = source.dictionary.map((label, code) => ({ label, set: (c) => ({ ...(c as typeof source), codes: new Int32Array(n).fill(code), missing: 0 }) }));
  }
  const ice = Math.min(options.iceRows ?? 50, n);
  const pdp: number[] = [];
  const curves: number[][] = Array.from({ length: ice }, () => []);
  for (const point of grid) {
    const scores = await classifier.score({ ...table, columns: table.columns.map((c) => (c.name === column ? point.set(c) : c)) }, { features: options.features });
    pdp.push(scores.reduce((a, b) => a + b, 0) / n);
    for (let r = 0; r < ice; r++) curves[r].push(scores[r]);
  }
  return { column, grid: grid.map((g) => g.label), pdp, ice: curves };
}

/** Reason codes as CSV for adverse-action notices: one line per row, reasons in order. */
export function reasonCodesCsv(codes: { row: number; score: number; reasons: Reason[] }[], count = 4): string {
  const header = ['row', 'score', ...Array.from({ length: count }, (_, k) => [`reason_${k + 1}`, `value_${k + 1}`, `shap_${k + 1}`]).flat()];
  return toCsv(
    header,
    codes.map((entry) => [entry.row, entry.score, ...Array.from({ length: count }, (_, k) => entry.reasons[k]).flatMap((r) => (r ? [r.column, r.value, r.shap] : ['', '', '']))]),
  );
}
