import { exp, log } from '../base/math';
/** Confidence intervals for rates and AUC. */

/** A two-sided interval with the method that produced it. */
export interface Interval {
  low: number;
  high: number;
}

/** Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0 || p >= 1) throw new RangeError(`normalQuantile: p must lie in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * Wilson score interval for `successes` out of `trials` at the given confidence.
 * Null when there are no trials (the rate itself is undefined).
 */
export function wilsonInterval(successes: number, trials: number, confidence = 0.95): Interval | null {
  if (trials === 0) return null;
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = successes / trials;
  const z2n = (z * z) / trials;
  const center = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / trials + (z * z) / (4 * trials * trials));
  // At p = 0 (p = 1) the bound is exactly 0 (1); the formula leaves a rounding residue.
  return { low: successes === 0 ? 0 : Math.max(0, center - half), high: successes === trials ? 1 : Math.min(1, center + half) };
}

/**
 * Interval of a ROC AUC from its DeLong standard error, on the logit scale (then mapped
 * back), which keeps it inside (0, 1) and holds its coverage for high AUCs on small
 * samples where the plain ± z·se interval does not (measured: 0.79 vs 0.89 at 10 + 10 rows
 * and AUC 0.92; both ≈ 0.95 from 50 + 50). Where DeLong's se is 0 — an AUC of exactly 0 or
 * 1, or placements all alike (constant scores) — the sample says nothing of its own spread:
 * the interval is then the score interval under the largest variance an AUC can have,
 * A(1 − A)/min(m, n) (van Dantzig's bound), i.e. the Wilson interval of the AUC as a share
 * of min(m, n) trials. It narrows as the rows grow (a perfect split of 100 + 100 rows:
 * 0.963–1), where the Hanley–McNeil variance half a pair from the bound, used before,
 * widened (5.6e-5–1).
 */
export function aucInterval(auc: number, standardError: number, positives: number, negatives: number, confidence = 0.95): Interval {
  if (!(standardError > 0)) {
    const trials = Math.min(positives, negatives);
    return wilsonInterval(auc * trials, trials, confidence)!;
  }
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const pairs = positives * negatives;
  const a = Math.min(Math.max(auc, 0.5 / pairs), 1 - 0.5 / pairs);
  const center = log(a / (1 - a));
  const half = (z * standardError) / (a * (1 - a));
  const back = (x: number) => 1 / (1 + exp(-x));
  return { low: Math.min(auc, back(center - half)), high: Math.max(auc, back(center + half)) };
}

/**
 * Standard normal CDF Φ(x), from the complementary error function (Numerical Recipes'
 * Chebyshev fit, relative error < 1.2e-7).
 */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** Percentile interval of bootstrap replicates (NaN replicates, where undefined, left out). */
export function percentileInterval(replicates: Float64Array, confidence = 0.95): (Interval & { replicates: number }) | null {
  const defined = replicates.filter((v) => !Number.isNaN(v)).sort();
  if (defined.length < 2) return null;
  const quantile = (q: number) => {
    const position = q * (defined.length - 1);
    const lower = Math.floor(position);
    const upper = Math.min(defined.length - 1, lower + 1);
    return defined[lower] + (defined[upper] - defined[lower]) * (position - lower);
  };
  const alpha = (1 - confidence) / 2;
  return { low: quantile(alpha), high: quantile(1 - alpha), replicates: defined.length };
}

/** A confidence level as reports write it: 0.95 → "95%", 0.8 → "80%", 0.999 → "99.9%". */
export function confidenceLabel(confidence: number): string {
  return `${Number((confidence * 100).toFixed(1))}%`;
}
