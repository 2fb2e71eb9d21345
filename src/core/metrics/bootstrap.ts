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

/** Rows above which the ECE bootstrap resamples bins instead of rows. */
export const ECE_ROW_BOOTSTRAP_LIMIT = 100_000;

/**
 * Percentile interval of the ECE. Up to {@link ECE_ROW_BOOTSTRAP_LIMIT} rows: a plain row
 * bootstrap. Above: each replicate redraws the bin counts (multinomial), the positives per
 * bin (binomial) and the bin's score sum (normal with the bin's score variance) — the
 * row bootstrap's distribution at bin level, in O(bins) per replicate.
 */
export function bootstrapEce(labels: Uint8Array, scores: Float64Array, bins: number, options: BootstrapOptions, stream: string, binning: Binning = 'equal-width'): BootstrapInterval {
  const random = new Random(options.seed, stream);
  const n = labels.length;
  if (n === 0) return null;
  const replicates = new Float64Array(options.resamples);
  if (n <= ECE_ROW_BOOTSTRAP_LIMIT) {
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
  const count = new Float64Array(bins);
  const positives = new Float64Array(bins);
  const sum = new Float64Array(bins);
  const sumSquares = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const bin = binOf(scores[i]);
    count[bin]++;
    positives[bin] += labels[i];
    sum[bin] += scores[i];
    sumSquares[bin] += scores[i] * scores[i];
  }
  const shares = Array.from(count, (c) => c / n);
  for (let b = 0; b < options.resamples; b++) {
    const drawn = random.multinomial(n, shares);
    let ece = 0;
    for (let k = 0; k < bins; k++) {
      const m = drawn[k];
      if (m === 0) continue;
      const mean = sum[k] / count[k];
      const variance = Math.max(0, sumSquares[k] / count[k] - mean * mean);
      const meanPredicted = mean + Math.sqrt(variance / m) * random.normal();
      const observed = random.binomial(m, positives[k] / count[k]) / m;
      ece += (m / n) * Math.abs(observed - meanPredicted);
    }
    replicates[b] = ece;
  }
  const interval = percentileInterval(replicates, options.confidence);
  return interval && { ...interval, method: 'bin-level bootstrap (multinomial bin counts, binomial positives, normal bin means)' };
}
