import { normalCdf, normalQuantile } from './intervals';

/**
 * Power of a two-sided two-proportion z-test (pooled variance under H0) to detect a
 * difference `delta` in a rate between groups of sizes n1 and n2, around the baseline
 * rate `p`, at significance `alpha`:
 *   power = Φ((δ − z·se0)/se1) + Φ((−δ − z·se0)/se1),
 * se0 = √(p(1−p)(1/n1+1/n2)), se1 = √(p1(1−p1)/n1 + p2(1−p2)/n2), p1,2 = p ∓ δ/2 (clamped).
 * Null when a group is empty.
 */
export function twoProportionPower(n1: number, n2: number, p: number, delta = 0.05, alpha = 0.05): number | null {
  if (n1 === 0 || n2 === 0) return null;
  const clamp = (x: number) => Math.min(1 - 1e-9, Math.max(1e-9, x));
  const base = clamp(p);
  const p1 = clamp(base - delta / 2);
  const p2 = clamp(base + delta / 2);
  const z = normalQuantile(1 - alpha / 2);
  const se0 = Math.sqrt(base * (1 - base) * (1 / n1 + 1 / n2));
  const se1 = Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2);
  return normalCdf((delta - z * se0) / se1) + normalCdf((-delta - z * se0) / se1);
}
