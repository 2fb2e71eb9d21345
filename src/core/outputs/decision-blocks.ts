/**
 * The policy decision and the champion-vs-challenger comparison as report blocks (the PDF
 * and HTML reports) and as text lines (the model card, the CLI): every gate with its
 * outcome, each waiver with its approver and expiry, the policy's terms and notices, and
 * every metric beside the baseline's with the change and its interval.
 */
import type { BaselineComparison } from '../comparison/baseline';
import { compare, type GateResult, type PolicyDecision } from '../config/policy';
import { confidenceLabel } from '../metrics/intervals';
import { formatNumber as fmt } from '../base/format';
import type { ReportBlock } from './blocks';

const SIGNS: Record<GateResult['comparison'], string> = { greater_than: '>', greater_equal: '>=', less_than: '<', less_equal: '<=', max_drop: 'drop at most', max_increase: 'rise at most' };

/** A gate's condition as people read it: `> 0.75`, `drop at most 0.01 from the baseline`. */
export function gateCondition(g: Pick<GateResult, 'comparison' | 'threshold'>): string {
  const relative = g.comparison === 'max_drop' || g.comparison === 'max_increase';
  return `${SIGNS[g.comparison]} ${g.threshold}${relative ? ' from the baseline' : ''}`;
}

/**
 * A gate's number with `digits` decimals, or as many more as it takes for the number shown to
 * meet the gate as the value does (the policy's own comparison, its allowance included):
 * 0.744085 against >= 0.74409 is 0.74408, not 0.7441 (which read as passing a gate that failed).
 */
export function gateNumber(g: Pick<GateResult, 'comparison' | 'threshold'> & { value: number }, digits = 4): string {
  if (Number.isInteger(g.value)) return String(g.value);
  const meets = compare(g.value, g.threshold, g.comparison);
  for (let d = digits; d <= 17; d++) {
    const text = g.value.toFixed(d);
    if (compare(Number(text), g.threshold, g.comparison) === meets) return text;
  }
  return String(g.value);
}

/** A gate's value as people read it: the metric, or for a relative gate the change with both values. */
export function gateValue(g: GateResult): string {
  if (g.value === null) return `not evaluated: ${g.reason ?? 'no value'}`;
  if (g.baseline_value === undefined) return gateNumber({ ...g, value: g.value });
  return `${g.value >= 0 ? '+' : ''}${gateNumber({ ...g, value: g.value })} (${fmt(g.baseline_value, 4)} → ${fmt(g.current_value, 4)})`;
}

/** What the outcome column says: the outcome, with the waiver (or its expiry) beside it. */
export function gateOutcome(g: GateResult): string {
  if (g.waiver) return `WAIVED by ${g.waiver.approved_by} until ${g.waiver.expires}: ${g.waiver.reason}`;
  if (g.waiver_expired) return `${g.outcome} (${g.waiver_expired})`;
  return g.outcome;
}

/** The policy's terms in one line: effective date, scope, citation, next review. */
export function termsLine(decision: PolicyDecision): string | null {
  const t = decision.terms;
  if (!t) return null;
  const parts = [
    t.effective_date ? `effective from ${t.effective_date}` : null,
    t.applies_to ? `applies to ${t.applies_to.join(', ')}` : null,
    t.citation ? `citation: ${t.citation}` : null,
    t.next_review ? `next review ${t.next_review}` : null,
    t.forced ? 'applied with --force-policy' : null,
  ].filter((p): p is string => p !== null);
  return parts.length ? `Policy terms: ${parts.join('; ')}.` : null;
}

/** The "Policy gates" section: notices first, the gates, the waivers. */
export function decisionBlocks(decision: PolicyDecision): ReportBlock[] {
  const blocks: ReportBlock[] = [{ type: 'heading', text: 'Policy gates', level: 2 }];
  const terms = termsLine(decision);
  if (terms) blocks.push({ type: 'paragraph', text: terms });
  for (const notice of decision.notices ?? []) blocks.push({ type: 'paragraph', text: `NOTICE: ${notice}` });
  blocks.push({
    type: 'table',
    headers: ['Gate', 'Metric', 'Value', 'Condition', 'Outcome', 'Clause'],
    rows: decision.gates.map((g) => [g.name, `${g.metric}${g.attribute ? ` (${g.attribute})` : ''}`, gateValue(g), gateCondition(g), gateOutcome(g), g.clause ?? '']),
    widths: [95, 95, 85, 75, 90, 59],
  });
  const waivers = decision.waivers ?? [];
  if (waivers.length) {
    const status = { in_use: 'in use', expired: 'EXPIRED: does nothing', not_needed: 'not needed (the gate passed)', other_model: 'for other models' } as const;
    blocks.push({
      type: 'table',
      headers: ['Waiver of gate', 'Models', 'Approved by', 'Expires', 'Status', 'Reason'],
      rows: waivers.map((w) => [w.gate, w.model, w.approved_by, w.expires, status[w.status], w.reason]),
      widths: [95, 70, 70, 60, 90, 114],
    });
  }
  return blocks;
}

const signed = (v: number | null, digits = 4) => (v === null ? fmt(null) : `${v >= 0 ? '+' : ''}${fmt(v, digits)}`);

/** The comparison's rows: metric, baseline, this audit, change, interval, p, method. */
export function comparisonRows(comparison: BaselineComparison): string[][] {
  return comparison.metrics
    .filter((m) => m.baseline !== null || m.current !== null)
    .map((m) => [
      m.attribute ? `${m.id} (${m.attribute})` : m.id,
      fmt(m.baseline, 4),
      fmt(m.current, 4),
      signed(m.change),
      m.interval ? `${signed(m.interval.low)} to ${signed(m.interval.high)}` : 'none',
      m.p_value === null ? '' : fmt(m.p_value, 3),
      m.method,
    ]);
}

/** One sentence on what the audit was compared with, and how. */
export function comparisonSummary(comparison: BaselineComparison): string {
  const b = comparison.baseline;
  const how = comparison.paired
    ? `Both models scored the same ${b.data ?? 'data'} rows: paired tests (DeLong for ROC AUC, McNemar for accuracy, ${comparison.resamples} paired bootstrap resamples for the rest).`
    : `Not paired: ${comparison.unpaired_reason ?? 'no rows to pair'}; changes get the unpaired normal approximation from the two audits' intervals where both have one.`;
  const seed = comparison.seed_change ? ` The random seed changed: ${comparison.seed_change.baseline ?? '—'} → ${comparison.seed_change.current ?? '—'}.` : '';
  const outcome = comparison.different_outcome ? ` Warning: ${comparison.different_outcome}.` : '';
  const t = comparison.threshold_change;
  const threshold = t ? ` The decision threshold changed: ${t.baseline ?? '—'} → ${t.current ?? '—'}, so a change in a metric at the threshold (accuracy, recall, selection rate, parity) is partly the threshold's; ROC AUC and the calibration are not.` : '';
  return `Compared with the baseline ${b.file} (sha256 ${b.sha256.slice(0, 16)}…; model ${b.model ?? 'unknown'}, data ${b.data ?? 'unknown'}).${outcome} ${how}${seed}${threshold}`;
}

/** The "Compared with the baseline" section. */
export function comparisonBlocks(comparison: BaselineComparison, confidence: number): ReportBlock[] {
  return [
    { type: 'heading', text: 'Compared with the baseline', level: 1 },
    { type: 'paragraph', text: comparisonSummary(comparison) },
    { type: 'table', headers: ['Metric', 'Baseline', 'This audit', 'Change', `${confidenceLabel(confidence)} interval of the change`, 'p', 'Method'], rows: comparisonRows(comparison), widths: [105, 50, 50, 50, 85, 35, 124] },
  ];
}
