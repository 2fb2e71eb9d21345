/**
 * Report blocks: the pieces of a report that both renderers draw (the PDF by
 * pdf-writer.ts, the HTML by html.ts), a recorder for them, and the sections the binary
 * and the multiclass/regression reports share (data columns, model inputs as fed,
 * possible proxies, drift).
 */
import type { ChartSpec } from './charts';
import type { DataProfile } from '../analyses/profile/profile';
import type { DriftReport } from '../analyses/drift/drift';
import type { InputFidelity } from '../model/fidelity';
import type { Manifest } from './manifest';
import { formatNumber as fmt } from '../base/format';

/** One piece of the report, drawn by either renderer. */
export type ReportBlock =
  | { type: 'cover'; title: string; verdict: string; lines: string[]; /** Text on the coloured band (default "Policy decision: VERDICT"). */ banner?: string }
  | { type: 'page' }
  | { type: 'heading'; text: string; level: 1 | 2 }
  | { type: 'paragraph'; text: string; size?: number }
  | { type: 'table'; headers: string[]; rows: string[][]; widths?: number[] }
  | { type: 'chart'; spec: ChartSpec; height?: number };

/** Records the report's blocks in order (the PDF and HTML renderers replay them). */
export class Blocks {
  readonly list: ReportBlock[] = [];
  newPage(): void {
    this.list.push({ type: 'page' });
  }
  heading(text: string, level: 1 | 2 = 1): void {
    this.list.push({ type: 'heading', text, level });
  }
  paragraph(text: string, size?: number): void {
    this.list.push({ type: 'paragraph', text, size });
  }
  table(headers: string[], rows: string[][], widths?: number[]): void {
    this.list.push({ type: 'table', headers, rows, widths });
  }
  chart(spec: ChartSpec, height?: number): void {
    this.list.push({ type: 'chart', spec, height });
  }
}


/** A numeric column's summary: whole numbers as they are (min 18, not 18.00), others to 2 decimals (the mean always). */
function numberSummary(summary: { min: number; median: number; max: number; mean: number }, type: string | undefined): string {
  const whole = (x: number) => (type === 'integer' || type === 'boolean') && Number.isInteger(x) ? String(x) : fmt(x, 2);
  return `min ${whole(summary.min)}, median ${whole(summary.median)}, max ${whole(summary.max)}, mean ${fmt(summary.mean, 2)}`;
}

/** The most frequent values with their counts, and how many more there are (a group of 2 rows is not left out unsaid). */
function topValues(top: readonly { value: string; count: number }[], distinct: number): string {
  const more = distinct - top.length;
  return `${top.map((t) => `${t.value} (${t.count})`).join(', ')}${more > 0 ? `, and ${more} more` : ''}`;
}

/** The data columns table: type, missing cells, distinct values and a summary of each column. */
export function dataColumnsTable(data: DataProfile): ReportBlock {
  return {
    type: 'table',
    headers: ['Column', 'Type', 'Missing', 'Distinct', 'Summary'],
    rows: data.columns.map((c) => [c.name, c.type ?? c.kind, `${c.missing} (${(c.missing_rate * 100).toFixed(1)}%)`, String(c.distinct), c.date_range ? `${c.date_range.min} to ${c.date_range.max}${c.date_format ? ` (written ${c.date_format})` : ''}` : c.summary ? numberSummary(c.summary, c.type) : topValues(c.top ?? [], c.distinct)]),
    widths: [110, 60, 70, 50, 209],
  };
}

/** "Model inputs as fed": how each input of the model (`modelName`) was fed from its column, with unseen categories and missing cells. */
export function inputFidelityBlocks(fidelity: InputFidelity, modelName: string): ReportBlock[] {
  return [
    { type: 'heading', text: 'Model inputs as fed', level: 2 },
    { type: 'paragraph', text: `How each input of ${modelName} was fed from the data. ${fidelity.conventions}` },
    {
      type: 'table',
      headers: ['Input', 'Column', 'Unseen values', 'Missing, fed as'],
      rows: fidelity.inputs.map((e) => [
        e.input,
        e.column,
        e.unseen ? `${e.unseen.count} (${(e.unseen.share * 100).toFixed(1)}%)${e.unseen.top.length ? `: ${e.unseen.top.map((t) => `${t.value} ×${t.count}`).join(', ')}` : ''}` : 'any value',
        `${e.missing.count} (${(e.missing.share * 100).toFixed(1)}%)${e.missing.count ? `: ${e.missing.fed_as}` : ''}`,
      ]),
      widths: [100, 90, 160, 149],
    },
  ];
}

/** "Possible proxies": columns associated with a protected attribute, then the data profile's conventions. */
export function proxyBlocks(data: DataProfile): ReportBlock[] {
  const proxies = data.proxies.filter((x) => x.flag !== 'none');
  return [
    { type: 'heading', text: 'Possible proxies', level: 2 },
    proxies.length === 0
      ? { type: 'paragraph', text: 'No column is associated with a protected attribute at 0.3 or above.' }
      : { type: 'table', headers: ['Column', 'Protected attribute', 'Measure', 'Value', 'Flag'], rows: proxies.map((x) => [x.feature, x.attribute, x.measure, fmt(x.value), x.flag]), widths: [120, 110, 110, 80, 79] },
    { type: 'paragraph', text: data.conventions, size: 7.5 },
  ];
}

/** The drift section's body: PSI per column with its test, or why drift was not run (`notRun`). */
export function driftBlocks(drift: DriftReport | undefined, notRun: string | undefined): ReportBlock[] {
  if (!drift) return [{ type: 'paragraph', text: `Not run: ${notRun ?? 'not requested'}.` }];
  return [
    { type: 'paragraph', text: `Against ${drift.reference}: max PSI ${fmt(drift.max_psi, 4)}, drifted feature share ${fmt(drift.drifted_feature_share)}${drift.prediction ? `, prediction PSI ${fmt(drift.prediction.psi, 4)}` : ''}.${drift.missing_columns?.length ? ` Columns of the reference the data lacks (renamed or dropped; not compared): ${drift.missing_columns.join(', ')}.` : ''}` },
    { type: 'table', headers: ['Column', 'Kind', 'PSI', 'Level', 'Test'], rows: drift.columns.map((d) => [d.column, d.kind, fmt(d.psi, 4), d.level, d.ks ? `KS ${fmt(d.ks.statistic)} (p ${fmt(d.ks.p_value, 4)})` : d.chi_square ? `chi-square p ${fmt(d.chi_square.p_value, 4)}` : '']), widths: [130, 70, 70, 60, 169] },
    { type: 'paragraph', text: drift.conventions, size: 7.5 },
  ];
}

/** Texts joined as sentences: each trimmed and ended with a full stop; empty ones left out. */
export function sentences(...texts: (string | undefined)[]): string {
  return texts
    .map((t) => (t ?? '').trim())
    .filter((t) => t.length > 0)
    .map((t) => (/[.!?:]$/.test(t) ? t : `${t}.`))
    .join(' ');
}

/** "1 row", "2 rows". */
export function rowsText(n: number): string {
  return `${n} row${n === 1 ? '' : 's'}`;
}

/** How a multiclass or regression interval was made, in words ("no interval" where there is none). */
export function intervalMethod(interval: { method: string; replicates?: number } | null | undefined): string {
  if (!interval) return 'no interval';
  if (interval.method === 'wilson') return 'Wilson';
  if (interval.method === 'delong-logit') return 'DeLong (logit scale)';
  if (interval.method === 'percentile-bootstrap') return `percentile bootstrap${interval.replicates ? `, ${interval.replicates} resamples` : ''}`;
  return interval.method;
}

/** The reproducibility table's rows from the run's manifest (or a row saying none was written). */
export function manifestRows(manifest: Manifest | undefined): string[][] {
  if (!manifest) return [['Manifest', 'not written (the app and the CLI write one beside the result)']];
  return [
    ['Created', `${manifest.created} (${manifest.created_from})`],
    ['Runtime', `${manifest.runtime.environment}, ${manifest.runtime.platform}, ${manifest.runtime.backend}, ${manifest.runtime.threads} thread(s)`],
    ['Git commit', manifest.git_commit ?? 'none'],
    ...Object.entries(manifest.inputs).map(([role, f]) => [`${role} sha256`, `${f.file}: ${f.sha256}`]),
    ...Object.entries(manifest.dependencies).map(([name, version]) => [name, version]),
    ...Object.entries(manifest.derived_seeds).map(([stream, seed]) => [`seed of ${stream}`, String(seed)]),
  ];
}
