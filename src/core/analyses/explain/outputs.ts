import { allRows, filledColumn, findColumn, keptTextsOf, presentValues, shownText, writtenAs, type Column, type Table } from '../../data/table';
import { personalValueColumns } from '../../data/pii';
import type { Classifier } from '../../model/classifier';
import { rocAuc } from '../../metrics/ranking';
import { Random } from '../../base/random';
import { toCsv } from '../../data/csv-export';
import { ExplainerCompatibilityError } from '../../base/errors';
import { wilsonInterval, type Interval } from '../../metrics/intervals';
import { gather } from '../../base/rows';

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

/**
 * Most principal reasons one adverse-action notice gives: Regulation B's official
 * interpretation of 12 CFR 1002.9(b)(2) says more than four is not likely to be helpful to
 * the applicant.
 */
export const MAX_REASONS = 4;

/** Adverse explained rows an audit explains a second time, with another seed, to see whether their reasons hold (a second KernelSHAP run costs as much as the first). */
export const REASON_STABILITY_ROWS = 50;

/** Options of {@link reasonCodes}. */
export interface ReasonOptions {
  /** Reasons per row, 1 to {@link MAX_REASONS}. Default 4. */
  count?: number;
  /** Which decision is adverse: a score below the threshold (`negative`, lending) or at/above it (`positive`, e.g. risk flags). */
  adverse: 'negative' | 'positive';
  threshold: number;
  /** Columns that may never be a reason (protected attributes, their proxies, excluded columns). */
  excluded: string[];
}

/** The reasons of one adverse decision. */
export interface ReasonCodes {
  row: number;
  score: number;
  reasons: Reason[];
}

function reasonCount(count: number | undefined): number {
  const n = count ?? MAX_REASONS;
  if (!Number.isInteger(n) || n < 1 || n > MAX_REASONS) {
    throw new ExplainerCompatibilityError(`reason codes: ${n} reasons asked for, but an adverse-action notice gives 1 to ${MAX_REASONS} principal reasons (Regulation B, 12 CFR 1002.9(b)(2): more than four is not likely to help the applicant). Ask for ${MAX_REASONS} or fewer.`);
  }
  return n;
}

/** The columns pushing one row toward the adverse side, strongest first (ties by name), excluded columns included. */
function pushes(columns: string[], values: number[], sign: number): { column: string; push: number; shap: number }[] {
  return columns
    .map((column, j) => ({ column, push: sign * values[j], shap: values[j] }))
    .filter((c) => c.push > 0)
    .sort((a, b) => b.push - a.push || (a.column < b.column ? -1 : 1));
}

/**
 * Adverse-action reason codes: for each explained row whose decision is adverse, the top
 * columns (at most four) pushing the score toward the adverse side (most negative SHAP when
 * adverse is a low score), with the applicant's value. Each reason is a column the model
 * scored (the explainer's columns, present in the table); excluded columns never appear;
 * ties are broken by column name so the codes are deterministic.
 */
export function reasonCodes(table: Table, rows: number[], columns: string[], values: number[][], scores: Float64Array, options: ReasonOptions): ReasonCodes[] {
  const count = reasonCount(options.count);
  // A column of personal data is never a reason: the reason shows the applicant's value.
  const excluded = new Set([...options.excluded, ...personalValueColumns([table])]);
  const sign = options.adverse === 'negative' ? -1 : 1;
  const out: ReasonCodes[] = [];
  rows.forEach((row, r) => {
    const adverse = options.adverse === 'negative' ? scores[r] < options.threshold : scores[r] >= options.threshold;
    if (!adverse) return;
    const candidates = pushes(columns, values[r], sign)
      .filter((c) => !excluded.has(c.column) && findColumn(table, c.column))
      .slice(0, count);
    out.push({
      row,
      score: scores[r],
      reasons: candidates.map((c) => ({ column: c.column, value: shownText(findColumn(table, c.column)!, row - 1), shap: c.shap })),
    });
  });
  return out;
}

/** Whether the principal reasons hold up when the explainer samples again. */
export interface ReasonStability {
  /** Adverse explained rows explained again and compared (an audit takes the first {@link REASON_STABILITY_ROWS}). */
  rows: number;
  /** Rows whose set of reasons is the same in both runs. */
  stable: number;
  share: number | null;
  /** Wilson interval of the share at `confidence`. */
  interval: Interval | null;
  confidence: number;
  /** The second run's background, and whether its values differed at all. */
  rerun: string;
}

/** The adverse-action reasons of an audit's explained rows, with their stability. */
export interface AdverseActionReasons {
  /** Reasons per adverse decision (at most four). */
  count: number;
  /** Columns that are never a reason: protected attributes and their declared proxies. */
  excluded: string[];
  /** Explained rows with an adverse decision. */
  adverse_rows: number;
  /** Adverse rows where an excluded column would otherwise have been among the top reasons (it was left out and the next column given). */
  rows_with_excluded_factor: number;
  /** How often each column is the first reason, most often first. */
  first_reasons: { column: string; rows: number }[];
  /** Null when the second run could not be made (`stability_unavailable` says why). */
  stability: ReasonStability | null;
  stability_unavailable?: string;
  convention: string;
}

/**
 * The reasons of an audit's explained rows: reason codes, how often an excluded column
 * was among the top pushes, and the share of adverse rows whose set of top reasons is the
 * same when the rows are explained again with another seed (another background sample;
 * another coalition sample for sampled KernelSHAP). `second` is that run (of some or all
 * of the adverse rows, 1-based row numbers as in `first`), or why it could not be made.
 */
export function adverseActionReasons(
  table: Table,
  first: { rows: number[]; columns: string[]; values: number[][] },
  second: { rows: number[]; columns: string[]; values: number[][]; background: string } | string,
  scores: Float64Array,
  options: ReasonOptions & { confidence: number },
): { reason_codes: ReasonCodes[]; adverse_action: AdverseActionReasons } {
  const count = reasonCount(options.count);
  const codes = reasonCodes(table, first.rows, first.columns, first.values, scores, options);
  const excluded = new Set(options.excluded);
  const sign = options.adverse === 'negative' ? -1 : 1;
  const index = new Map(first.rows.map((row, r) => [row, r]));
  let withExcluded = 0;
  const firstReasons = new Map<string, number>();
  for (const entry of codes) {
    const top = pushes(first.columns, first.values[index.get(entry.row)!], sign).slice(0, count);
    if (top.some((c) => excluded.has(c.column))) withExcluded++;
    if (entry.reasons[0]) firstReasons.set(entry.reasons[0].column, (firstReasons.get(entry.reasons[0].column) ?? 0) + 1);
  }
  let stability: ReasonStability | null = null;
  if (typeof second !== 'string') {
    // The second run may cover only some of the adverse rows (the audit caps it); compare those.
    const secondScores = Float64Array.from(second.rows, (row) => scores[index.get(row)!]);
    const again = new Map(reasonCodes(table, second.rows, second.columns, second.values, secondScores, options).map((entry) => [entry.row, entry.reasons.map((r) => r.column).sort()]));
    let compared = 0;
    let stable = 0;
    let identical = true;
    for (const entry of codes) {
      const b = again.get(entry.row);
      if (!b) continue;
      compared++;
      const a = entry.reasons.map((r) => r.column).sort();
      if (a.length === b.length && a.every((c, i) => c === b[i])) stable++;
      const r = second.rows.indexOf(entry.row);
      if (second.values[r].some((x, j) => x !== first.values[index.get(entry.row)!][first.columns.indexOf(second.columns[j])])) identical = false;
    }
    stability = {
      rows: compared,
      stable,
      share: compared ? stable / compared : null,
      interval: wilsonInterval(stable, compared, options.confidence),
      confidence: options.confidence,
      rerun: `${second.background}${identical && compared ? ' (the same values: this explainer draws nothing at random here, so the reasons cannot differ)' : ''}`,
    };
  }
  return {
    reason_codes: codes,
    adverse_action: {
      count,
      excluded: [...excluded],
      adverse_rows: codes.length,
      rows_with_excluded_factor: withExcluded,
      first_reasons: [...firstReasons].map(([column, rows]) => ({ column, rows })).sort((a, b) => b.rows - a.rows || (a.column < b.column ? -1 : 1)),
      stability,
      ...(typeof second === 'string' ? { stability_unavailable: second } : {}),
      convention: `Principal reasons (ECOA / Regulation B): for each explained row with an adverse decision (p ${options.adverse === 'negative' ? '<' : '>='} ${options.threshold}), the at most ${count} model inputs whose SHAP values push the score furthest toward it, strongest first; protected attributes and their declared proxies are never a reason (where one would have been, the next input is given, and the row is counted). Stable: the same set of reasons when the rows are explained again with another seed.`,
    },
  };
}

/** A copy of a column with its values permuted over `rows` (others unchanged). */
function permuted(column: Column, random: Random): Column {
  const n = column.kind === 'numeric' ? column.values.length : column.codes.length;
  const order = allRows(n);
  for (let i = n - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  // Each cell's text moves with its value.
  const texts = keptTextsOf(column, order);
  if (column.kind === 'numeric') return { ...column, values: gather(column.values, order), texts };
  return { ...column, codes: Int32Array.from(gather(column.codes, order)), texts };
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
    const sorted = presentValues(source.values).sort();
    const points = [...new Set(Array.from({ length: 11 }, (_, k) => sorted[Math.min(sorted.length - 1, Math.floor((k / 10) * (sorted.length - 1)))]))];
    const spelled = writtenAs(source, points);
    grid = points.map((v) => ({ label: spelled.get(v) ?? String(v), set: (c) => filledColumn(c, v, n) }));
  } else {
    grid = source.dictionary.map((label, code) => ({ label, set: (c) => filledColumn(c, code, n) }));
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
