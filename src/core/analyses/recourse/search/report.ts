/**
 * The recourse section of a result: its types (changes, counterfactuals, the report) and the
 * report built from the searched rows, with feasible shares per group and the conventions.
 */
import { findColumn, type Table } from '../../../data/table';
import { groupNamer } from '../../../metrics/groups';
import { median } from '../../../base/math';
import { wilsonInterval, type Interval } from '../../../metrics/intervals';
import type { ColumnRule } from './column-rules';
import { RECOURSE_DEFAULTS, type RecourseOptions } from './settings';

/** One change of a counterfactual. */
export interface Change {
  column: string;
  from: string;
  to: string;
  /** Numeric changes: where the old and new value sit among the column's values (mid-rank percentile, 0–100, one decimal). */
  percentile_from?: number;
  percentile_to?: number;
}

/** A counterfactual that was re-scored and checked. */
export interface Counterfactual {
  changes: Change[];
  cost: number;
  score: number;
}

/** The recourse section of a result. */
export interface RecourseReport {
  adverse: 'negative' | 'positive';
  rows_searched: number;
  adverse_rows: number;
  /** How the searched rows were chosen: every adverse row, or a seeded sample of `max_rows` of them. */
  selection: 'all adverse rows' | 'seeded sample';
  rows: { row: number; score: number; counterfactuals: Counterfactual[] }[];
  /** Share of searched adverse rows with at least one feasible counterfactual. */
  recourse_feasible_share: number | null;
  /** Wilson interval of that share at `confidence`. */
  recourse_feasible_interval: Interval | null;
  confidence: number;
  /** Every model input: whether the search may change it and why. */
  columns: ColumnRule[];
  groups: Record<string, Record<string, { rows: number; feasible_share: number | null; feasible_interval: Interval | null; median_cost: number | null }>>;
  conventions: string;
}

/**
 * The report of a search: `rows` (1-based, each with its counterfactuals cheapest first) of
 * `adverseCount` adverse rows, `sampled` when a seeded sample of them was searched, with
 * feasible shares per value of each of `groupColumns` and the conventions in words.
 */
export function recourseReport(table: Table, rows: RecourseReport['rows'], groupColumns: string[], rules: ColumnRule[], options: RecourseOptions, adverseCount: number, sampled: boolean): RecourseReport {
  const confidence = options.confidence ?? 0.95;
  const groups: RecourseReport['groups'] = {};
  for (const name of groupColumns) {
    const column = findColumn(table, name);
    if (!column) continue;
    const byGroup = new Map<string, { rows: number; feasible: number; costs: number[] }>();
    const groupOf = groupNamer(column);
    for (const entry of rows) {
      const group = groupOf(entry.row - 1);
      const g = byGroup.get(group) ?? { rows: 0, feasible: 0, costs: [] };
      g.rows++;
      if (entry.counterfactuals.length) {
        g.feasible++;
        g.costs.push(entry.counterfactuals[0].cost);
      }
      byGroup.set(group, g);
    }
    groups[name] = Object.fromEntries(
      [...byGroup.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([g, v]) => [g, { rows: v.rows, feasible_share: v.rows ? v.feasible / v.rows : null, feasible_interval: wilsonInterval(v.feasible, v.rows, confidence), median_cost: v.costs.length ? median(v.costs) : null }]),
    );
  }
  const feasible = rows.filter((r) => r.counterfactuals.length > 0).length;
  const changing = rules.filter((r) => r.changes !== 'never').map((r) => r.column);
  return {
    adverse: options.adverse,
    rows_searched: rows.length,
    adverse_rows: adverseCount,
    selection: sampled ? 'seeded sample' : 'all adverse rows',
    rows,
    recourse_feasible_share: rows.length ? feasible / rows.length : null,
    recourse_feasible_interval: wilsonInterval(feasible, rows.length, confidence),
    confidence,
    columns: rules,
    groups,
    conventions:
      `Adverse decision: ${options.adverseText ?? `p ${options.adverse === 'negative' ? '<' : '>='} ${options.threshold}`}${options.adverseDefault ? ' (the default: recourse.adverse is not set; set it to positive when the positive decision is the harm, a predicted default or reoffence)' : ''}. ${sampled ? `A seeded sample of ${rows.length.toLocaleString('en')}` : `All ${rows.length.toLocaleString('en')}`} of ${adverseCount.toLocaleString('en')} adverse rows searched; feasible share (of rows the search found a counterfactual for: a lower bound, as the search stops at its budget) with its Wilson ${Math.round(confidence * 1000) / 10}% interval. ` +
      `Changed: ${changing.length ? changing.join(', ') : 'nothing (no actionable column)'} — ${options.actionable ? 'the columns recourse.actionable names' : 'numeric model inputs that are not protected, a declared or error-level proxy, or age-like'}, categories only where recourse.categorical_changes allows them; protected and immutable columns never. ` +
      `Numbers stay within the column's observed 5th–95th percentiles (values at every 5th percentile) and cost how far they move the row's percentile (mid-rank, 0–1); a category change costs 1; recourse.costs weights either. A missing value is not changed. Search: a greedy walk (most score per unit of cost), where it stops short every column at its strongest single value, then each change pruned if not needed and moved to its cheapest flipping value; seeded restarts on column subsets for other answers of rows that have one; at most ${(options.maxEvaluations ?? RECOURSE_DEFAULTS.evaluations).toLocaleString('en')} model evaluations per row; every counterfactual re-scored.`,
  };
}
