/**
 * The portfolio: every model's latest status, the gates failed most often, and each
 * model's key metrics over time, summarised from a registry's entries.
 */
import { auditStatus, type RegistryRow } from './row';

/** One model in the portfolio. */
export interface PortfolioModel {
  model_id: string;
  team: string | null;
  owner: string | null;
  audits: number;
  latest: RegistryRow;
  /** Key metrics of each audit of the model, oldest first. */
  trend: { seq: number; created: string; decision: RegistryRow['decision']; metrics: Record<string, number | null> }[];
}

/** The portfolio: status of every model's latest audit, most-failed gates, trends. */
export interface Portfolio {
  audits: number;
  /** Latest decision of each model (REVIEW: a warning or a waiver; `NONE`: no policy applied). */
  status: Record<'PASS' | 'REVIEW' | 'FAIL' | 'NONE', number>;
  /** Gates by how many audits failed (or warned on) them, most first. */
  /** Each gate's audits that failed, warned or were waived, and `total`, their sum (the charts' length and the order). */
  most_failed_gates: { gate: string; fail: number; warn: number; waived: number; total: number; models: string[] }[];
  models: PortfolioModel[];
}

/** The portfolio's count a decision goes to. */
export function decisionKey(decision: RegistryRow['decision']): 'PASS' | 'REVIEW' | 'FAIL' | 'NONE' {
  const status = auditStatus(decision);
  return status === 'BLOCKED' ? 'FAIL' : status;
}

/**
 * Summarises entries for the portfolio view and the monthly summary: each model's latest
 * audit and trend by the audits' dates (then append order), not by append order alone — an
 * import appends older audits after newer ones, and a model's status was an older audit's.
 */
export function portfolio(rows: readonly RegistryRow[]): Portfolio {
  const models = new Map<string, PortfolioModel>();
  const gates = new Map<string, { fail: number; warn: number; waived: number; models: Set<string> }>();
  const byDate = [...rows].sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : a.seq - b.seq));
  for (const row of byDate) {
    const model = models.get(row.model_id) ?? { model_id: row.model_id, team: row.team, owner: row.owner, audits: 0, latest: row, trend: [] };
    model.audits++;
    model.latest = row;
    model.team = row.team ?? model.team;
    model.owner = row.owner ?? model.owner;
    model.trend.push({ seq: row.seq, created: row.created, decision: row.decision, metrics: row.metrics });
    models.set(row.model_id, model);
    // Gates that failed, warned or were waived (one not evaluated is no failure of the model's).
    for (const gate of row.failed_gates.filter((g) => g.outcome !== 'NOT_EVALUATED')) {
      const g = gates.get(gate.name) ?? { fail: 0, warn: 0, waived: 0, models: new Set<string>() };
      // A waived gate is counted as such: it may have been a warning gate (counting it failed said an error gate failed).
      if (gate.outcome === 'WARN') g.warn++;
      else if (gate.outcome === 'WAIVED') g.waived++;
      else g.fail++;
      g.models.add(row.model_id);
      gates.set(gate.name, g);
    }
  }
  const status = { PASS: 0, REVIEW: 0, FAIL: 0, NONE: 0 };
  for (const m of models.values()) status[decisionKey(m.latest.decision)]++;
  return {
    audits: rows.length,
    status,
    most_failed_gates: [...gates]
      .map(([gate, g]) => ({ gate, fail: g.fail, warn: g.warn, waived: g.waived, total: g.fail + g.warn + g.waived, models: [...g.models].sort() }))
      .sort((a, b) => b.total - a.total || b.fail - a.fail || (a.gate < b.gate ? -1 : 1)),
    models: [...models.values()].sort((a, b) => (a.model_id < b.model_id ? -1 : a.model_id > b.model_id ? 1 : 0)),
  };
}
