/**
 * Paired tests of two models scored on the same rows: DeLong's test of the difference of
 * two correlated ROC AUCs, McNemar's test of the difference of two accuracies, and a
 * paired bootstrap (the same resampled rows for both models) for everything else.
 */
import { normalCdf, normalQuantile, type Interval } from '../metrics/intervals';
import { exp, log } from '../base/math';
import { Random } from '../base/random';

/** DeLong's paired test of AUC(b) − AUC(a). */
export interface PairedAucTest {
  auc_a: number;
  auc_b: number;
  /** AUC(b) − AUC(a). */
  difference: number;
  standard_error: number;
  /** Two-sided p-value of z = difference / se (1 when se is 0 and the AUCs are equal, 0 when they differ). */
  p_value: number;
  interval: Interval;
}

/**
 * Placement values of one model (DeLong, Clarke-Pearson 1988): for each positive, the share
 * of negatives it outscores (ties half); for each negative, the share of positives that
 * outscore it. Sorting makes it O(n log n).
 */
export function placements(labels: Uint8Array, scores: ArrayLike<number>): { positives: Float64Array; negatives: Float64Array } {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => scores[x] - scores[y] || x - y);
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += labels[i];
  const nNeg = n - nPos;
  const positives = new Float64Array(nPos);
  const negatives = new Float64Array(nNeg);
  // Rows in label order, so that the two models' placements line up row by row.
  const posSlot = new Int32Array(n);
  const negSlot = new Int32Array(n);
  for (let i = 0, p = 0, q = 0; i < n; i++) {
    if (labels[i] === 1) posSlot[i] = p++;
    else negSlot[i] = q++;
  }
  let negBelow = 0;
  let posBelow = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    let tiedPos = 0;
    let tiedNeg = 0;
    while (end < n && scores[order[end]] === scores[order[start]]) {
      if (labels[order[end]] === 1) tiedPos++;
      else tiedNeg++;
      end++;
    }
    for (let k = start; k < end; k++) {
      const row = order[k];
      if (labels[row] === 1) positives[posSlot[row]] = (negBelow + tiedNeg / 2) / nNeg;
      else negatives[negSlot[row]] = (nPos - posBelow - tiedPos + tiedPos / 2) / nPos;
    }
    negBelow += tiedNeg;
    posBelow += tiedPos;
    start = end;
  }
  return { positives, negatives };
}

function mean(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function covariance(x: Float64Array, y: Float64Array, mx: number, my: number): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += (x[i] - mx) * (y[i] - my);
  return sum / (x.length - 1);
}

/**
 * DeLong's test of two correlated ROC AUCs (DeLong, DeLong & Clarke-Pearson 1988): the
 * covariance of the two AUC estimates from the placement values of the same positives and
 * negatives; z = (AUC_b − AUC_a)/se, two-sided. Null without both classes or with a single
 * row of a class (no variance to estimate).
 */
export function pairedDelong(labels: Uint8Array, scoresA: ArrayLike<number>, scoresB: ArrayLike<number>, confidence = 0.95): PairedAucTest | null {
  const a = placements(labels, scoresA);
  const b = placements(labels, scoresB);
  const m = a.positives.length;
  const n = a.negatives.length;
  if (m < 2 || n < 2) return null;
  const aucA = mean(a.positives);
  const aucB = mean(b.positives);
  const na = mean(a.negatives);
  const nb = mean(b.negatives);
  const s10 = covariance(a.positives, a.positives, aucA, aucA) + covariance(b.positives, b.positives, aucB, aucB) - 2 * covariance(a.positives, b.positives, aucA, aucB);
  const s01 = covariance(a.negatives, a.negatives, na, na) + covariance(b.negatives, b.negatives, nb, nb) - 2 * covariance(a.negatives, b.negatives, na, nb);
  const variance = Math.max(0, s10 / m + s01 / n);
  const se = Math.sqrt(variance);
  const difference = aucB - aucA;
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = se === 0 ? (difference === 0 ? 1 : 0) : 2 * (1 - normalCdf(Math.abs(difference) / se));
  return { auc_a: aucA, auc_b: aucB, difference, standard_error: se, p_value: Math.min(1, p), interval: { low: difference - z * se, high: difference + z * se } };
}

/** McNemar's test of two accuracies on the same rows. */
export interface McNemarTest {
  /** Rows model a got right and model b wrong. */
  a_only: number;
  /** Rows model b got right and model a wrong. */
  b_only: number;
  /** Exact two-sided binomial p-value of b_only out of a_only + b_only at ½ (1 when both are 0). */
  p_value: number;
}

/** log C(n, k). */
function logChoose(n: number, k: number): number {
  let sum = 0;
  for (let i = 1; i <= k; i++) sum += log((n - k + i) / i);
  return sum;
}

/**
 * McNemar's exact test: under equal accuracy the discordant rows split ½–½, so the p-value
 * is 2·P(X ≤ min(b, c)) for X ~ Binomial(b + c, ½), capped at 1 (statsmodels' `mcnemar`
 * with exact=True).
 */
export function mcnemar(correctA: Uint8Array, correctB: Uint8Array): McNemarTest {
  let aOnly = 0;
  let bOnly = 0;
  for (let i = 0; i < correctA.length; i++) {
    if (correctA[i] && !correctB[i]) aOnly++;
    else if (!correctA[i] && correctB[i]) bOnly++;
  }
  const total = aOnly + bOnly;
  const k = Math.min(aOnly, bOnly);
  let tail = 0;
  for (let i = 0; i <= k; i++) tail += exp(logChoose(total, i) - total * Math.LN2);
  return { a_only: aOnly, b_only: bOnly, p_value: total === 0 ? 1 : Math.min(1, 2 * tail) };
}

/**
 * How many times each row is drawn in one bootstrap resample of `n` rows, for `resamples`
 * resamples from the seed (the same draws serve both models: that is what pairs them).
 */
export function* bootstrapWeights(n: number, resamples: number, seed: number, stream: string): Generator<Uint32Array> {
  const random = new Random(seed, stream);
  const weights = new Uint32Array(n);
  for (let r = 0; r < resamples; r++) {
    weights.fill(0);
    for (let i = 0; i < n; i++) weights[Math.floor(random.next() * n)]++;
    yield weights;
  }
}

/**
 * Percentile interval and two-sided bootstrap p-value of a paired difference: the share of
 * resampled differences on the other side of zero, doubled (Efron & Tibshirani's achieved
 * significance level for a difference), counted as (k + 1)/(B + 1) so that B resamples never
 * claim p = 0 (Davison & Hinkley 1997, eq. 4.11); a difference that is 0 in every resample
 * (the same decisions) has p = 1. Null with fewer than 20 finite replicates.
 */
export function pairedSummary(differences: number[], confidence = 0.95): { interval: Interval; p_value: number } | null {
  const finite = differences.filter((d) => Number.isFinite(d)).sort((x, y) => x - y);
  if (finite.length < 20) return null;
  const at = (q: number) => {
    const position = q * (finite.length - 1);
    const low = Math.floor(position);
    const high = Math.ceil(position);
    return finite[low] + (finite[high] - finite[low]) * (position - low);
  };
  const alpha = 1 - confidence;
  const below = finite.filter((d) => d <= 0).length;
  const above = finite.filter((d) => d >= 0).length;
  const k = Math.min(below, above);
  return { interval: { low: at(alpha / 2), high: at(1 - alpha / 2) }, p_value: Math.min(1, (2 * (k + 1)) / (finite.length + 1)) };
}
