/**
 * The monthly summary for management: totals, blocked models with their failing gates,
 * the most-failed gates and the trend of key metrics, as report blocks that render to
 * Markdown here and to PDF with the report's renderer.
 */
import { RegistryError, quote } from '../base/errors';
import { gateNumber } from '../outputs/decision-blocks';
import type { GateResult } from '../config/policy';
import { renderBlocksPdf } from '../outputs/pdf-writer';
import type { ReportBlock } from '../outputs/blocks';
import type { ChartSpec } from '../outputs/charts';
import { sha256Hex } from '../base/hash';
import { decisionKey, KEY_METRICS, portfolio, type PortfolioModel, type RegistryRow } from './index';
import { TASK_KEY_METRICS, taskOfMetrics } from './entry';

const fmt = (v: number | null | undefined, digits = 3) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–');
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** The first instant of a `YYYY-MM` month and of the month after, as ISO strings. */
export function monthRange(month: string): { start: string; end: string; name: string } {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  const m = match ? Number(match[2]) : 0;
  if (!match || m < 1 || m > 12) throw new RegistryError(`--month ${quote(month)} is not a month: use YYYY-MM (e.g. 2026-11).`);
  const year = Number(match[1]);
  const start = new Date(Date.UTC(year, m - 1, 1)).toISOString();
  const end = new Date(Date.UTC(year, m, 1)).toISOString();
  return { start, end, name: `${MONTHS[m - 1]} ${year}` };
}

/** The month's summary as report blocks. `rows`: every entry of the registry, in order. */
export function monthlySummaryBlocks(rows: readonly RegistryRow[], month: string, registryName: string): ReportBlock[] {
  const range = monthRange(month);
  const upToEnd = rows.filter((r) => r.created < range.end);
  const inMonth = upToEnd.filter((r) => r.created >= range.start);
  const state = portfolio(upToEnd);
  const monthly = portfolio(inMonth);
  const blocked = state.models.filter((m) => m.latest.decision === 'FAIL');
  const review = state.models.filter((m) => decisionKey(m.latest.decision) === 'REVIEW');
  const decisions = { PASS: 0, REVIEW: 0, FAIL: 0, NONE: 0 };
  for (const r of inMonth) decisions[decisionKey(r.decision)]++;
  const waivers = expiringWaivers(state.models, range.end);

  const blocks: ReportBlock[] = [];
  blocks.push({
    type: 'cover',
    title: `Model audit summary: ${range.name}`,
    verdict: blocked.length ? 'FAIL' : state.status.REVIEW ? 'REVIEW' : 'PASS',
    banner: `${blocked.length} of ${state.models.length} model${state.models.length === 1 ? '' : 's'} blocked, ${review.length} under review`,
    lines: [
      `Registry: ${registryName} (${rows.length} audits in all).`,
      `Audits in ${range.name}: ${inMonth.length} (PASS ${decisions.PASS}, REVIEW ${decisions.REVIEW}, FAIL ${decisions.FAIL}, no policy ${decisions.NONE}) of ${monthly.models.length} model${monthly.models.length === 1 ? '' : 's'}.`,
      `A model's status is the decision of its latest audit up to the end of the month (${range.end.slice(0, 10)}, UTC).`,
    ],
  });
  blocks.push({ type: 'page' });
  blocks.push({ type: 'heading', text: 'Totals', level: 1 });
  blocks.push({
    type: 'table',
    headers: ['', 'PASS', 'REVIEW', 'FAIL', 'no policy', 'total'],
    rows: [
      ['Models (latest audit)', ...(['PASS', 'REVIEW', 'FAIL', 'NONE'] as const).map((k) => String(state.status[k])), String(state.models.length)],
      [`Audits in ${range.name}`, ...(['PASS', 'REVIEW', 'FAIL', 'NONE'] as const).map((k) => String(decisions[k])), String(inMonth.length)],
    ],
  });

  blocks.push({ type: 'heading', text: 'Blocked models', level: 1 });
  if (!blocked.length) blocks.push({ type: 'paragraph', text: 'No model is blocked: no latest audit failed an error gate.' });
  else {
    blocks.push({
      type: 'table',
      headers: ['Model', 'Team', 'Owner', 'Latest audit', 'Failing gates'],
      rows: blocked.map((m) => [
        m.model_id + (m.latest.model_version ? ` ${m.latest.model_version}` : ''),
        m.team ?? '–',
        m.owner ?? '–',
        `${m.latest.created.slice(0, 10)} (#${m.latest.seq})`,
        m.latest.failed_gates.filter((g) => g.outcome === 'FAIL').map((g) => `${g.name}: ${g.metric}${g.attribute ? ` (${g.attribute})` : ''} = ${g.value === null ? '—' : gateNumber({ comparison: (g.comparison ?? 'less_equal') as GateResult['comparison'], threshold: g.threshold, value: g.value }, 3)} vs ${g.threshold}`).join('; ') || 'a reproducibility requirement',
      ]),
      widths: [0.18, 0.12, 0.12, 0.14, 0.44],
    });
  }

  blocks.push({ type: 'heading', text: 'Models under review', level: 1 });
  if (!review.length) blocks.push({ type: 'paragraph', text: "No model is under review: no model's latest audit was decided REVIEW (a warning gate failed, a waiver was used or an error gate could not be evaluated, and no error gate failed)." });
  else {
    blocks.push({
      type: 'table',
      headers: ['Model', 'Team', 'Latest audit', 'Warnings, waived gates and error gates not evaluated'],
      rows: review.map((m) => [
        m.model_id + (m.latest.model_version ? ` ${m.latest.model_version}` : ''),
        m.team ?? '–',
        `${m.latest.created.slice(0, 10)} (#${m.latest.seq})`,
        m.latest.failed_gates.map((g) => `${g.name} (${g.outcome}${g.waiver ? `, waived by ${g.waiver.approved_by} until ${g.waiver.expires}` : ''}${g.reason ? `: ${g.reason}` : ''})`).join('; '),
      ]),
      widths: [0.2, 0.14, 0.16, 0.5],
    });
  }

  blocks.push({ type: 'heading', text: 'Waivers expiring within 30 days', level: 1 });
  if (!waivers.length) blocks.push({ type: 'paragraph', text: `No waiver in use expires by ${addDays(range.end, 29)} (30 days after the month).` });
  else {
    blocks.push({
      type: 'table',
      headers: ['Model', 'Gate', 'Approved by', 'Expires', 'Reason'],
      rows: waivers.map((w) => [w.model, w.gate, w.approved_by, `${w.expires}${w.expires < range.end.slice(0, 10) ? ' (expired)' : ''}`, w.reason]),
      widths: [0.18, 0.22, 0.14, 0.16, 0.3],
    });
  }

  blocks.push({ type: 'heading', text: 'Most-failed gates', level: 1 });
  const gates = monthly.most_failed_gates.slice(0, 10);
  if (!gates.length) blocks.push({ type: 'paragraph', text: `No gate failed, warned or was waived in ${range.name}.` });
  else {
    blocks.push({ type: 'table', headers: ['Gate', 'Failed', 'Warned', 'Waived', 'Models'], rows: gates.map((g) => [g.gate, String(g.fail), String(g.warn), String(g.waived), g.models.join(', ')]), widths: [0.28, 0.1, 0.1, 0.1, 0.42] });
    blocks.push({ type: 'chart', spec: failedGatesChart(gates, range.name), height: 40 + 22 * gates.length });
  }

  blocks.push({ type: 'heading', text: 'Trends', level: 1 });
  blocks.push({ type: 'paragraph', text: `Key metrics of each model audited in ${range.name}: its first and latest audit of the month (fairness metrics are the worst across protected attributes). A dash means the audit did not compute the metric.` });
  // One table per kind of audit, each with its own key metrics (a regression's MAE and R² were left out: a row of dashes).
  for (const task of ['binary', 'multiclass', 'regression'] as const) {
    const models = monthly.models.filter((m) => taskOfMetrics(m.latest.metrics) === task);
    if (!models.length) continue;
    const ids: readonly string[] = task === 'binary' ? KEY_METRICS : TASK_KEY_METRICS[task];
    if (task !== 'binary') blocks.push({ type: 'paragraph', text: `${task === 'multiclass' ? 'Multiclass' : 'Regression'} models:` });
    blocks.push({
      type: 'table',
      headers: ['Model', 'Audits', ...ids.map((k) => k.replace(/_/g, ' '))],
      rows: models.map((m) => {
        const first = m.trend[0].metrics;
        const last = m.trend.at(-1)!.metrics;
        return [m.model_id, String(m.audits), ...ids.map((k) => (m.audits > 1 ? `${fmt(first[k])} → ${fmt(last[k])}` : fmt(last[k])))];
      }),
    });
  }

  blocks.push({ type: 'heading', text: `Audits in ${range.name}`, level: 1 });
  if (!inMonth.length) blocks.push({ type: 'paragraph', text: 'No audit was recorded this month.' });
  else {
    blocks.push({
      type: 'table',
      headers: ['#', 'Date (UTC)', 'Model', 'Version', 'Decision', 'Failed or warned gates'],
      rows: inMonth.map((r) => [String(r.seq), r.created.slice(0, 16).replace('T', ' '), r.model_id, r.model_version ?? '–', r.decision ?? 'no policy', r.failed_gates.map((g) => `${g.name} (${g.outcome})`).join(', ') || '–']),
      widths: [0.06, 0.16, 0.2, 0.12, 0.12, 0.34],
    });
  }
  return blocks;
}

/** The date `days` after an ISO instant (YYYY-MM-DD). */
function addDays(iso: string, days: number): string {
  return new Date(Date.parse(iso) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Waivers the models' latest audits use that expire within 30 days of `end` (or already have), soonest first. */
function expiringWaivers(models: PortfolioModel[], end: string): { model: string; gate: string; approved_by: string; expires: string; reason: string }[] {
  // The month's last day is the day before `end`; 30 days after it.
  const limit = addDays(end, 29);
  return models
    .flatMap((m) => m.latest.failed_gates.filter((g) => g.waiver && g.waiver.expires <= limit).map((g) => ({ model: m.model_id, gate: g.name, ...g.waiver! })))
    .sort((a, b) => (a.expires < b.expires ? -1 : a.expires > b.expires ? 1 : a.model < b.model ? -1 : 1));
}

function failedGatesChart(gates: { gate: string; total: number }[], month: string): ChartSpec {
  const max = Math.max(...gates.map((g) => g.total), 1);
  return {
    kind: 'bar',
    title: `Audits failing, warning or waived on each gate, ${month}`,
    x: { label: 'audits', min: 0, max },
    y: { label: 'gate', min: 0, max: gates.length },
    series: [{ name: 'failed, warned or waived', points: gates.map((g, i) => ({ x: g.total, y: i, label: g.gate })) }],
    rules: [],
  };
}

const mdCell = (text: string) => text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** Report blocks as Markdown (charts become their table, which is already there). */
export function blocksToMarkdown(blocks: readonly ReportBlock[]): string {
  const out: string[] = [];
  for (const block of blocks) {
    switch (block.type) {
      case 'cover':
        out.push(`# ${mdCell(block.title)}`, '', `**${mdCell(block.banner ?? `Policy decision: ${block.verdict}`)}**`, '', ...block.lines.map((l) => `${mdCell(l)}  `), '');
        break;
      case 'heading':
        out.push(`${block.level === 1 ? '##' : '###'} ${mdCell(block.text)}`, '');
        break;
      case 'paragraph':
        out.push(mdCell(block.text), '');
        break;
      case 'table':
        out.push(`| ${block.headers.map(mdCell).join(' | ')} |`, `| ${block.headers.map(() => '---').join(' | ')} |`, ...block.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`), '');
        break;
      case 'page':
      case 'chart':
        break;
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** The monthly summary as Markdown. */
export function monthlySummaryMarkdown(rows: readonly RegistryRow[], month: string, registryName: string): string {
  return blocksToMarkdown(monthlySummaryBlocks(rows, month, registryName));
}

/** The monthly summary as a PDF; `createdAt` (ISO) fixes the bytes. */
export function monthlySummaryPdf(rows: readonly RegistryRow[], month: string, registryName: string, createdAt: string): Uint8Array {
  const blocks = monthlySummaryBlocks(rows, month, registryName);
  const id = sha256Hex(new TextEncoder().encode(JSON.stringify(blocks)));
  return renderBlocksPdf(blocks, { title: `Model audit summary: ${monthRange(month).name}`, subject: 'Plumbline registry summary', createdAt, fileId: id.slice(0, 32), footer: `Plumbline registry summary · ${month}` });
}
