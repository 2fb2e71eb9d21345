import { Random } from '../random';
import { calibration, equalFrequencyEdges, type Binning } from './calibration';
import type { ConfusionCounts } from './confusion';
import { DISPARITIES, disparity, disparityToOverall, ratesOf, type GroupRates } from './fairness';
import { percentileInterval, type Interval } from './intervals';

/** Settings of every bootstrap interval. */
export interface BootstrapOptions {
  resamples: number;
  confidence: number;
  seed: number;
}

/** A bootstrap interval with how many replicates defined the statistic. */
export type BootstrapInterval = (Interval & { replicates: number; method?: string }) | null;

/**
 * Percentile intervals for every disparity of one attribute, by a bootstrap stratified by
 * group: each group keeps its size and its four confusion counts are redrawn as
 * Multinomial(n_g, counts/n_g) — exactly what resampling the group's rows gives for
 * rate-based metrics, without touching the rows. A tiny group is always present.
 */
export function bootstrapDisparities(groupCounts: Record<string, ConfusionCounts>, options: BootstrapOptions, stream: string): Record<string, BootstrapInterval> {
  const random = new Random(options.seed, stream);
  const names = Object.keys(groupCounts);
  const ids = DISPARITIES.flatMap((d) => (d.aggregation === 'difference' ? [d.id, `${d.id}_to_overall`] : [d.id]));
  const replicates = Object.fromEntries(ids.map((id) => [id, new Float64Array(options.resamples)]));
  for (let b = 0; b < options.resamples; b++) {
    const groups: Record<string, GroupRates> = {};
    const total: ConfusionCounts = { tp: 0, fp: 0, tn: 0, fn: 0 };
    for (const name of names) {
      const c = groupCounts[name];
      const n = c.tp + c.fp + c.tn + c.fn;
      const [tp, fp, tn, fn] = n === 0 ? [0, 0, 0, 0] : random.multinomial(n, [c.tp / n, c.fp / n, c.tn / n, c.fn / n]);
      const drawn = { tp, fp, tn, fn };
      groups[name] = ratesOf(drawn);
      total.tp += tp;
      total.fp += fp;
      total.tn += tn;
      total.fn += fn;
    }
    const overall = ratesOf(total);
    for (const definition of DISPARITIES) {
      replicates[definition.id][b] = disparity(definition, groups) ?? Number.NaN;
      if (definition.aggregation === 'difference') replicates[`${definition.id}_to_overall`][b] = disparityToOverall(definition, groups, overall) ?? Number.NaN;
    }
  }
  return Object.fromEntries(ids.map((id) => [id, percentileInterval(replicates[id], options.confidence)]));
}

/** Rows above which the ECE bootstrap resamples cells instead of rows. */
export const ECE_ROW_BOOTSTRAP_LIMIT = 10_000;

/**
 * Percentile interval of the ECE. Up to {@link ECE_ROW_BOOTSTRAP_LIMIT} rows: a plain row
 * bootstrap. Above: the same resampling done on sufficient statistics — each replicate
 * draws the counts of the (bin × label) cells exactly (multinomial, which is what
 * resampling rows does to them) and each cell's score sum from the normal distribution of
 * a sum of that many draws from the cell's scores (within a bin of width 1/B the scores'
 * spread is small, so this part is accurate far beyond the Monte-Carlo noise) — O(B) per
 * replicate instead of O(n).
 */
export function bootstrapEce(
  labels: Uint8Array,
  scores: Float64Array,
  bins: number,
  options: BootstrapOptions,
  stream: string,
  binning: Binning = 'equal-width',
  method: 'auto' | 'rows' | 'cells' = 'auto',
): BootstrapInterval {
  const random = new Random(options.seed, stream);
  const n = labels.length;
  if (n === 0) return null;
  const replicates = new Float64Array(options.resamples);
  if (method === 'rows' || (method === 'auto' && n <= ECE_ROW_BOOTSTRAP_LIMIT)) {
    const rows = new Uint32Array(n);
    for (let b = 0; b < options.resamples; b++) {
      for (let i = 0; i < n; i++) rows[i] = random.int(n);
      replicates[b] = calibration(labels, scores, { bins, rows, binning }).expected_calibration_error ?? Number.NaN;
    }
    const interval = percentileInterval(replicates, options.confidence);
    return interval && { ...interval, method: 'row bootstrap' };
  }
  // Bin edges are held at the full sample's (for equal-frequency bins too).
  const edges = binning === 'equal-frequency' ? equalFrequencyEdges(scores, bins) : null;
  if (edges) bins = edges.length;
  const binOf = (p: number) => {
    if (!edges) return Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    let k = edges.length - 1;
    while (k > 0 && edges[k] > p) k--;
    return k;
  };
  // Cell c = 2·bin + label.
  const cells = 2 * bins;
  const count = new Float64Array(cells);
  const sum = new Float64Array(cells);
  const sumSquares = new Float64Array(cells);
  for (let i = 0; i < n; i++) {
    const c = 2 * binOf(scores[i]) + labels[i];
    count[c]++;
    sum[c] += scores[i];
    sumSquares[c] += scores[i] * scores[i];
  }
  const shares = Array.from(count, (c) => c / n);
  const mean = Array.from(count, (c, k) => (c === 0 ? 0 : sum[k] / c));
  const sd = Array.from(count, (c, k) => (c === 0 ? 0 : Math.sqrt(Math.max(0, sumSquares[k] / c - mean[k] * mean[k]))));
  for (let b = 0; b < options.resamples; b++) {
    const drawn = random.multinomial(n, shares);
    let ece = 0;
    for (let k = 0; k < bins; k++) {
      const m0 = drawn[2 * k];
      const m1 = drawn[2 * k + 1];
      const m = m0 + m1;
      if (m === 0) continue;
      let scoreSum = 0;
      for (const [c, mc] of [[2 * k, m0], [2 * k + 1, m1]]) if (mc > 0) scoreSum += mc * mean[c] + Math.sqrt(mc) * sd[c] * random.normal();
      ece += (m / n) * Math.abs(m1 / m - scoreSum / m);
    }
    replicates[b] = ece;
  }
  const interval = percentileInterval(replicates, options.confidence);
  return interval && { ...interval, method: 'bootstrap on (bin × label) cells: multinomial counts, normal score sums' };
}
