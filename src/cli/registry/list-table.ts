/** `registry list` as a table: every audit, or one row per model with `--latest`. */
import { auditStatus, portfolio, type RegistryRow } from '../../core/index.ts';

const fmt = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : '–');

/** One row per model: its latest audit's status, failing gates (waived ones not counted) and waivers in use. */
export function latestByModel(rows: RegistryRow[]) {
  return portfolio(rows).models.map((m) => ({
    model_id: m.model_id,
    team: m.team,
    last_audit: m.latest.created.slice(0, 19).replace('T', ' '),
    seq: m.latest.seq,
    status: auditStatus(m.latest.decision),
    // Failed and warned gates: a waived one is listed under waivers, one not evaluated is no failure (the entry says why it is under review).
    failed_gates: m.latest.failed_gates.filter((g) => g.outcome === 'FAIL' || g.outcome === 'WARN').length,
    waivers: m.latest.failed_gates.filter((g) => g.waiver).map((g) => ({ gate: g.name, ...g.waiver! })),
  }));
}

/** Columns padded to their widest cell; the last one left ragged. */
export function table(lines: string[][], header: string[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  return [header, ...lines].map((l) => l.map((cell, i) => (i === l.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}

/** A multiclass or regression entry's key figures, in words (these entries have no ROC AUC, ECE or DP ratio). */
function taskFigures(metrics: RegistryRow['metrics']): string | null {
  if (metrics.mae !== undefined) return `MAE ${fmt(metrics.mae)}, R² ${fmt(metrics.r2)}, mean prediction gap ${fmt(metrics.mean_prediction_difference)}`;
  if (metrics.roc_auc_ovr !== undefined) return `macro AUC ${fmt(metrics.roc_auc_ovr)}, macro F1 ${fmt(metrics.f1_macro)}, class ECE ${fmt(metrics.max_classwise_ece)}`;
  return null;
}

/** The audits as `registry list` prints them, one line each; an entry verification named (`tampered`) shows TAMPERED for its decision. */
export function listTable(rows: (RegistryRow & { tampered?: string })[]): string {
  // The task column appears only when a multiclass or regression audit is listed (a binary-only list reads as before).
  const tasks = rows.some((r) => taskFigures(r.metrics) !== null);
  const header = ['#', 'created (UTC)', 'model', 'version', 'decision', 'roc_auc', 'ece', 'dp_ratio', ...(tasks ? ['multiclass / regression'] : []), 'failed or warned gates'];
  // An altered entry's figures and gates are what was forged, not an audit's: not shown.
  const lines = rows.map((r) => [
    String(r.seq),
    r.created.slice(0, 19).replace('T', ' '),
    r.model_id,
    r.model_version ?? '–',
    r.tampered ? 'TAMPERED' : (r.decision ?? 'no policy'),
    ...(r.tampered ? ['–', '–', '–'] : [fmt(r.metrics.roc_auc), fmt(r.metrics.expected_calibration_error), fmt(r.metrics.demographic_parity_ratio)]),
    ...(tasks ? [r.tampered ? '–' : (taskFigures(r.metrics) ?? '–')] : []),
    r.tampered ? 'not shown: the entry failed verification' : r.failed_gates.map((g) => `${g.name} (${g.outcome})`).join(', ') || '–',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  return [header, ...lines].map((l) => l.map((cell, i) => (i === l.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}
