import { cellText, findColumn, keptText, sortedPresent, type Column, type Table } from '../data/table';
import { sampleIndices } from '../data/sample';
import { AuditConfigError, closeMatches, quote } from '../errors';
import { wilsonInterval, type Interval } from '../metrics/intervals';
import type { Classifier } from '../model/classifier';
import { Random } from '../random';
import { median } from '../math';

/** Defaults of the recourse search, shared by the audit and its stage budget. */
export const RECOURSE_DEFAULTS = {
  /** Adverse rows searched; more are sampled (seeded). 1,000 rows give the feasible share an interval of about ±3 points. */
  maxRows: 1000,
  /** Counterfactuals per row. */
  perRow: 3,
  /** Model evaluations per row. */
  evaluations: 2000,
  /** Candidate rows scored in one model call (rows are searched side by side, so a call costs little more than its rows). */
  callRows: 8192,
  /** Quantiles a numeric column may move between. */
  low: 0.05,
  high: 0.95,
};

/** Recourse settings of an audit request (the config's `recourse` keys). */
export interface RecourseSettings {
  adverse?: 'negative' | 'positive';
  /** Columns that may never change (`recourse.immutable`); this wins over every other setting. */
  immutable?: string[];
  monotone?: Record<string, 'increase_only' | 'decrease_only'>;
  /** Weight of a column's change (default 1): multiplies its percentile move, or the 1 a category change costs. */
  costs?: Record<string, number>;
  maxRows?: number;
  perRow?: number;
  /** The only columns that may change (`recourse.actionable`); by default numeric inputs that are not protected, a proxy or age-like. */
  actionable?: string[];
  /** Categorical columns that may change: a list (any observed category), or column → the categories a person may move to. */
  categoricalChanges?: string[] | Record<string, string[]>;
}

/** A column that stands in for a protected attribute: declared in `robustness.proxies`, or detected at error level by the data profile. */
export interface ProxyFlag {
  column: string;
  attribute: string;
  source: 'declared' | 'detected';
  /** The association measure and value, for a detected proxy. */
  measure?: string;
  value?: number;
}

/** Settings of the recourse search. */
export interface RecourseOptions {
  threshold: number;
  /** Which decision a person wants to leave: a score below the threshold (`negative`, e.g. a denied loan) or at/above it. */
  adverse: 'negative' | 'positive';
  /** Columns that may not change (`recourse.immutable`). */
  immutable: string[];
  /** Protected attributes: never changed, and never allowed to be made actionable. */
  protectedAttributes?: string[];
  /** Proxies of protected attributes: not changed unless the config names them actionable. */
  proxies?: ProxyFlag[];
  /** The only columns that may change; see {@link RecourseSettings.actionable}. */
  actionable?: string[];
  /** Categorical columns that may change, and to what; see {@link RecourseSettings.categoricalChanges}. */
  categoricalChanges?: string[] | Record<string, string[]>;
  monotone: Record<string, 'increase_only' | 'decrease_only'>;
  /** Per-column weight of a change (default 1). */
  costs?: Record<string, number>;
  /** Counterfactuals per row (default 3). */
  perRow?: number;
  /** Most adverse rows searched (default 1,000); more are sampled with the seed. */
  maxRows?: number;
  /** Most model evaluations per row (default 2,000). */
  maxEvaluations?: number;
  /** Confidence of the feasible share's Wilson interval (default 0.95). */
  confidence?: number;
  seed: number;
  features?: string[];
  signal?: AbortSignal;
}

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

/** Whether and how the search may change one model input, and why. */
export interface ColumnRule {
  column: string;
  changes: 'numeric' | 'categorical' | 'never';
  reason: string;
  /** Numeric: the observed 5th and 95th percentile values a change stays within. */
  range?: [number, number];
  /** Categorical: the categories a change may move to. */
  values?: string[];
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

interface Mutable {
  name: string;
  column: Column;
  /** Candidate values (numeric) or codes (categorical). */
  candidates: number[];
  /** The column's sorted present values (numeric), for percentiles. */
  sorted?: Float64Array;
  weight: number;
  monotone?: 'increase_only' | 'decrease_only';
}

/** Names a person cannot act on: age and birth dates (`age`, `age_group`, `ApplicantAge`, `dob`, `year_of_birth`), matched as words so `mortgage` or `percentage` are not. */
export function isAgeLike(name: string): boolean {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  return /(^|[^a-z])(age|aged|ages|dob|yob)([^a-z]|$)/.test(words) || words.includes('birth');
}

/** Mid-rank percentile of `value` among `sorted` (0–1): the share below it plus half the share equal to it. */
function percentile(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  let upper = lo;
  hi = sorted.length;
  while (upper < hi) {
    const mid = (upper + hi) >>> 1;
    if (sorted[mid] <= value) upper = mid + 1;
    else hi = mid;
  }
  return (lo + upper) / 2 / sorted.length;
}

/** The observed value at rank ⌊q(n−1)⌋. */
function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
}

function listNames(names: readonly string[], max = 12): string {
  return names.length > max ? `${names.slice(0, max).join(', ')}, … (${names.length} in all)` : names.join(', ');
}

/**
 * Which model inputs may change and how: checks the config's recourse columns against the
 * model and the data (an unknown column, a numeric column given categories, or a category
 * the data does not hold is an {@link AuditConfigError}) and gives each input its rule.
 */
export function columnRules(table: Table, columns: string[], options: Pick<RecourseOptions, 'immutable' | 'protectedAttributes' | 'proxies' | 'actionable' | 'categoricalChanges'>): ColumnRule[] {
  const categorical = options.categoricalChanges ?? [];
  const categoricalNames = Array.isArray(categorical) ? categorical : Object.keys(categorical);
  for (const [key, names] of [['recourse.actionable', options.actionable ?? []], ['recourse.categorical_changes', categoricalNames]] as const) {
    for (const name of names) {
      if (columns.includes(name)) continue;
      const close = closeMatches(name, columns);
      throw new AuditConfigError(`${key}: ${quote(name)} is not a model input${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}; the model reads ${listNames(columns)}. Name model inputs only.`);
    }
  }
  const protectedSet = new Set(options.protectedAttributes ?? []);
  const immutable = new Set(options.immutable);
  const actionable = options.actionable ? new Set(options.actionable) : null;
  const rules: ColumnRule[] = [];
  for (const name of columns) {
    const column = findColumn(table, name);
    if (!column) continue;
    const allowedValues = Array.isArray(categorical) ? (categorical.includes(name) ? null : undefined) : Object.hasOwn(categorical, name) ? categorical[name] : undefined;
    if (allowedValues !== undefined && column.kind === 'numeric') {
      throw new AuditConfigError(`recourse.categorical_changes: ${quote(name)} is numeric in ${table.source}; a number moves within its observed 5th to 95th percentiles. Name it in recourse.actionable instead.`);
    }
    const proxy = (options.proxies ?? []).find((p) => p.column === name);
    const proxyText = proxy ? (proxy.source === 'declared' ? `declared proxy of ${proxy.attribute} (robustness.proxies)` : `error-level proxy of ${proxy.attribute} (${proxy.measure?.replace('_', ' ')} ${proxy.value?.toFixed(2)})`) : '';
    const never = (reason: string) => rules.push({ column: name, changes: 'never', reason });
    if (protectedSet.has(name)) {
      never('protected attribute');
      continue;
    }
    if (immutable.has(name)) {
      never('recourse.immutable');
      continue;
    }
    let reason: string;
    if (actionable) {
      if (!actionable.has(name) && allowedValues === undefined) {
        never('not in recourse.actionable');
        continue;
      }
      reason = actionable.has(name) ? 'recourse.actionable' : 'recourse.categorical_changes';
    } else if (allowedValues !== undefined) {
      reason = 'recourse.categorical_changes';
    } else if (proxy) {
      never(`${proxyText}; name it in recourse.actionable to allow changes`);
      continue;
    } else if (isAgeLike(name)) {
      never('age-like: a person cannot change it');
      continue;
    } else if (column.kind === 'categorical') {
      never('categorical: not named in recourse.categorical_changes');
      continue;
    } else {
      reason = 'numeric model input';
    }
    if (proxy) reason += ` (a ${proxyText}, changed because the config allows it)`;
    if (column.kind === 'numeric') {
      const sorted = sortedPresent(column.values);
      if (sorted.length === 0) {
        never('no values');
        continue;
      }
      const range: [number, number] = [quantile(sorted, RECOURSE_DEFAULTS.low), quantile(sorted, RECOURSE_DEFAULTS.high)];
      if (range[0] === range[1]) {
        never(`no spread between its 5th and 95th percentiles (both ${range[0]})`);
        continue;
      }
      rules.push({ column: name, changes: 'numeric', reason, range });
    } else {
      const present = new Set<number>();
      for (const code of column.codes) if (code >= 0) present.add(code);
      const observed = column.dictionary.filter((_, code) => present.has(code));
      if (allowedValues) {
        for (const value of allowedValues) {
          if (observed.includes(value)) continue;
          const close = closeMatches(value, observed);
          throw new AuditConfigError(`recourse.categorical_changes.${name}: ${quote(value)} is not a value of ${name} in ${table.source}${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}; its values are ${listNames([...observed].sort())}.`);
        }
      }
      rules.push({ column: name, changes: 'categorical', reason, values: allowedValues ? [...new Set(allowedValues)] : observed });
    }
  }
  return rules;
}

function mutableColumns(table: Table, rules: ColumnRule[], options: RecourseOptions): Mutable[] {
  const out: Mutable[] = [];
  for (const rule of rules) {
    if (rule.changes === 'never') continue;
    const column = findColumn(table, rule.column)!;
    const weight = options.costs?.[rule.column] ?? 1;
    if (column.kind === 'numeric') {
      const sorted = sortedPresent(column.values);
      // Candidate values: the observed values at every 5th percentile from the 5th to the 95th.
      const grid = new Set<number>();
      for (let q = 1; q <= 19; q++) grid.add(quantile(sorted, q / 20));
      out.push({ name: rule.column, column, candidates: [...grid].sort((a, b) => a - b), sorted, weight, monotone: options.monotone[rule.column] });
    } else {
      out.push({ name: rule.column, column, candidates: rule.values!.map((v) => column.dictionary.indexOf(v)), weight });
    }
  }
  return out;
}

/**
 * The cost of one change: its weight times how far it moves the row's percentile in the
 * column (numbers), or its weight (a category). Candidate percentiles are computed once.
 */
function changeCosts(mutables: Mutable[]): { change: (k: number, row: number, value: number) => number } {
  const candidatePercentiles = mutables.map((m) => (m.sorted ? new Map(m.candidates.map((v) => [v, percentile(m.sorted!, v)])) : null));
  return {
    change(k, row, value) {
      const m = mutables[k];
      if (m.column.kind !== 'numeric') return m.weight;
      const to = candidatePercentiles[k]!.get(value) ?? percentile(m.sorted!, value);
      return m.weight * Math.abs(to - percentile(m.sorted!, m.column.values[row]));
    },
  };
}

function allowed(m: Mutable, row: number, value: number): boolean {
  if (m.column.kind !== 'numeric') return m.column.codes[row] >= 0 && value !== m.column.codes[row];
  const current = m.column.values[row];
  // A missing value is not changed: how far a change moves it cannot be said.
  if (Number.isNaN(current) || value === current) return false;
  if (m.monotone === 'increase_only' && !(value > current)) return false;
  if (m.monotone === 'decrease_only' && !(value < current)) return false;
  return true;
}

/** Restarts of the walk on seeded random subsets of the columns, for other answers. */
const RESTARTS = 5;

/** Mutable column index → value (numeric) or code (categorical). */
type Assignment = Map<number, number>;

/** One version of a row to score: the row with an assignment, plus optionally one more change. */
interface Variant {
  row: number;
  assignment: Assignment;
  extra?: [number, number];
  /** The assignment's key to leave out (pruning). */
  without?: number;
}

/** Scores versions of rows, in calls of at most `callRows` rows. Kept cell texts follow their row where the cell is unchanged. */
async function scoreVariants(classifier: Classifier, table: Table, mutables: Mutable[], variants: Variant[], options: RecourseOptions): Promise<Float64Array> {
  const out = new Float64Array(variants.length);
  const byName = new Map(mutables.map((m, k) => [m.name, k]));
  for (let start = 0; start < variants.length; start += RECOURSE_DEFAULTS.callRows) {
    options.signal?.throwIfAborted();
    const batch = variants.slice(start, start + RECOURSE_DEFAULTS.callRows);
    const n = batch.length;
    const columns = table.columns.map((column): Column => {
      const k = byName.get(column.name);
      const changed = new Uint8Array(n);
      const valueOf = (i: number, base: number): number => {
        const v = batch[i];
        if (k === undefined) return base;
        let value = base;
        if (v.extra && v.extra[0] === k) value = v.extra[1];
        else if (v.without !== k && v.assignment.has(k)) value = v.assignment.get(k)!;
        if (value !== base) changed[i] = 1;
        return value;
      };
      if (column.kind === 'numeric') {
        const values = new Float64Array(n);
        let missing = 0;
        for (let i = 0; i < n; i++) if (Number.isNaN((values[i] = valueOf(i, column.values[batch[i].row])))) missing++;
        return withKeptTexts({ ...column, values, missing, texts: undefined }, column, batch, changed);
      }
      const codes = new Int32Array(n);
      let missing = 0;
      for (let i = 0; i < n; i++) if ((codes[i] = valueOf(i, column.codes[batch[i].row])) < 0) missing++;
      return withKeptTexts({ ...column, codes, missing, texts: undefined }, column, batch, changed);
    });
    out.set(await classifier.score({ source: table.source, rowCount: n, columns }, { features: options.features }), start);
  }
  return out;
}

/** Adds the kept texts of unchanged cells (computed after the values, which mark the changed cells). */
function withKeptTexts(column: Column, source: Column, batch: Variant[], changed: Uint8Array): Column {
  if (!source.texts) return column;
  const kept: number[] = [];
  const codes: number[] = [];
  const dictionary: string[] = [];
  for (let i = 0; i < batch.length; i++) {
    if (changed[i]) continue;
    const text = keptText(source, batch[i].row);
    if (text === undefined) continue;
    let code = dictionary.indexOf(text);
    if (code < 0) code = dictionary.push(text) - 1;
    kept.push(i);
    codes.push(code);
  }
  return kept.length ? { ...column, texts: { rows: Int32Array.from(kept), codes: Int32Array.from(codes), dictionary } } : column;
}

/** The search state of one adverse row. */
interface RowSearch {
  row: number;
  random: Random;
  budget: number;
  found: Counterfactual[];
  seen: Set<string>;
  /** The column sets walked so far. */
  pools: Set<string>;
  pool: number[];
  assignment: Assignment;
  current: number;
  /** The greedy walk of this attempt has ended. */
  stopped: boolean;
  /** Each column at the value that alone raised the score most (from the first step of the full walk). */
  strongest: Assignment;
}

/**
 * Counterfactual recourse a person can act on. For each adverse row (every one, or a
 * seeded sample of `maxRows`), searches changes of the actionable model inputs that flip
 * the decision: greedy steps that buy the most score per unit of cost; where the walk
 * stops short of a flip (a cheap first step can use up a column), every column at the value
 * that alone raised the score most; then each answer pruned of changes it does not need and
 * each change moved to its cheapest value that still flips. Seeded restarts on random
 * subsets of the columns look for other answers for rows that have one. Rows are searched
 * side by side, so each step is one model call for all of them.
 *
 * What may change is explicit ({@link columnRules}): the config's `actionable` columns, or
 * else numeric inputs that are not protected, a declared or error-level proxy, or
 * age-like; categories only where `categoricalChanges` allows them; `immutable` and
 * protected attributes never. A number stays within its observed 5th–95th percentiles and
 * costs how far it moves the row's percentile; monotone columns move only their way.
 * Every counterfactual returned was re-scored and flips the decision.
 */
export async function recourse(classifier: Classifier, table: Table, scores: Float64Array, columns: string[], groupColumns: string[], options: RecourseOptions): Promise<RecourseReport> {
  const rules = columnRules(table, columns, options);
  const mutables = mutableColumns(table, rules, options);
  const favourable = (p: number) => (options.adverse === 'negative' ? p >= options.threshold : p < options.threshold);
  const gain = (p: number) => (options.adverse === 'negative' ? p : -p);
  const perRow = options.perRow ?? RECOURSE_DEFAULTS.perRow;
  const maxRows = options.maxRows ?? RECOURSE_DEFAULTS.maxRows;
  const confidence = options.confidence ?? 0.95;
  const adverseRows: number[] = [];
  for (let i = 0; i < scores.length; i++) if (!favourable(scores[i])) adverseRows.push(i);
  const sampled = adverseRows.length > maxRows;
  const searched = sampled ? Array.from(sampleIndices(adverseRows.length, maxRows, options.seed, 'recourse/rows'), (k) => adverseRows[k]) : adverseRows;
  const states: RowSearch[] = searched.map((row) => ({ row, random: new Random(options.seed, `recourse/row/${row}`), budget: options.maxEvaluations ?? RECOURSE_DEFAULTS.evaluations, found: [], seen: new Set(), pools: new Set(), pool: [], assignment: new Map(), current: scores[row], stopped: false, strongest: new Map() }));
  const costs = changeCosts(mutables);
  const score = (variants: Variant[]) => scoreVariants(classifier, table, mutables, variants, options);
  const keyOf = (a: Assignment) => [...a.entries()].sort(([x], [y]) => x - y).map(([k, v]) => `${k}=${v}`).join('&');
  /**
   * Scores the variants `build` gives each row (when it returns true), rows gathered until a
   * group holds about `callRows` variants, so memory stays bounded however many rows are
   * searched; a row's variants are charged to its evaluation budget, and a row whose
   * variants would exceed it goes to `over` instead.
   */
  const inGroups = async (states: RowSearch[], build: (s: RowSearch, variants: Variant[]) => boolean, use: (s: RowSearch, variants: Variant[], results: Float64Array) => void, over: (s: RowSearch) => void) => {
    let group: { state: RowSearch; variants: Variant[] }[] = [];
    let size = 0;
    const flush = async () => {
      if (size === 0) return;
      const results = await score(group.flatMap((g) => g.variants));
      let at = 0;
      for (const g of group) {
        use(g.state, g.variants, results.subarray(at, at + g.variants.length));
        at += g.variants.length;
      }
      group = [];
      size = 0;
    };
    for (const s of states) {
      const variants: Variant[] = [];
      if (!build(s, variants)) continue;
      if (variants.length > s.budget) {
        over(s);
        continue;
      }
      s.budget -= variants.length;
      if (variants.length === 0) {
        use(s, variants, new Float64Array(0));
        continue;
      }
      group.push({ state: s, variants });
      size += variants.length;
      if (size >= RECOURSE_DEFAULTS.callRows) await flush();
    }
    await flush();
  };

  for (let attempt = 0; attempt < RESTARTS + 1 && mutables.length > 0; attempt++) {
    // Restarts look for other answers; a row the full walk and the strongest push could not flip gets none.
    const active = states.filter((s) => s.found.length < perRow && s.budget > 0 && (attempt === 0 || s.found.length > 0));
    for (const s of active) {
      // Each row draws its restart's columns from its own stream: its answers do not depend on the other rows searched.
      s.pool = attempt === 0 ? mutables.map((_, k) => k) : mutables.flatMap((_, k) => (s.random.next() < 0.6 ? [k] : []));
      s.assignment = new Map();
      s.current = scores[s.row];
      // A set of columns this row already walked gives the same walk again.
      const poolKey = s.pool.join(',');
      s.stopped = s.pool.length === 0 || s.pools.has(poolKey);
      s.pools.add(poolKey);
    }
    // Greedy walk, one step of every row per model call.
    for (let step = 0; ; step++) {
      const stepping = active.filter((s) => !s.stopped);
      if (stepping.length === 0) break;
      await inGroups(
        stepping,
        (s, variants) => {
          for (const k of s.pool) {
            if (s.assignment.has(k)) continue;
            for (const value of mutables[k].candidates) if (allowed(mutables[k], s.row, value)) variants.push({ row: s.row, assignment: s.assignment, extra: [k, value] });
          }
          return true;
        },
        (s, variants, results) => {
          if (variants.length === 0) {
            s.stopped = true;
            return;
          }
          let best = -1;
          let bestValue = Number.NEGATIVE_INFINITY;
          const strongest = new Map<number, { value: number; gain: number }>();
          for (let i = 0; i < variants.length; i++) {
            const [k, value] = variants[i].extra!;
            const extra = Math.max(1e-9, costs.change(k, s.row, value));
            // A flip wins outright (cheapest first); otherwise the most score per unit of cost.
            const worth = favourable(results[i]) ? 1e12 - extra : (gain(results[i]) - gain(s.current)) / extra;
            if (worth > bestValue) {
              bestValue = worth;
              best = i;
            }
            if (attempt === 0 && step === 0 && gain(results[i]) > gain(s.current) && gain(results[i]) > (strongest.get(k)?.gain ?? Number.NEGATIVE_INFINITY)) strongest.set(k, { value, gain: gain(results[i]) });
          }
          if (attempt === 0 && step === 0) s.strongest = new Map([...strongest].map(([k, v]) => [k, v.value]));
          if (best < 0 || (!favourable(results[best]) && gain(results[best]) <= gain(s.current))) {
            s.stopped = true;
            return;
          }
          s.assignment = new Map([...s.assignment, variants[best].extra!]);
          s.current = results[best];
          if (favourable(s.current) || s.assignment.size === s.pool.length) s.stopped = true;
        },
        (s) => {
          s.stopped = true;
        },
      );
    }
    // The strongest push: where the walk ended short of a flip (it buys score per unit of cost, so it can stop early),
    // every column at the value that alone raised the score most.
    if (attempt === 0) {
      const pushed = active.filter((s) => !favourable(s.current) && s.strongest.size > 0 && s.budget > 0);
      if (pushed.length) {
        const results = await score(pushed.map((s) => ({ row: s.row, assignment: s.strongest })));
        pushed.forEach((s, i) => {
          s.budget--;
          if (!favourable(results[i])) return;
          s.assignment = s.strongest;
          s.current = results[i];
        });
      }
    }
    const flipped = active.filter((s) => favourable(s.current) && s.assignment.size > 0);
    // Prune: drop each change the flip does not need, in the order they were made.
    const order = new Map(flipped.map((s) => [s, [...s.assignment.keys()]]));
    for (let position = 0; position < mutables.length; position++) {
      const variants: Variant[] = [];
      const owners: RowSearch[] = [];
      for (const s of flipped) {
        const k = order.get(s)![position];
        if (k === undefined || s.budget <= 0 || s.assignment.size < 2 || !s.assignment.has(k)) continue;
        s.budget--;
        variants.push({ row: s.row, assignment: s.assignment, without: k });
        owners.push(s);
      }
      if (variants.length === 0) continue;
      const results = await score(variants);
      owners.forEach((s, i) => {
        if (!favourable(results[i])) return;
        s.assignment = new Map(s.assignment);
        s.assignment.delete(variants[i].without!);
        s.current = results[i];
      });
    }
    // Relax: move each change, in turn, to the cheapest candidate that still flips with the others kept.
    for (let position = 0; position < mutables.length; position++) {
      await inGroups(
        flipped,
        (s, variants) => {
          const k = order.get(s)![position];
          if (k === undefined || !s.assignment.has(k)) return false;
          const now = costs.change(k, s.row, s.assignment.get(k)!);
          for (const value of mutables[k].candidates) if (allowed(mutables[k], s.row, value) && costs.change(k, s.row, value) < now) variants.push({ row: s.row, assignment: s.assignment, extra: [k, value] });
          return variants.length > 0;
        },
        (s, variants, results) => {
          let best = -1;
          let bestCost = Number.POSITIVE_INFINITY;
          for (let i = 0; i < variants.length; i++) {
            const cost = costs.change(variants[i].extra![0], s.row, variants[i].extra![1]);
            if (favourable(results[i]) && cost < bestCost) {
              best = i;
              bestCost = cost;
            }
          }
          if (best < 0) return;
          s.assignment = new Map([...s.assignment, variants[best].extra!]);
          s.current = results[best];
        },
        () => {},
      );
    }
    // Re-score each new answer on its own: what is returned is what the model does.
    const fresh = flipped.filter((s) => {
      const key = keyOf(s.assignment);
      if (s.seen.has(key)) return false;
      s.seen.add(key);
      return true;
    });
    const verified = fresh.length ? await score(fresh.map((s) => ({ row: s.row, assignment: s.assignment }))) : new Float64Array(0);
    fresh.forEach((s, i) => {
      if (!favourable(verified[i])) return;
      let cost = 0;
      const changes = [...s.assignment.entries()]
        .map(([k, value]): Change => {
          const m = mutables[k];
          cost += costs.change(k, s.row, value);
          if (m.column.kind !== 'numeric') return { column: m.name, from: cellText(m.column, s.row), to: m.column.dictionary[value] };
          const tenth = (p: number) => Math.round(p * 1000) / 10;
          return { column: m.name, from: cellText(m.column, s.row), to: String(value), percentile_from: tenth(percentile(m.sorted!, m.column.values[s.row])), percentile_to: tenth(percentile(m.sorted!, value)) };
        })
        .sort((a, b) => (a.column < b.column ? -1 : a.column > b.column ? 1 : 0));
      s.found.push({ changes, cost, score: verified[i] });
    });
  }

  const rows: RecourseReport['rows'] = states.map((s) => ({ row: s.row + 1, score: scores[s.row], counterfactuals: s.found.sort((a, b) => a.cost - b.cost) }));
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
    adverse_rows: adverseRows.length,
    selection: sampled ? 'seeded sample' : 'all adverse rows',
    rows,
    recourse_feasible_share: rows.length ? feasible / rows.length : null,
    recourse_feasible_interval: wilsonInterval(feasible, rows.length, confidence),
    confidence,
    columns: rules,
    groups,
    conventions:
      `Adverse decision: p ${options.adverse === 'negative' ? '<' : '>='} ${options.threshold}. ${sampled ? `A seeded sample of ${rows.length.toLocaleString('en')}` : `All ${rows.length.toLocaleString('en')}`} of ${adverseRows.length.toLocaleString('en')} adverse rows searched; feasible share with its Wilson ${Math.round(confidence * 1000) / 10}% interval. ` +
      `Changed: ${changing.length ? changing.join(', ') : 'nothing (no actionable column)'} — ${options.actionable ? 'the columns recourse.actionable names' : 'numeric model inputs that are not protected, a declared or error-level proxy, or age-like'}, categories only where recourse.categorical_changes allows them; protected and immutable columns never. ` +
      `Numbers stay within the column's observed 5th–95th percentiles (values at every 5th percentile) and cost how far they move the row's percentile (mid-rank, 0–1); a category change costs 1; recourse.costs weights either. A missing value is not changed. Search: a greedy walk (most score per unit of cost), where it stops short every column at its strongest single value, then each change pruned if not needed and moved to its cheapest flipping value; seeded restarts on column subsets for other answers of rows that have one; at most ${(options.maxEvaluations ?? RECOURSE_DEFAULTS.evaluations).toLocaleString('en')} model evaluations per row; every counterfactual re-scored.`,
  };
}
