import { calibration, type Binning } from './calibration';
import { confusionCounts, RATE_METRICS, ratio, type ConfusionCounts, type RateMetricId } from './confusion';
import { wilsonInterval, type Interval } from './intervals';
import { rankMetricsByGroup, sortScores, type RankMetrics, type SortedScores } from '../base/ranks';
import type { GroupIndex } from './groups';
import { twoProportionPower } from './power';

/** Rates reported for every group. */
export const GROUP_RATES: RateMetricId[] = ['base_rate', 'selection_rate', 'tpr', 'fpr', 'fnr', 'tnr', 'precision', 'npv', 'accuracy'];

/** Why a rate is undefined for a group, in words. */
const NULL_REASON: Partial<Record<RateMetricId, string>> = {
  tpr: 'no actual positives in the group',
  fnr: 'no actual positives in the group',
  fpr: 'no actual negatives in the group',
  tnr: 'no actual negatives in the group',
  precision: 'no rows predicted positive in the group',
  npv: 'no rows predicted negative in the group',
};

/** Metrics of one group of one protected attribute. */
export interface GroupMetrics {
  n: number;
  /** Rates by id; null where the denominator is empty (see `null_reasons`). */
  [rate: string]: unknown;
  confusion: ConfusionCounts;
  roc_auc: number | null;
  expected_calibration_error: number | null;
  /** Wilson intervals of each defined rate. */
  intervals: Record<string, Interval | null>;
  null_reasons: Record<string, string>;
  /** The group has fewer rows than `min_group_size`: its numbers are too noisy to judge. */
  insufficient_samples: boolean;
}

/**
 * A disparity: an aggregation of one or more group rates into one number.
 * `difference` is max − min over the groups where the rate is defined; `ratio` is
 * min / max. With several rates, `combine` takes the worst of them.
 */
export interface DisparityDefinition {
  id: string;
  label: string;
  rates: RateMetricId[];
  aggregation: 'difference' | 'ratio';
  definition: string;
}

/** The disparity metrics, generated from rates × aggregation (fairlearn's naming). */
export const DISPARITIES: DisparityDefinition[] = [
  { id: 'demographic_parity_difference', label: 'Demographic parity difference', rates: ['selection_rate'], aggregation: 'difference', definition: 'max − min of the groups’ selection rates.' },
  { id: 'demographic_parity_ratio', label: 'Demographic parity ratio', rates: ['selection_rate'], aggregation: 'ratio', definition: 'min / max of the groups’ selection rates.' },
  { id: 'equal_opportunity_difference', label: 'Equal opportunity difference', rates: ['tpr'], aggregation: 'difference', definition: 'max − min of the groups’ true positive rates (groups without positives left out).' },
  { id: 'equalized_odds_difference', label: 'Equalized odds difference', rates: ['tpr', 'fpr'], aggregation: 'difference', definition: 'max(ΔTPR, ΔFPR), each a max − min over the groups where it is defined.' },
  { id: 'equalized_odds_ratio', label: 'Equalized odds ratio', rates: ['tpr', 'fpr'], aggregation: 'ratio', definition: 'min(TPR ratio, FPR ratio), each min / max over the groups.' },
  { id: 'predictive_parity_difference', label: 'Predictive parity difference', rates: ['precision'], aggregation: 'difference', definition: 'max − min of the groups’ precision (PPV).' },
  { id: 'fpr_difference', label: 'False positive rate difference', rates: ['fpr'], aggregation: 'difference', definition: 'max − min of the groups’ false positive rates.' },
  { id: 'fnr_difference', label: 'False negative rate difference', rates: ['fnr'], aggregation: 'difference', definition: 'max − min of the groups’ false negative rates.' },
  { id: 'accuracy_difference', label: 'Accuracy difference', rates: ['accuracy'], aggregation: 'difference', definition: 'max − min of the groups’ accuracy.' },
];

/**
 * The smallest and largest of some values, in one pass (`Math.min(...values)` passes every
 * value as an argument, which overflows the call stack past ~100,000 of them).
 */
export function extent(values: ArrayLike<number>): [min: number, max: number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

/** A comparison needs two groups where the rate is defined; with fewer it is null. */
function aggregate(values: number[], aggregation: 'difference' | 'ratio'): number | null {
  if (values.length < 2) return null;
  const [min, max] = extent(values);
  if (aggregation === 'difference') return max - min;
  return max === 0 ? null : min / max;
}

/** Rates of one group by id (null where undefined). */
export type GroupRates = Partial<Record<RateMetricId, number | null>>;

/** Value of one disparity over groups' rates; null when no rate is defined in two groups. */
export function disparity(definition: DisparityDefinition, groups: Record<string, GroupRates | GroupMetrics>): number | null {
  const parts = definition.rates.map((rate) =>
    aggregate(
      Object.values(groups)
        .map((g) => (g as GroupRates)[rate] ?? null)
        .filter((v): v is number => v !== null),
      definition.aggregation,
    ),
  );
  const defined = parts.filter((v): v is number => v !== null);
  if (defined.length === 0) return null;
  const [min, max] = extent(defined);
  return definition.aggregation === 'difference' ? max : min;
}

/** Fairness of one protected attribute: group metrics, disparities, four-fifths rule. */
export interface AttributeFairness {
  groups: Record<string, GroupMetrics>;
  [disparity: string]: unknown;
  min_group_size: number;
  /** The four-fifths rule: ratios to the reference group, which `basis` names in words. */
  four_fifths_rule: { reference_group: string; basis?: string; ratios: Record<string, number | null>; violations: string[] };
}

/** Options of {@link attributeFairness}. */
export interface FairnessOptions {
  threshold: number;
  confidence: number;
  minGroupSize: number;
  bins: number;
  binning?: Binning;
  /** Whether the scores are probabilities: a group's calibration error is computed only then (a raw score has no p(y=1) to bin). */
  probabilities: boolean;
  /** Reference group of the four-fifths rule per attribute (default: the group with the highest selection rate, as the EEOC rule has it). */
  referenceGroups?: Record<string, string>;
}

/** Metrics of one group (rows) at the threshold; `rank` holds its AUC from the shared order. */
export function groupMetrics(labels: Uint8Array, scores: Float64Array, rows: Uint32Array, options: FairnessOptions, rank: RankMetrics): GroupMetrics {
  const confusion = confusionCounts(labels, scores, options.threshold, rows);
  const metrics: GroupMetrics = {
    n: rows.length,
    confusion,
    roc_auc: rank.auc,
    expected_calibration_error: options.probabilities ? calibration(labels, scores, { rows, bins: options.bins, binning: options.binning }).expected_calibration_error : null,
    intervals: {},
    null_reasons: options.probabilities ? {} : { expected_calibration_error: 'not computed: the scores are not probabilities' },
    insufficient_samples: rows.length < options.minGroupSize,
  };
  for (const id of GROUP_RATES) {
    const parts = RATE_METRICS[id].parts(confusion);
    metrics[id] = ratio(parts);
    metrics.intervals[id] = wilsonInterval(parts.numerator, parts.denominator, options.confidence);
    if (parts.denominator === 0) metrics.null_reasons[id] = NULL_REASON[id] ?? 'empty group';
  }
  if (metrics.roc_auc === null) metrics.null_reasons.roc_auc = 'the group holds a single class';
  return metrics;
}

/**
 * The largest gap between a group's rate and the overall rate, for each difference-type
 * disparity (`<id>_to_overall`); null when no group has the rate defined.
 */
export function disparityToOverall(definition: DisparityDefinition, groups: Record<string, GroupRates | GroupMetrics>, overall: GroupRates): number | null {
  let worst: number | null = null;
  for (const rate of definition.rates) {
    const reference = overall[rate];
    if (reference === null || reference === undefined) continue;
    for (const group of Object.values(groups)) {
      const value = (group as GroupRates)[rate];
      if (value === null || value === undefined) continue;
      worst = Math.max(worst ?? 0, Math.abs(value - reference));
    }
  }
  return worst;
}

/**
 * Whether disparity `id` (a {@link DISPARITIES} id, or its `_to_overall`) of one attribute
 * turns on groups under the minimum size: its value over the other groups differs. Gives the
 * small groups whose rate lies outside the others' and the value without them (null where
 * fewer than two other groups have the rate); null when the small groups change nothing.
 */
export function smallGroupDisparity(id: string, groups: Record<string, GroupMetrics>): { groups: { name: string; n: number }[]; without: number | null } | null {
  const toOverall = id.endsWith('_to_overall');
  const definition = DISPARITIES.find((d) => d.id === (toOverall ? id.slice(0, -'_to_overall'.length) : id));
  if (!definition) return null;
  const large = Object.fromEntries(Object.entries(groups).filter(([, g]) => !g.insufficient_samples));
  if (Object.keys(large).length === Object.keys(groups).length) return null;
  // The overall rates are the whole table's, small groups and all: only the groups compared change.
  const value = (of: Record<string, GroupMetrics>) => (toOverall ? disparityToOverall(definition, of, overallOf(groups)) : disparity(definition, of));
  const without = value(large);
  if (without === value(groups)) return null;
  const outside = Object.entries(groups).filter(([, g]) => g.insufficient_samples && definition.rates.some((rate) => {
    const own = g[rate] as number | null | undefined;
    if (own === null || own === undefined) return false;
    const others = Object.values(large).map((l) => l[rate] as number | null | undefined).filter((v): v is number => v !== null && v !== undefined);
    return others.length === 0 || own < extent(others)[0] || own > extent(others)[1];
  }));
  return { groups: outside.map(([name, g]) => ({ name, n: g.n })), without };
}

/** The table's rates from its groups' confusion counts (every row is in one group). */
function overallOf(groups: Record<string, GroupMetrics>): GroupRates {
  const total = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (const g of Object.values(groups)) for (const key of ['tp', 'fp', 'tn', 'fn'] as const) total[key] += g.confusion[key];
  return ratesOf(total);
}

/** Rates of confusion counts, by id. */
export function ratesOf(confusion: ConfusionCounts): GroupRates {
  const rates: GroupRates = {};
  for (const id of GROUP_RATES) rates[id] = ratio(RATE_METRICS[id].parts(confusion));
  return rates;
}

/** Group metrics, every disparity (between groups and to overall), and the four-fifths rule for one protected attribute. */
export function attributeFairness(labels: Uint8Array, scores: Float64Array, index: GroupIndex, options: FairnessOptions, sorted?: SortedScores): AttributeFairness {
  const ranks = rankMetricsByGroup(sorted ?? sortScores(labels, scores), index.groupOf, index.groups.length);
  const groups: Record<string, GroupMetrics> = {};
  index.groups.forEach((group, g) => {
    groups[group] = groupMetrics(labels, scores, index.rows[g], options, ranks[g]);
  });
  const result: AttributeFairness = {
    groups,
    min_group_size: extent(index.rows.map((r) => r.length))[0],
    four_fifths_rule: fourFifths(groups, options.referenceGroups?.[index.attribute]),
  };
  const overall = ratesOf(confusionCounts(labels, scores, options.threshold));
  for (const definition of DISPARITIES) {
    result[definition.id] = disparity(definition, groups);
    if (definition.aggregation === 'difference') result[`${definition.id}_to_overall`] = disparityToOverall(definition, groups, overall);
  }
  return result;
}

/**
 * The four-fifths (80%) rule as the EEOC's Uniform Guidelines state it: each group's
 * selection rate divided by the highest group's selection rate (ties: the larger group);
 * a ratio under 0.8 is a violation. A configured reference group
 * (`fairness.reference_groups`) replaces the highest-rate group, and `basis` says which.
 */
function fourFifths(groups: Record<string, GroupMetrics>, referenceGroup?: string) {
  const names = Object.keys(groups);
  const configured = referenceGroup !== undefined && names.includes(referenceGroup);
  const rate = (name: string) => (groups[name].selection_rate as number | null) ?? Number.NEGATIVE_INFINITY;
  const reference = configured
    ? referenceGroup
    : names.reduce((best, name) => (rate(name) > rate(best) || (rate(name) === rate(best) && groups[name].n > groups[best].n) ? name : best), names[0]);
  const referenceRate = groups[reference].selection_rate as number;
  const ratios: Record<string, number | null> = {};
  const violations: string[] = [];
  for (const name of names) {
    const value = groups[name].selection_rate as number;
    ratios[name] = referenceRate === 0 ? null : value / referenceRate;
    if (ratios[name] !== null && (ratios[name] as number) < 0.8) violations.push(name);
  }
  const basis = configured ? 'the configured reference group (fairness.reference_groups)' : 'the group with the highest selection rate (EEOC Uniform Guidelines)';
  return { reference_group: reference, basis, ratios, violations };
}

/** Statistical power of one attribute: the power of each group's comparison, and the smallest. */
export interface AttributePower {
  statistical_power: number | null;
  power: { groups: [string, string]; n: [number, number]; power: number | null }[];
}

/**
 * Power of a two-proportion z-test (see {@link twoProportionPower}) to detect a difference
 * `delta` in selection rate between each group and the reference group (the configured
 * one, else the largest — not the four-fifths rule's, the highest rate), around the overall `rate`;
 * `statistical_power` is the smallest. One comparison per group, so the work and the
 * result grow with the group count, not with its square as every pair of groups would
 * (2,000 groups made two million pairs).
 */
export function powerAgainstReference(index: GroupIndex, rate: number, delta: number, referenceGroup?: string): AttributePower {
  let reference = referenceGroup === undefined ? -1 : index.groups.indexOf(referenceGroup);
  if (reference < 0) for (let g = 0; g < index.groups.length; g++) if (reference < 0 || index.rows[g].length > index.rows[reference].length) reference = g;
  const power: AttributePower['power'] = [];
  let smallest: number | null = null;
  for (let g = 0; g < index.groups.length; g++) {
    if (g === reference) continue;
    const n: [number, number] = [index.rows[g].length, index.rows[reference].length];
    const value = twoProportionPower(n[0], n[1], rate, delta);
    power.push({ groups: [index.groups[g], index.groups[reference]], n, power: value });
    if (value !== null && (smallest === null || value < smallest)) smallest = value;
  }
  return { statistical_power: smallest, power };
}
