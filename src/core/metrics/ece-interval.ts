/**
 * A confidence interval for the expected calibration error that holds near zero.
 *
 * The binned ECE, Σ w_b |ȳ_b − s̄_b|, is biased upward: each bin's gap is noisy and the
 * absolute value turns noise into error, so a well-calibrated model has an ECE above 0
 * and a percentile bootstrap of it never reaches down to the truth (measured: 0% coverage
 * for a calibrated model on 300 or 3,000 rows). This interval inverts a test instead.
 *
 * Each bin's observed gap d_b is modelled as N(δ_b, σ_b²), σ_b² = p̃_b(1 − p̃_b)/n_b with
 * the Agresti–Coull p̃_b = (positives + 2)/(n_b + 4) (a bin of all-negative rows still has
 * noise), and the bins' shares of the rows as Multinomial(n, n_b/n), as resampling rows
 * would move them. Along the observed direction, δ(t) = t·d for t ≥ 0, the ECE of δ(t) is t·ECE; for
 * each t the ECE of N(δ(t), σ²) gaps is drawn `draws` times (the same standard normals for
 * every t, seeded from the audit's seed), and the interval is the set of t·ECE whose
 * central (1 − α) range of drawn ECEs holds the observed one. At t = 0 this is the test of
 * perfect calibration, so the lower bound is 0 exactly when the data cannot tell the model
 * from a calibrated one; far from 0 it is a bias-corrected normal interval. Coverage is
 * checked by simulation in tests/core/coverage.test.ts.
 *
 * When the estimate lies outside the interval (the data say the true ECE is below the
 * inflated binned estimate), the method says so; the interval is not stretched to hold it.
 */
import type { CalibrationBin } from './calibration';
import { Random } from '../base/random';

/** The ECE interval, its method and, when the estimate falls outside, why. */
export type EceInterval = { low: number; high: number; method: string; note?: string } | null;

/** Default number of simulated ECEs per tested t. */
export const ECE_INTERVAL_DRAWS = 1000;

export function eceInterval(table: CalibrationBin[], estimate: number | null, confidence: number, seed: number, stream: string, draws = ECE_INTERVAL_DRAWS): EceInterval {
  const bins = table.filter((b) => b.n > 0 && b.fraction_positive !== undefined && b.mean_predicted !== undefined);
  if (estimate === null || bins.length === 0 || draws < 20) return null;
  const n = bins.reduce((sum, b) => sum + b.n, 0);
  const weight = bins.map((b) => b.n / n);
  const gap = bins.map((b) => (b.fraction_positive as number) - (b.mean_predicted as number));
  const sd = bins.map((b) => {
    const p = (b.fraction_positive! * b.n + 2) / (b.n + 4);
    return Math.sqrt((p * (1 - p)) / b.n);
  });
  const random = new Random(seed, stream);
  const normals = Float64Array.from({ length: draws * bins.length }, () => random.normal());
  // Each draw's bin weights (multinomial, as resampling rows moves them) and its gaps' spread at those counts.
  const drawnWeight = new Float64Array(draws * bins.length);
  const drawnSd = new Float64Array(draws * bins.length);
  for (let r = 0; r < draws; r++) {
    const counts = random.multinomial(n, weight);
    for (let b = 0; b < bins.length; b++) {
      drawnWeight[r * bins.length + b] = counts[b] / n;
      drawnSd[r * bins.length + b] = counts[b] === 0 ? 0 : sd[b] * Math.sqrt(bins[b].n / counts[b]);
    }
  }
  const alpha = 1 - confidence;
  const drawn = new Float64Array(draws);
  // The [α/2, 1 − α/2] quantiles of the ECE of gaps drawn around t·d.
  const quantiles = (t: number): [number, number] => {
    for (let r = 0; r < draws; r++) {
      let e = 0;
      for (let b = 0; b < bins.length; b++) {
        const k = r * bins.length + b;
        e += drawnWeight[k] * Math.abs(t * gap[b] + drawnSd[k] * normals[k]);
      }
      drawn[r] = e;
    }
    drawn.sort();
    const at = (q: number) => drawn[Math.min(draws - 1, Math.max(0, Math.round(q * (draws - 1))))];
    return [at(alpha / 2), at(1 - alpha / 2)];
  };
  // The drawn ECE grows with t; find where each quantile crosses the observed ECE by bisection.
  const crossing = (which: 0 | 1): number => {
    if (quantiles(0)[which] >= estimate) return 0;
    let low = 0;
    let high = 1;
    while (quantiles(high)[which] < estimate && high < 64) {
      low = high;
      high *= 2;
    }
    for (let k = 0; k < 40; k++) {
      const mid = (low + high) / 2;
      if (quantiles(mid)[which] < estimate) low = mid;
      else high = mid;
    }
    return (low + high) / 2;
  };
  const lowerT = crossing(1);
  const upperT = crossing(0);
  const interval = { low: lowerT * estimate, high: Math.max(lowerT, upperT) * estimate, method: 'test inversion: simulated binned ECE around scaled observed bin gaps' };
  if (estimate > interval.high) return { ...interval, note: 'the binned ECE overstates calibration error (the absolute gaps turn noise into error), so the interval lies below the estimate' };
  return interval;
}
