/** The report's recourse section (binary audits, and the decision a regression feeds). */
import type { RecourseReport } from '../analyses/recourse';
import { Blocks, type ReportBlock } from './blocks';
import { formatInterval, formatNumber as fmt } from '../base/format';

const interval = (i: { low: number; high: number } | null | undefined, digits = 3) => formatInterval(i, digits);

/** What the counterfactual search found, or why it did not run. */
export function recourseBlocks(rec: RecourseReport | undefined, why: string | undefined, minGroupSize: number): ReportBlock[] {
  const b = new Blocks();
  if (!rec) b.paragraph(`Not run: ${why ?? 'not requested'}.`);
  else {
    const feasibleInterval = rec.recourse_feasible_interval ? ` (${Math.round((rec.confidence ?? 0.95) * 100)}% interval ${fmt(rec.recourse_feasible_interval.low * 100, 1)}-${fmt(rec.recourse_feasible_interval.high * 100, 1)}%)` : '';
    b.paragraph(`${rec.rows_searched.toLocaleString('en')} of ${rec.adverse_rows.toLocaleString('en')} adverse decisions searched${rec.selection === 'seeded sample' ? ' (a seeded sample)' : ''}; ${fmt((rec.recourse_feasible_share ?? 0) * 100, 1)}%${feasibleInterval} have a feasible counterfactual the search found (a lower bound: it stops at its budget of model evaluations per row).`);
    if (rec.columns?.length) b.table(['Model input', 'May change', 'Why'], rec.columns.map((c) => [c.column, c.changes === 'never' ? 'no' : c.range ? `${c.range[0]} to ${c.range[1]}` : (c.values ?? []).join(', '), c.reason]), [110, 130, 259]);
    for (const [attribute, groups] of Object.entries(rec.groups)) {
      // A group of a few searched rows is marked, as the fairness tables mark theirs.
      b.table([`Group (${attribute})`, 'Rows', 'Feasible', 'Interval', 'Median cost'], Object.entries(groups).map(([g, v]) => [v.rows < minGroupSize ? `${g} (small)` : g, String(v.rows), fmt(v.feasible_share), interval(v.feasible_interval), fmt(v.median_cost)]), [150, 60, 80, 110, 99]);
    }
    if (Object.values(rec.groups).some((groups) => Object.values(groups).some((v) => v.rows < minGroupSize))) {
      b.paragraph(`Groups marked small have fewer than ${minGroupSize} rows searched (fairness.min_group_size): their shares rest on those rows alone; read the interval.`);
    }
    const change = (c: { column: string; from: string; to: string; percentile_from?: number; percentile_to?: number }) => `${c.column}: ${c.from} → ${c.to}${c.percentile_from !== undefined ? ` (p${c.percentile_from} → p${c.percentile_to})` : ''}`;
    b.table(['Row', 'Score', 'Cheapest change', 'Cost', 'New score'], rec.rows.filter((r) => r.counterfactuals.length).slice(0, 15).map((r) => [String(r.row), fmt(r.score), r.counterfactuals[0].changes.map(change).join('; '), fmt(r.counterfactuals[0].cost, 2), fmt(r.counterfactuals[0].score)]), [40, 50, 289, 50, 70]);
    b.paragraph(rec.conventions, 7.5);
  }
  return b.list;
}
