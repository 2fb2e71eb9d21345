import { exp, log } from '../../base/math';
/** Distribution tests used by the drift analysis. */

/** ln Γ(x) (Lanczos, |error| < 2e-10). */
function lnGamma(x: number): number {
  const c = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5];
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * log(x + 5.5);
  let series = 1.000000000190015;
  for (const coefficient of c) series += coefficient / ++y;
  return -tmp + log((2.5066282746310005 * series) / x);
}

/** Regularised upper incomplete gamma Q(a, x) (series below a + 1, continued fraction above). */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return 1 - sum * exp(-x + a * log(x) - lnGamma(a));
  }
  let b = x + 1 - a;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return exp(-x + a * log(x) - lnGamma(a)) * h;
}

/**
 * Pearson's χ² statistic of the 2 × k table of two samples' counts (`reference[k]`,
 * `current[k]`), no continuity correction; a bin empty in both adds nothing. `bins`: the bins
 * holding a count (k − 1 of them is the test's degrees of freedom).
 */
export function homogeneityChiSquare(reference: readonly number[], current: readonly number[]): { statistic: number; bins: number } {
  let n = 0;
  let m = 0;
  for (let k = 0; k < reference.length; k++) [n, m] = [n + reference[k], m + current[k]];
  let statistic = 0;
  let bins = 0;
  for (let k = 0; k < reference.length; k++) {
    const total = reference[k] + current[k];
    if (total <= 0) continue;
    bins++;
    for (const [count, size] of [[reference[k], n], [current[k], m]]) {
      const expected = (total * size) / (n + m);
      if (expected > 0) statistic += ((count - expected) * (count - expected)) / expected;
    }
  }
  return { statistic, bins };
}

/** Upper tail of the χ² distribution with `df` degrees of freedom. */
export function chiSquareSurvival(statistic: number, df: number): number {
  return df <= 0 ? 1 : gammaQ(df / 2, statistic / 2);
}

/**
 * Two-sample Kolmogorov–Smirnov statistic D = sup |F_ref − F_cur| and its asymptotic
 * p-value Q_KS((√n_e + 0.12 + 0.11/√n_e)·D), n_e = n·m/(n+m) (Stephens 1970, as in
 * Numerical Recipes). Both samples must be sorted and free of NaN.
 */
export function kolmogorovSmirnov(reference: Float64Array, current: Float64Array): { statistic: number; p_value: number } {
  const n = reference.length;
  const m = current.length;
  if (n === 0 || m === 0) return { statistic: 0, p_value: 1 };
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const x = Math.min(reference[i], current[j]);
    while (i < n && reference[i] === x) i++;
    while (j < m && current[j] === x) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  const ne = (n * m) / (n + m);
  const lambda = (Math.sqrt(ne) + 0.12 + 0.11 / Math.sqrt(ne)) * d;
  return { statistic: d, p_value: kolmogorovQ(lambda) };
}

/**
 * Q_KS(λ) = P(K > λ) of the Kolmogorov distribution, to double precision everywhere: the
 * alternating series 2 Σ (−1)^(k−1) e^(−2k²λ²) converges fast only for larger λ, so below
 * λ = 1.18 it is 1 − (√(2π)/λ) Σ e^(−(2k−1)²π²/(8λ²)) (the Jacobi-theta form; both as
 * Numerical Recipes' probks and scipy's kstwobign evaluate it).
 */
export function kolmogorovQ(lambda: number): number {
  if (!(lambda > 0)) return 1;
  if (lambda < 1.18) {
    const w = (Math.PI * Math.PI) / (8 * lambda * lambda);
    let sum = 0;
    for (let k = 1; k <= 50; k++) {
      const term = exp(-(2 * k - 1) * (2 * k - 1) * w);
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    return Math.min(1, Math.max(0, 1 - (Math.sqrt(2 * Math.PI) / lambda) * sum));
  }
  let sum = 0;
  let sign = 1;
  for (let k = 1; k <= 100; k++) {
    const term = 2 * exp(-2 * k * k * lambda * lambda);
    sum += sign * term;
    if (term < 1e-17) break;
    sign = -sign;
  }
  return Math.min(1, Math.max(0, sum));
}

/** Wasserstein-1 distance between two sorted samples (area between their CDFs). */
export function wasserstein(reference: Float64Array, current: Float64Array): number {
  const n = reference.length;
  const m = current.length;
  if (n === 0 || m === 0) return 0;
  let i = 0;
  let j = 0;
  let previous = Math.min(reference[0], current[0]);
  let distance = 0;
  while (i < n || j < m) {
    const x = j >= m || (i < n && reference[i] <= current[j]) ? reference[i] : current[j];
    distance += Math.abs(i / n - j / m) * (x - previous);
    previous = x;
    while (i < n && reference[i] === x) i++;
    while (j < m && current[j] === x) j++;
  }
  return distance;
}
