/**
 * The counterfactual search over adverse rows, side by side: a greedy walk (most score per
 * unit of cost), the strongest push where it stops short, pruning and relaxing each answer,
 * seeded restarts on column subsets, and every answer re-scored.
 */
import { shownText, type Table } from '../../../data/table';
import type { Classifier } from '../../../model/classifier';
import { Random } from '../../../base/random';
import { allowed, changeCosts, percentileIn, type Mutable } from './candidates';
import type { Change, Counterfactual } from './report';
import { decisionSides, RECOURSE_DEFAULTS, type RecourseOptions } from './settings';
import { scoreVariants, Variants, type Assignment } from './variants';

/** Restarts of the walk on seeded random subsets of the columns, for other answers. */
const RESTARTS = 5;

/** The search state of one adverse row. */
export interface RowSearch {
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
 * Searches counterfactuals for the adverse rows `searched` (indices into `table`, whose
 * scores are `scores`), changing only `mutables`; each row's state holds what it found.
 * How it searches: see `recourse` (./run). A row's answers depend on that row alone (its own
 * random stream, budget and state; every candidate scored on its own), so any set of rows
 * may be searched apart: `ids` names each searched row's stream when `table` holds only some
 * of the audit's rows (a slice on a pool's thread), else its row number does.
 */
export async function searchRows(classifier: Classifier, table: Table, scores: Float64Array, searched: number[], mutables: Mutable[], options: RecourseOptions, ids?: ArrayLike<number>): Promise<RowSearch[]> {
  const { favourable, gain } = decisionSides(options);
  const perRow = options.perRow ?? RECOURSE_DEFAULTS.perRow;
  const states: RowSearch[] = searched.map((row, i) => ({ row, random: new Random(options.seed, `recourse/row/${ids ? ids[i] : row}`), budget: options.maxEvaluations ?? RECOURSE_DEFAULTS.evaluations, found: [], seen: new Set(), pools: new Set(), pool: [], assignment: new Map(), current: scores[row], stopped: false, strongest: new Map() }));
  const costs = changeCosts(mutables);
  const score = (variants: Variants) => scoreVariants(classifier, table, mutables, variants, options);
  const keyOf = (a: Assignment) => [...a.entries()].sort(([x], [y]) => x - y).map(([k, v]) => `${k}=${v}`).join('&');
  /**
   * Scores the variants `build` adds for each row (when it returns true), rows gathered
   * until a group holds about `callRows` variants, so memory stays bounded however many rows
   * are searched; a row's variants are charged to its evaluation budget, and a row whose
   * variants would exceed it goes to `over` instead. A group is built while the one before
   * it is scored (on a host's thread pool, in parallel), and groups are used in order; a
   * row is in one group only, and `use` changes only its row's state, so the answers are
   * those of one group at a time. `use` reads the row's variants from `at` on in the
   * group, their scores from 0 in `results`.
   */
  const inGroups = async (states: RowSearch[], build: (s: RowSearch, variants: Variants) => boolean, use: (s: RowSearch, variants: Variants, at: number, results: Float64Array) => void, over: (s: RowSearch) => void) => {
    let group = new Variants();
    let owners: { state: RowSearch; at: number; count: number }[] = [];
    let inFlight: Promise<void> = Promise.resolve();
    const flush = async () => {
      if (group.length === 0) return;
      const taken = group;
      const takenOwners = owners;
      group = new Variants();
      owners = [];
      const scoring = score(taken);
      // The group before is used first; then this one is left to score while the next is built.
      await inFlight;
      inFlight = scoring.then((results) => {
        for (const { state, at, count } of takenOwners) use(state, taken, at, results.subarray(at, at + count));
      });
      // Awaited by the next flush or at the end (a failure is thrown there, not reported as unhandled meanwhile).
      inFlight.catch(() => {});
    };
    for (const s of states) {
      const at = group.length;
      if (!build(s, group)) {
        group.truncate(at);
        continue;
      }
      const count = group.length - at;
      if (count > s.budget) {
        group.truncate(at);
        over(s);
        continue;
      }
      s.budget -= count;
      if (count === 0) {
        use(s, group, at, new Float64Array(0));
        continue;
      }
      owners.push({ state: s, at, count });
      if (group.length >= (options.callRows ?? RECOURSE_DEFAULTS.callRows)) await flush();
    }
    await flush();
    await inFlight;
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
            for (const value of mutables[k].candidates) if (allowed(mutables[k], s.row, value)) variants.add(s.row, s.assignment, k, value);
          }
          return true;
        },
        (s, variants, at, results) => {
          if (results.length === 0) {
            s.stopped = true;
            return;
          }
          let best = -1;
          let bestValue = Number.NEGATIVE_INFINITY;
          const first = attempt === 0 && step === 0;
          const strongest = new Map<number, { value: number; gain: number }>();
          const now = gain(s.current);
          for (let i = 0; i < results.length; i++) {
            const k = variants.extraColumn[at + i];
            const value = variants.extraValue[at + i];
            const extra = Math.max(1e-9, costs.change(k, s.row, value));
            const g = gain(results[i]);
            // A flip wins outright (cheapest first); otherwise the most score per unit of cost.
            const worth = favourable(results[i]) ? 1e12 - extra : (g - now) / extra;
            if (worth > bestValue) {
              bestValue = worth;
              best = i;
            }
            if (first && g > now && g > (strongest.get(k)?.gain ?? Number.NEGATIVE_INFINITY)) strongest.set(k, { value, gain: g });
          }
          if (first) s.strongest = new Map([...strongest].map(([k, v]) => [k, v.value]));
          if (best < 0 || (!favourable(results[best]) && gain(results[best]) <= now)) {
            s.stopped = true;
            return;
          }
          s.assignment = new Map([...s.assignment, [variants.extraColumn[at + best], variants.extraValue[at + best]]]);
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
        const strongest = new Variants();
        for (const s of pushed) strongest.add(s.row, s.strongest);
        const results = await score(strongest);
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
      const variants = new Variants();
      const owners: RowSearch[] = [];
      for (const s of flipped) {
        const k = order.get(s)![position];
        if (k === undefined || s.budget <= 0 || s.assignment.size < 2 || !s.assignment.has(k)) continue;
        s.budget--;
        variants.add(s.row, s.assignment, -1, 0, k);
        owners.push(s);
      }
      if (variants.length === 0) continue;
      const results = await score(variants);
      owners.forEach((s, i) => {
        if (!favourable(results[i])) return;
        const assignment = new Map(s.assignment);
        assignment.delete(variants.without[i]);
        s.assignment = assignment;
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
          const at = variants.length;
          for (const value of mutables[k].candidates) if (allowed(mutables[k], s.row, value) && costs.change(k, s.row, value) < now) variants.add(s.row, s.assignment, k, value);
          return variants.length > at;
        },
        (s, variants, at, results) => {
          let best = -1;
          let bestCost = Number.POSITIVE_INFINITY;
          for (let i = 0; i < results.length; i++) {
            const cost = costs.change(variants.extraColumn[at + i], s.row, variants.extraValue[at + i]);
            if (favourable(results[i]) && cost < bestCost) {
              best = i;
              bestCost = cost;
            }
          }
          if (best < 0) return;
          s.assignment = new Map([...s.assignment, [variants.extraColumn[at + best], variants.extraValue[at + best]]]);
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
    const answers = new Variants();
    for (const s of fresh) answers.add(s.row, s.assignment);
    const verified = fresh.length ? await score(answers) : new Float64Array(0);
    fresh.forEach((s, i) => {
      if (!favourable(verified[i])) return;
      let cost = 0;
      const changes = [...s.assignment.entries()]
        .map(([k, value]): Change => {
          const m = mutables[k];
          cost += costs.change(k, s.row, value);
          if (m.column.kind !== 'numeric') return { column: m.name, from: shownText(m.column, s.row), to: m.column.dictionary[value] };
          const tenth = (p: number) => Math.round(p * 1000) / 10;
          return { column: m.name, from: shownText(m.column, s.row), to: m.spelling?.get(value) ?? String(value), percentile_from: tenth(percentileIn(m, m.column.values[s.row])), percentile_to: tenth(percentileIn(m, value)) };
        })
        .sort((a, b) => (a.column < b.column ? -1 : a.column > b.column ? 1 : 0));
      s.found.push({ changes, cost, score: verified[i] });
    });
  }
  return states;
}
