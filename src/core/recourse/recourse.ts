import { cellText, findColumn, type Column, type Table } from '../data/table';
import type { Classifier } from '../model/classifier';
import { Random } from '../random';

/** Settings of the recourse search. */
export interface RecourseOptions {
  threshold: number;
  /** Which decision a person wants to leave: a score below the threshold (`negative`, e.g. a denied loan) or at/above it. */
  adverse: 'negative' | 'positive';
  /** Columns that may not change (protected attributes are always added). */
  immutable: string[];
  monotone: Record<string, 'increase_only' | 'decrease_only'>;
  /** Per-column cost of a unit change; numeric default 1/MAD, categorical changes cost 1. */
  costs?: Record<string, number>;
  /** Counterfactuals per row (default 3). */
  perRow?: number;
  /** Most rows searched (the first adverse rows, default 200). */
  maxRows?: number;
  /** Most model evaluations per row (default 2,000). */
  maxEvaluations?: number;
  seed: number;
  features?: string[];
  signal?: AbortSignal;
}

/** One change of a counterfactual. */
export interface Change {
  column: string;
  from: string;
  to: string;
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
  rows: { row: number; score: number; counterfactuals: Counterfactual[] }[];
  /** Share of searched adverse rows with at least one feasible counterfactual. */
  recourse_feasible_share: number | null;
  groups: Record<string, Record<string, { rows: number; feasible_share: number | null; median_cost: number | null }>>;
  conventions: string;
}

interface Mutable {
  name: string;
  column: Column;
  /** Candidate values (numeric) or codes (categorical), each with its cost from any original value computed later. */
  candidates: number[];
  scale: number;
  monotone?: 'increase_only' | 'decrease_only';
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function mutableColumns(table: Table, columns: string[], options: RecourseOptions): Mutable[] {
  const frozen = new Set(options.immutable);
  const out: Mutable[] = [];
  for (const name of columns) {
    if (frozen.has(name)) continue;
    const column = findColumn(table, name)!;
    if (column.kind === 'numeric') {
      const present = column.values.filter((v) => !Number.isNaN(v)).sort();
      if (present.length === 0) continue;
      const med = median(Array.from(present));
      const mad = median(Array.from(present, (v) => Math.abs(v - med))) || (present[present.length - 1] - present[0]) / 4 || 1;
      const whole = present.every((v) => Number.isInteger(v));
      // Candidate values: the column's 5%…95% quantiles and its observed bounds.
      const grid = new Set<number>();
      for (let q = 0; q <= 20; q++) grid.add(present[Math.min(present.length - 1, Math.floor((q / 20) * (present.length - 1)))]);
      out.push({ name, column, candidates: [...grid].map((v) => (whole ? Math.round(v) : v)), scale: options.costs?.[name] ?? 1 / mad, monotone: options.monotone[name] });
    } else {
      const used = new Set<number>();
      for (const code of column.codes) if (code >= 0) used.add(code);
      out.push({ name, column, candidates: [...used].sort((a, b) => a - b), scale: options.costs?.[name] ?? 1 });
    }
  }
  return out;
}

/** A value of a mutable column for a row, as the model sees it. */
type Assignment = Map<string, number>;

function costOf(mutables: Mutable[], row: number, assignment: Assignment): number {
  let cost = 0;
  for (const m of mutables) {
    if (!assignment.has(m.name)) continue;
    const value = assignment.get(m.name)!;
    cost += m.column.kind === 'numeric' ? Math.abs(value - m.column.values[row]) * m.scale : value === m.column.codes[row] ? 0 : m.scale;
  }
  return cost;
}

function allowed(m: Mutable, row: number, value: number): boolean {
  if (m.column.kind !== 'numeric') return value !== m.column.codes[row];
  const current = m.column.values[row];
  if (value === current) return false;
  if (m.monotone === 'increase_only' && !(value > current)) return false;
  if (m.monotone === 'decrease_only' && !(value < current)) return false;
  return true;
}

/** Scores candidate versions of one row in one model call. */
async function scoreCandidates(classifier: Classifier, table: Table, row: number, assignments: Assignment[], features?: string[]): Promise<Float64Array> {
  const n = assignments.length;
  const columns = table.columns.map((column): Column => {
    if (column.kind === 'numeric') {
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) values[i] = assignments[i].get(column.name) ?? column.values[row];
      return { ...column, values };
    }
    const codes = new Int32Array(n);
    for (let i = 0; i < n; i++) codes[i] = assignments[i].get(column.name) ?? column.codes[row];
    return { ...column, codes };
  });
  return classifier.score({ source: table.source, rowCount: n, columns }, { features });
}

/**
 * Counterfactual recourse. For each adverse row (up to `maxRows`), searches changes of the
 * mutable model inputs that flip the decision: greedy steps that buy the most score per
 * unit of cost (every single change scored in one batch), from the full column set and
 * from seeded random subsets (restarts, for diverse answers), then each answer pruned of
 * changes it does not need. Immutable and protected columns never change; monotone
 * columns move only their way; values stay within the observed values of the column.
 * Every counterfactual returned was re-scored and flips the decision.
 */
export async function recourse(classifier: Classifier, table: Table, scores: Float64Array, columns: string[], groupColumns: string[], options: RecourseOptions): Promise<RecourseReport> {
  const mutables = mutableColumns(table, columns, options);
  const favourable = (p: number) => (options.adverse === 'negative' ? p >= options.threshold : p < options.threshold);
  const gain = (p: number) => (options.adverse === 'negative' ? p : -p);
  const adverseRows: number[] = [];
  for (let i = 0; i < scores.length; i++) if (!favourable(scores[i])) adverseRows.push(i);
  const searched = adverseRows.slice(0, options.maxRows ?? 200);
  const random = new Random(options.seed, 'recourse');
  const rows: RecourseReport['rows'] = [];
  for (const row of searched) {
    options.signal?.throwIfAborted();
    let budget = options.maxEvaluations ?? 2000;
    const found: Counterfactual[] = [];
    const seen = new Set<string>();
    for (let attempt = 0; attempt < 6 && found.length < (options.perRow ?? 3) && budget > 0; attempt++) {
      const pool = attempt === 0 ? mutables : mutables.filter(() => random.next() < 0.6);
      if (pool.length === 0) continue;
      const assignment: Assignment = new Map();
      let current = scores[row];
      for (let step = 0; step < pool.length && !favourable(current) && budget > 0; step++) {
        const candidates: Assignment[] = [];
        for (const m of pool) {
          if (assignment.has(m.name)) continue;
          for (const value of m.candidates) if (allowed(m, row, value)) candidates.push(new Map([...assignment, [m.name, value]]));
        }
        if (candidates.length === 0 || candidates.length > budget) break;
        budget -= candidates.length;
        const results = await scoreCandidates(classifier, table, row, candidates, options.features);
        let best = -1;
        let bestValue = Number.NEGATIVE_INFINITY;
        const base = costOf(mutables, row, assignment);
        for (let i = 0; i < candidates.length; i++) {
          const extra = Math.max(1e-9, costOf(mutables, row, candidates[i]) - base);
          // A flip wins outright (cheapest first); otherwise the most score per unit of cost.
          const value = favourable(results[i]) ? 1e12 - extra : (gain(results[i]) - gain(current)) / extra;
          if (value > bestValue) {
            bestValue = value;
            best = i;
          }
        }
        if (best < 0 || (!favourable(results[best]) && gain(results[best]) <= gain(current))) break;
        for (const [k, v] of candidates[best]) assignment.set(k, v);
        current = results[best];
      }
      if (!favourable(current)) continue;
      // Prune: drop each change the flip does not need.
      for (const name of [...assignment.keys()]) {
        if (budget <= 0) break;
        const without = new Map(assignment);
        without.delete(name);
        if (without.size === 0) continue;
        budget--;
        const [p] = await scoreCandidates(classifier, table, row, [without], options.features);
        if (favourable(p)) {
          assignment.delete(name);
          current = p;
        }
      }
      const key = [...assignment.entries()].sort().map(([k, v]) => `${k}=${v}`).join('&');
      if (seen.has(key)) continue;
      seen.add(key);
      // Re-score the final answer on its own: what is returned is what the model does.
      const [verified] = await scoreCandidates(classifier, table, row, [assignment], options.features);
      if (!favourable(verified)) continue;
      found.push({
        changes: [...assignment.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, value]) => {
          const m = mutables.find((x) => x.name === name)!;
          return { column: name, from: cellText(m.column, row), to: m.column.kind === 'numeric' ? String(value) : m.column.dictionary[value] };
        }),
        cost: costOf(mutables, row, assignment),
        score: verified,
      });
    }
    found.sort((a, b) => a.cost - b.cost);
    rows.push({ row: row + 1, score: scores[row], counterfactuals: found });
  }
  const groups: RecourseReport['groups'] = {};
  for (const name of groupColumns) {
    const column = findColumn(table, name);
    if (!column) continue;
    const byGroup = new Map<string, { rows: number; feasible: number; costs: number[] }>();
    for (const entry of rows) {
      const group = cellText(column, entry.row - 1) || '(missing)';
      const g = byGroup.get(group) ?? { rows: 0, feasible: 0, costs: [] };
      g.rows++;
      if (entry.counterfactuals.length) {
        g.feasible++;
        g.costs.push(entry.counterfactuals[0].cost);
      }
      byGroup.set(group, g);
    }
    groups[name] = Object.fromEntries([...byGroup.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([g, v]) => [g, { rows: v.rows, feasible_share: v.rows ? v.feasible / v.rows : null, median_cost: v.costs.length ? median(v.costs) : null }]));
  }
  const feasible = rows.filter((r) => r.counterfactuals.length > 0).length;
  return {
    adverse: options.adverse,
    rows_searched: rows.length,
    adverse_rows: adverseRows.length,
    rows,
    recourse_feasible_share: rows.length ? feasible / rows.length : null,
    groups,
    conventions: `Adverse decision: p ${options.adverse === 'negative' ? '<' : '>='} ${options.threshold}. Cost: |change| / MAD for numbers (or the configured cost), 1 per changed category. Values within the column's observed quantiles/categories; immutable and protected columns fixed; monotone columns one way. Greedy search with seeded restarts, at most ${options.maxEvaluations ?? 2000} model evaluations per row; every counterfactual re-scored.`,
  };
}
