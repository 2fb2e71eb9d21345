/**
 * The data-check report as text (the CLI) and as report blocks (the HTML report; the app
 * shows the same sections): metrics, findings, columns, groups, personal data, drift, and
 * the gates' decision.
 */
import type { PolicyDecision } from '../config/policy';
import { decisionBlocks } from './decision-blocks';
import { blocksToHtml } from './html';
import { formatNumber as fmt } from '../base/format';
import type { ReportBlock } from './blocks';
import type { DataCheckReport } from '../data-check/check';
import { DATA_CHECK_METRICS } from '../data-check/gates';

const value = (id: string, v: number | null) => (v === null ? '—' : Number.isInteger(v) ? String(v) : fmt(v, id.includes('share') || id.includes('gap') ? 4 : 3));

/** The report's sections as blocks. */
export function dataCheckBlocks(report: DataCheckReport, decision: PolicyDecision | null): ReportBlock[] {
  const blocks: ReportBlock[] = [
    {
      type: 'cover',
      title: `Data check: ${report.file}`,
      verdict: decision?.decision ?? 'NO POLICY',
      lines: [`File: ${report.file}, ${report.metrics.n_rows} rows, ${report.metrics.n_columns} columns, sha256 ${report.sha256}`, `Checked on ${report.settings.today}${report.settings.reference ? ` against the reference ${report.settings.reference}` : ''}; no model.`],
    },
    { type: 'heading', text: 'Metrics', level: 1 },
    { type: 'table', headers: ['Metric', 'Value', 'Definition'], rows: DATA_CHECK_METRICS.map((m) => [m.id, value(m.id, report.metrics[m.id]), m.definition]), widths: [120, 60, 319] },
  ];
  if (decision) blocks.push(...decisionBlocks(decision));
  blocks.push({ type: 'heading', text: 'Findings', level: 1 });
  if (!report.findings.length) blocks.push({ type: 'paragraph', text: 'No finding.' });
  else blocks.push({ type: 'table', headers: ['Severity', 'Check', 'Finding'], rows: report.findings.map((f) => [f.severity, f.check, f.message]), widths: [60, 80, 359] });
  blocks.push({ type: 'heading', text: 'Columns', level: 1 });
  blocks.push({ type: 'table', headers: ['Column', 'Type', 'Missing', 'Distinct', 'Skewness'], rows: report.columns.map((c) => [c.name, c.type, `${c.missing} (${(c.missing_share * 100).toFixed(1)}%)`, String(c.distinct), c.skewness === null ? '' : fmt(c.skewness, 3)]), widths: [150, 70, 100, 70, 109] });
  if (report.class_balance) blocks.push({ type: 'paragraph', text: `Class balance of ${report.settings.target}: ${Object.entries(report.class_balance).map(([k, n]) => `${k}: ${n} ${n === 1 ? 'row' : 'rows'}`).join(', ')}.` });
  for (const [attribute, groups] of Object.entries(report.groups)) {
    blocks.push({ type: 'heading', text: `Groups of ${attribute}`, level: 2 });
    blocks.push({ type: 'table', headers: ['Group', 'Rows', 'Share', 'Base rate'], rows: Object.entries(groups).map(([g, x]) => [g, String(x.n), fmt(x.share, 4), fmt(x.base_rate, 4)]), widths: [200, 80, 100, 119] });
  }
  const proxies = report.proxies.filter((p) => p.flag !== 'none');
  if (proxies.length) blocks.push({ type: 'heading', text: 'Possible proxies', level: 2 }, { type: 'table', headers: ['Column', 'Protected attribute', 'Measure', 'Value', 'Flag'], rows: proxies.map((p) => [p.feature, p.attribute, p.measure, fmt(p.value, 3), p.flag]), widths: [120, 110, 110, 80, 79] });
  blocks.push({ type: 'heading', text: 'Personal data', level: 2 });
  blocks.push(report.pii.length ? { type: 'table', headers: ['Column', 'Looks like', 'Rows', 'Share of values', 'Found by'], rows: report.pii.map((p) => [p.column, p.kind.replace('_', ' '), p.rows ? String(p.rows) : '—', p.share ? `${(p.share * 100).toFixed(1)}%` : '—', p.evidence]), widths: [130, 90, 60, 90, 129] } : { type: 'paragraph', text: 'No column looks like personal data.' });
  const f = report.freshness;
  if (f) {
    const days = Math.abs(f.age_days);
    const unreadable = f.unreadable_rows ? ` (${f.unreadable_rows} ${f.unreadable_rows === 1 ? 'row' : 'rows'} without a readable date left out)` : '';
    blocks.push({ type: 'paragraph', text: `Freshness: ${f.source} ${f.newest}, ${days} ${days === 1 ? 'day' : 'days'} ${f.age_days < 0 ? 'after' : 'before'} the check${unreadable}.` });
  }
  if (report.drift) {
    blocks.push({ type: 'heading', text: `Drift against ${report.settings.reference}`, level: 2 });
    blocks.push({ type: 'table', headers: ['Column', 'Test', 'Statistic', 'p-value', 'PSI', `Drifted (p < ${report.settings.alpha})`], rows: report.drift.map((d) => [d.column, d.test === 'ks' ? 'KS' : d.test === 'chi_square' ? 'χ²' : '—', fmt(d.statistic, 4), d.p_value !== null && d.p_value < 1e-4 ? d.p_value.toExponential(2) : fmt(d.p_value, 4), fmt(d.psi, 4), d.test === 'none' ? 'no column' : d.drifted ? 'yes' : 'no']), widths: [130, 50, 70, 80, 60, 109] });
  }
  blocks.push({ type: 'paragraph', text: report.conventions, size: 7.5 });
  return blocks;
}

/** The report as one self-contained HTML page (the report embedded as JSON). */
export function dataCheckHtml(report: DataCheckReport, decision: PolicyDecision | null): string {
  return blocksToHtml(dataCheckBlocks(report, decision), `Data check: ${report.file}`, { data_check: report, ...(decision ? { policy_decision: decision } : {}) });
}

/** The CLI's summary: metrics, then each finding. */
export function dataCheckText(report: DataCheckReport): string {
  const width = Math.max(...DATA_CHECK_METRICS.map((m) => m.id.length));
  const lines = [`${report.file}: ${report.metrics.n_rows} rows, ${report.metrics.n_columns} columns (data check, no model)`];
  for (const m of DATA_CHECK_METRICS) lines.push(`  ${m.id.padEnd(width)}  ${value(m.id, report.metrics[m.id])}`);
  for (const f of report.findings) lines.push(`${f.severity.toUpperCase().padEnd(8)} ${f.message}`);
  return `${lines.join('\n')}\n`;
}
