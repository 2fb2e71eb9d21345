/**
 * Confidence intervals of the disparities (max − min and min / max of group rates), by
 * score methods whose coverage holds near the boundary and for small groups — not by a
 * percentile bootstrap, whose intervals of a max − min statistic are biased upward and
 * can exclude the estimate itself.
 *
 * - Two groups, a difference: Newcombe's hybrid score interval (his method 10) of
 *   p₁ − p₂ from the groups' Wilson limits, folded onto |p₁ − p₂|.
 * - Two groups, a ratio: MOVER-R (Donner & Zou) from the Wilson limits of p_low / p_high,
 *   folded onto min / max.
 * - More groups (or several rates, as equalized odds has): the worst case over every pair
 *   (rate × pair of groups). The bound on the side that says "there is a disparity" — the
 *   lower bound of a difference, the upper bound of a ratio — is the best pair's bound at
 *   level 1 − α/m, Bonferroni over the m pairs that could be the worst one (whose nominal
 *   interval reaches past every other pair's nominal bound); the other bound is the worst
 *   pair's at the nominal level. With one plausible pair this is the two-group interval.
 * - A group against the overall rate: p_g − p = (d_rest / d)(p_g − p_rest), so the
 *   Newcombe interval of the group against the rest of the rows, scaled by d_rest / d;
 *   the worst case over groups as above.
 *
 * Every interval contains its estimate (each pair's interval contains its own estimate,
 * and the aggregation keeps that), a group of one row gives the wide interval its one row
 * allows, and coverage is checked by simulation in tests/core/coverage.test.ts.
 */
import type { ConfusionCounts } from './confusion';
import { RATE_METRICS, type RateMetricId } from './confusion';
import { DISPARITIES, extent, type DisparityDefinition } from './fairness';
import { wilsonInterval, type Interval } from './intervals';

/** A disparity's interval and the method that made it, in words. */
export type DisparityInterval = (Interval & { method: string }) | null;

/** Which groups give a worst-case disparity, and which of them are small. */
export interface DisparityDriver {
  rate: RateMetricId;
  /** The group with the higher rate (for `_to_overall`: the group furthest from the overall rate). */
  high_group: string;
  /** The group with the lower rate (for `_to_overall`: "all rows"). */
  low_group: string;
  /** Of those, the groups under `min_group_size` rows. */
  small_groups: string[];
}

/** Stands for the comparison with every row in a `_to_overall` driver. */
export const ALL_ROWS = 'all rows';

/** One rate's counts in one group. */
interface Share {
  group: string;
  x: number;
  n: number;
}

/** Newcombe's hybrid score interval of p₁ − p₂ (method 10 of Newcombe, Stat Med 1998). */
export function newcombeDifference(x1: number, n1: number, x2: number, n2: number, confidence: number): Interval {
  const a = wilsonInterval(x1, n1, confidence) as Interval;
  const b = wilsonInterval(x2, n2, confidence) as Interval;
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const d = p1 - p2;
  return { low: d - Math.hypot(p1 - a.low, b.high - p2), high: d + Math.hypot(a.high - p1, p2 - b.low) };
}

/**
 * MOVER-R interval of p₁ / p₂ from Wilson limits (Donner & Zou, Stat Methods Med Res
 * 2012); p₂ > 0. The upper limit is Infinity when p₁ > 0 and p₂'s lower limit is 0.
 */
export function moverRatio(x1: number, n1: number, x2: number, n2: number, confidence: number): Interval {
  const [l1, u1] = bounds(wilsonInterval(x1, n1, confidence));
  const [l2, u2] = bounds(wilsonInterval(x2, n2, confidence));
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const product = p1 * p2;
  const low = (product - Math.sqrt(Math.max(0, product * product - l1 * u2 * (2 * p1 - l1) * (2 * p2 - u2)))) / (u2 * (2 * p2 - u2));
  const highDenominator = l2 * (2 * p2 - l2);
  const high = highDenominator <= 0 ? Infinity : (product + Math.sqrt(Math.max(0, product * product - u1 * l2 * (2 * p1 - u1) * (2 * p2 - l2)))) / highDenominator;
  const estimate = p1 / p2;
  // Rounding can leave a limit a hair past the estimate; an interval always holds it.
  return { low: Math.max(0, Math.min(low, estimate)), high: Math.max(high, estimate) };
}

const bounds = (i: Interval | null): [number, number] => (i ? [i.low, i.high] : [0, 1]);

/** |δ| from an interval of δ: the set {|t| : t in [low, high]}. */
function foldDifference(i: Interval): Interval {
  if (i.low <= 0 && i.high >= 0) return { low: 0, high: Math.max(-i.low, i.high) };
  return i.low > 0 ? i : { low: -i.high, high: -i.low };
}

/** min(ρ, 1/ρ) from an interval of ρ = p_low / p_high (ρ ≤ 1 at the estimate). */
function foldRatio(i: Interval): Interval {
  if (i.high <= 1) return i;
  return { low: Math.min(i.low, 1 / i.high), high: 1 };
}

/** One comparison: its estimate and its folded interval at a confidence level. */
interface Comparison {
  estimate: number;
  interval: (confidence: number) => Interval;
  rate: RateMetricId;
  high: string;
  low: string;
}

/** Pairs of groups worth comparing: every pair up to this many groups, else the extremes. */
const ALL_PAIRS_UP_TO = 200;
/** With more groups, the candidates at each end (by rate and by Wilson limit). */
const EXTREME_GROUPS = 40;

/**
 * The groups that can take part in a worst-case pair: all of them up to
 * {@link ALL_PAIRS_UP_TO}, else the {@link EXTREME_GROUPS} highest and lowest by rate and by
 * each Wilson limit, so the work stays linear in the group count.
 */
function candidates(shares: Share[], confidence: number): Share[] {
  if (shares.length <= ALL_PAIRS_UP_TO) return shares;
  const keyed = shares.map((s) => ({ s, p: s.x / s.n, i: wilsonInterval(s.x, s.n, confidence) as Interval }));
  const picked = new Set<Share>();
  for (const key of [(k: (typeof keyed)[number]) => k.p, (k: (typeof keyed)[number]) => k.i.low, (k: (typeof keyed)[number]) => k.i.high]) {
    const sorted = [...keyed].sort((a, b) => key(a) - key(b));
    for (const k of [...sorted.slice(0, EXTREME_GROUPS), ...sorted.slice(-EXTREME_GROUPS)]) picked.add(k.s);
  }
  return shares.filter((s) => picked.has(s));
}

/** Each rate's (group, successes, trials), groups where the rate is undefined left out. */
function sharesOf(groupCounts: Record<string, ConfusionCounts>, rate: RateMetricId): Share[] {
  return Object.entries(groupCounts).flatMap(([group, counts]) => {
    const parts = RATE_METRICS[rate].parts(counts);
    return parts.denominator > 0 ? [{ group, x: parts.numerator, n: parts.denominator }] : [];
  });
}

function pairComparisons(definition: DisparityDefinition, groupCounts: Record<string, ConfusionCounts>, confidence: number): Comparison[] {
  const comparisons: Comparison[] = [];
  for (const rate of definition.rates) {
    const shares = candidates(sharesOf(groupCounts, rate), confidence);
    for (let i = 0; i < shares.length; i++) {
      for (let j = i + 1; j < shares.length; j++) {
        const [hi, lo] = shares[i].x / shares[i].n >= shares[j].x / shares[j].n ? [shares[i], shares[j]] : [shares[j], shares[i]];
        const pHi = hi.x / hi.n;
        const pLo = lo.x / lo.n;
        if (definition.aggregation === 'difference') {
          comparisons.push({ estimate: pHi - pLo, rate, high: hi.group, low: lo.group, interval: (c) => foldDifference(newcombeDifference(hi.x, hi.n, lo.x, lo.n, c)) });
        } else if (pHi > 0) {
          comparisons.push({ estimate: pLo / pHi, rate, high: hi.group, low: lo.group, interval: (c) => foldRatio(moverRatio(lo.x, lo.n, hi.x, hi.n, c)) });
        }
      }
    }
  }
  return comparisons;
}

function overallComparisons(definition: DisparityDefinition, groupCounts: Record<string, ConfusionCounts>, confidence: number): Comparison[] {
  const comparisons: Comparison[] = [];
  for (const rate of definition.rates) {
    const all = sharesOf(groupCounts, rate);
    const x = all.reduce((sum, s) => sum + s.x, 0);
    const n = all.reduce((sum, s) => sum + s.n, 0);
    for (const s of candidates(all, confidence)) {
      const restN = n - s.n;
      if (restN === 0) continue;
      const restX = x - s.x;
      const weight = restN / n;
      const estimate = Math.abs(s.x / s.n - x / n);
      comparisons.push({
        estimate,
        rate,
        high: s.group,
        low: ALL_ROWS,
        interval: (c) => {
          const i = foldDifference(newcombeDifference(s.x, s.n, restX, restN, c));
          return { low: Math.min(weight * i.low, estimate), high: Math.max(weight * i.high, estimate) };
        },
      });
    }
  }
  return comparisons;
}

/**
 * The interval of a worst case over comparisons: the largest estimate (`max`, differences)
 * or the smallest (`min`, ratios). See the module comment for the rule.
 */
function worstCase(comparisons: Comparison[], worst: 'max' | 'min', confidence: number, what: string): DisparityInterval {
  if (comparisons.length === 0) return null;
  const nominal = comparisons.map((c) => c.interval(confidence));
  const sign = worst === 'max' ? 1 : -1;
  // The bound that shows a disparity exists (low of a max, high of a min), and which pairs could be the worst one.
  const evidence = (i: Interval) => (worst === 'max' ? i.low : -i.high);
  const reach = (i: Interval) => (worst === 'max' ? i.high : -i.low);
  const bestEvidence = extent(nominal.map(evidence))[1];
  const plausible = nominal.filter((i) => reach(i) >= bestEvidence).length;
  const adjusted = plausible > 1 ? comparisons.map((c) => c.interval(1 - (1 - confidence) / plausible)) : nominal;
  const strongest = extent(adjusted.map(evidence))[1];
  const widest = extent(nominal.map(reach))[1];
  const estimate = sign * extent(comparisons.map((c) => sign * c.estimate))[1];
  const low = worst === 'max' ? strongest : -widest;
  const high = worst === 'max' ? widest : -strongest;
  const method = comparisons.length === 1 ? what : `${what}, worst of ${comparisons.length} comparisons${plausible > 1 ? `; the ${worst === 'max' ? 'lower' : 'upper'} bound Bonferroni-adjusted over the ${plausible} that could be the worst` : ''}`;
  return { low: Math.min(low, estimate), high: Math.max(high, estimate), method };
}

function driverOf(comparisons: Comparison[], worst: 'max' | 'min', groupCounts: Record<string, ConfusionCounts>, minGroupSize: number): DisparityDriver | null {
  if (comparisons.length === 0) return null;
  const pick = comparisons.reduce((best, c) => ((worst === 'max' ? c.estimate > best.estimate : c.estimate < best.estimate) ? c : best));
  const size = (g: string) => {
    const c = groupCounts[g];
    return c ? c.tp + c.fp + c.tn + c.fn : Infinity;
  };
  return { rate: pick.rate, high_group: pick.high, low_group: pick.low, small_groups: [pick.high, pick.low].filter((g) => size(g) < minGroupSize) };
}

/** Intervals and drivers of every disparity of one attribute. */
export function disparityIntervals(
  groupCounts: Record<string, ConfusionCounts>,
  confidence: number,
  minGroupSize: number,
): { intervals: Record<string, DisparityInterval>; drivers: Record<string, DisparityDriver | null> } {
  const intervals: Record<string, DisparityInterval> = {};
  const drivers: Record<string, DisparityDriver | null> = {};
  for (const definition of DISPARITIES) {
    const difference = definition.aggregation === 'difference';
    const pairs = pairComparisons(definition, groupCounts, confidence);
    const worst = difference ? 'max' : 'min';
    intervals[definition.id] = worstCase(pairs, worst, confidence, difference ? 'Newcombe hybrid score interval of the group difference' : 'MOVER-R interval (Wilson limits) of the group ratio');
    drivers[definition.id] = driverOf(pairs, worst, groupCounts, minGroupSize);
    if (difference) {
      const id = `${definition.id}_to_overall`;
      const toOverall = overallComparisons(definition, groupCounts, confidence);
      intervals[id] = worstCase(toOverall, 'max', confidence, 'Newcombe hybrid score interval of the group against the other rows, scaled to the overall rate');
      drivers[id] = driverOf(toOverall, 'max', groupCounts, minGroupSize);
    }
  }
  return { intervals, drivers };
}
