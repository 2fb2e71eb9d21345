import { wilsonInterval, type Interval } from './intervals';

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

/**
 * Reliability table with `bins` equal-width bins on p(positive): bin b holds scores in
 * [b/B, (b+1)/B), the last bin also holds 1. ECE = Σ_b (n_b/n)·|mean(y) − mean(p)|;
 * MCE = max_b |mean(y) − mean(p)| over non-empty bins (positive-class calibration, not
 * top-label). Null when there are no rows.
 */
export function calibration(labels: Uint8Array, scores: Float64Array, options: { bins?: number; rows?: Uint32Array; confidence?: number } = {}): CalibrationSummary {
  const binCount = options.bins ?? 10;
  const counts = new Float64Array(binCount);
  const scoreSums = new Float64Array(binCount);
  const positives = new Float64Array(binCount);
  const n = options.rows ? options.rows.length : labels.length;
  for (let k = 0; k < n; k++) {
    const i = options.rows ? options.rows[k] : k;
    const bin = Math.min(binCount - 1, Math.max(0, Math.floor(scores[i] * binCount)));
    counts[bin]++;
    scoreSums[bin] += scores[i];
    positives[bin] += labels[i];
  }
  let ece = 0;
  let mce = 0;
  const table: CalibrationBin[] = [];
  for (let b = 0; b < binCount; b++) {
    const bounds = { lower: b / binCount, upper: (b + 1) / binCount };
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
    binning: CALIBRATION_BINNING,
    table,
  };
}
