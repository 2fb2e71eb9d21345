import { wilsonInterval, type Interval } from './intervals';
import { gather } from '../base/rows';
import { edgesAtOrBelow } from '../base/order';

/** One bin of a reliability table; an empty bin carries only its index and n = 0. */
export interface CalibrationBin {
  bin: number;
  n: number;
  /** Bin edges [lower, upper) — the last bin is closed [lower, 1]. */
  lower: number;
  upper: number;
  mean_predicted?: number;
  fraction_positive?: number;
  /** Wilson interval of the observed positive rate in the bin. */
  fraction_positive_interval?: Interval | null;
}

/** Expected and maximum calibration error with the reliability table behind them. */
export interface CalibrationSummary {
  expected_calibration_error: number | null;
  maximum_calibration_error: number | null;
  bins: number;
  binning: string;
  table: CalibrationBin[];
}

/** The convention the calibration numbers follow, written next to them in the result. */
export const CALIBRATION_BINNING = 'equal-width on p(y=1), last bin closed';

/** The convention of equal-frequency bins. */
export const EQUAL_FREQUENCY_BINNING = 'equal-frequency on p(y=1): edges at the sorted scores of rank ⌊k·n/B⌋, duplicate edges (and one at the minimum) merged, bins [e_k, e_k+1), last bin closed';

/** How reliability bins are drawn. */
export type Binning = 'equal-width' | 'equal-frequency';

/**
 * The bins of a reliability table (see {@link calibration}): their lower edges for
 * equal-frequency bins (null: equal-width), their number, and a score's bin.
 */
export function calibrationBins(scores: Float64Array, bins: number, binning: Binning | undefined, rows?: Uint32Array): { edges: number[] | null; count: number; binOf: (p: number) => number } {
  const edges = binning === 'equal-frequency' ? equalFrequencyEdges(scores, bins, rows) : null;
  const count = edges ? edges.length : bins;
  const binOf = (p: number) => (edges ? Math.max(0, edgesAtOrBelow(edges, p) - 1) : Math.min(count - 1, Math.max(0, Math.floor(p * count))));
  return { edges, count, binOf };
}

/** Lower edges of equal-frequency bins (the first is 0), duplicates merged. */
export function equalFrequencyEdges(scores: Float64Array, bins: number, rows?: Uint32Array): number[] {
  const values = rows ? gather(scores, rows) : Float64Array.from(scores);
  values.sort();
  const edges = [0];
  for (let k = 1; k < bins; k++) {
    const edge = values[Math.floor((k * values.length) / bins)];
    // An edge at the minimum would leave the first bin empty.
    if (edge !== undefined && edge > edges[edges.length - 1] && edge > values[0]) edges.push(edge);
  }
  return edges;
}

/**
 * Reliability table with `bins` equal-width bins on p(positive) — bin b holds scores in
 * [b/B, (b+1)/B), the last bin also holds 1 — or equal-frequency bins (see
 * {@link EQUAL_FREQUENCY_BINNING}). ECE = Σ_b (n_b/n)·|mean(y) − mean(p)|;
 * MCE = max_b |mean(y) − mean(p)| over non-empty bins (positive-class calibration, not
 * top-label). Null when there are no rows.
 */
export function calibration(labels: Uint8Array, scores: Float64Array, options: { bins?: number; rows?: Uint32Array; confidence?: number; binning?: Binning } = {}): CalibrationSummary {
  const { edges, count: binCount, binOf } = calibrationBins(scores, options.bins ?? 10, options.binning, options.rows);
  const counts = new Float64Array(binCount);
  const scoreSums = new Float64Array(binCount);
  const positives = new Float64Array(binCount);
  const n = options.rows ? options.rows.length : labels.length;
  for (let k = 0; k < n; k++) {
    const i = options.rows ? options.rows[k] : k;
    const bin = binOf(scores[i]);
    counts[bin]++;
    scoreSums[bin] += scores[i];
    positives[bin] += labels[i];
  }
  let ece = 0;
  let mce = 0;
  const table: CalibrationBin[] = [];
  for (let b = 0; b < binCount; b++) {
    const bounds = edges ? { lower: edges[b], upper: b + 1 < edges.length ? edges[b + 1] : 1 } : { lower: b / binCount, upper: (b + 1) / binCount };
    if (counts[b] === 0) {
      table.push({ bin: b, n: 0, ...bounds });
      continue;
    }
    const meanPredicted = scoreSums[b] / counts[b];
    const fractionPositive = positives[b] / counts[b];
    const gap = Math.abs(fractionPositive - meanPredicted);
    ece += (counts[b] / n) * gap;
    mce = Math.max(mce, gap);
    table.push({
      bin: b,
      n: counts[b],
      ...bounds,
      mean_predicted: meanPredicted,
      fraction_positive: fractionPositive,
      fraction_positive_interval: wilsonInterval(positives[b], counts[b], options.confidence),
    });
  }
  return {
    expected_calibration_error: n === 0 ? null : ece,
    maximum_calibration_error: n === 0 ? null : mce,
    bins: binCount,
    binning: edges ? EQUAL_FREQUENCY_BINNING : CALIBRATION_BINNING,
    table,
  };
}
