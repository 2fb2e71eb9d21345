import { findColumn, sortedPresent, type Column, type Table } from '../data/table';
import { chiSquareSurvival, kolmogorovSmirnov, wasserstein } from './statistics';

/** PSI floors an empty share at this value before the logarithm. */
export const PSI_EPSILON = 1e-4;

/** Drift verdict thresholds on PSI. */
export const PSI_THRESHOLDS = { minor: 0.1, major: 0.2 } as const;

/**
 * Re-grades a drift report with other PSI thresholds (minor from `minor`, major above
 * `major`): each column's level and the share of drifted columns.
 */
export function withThresholds(report: DriftReport, thresholds: { minor: number; major: number }): DriftReport {
  const grade = (c: ColumnDrift): ColumnDrift => ({ ...c, level: c.psi > thresholds.major ? 'major' : c.psi >= thresholds.minor ? 'minor' : 'stable' });
  const columns = report.columns.map(grade);
  return {
    ...report,
    columns,
    prediction: report.prediction && grade(report.prediction),
    label: report.label && grade(report.label),
    drifted_feature_share: columns.length ? columns.filter((c) => c.level === 'major').length / columns.length : null,
    conventions: `${report.conventions} Thresholds used: minor from ${thresholds.minor}, major above ${thresholds.major}.`,
  };
}

/** Drift of one column between the reference and the audited file. */
export interface ColumnDrift {
  column: string;
  kind: 'numeric' | 'categorical';
  psi: number;
  level: 'stable' | 'minor' | 'major';
  /** Numeric: KS statistic and p-value, Wasserstein distance over the reference sd. */
  ks?: { statistic: number; p_value: number };
  wasserstein_normalized?: number | null;
  /** Categorical: χ² test of the 2 × k table, Jensen–Shannon distance (base 2), categories new in the audited file. */
  chi_square?: { statistic: number; df: number; p_value: number };
  jensen_shannon?: number;
  new_categories?: { value: string; count: number }[];
  /** Numeric: the interior bin edges used. */
  edges?: number[];
  /** Bin edges (numeric) or categories, with the reference and current shares: enough to compare later batches without the raw reference. */
  bins: { label: string; reference: number; current: number }[];
}

/** The drift section of a result. */
export interface DriftReport {
  reference: string;
  columns: ColumnDrift[];
  max_psi: number | null;
  drifted_feature_share: number | null;
  prediction?: ColumnDrift;
  label?: ColumnDrift;
  conventions: string;
}

/** Linear-interpolation quantile of sorted values (numpy's default). */
function quantile(sorted: Float64Array, p: number): number {
  const position = p * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(sorted.length - 1, lower + 1);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

/** PSI = Σ (cur − ref)·ln(cur/ref) over bins, empty shares floored at {@link PSI_EPSILON}. */
export function psi(reference: number[], current: number[]): number {
  let total = 0;
  for (let k = 0; k < reference.length; k++) {
    const r = reference[k] === 0 ? PSI_EPSILON : reference[k];
    const c = current[k] === 0 ? PSI_EPSILON : current[k];
    total += (c - r) * Math.log(c / r);
  }
  return total;
}

const levelOf = (value: number): ColumnDrift['level'] => (value > PSI_THRESHOLDS.major ? 'major' : value >= PSI_THRESHOLDS.minor ? 'minor' : 'stable');

/**
 * Drift of a numeric sample: PSI over 10 bins from the reference's deciles (interior edges
 * at its 10%…90% quantiles, linear interpolation, duplicate edges merged, bins [e_i, e_i+1)
 * so a value on an edge falls in the bin above, missing values a bin of their own), the
 * two-sample KS test, and the Wasserstein distance over the reference's sd.
 */
export function numericDrift(name: string, reference: Float64Array, current: Float64Array, bins = 10): ColumnDrift {
  const ref = reference.filter((v) => !Number.isNaN(v)).sort();
  const cur = current.filter((v) => !Number.isNaN(v)).sort();
  const edges = decileEdges(ref, bins);
  const count = (sample: Float64Array, total: number) => binShares(sample, total, edges);
  const refShares = count(ref, reference.length);
  const curShares = count(cur, current.length);
  return finishNumeric(name, edges, refShares, (reference.length - ref.length) / Math.max(1, reference.length), curShares, (current.length - cur.length) / Math.max(1, current.length), { ref, cur });
}

/** Interior edges at the k/B quantiles of sorted reference values (linear interpolation), duplicates merged. */
export function decileEdges(sortedReference: Float64Array, bins = 10): number[] {
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const edge = quantile(sortedReference, k / bins);
    if (sortedReference.length && (edges.length === 0 || edge > edges[edges.length - 1])) edges.push(edge);
  }
  return edges;
}

/** Shares of non-missing values in bins [e_i, e_i+1) over `total` rows (missing rows count in the total). */
export function binShares(values: Float64Array, total: number, edges: number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (edges[mid] <= v) lo = mid + 1;
      else hi = mid;
    }
    counts[lo]++;
  }
  return counts.map((c) => c / Math.max(1, total));
}

function finishNumeric(name: string, edges: number[], refBins: number[], refMissing: number, curBins: number[], curMissing: number, samples: { ref: Float64Array; cur: Float64Array } | null): ColumnDrift {
  const refShares = [...refBins];
  const curShares = [...curBins];
  const labels = Array.from({ length: edges.length + 1 }, (_, k) => `[${k === 0 ? '-inf' : edges[k - 1]}, ${k === edges.length ? 'inf' : edges[k]})`);
  if (refMissing > 0 || curMissing > 0) {
    refShares.push(refMissing);
    curShares.push(curMissing);
    labels.push('missing');
  }
  const value = psi(refShares, curShares);
  const base: ColumnDrift = { column: name, kind: 'numeric', psi: value, level: levelOf(value), edges, bins: labels.map((label, k) => ({ label, reference: refShares[k], current: curShares[k] })) };
  if (!samples) return base;
  const { ref, cur } = samples;
  let mean = 0;
  for (const v of ref) mean += v;
  mean /= Math.max(1, ref.length);
  let squares = 0;
  for (const v of ref) squares += (v - mean) ** 2;
  const sd = ref.length > 1 ? Math.sqrt(squares / (ref.length - 1)) : 0;
  return { ...base, ks: kolmogorovSmirnov(ref, cur), wasserstein_normalized: sd > 0 ? wasserstein(ref, cur) / sd : null };
}

/** Statistics of one column kept in every result, so later batches can be compared without the raw data. */
export type StoredDistribution = { kind: 'numeric'; edges: number[]; shares: number[]; missing: number } | { kind: 'categorical'; categories: string[]; shares: number[] };

/** The stored distribution of a column: decile bins (numeric) or category shares. */
export function storedDistribution(column: Column): StoredDistribution {
  if (column.kind === 'numeric') {
    const present = sortedPresent(column.values);
    const edges = decileEdges(present);
    return { kind: 'numeric', edges, shares: binShares(present, column.values.length, edges), missing: (column.values.length - present.length) / Math.max(1, column.values.length) };
  }
  const counts = categoryCounts(column);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const categories = [...counts.keys()].sort();
  return { kind: 'categorical', categories, shares: categories.map((c) => counts.get(c)! / Math.max(1, total)) };
}

/**
 * Reference-free drift: the audited table against distributions stored in an earlier
 * result (PSI only: KS, Wasserstein and χ² need the raw reference rows).
 */
export function driftFromStored(stored: Record<string, StoredDistribution>, current: Table, source: string, exclude: string[] = []): DriftReport {
  const columns: ColumnDrift[] = [];
  for (const column of current.columns) {
    const reference = stored[column.name];
    if (!reference || exclude.includes(column.name)) continue;
    if (reference.kind === 'numeric' && column.kind === 'numeric') {
      const present = column.values.filter((v) => !Number.isNaN(v));
      columns.push(finishNumeric(column.name, reference.edges, reference.shares, reference.missing, binShares(present, column.values.length, reference.edges), (column.values.length - present.length) / Math.max(1, column.values.length), null));
    } else if (reference.kind === 'categorical') {
      const counts = categoryCounts(column);
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      const categories = [...new Set([...reference.categories, ...counts.keys()])].sort();
      const refShares = categories.map((c) => reference.shares[reference.categories.indexOf(c)] ?? 0);
      const curShares = categories.map((c) => (counts.get(c) ?? 0) / Math.max(1, total));
      const value = psi(refShares, curShares);
      columns.push({ column: column.name, kind: 'categorical', psi: value, level: levelOf(value), new_categories: categories.filter((c) => !reference.categories.includes(c)).map((c) => ({ value: c, count: counts.get(c)! })), bins: categories.map((label, k) => ({ label, reference: refShares[k], current: curShares[k] })) });
    }
  }
  return {
    reference: source,
    columns,
    max_psi: columns.length ? Math.max(...columns.map((c) => c.psi)) : null,
    drifted_feature_share: columns.length ? columns.filter((c) => c.level === 'major').length / columns.length : null,
    conventions: `Reference-free: PSI against the bins and shares stored in ${source} (its deciles, or its categories); empty shares floored at ${PSI_EPSILON}. KS, Wasserstein and chi-square need the raw reference and are not computed.`,
  };
}

function categoryCounts(column: Column): Map<string, number> {
  const counts = new Map<string, number>();
  const n = column.kind === 'numeric' ? column.values.length : column.codes.length;
  for (let i = 0; i < n; i++) {
    const key = column.kind === 'numeric' ? (Number.isNaN(column.values[i]) ? '(missing)' : String(column.values[i])) : column.codes[i] < 0 ? '(missing)' : column.dictionary[column.codes[i]];
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * Drift of a categorical column: PSI over the union of categories (empty shares floored),
 * χ² test of the 2 × k contingency table, Jensen–Shannon distance (√ of the divergence,
 * log base 2, so within [0, 1]), and the categories the reference never had.
 */
export function categoricalDrift(name: string, reference: Column, current: Column): ColumnDrift {
  const ref = categoryCounts(reference);
  const cur = categoryCounts(current);
  const categories = [...new Set([...ref.keys(), ...cur.keys()])].sort();
  const n = [...ref.values()].reduce((a, b) => a + b, 0);
  const m = [...cur.values()].reduce((a, b) => a + b, 0);
  const refShares = categories.map((c) => (ref.get(c) ?? 0) / n);
  const curShares = categories.map((c) => (cur.get(c) ?? 0) / m);
  const value = psi(refShares, curShares);
  let chi2 = 0;
  categories.forEach((c) => {
    const total = (ref.get(c) ?? 0) + (cur.get(c) ?? 0);
    for (const [count, size] of [[ref.get(c) ?? 0, n], [cur.get(c) ?? 0, m]] as const) {
      const expectedCount = (total * size) / (n + m);
      if (expectedCount > 0) chi2 += (count - expectedCount) ** 2 / expectedCount;
    }
  });
  let js = 0;
  categories.forEach((_, k) => {
    const p = refShares[k];
    const q = curShares[k];
    const mid = (p + q) / 2;
    if (p > 0) js += 0.5 * p * Math.log2(p / mid);
    if (q > 0) js += 0.5 * q * Math.log2(q / mid);
  });
  const df = categories.length - 1;
  return {
    column: name,
    kind: 'categorical',
    psi: value,
    level: levelOf(value),
    chi_square: { statistic: chi2, df, p_value: chiSquareSurvival(chi2, df) },
    jensen_shannon: Math.sqrt(Math.max(0, js)),
    new_categories: categories.filter((c) => !ref.has(c)).map((c) => ({ value: c, count: cur.get(c)! })),
    bins: categories.map((label, k) => ({ label, reference: refShares[k], current: curShares[k] })),
  };
}

/**
 * Drift of every column the two tables share (the target and any excluded column left
 * out), with `max_psi` and the share of columns whose PSI is major (> 0.2).
 */
export function driftReport(reference: Table, current: Table, options: { exclude?: string[]; bins?: number } = {}): DriftReport {
  const exclude = new Set(options.exclude ?? []);
  const columns: ColumnDrift[] = [];
  for (const column of current.columns) {
    if (exclude.has(column.name)) continue;
    const other = findColumn(reference, column.name);
    if (!other) continue;
    if (column.kind === 'numeric' && other.kind === 'numeric') columns.push(numericDrift(column.name, other.values, column.values, options.bins));
    else columns.push(categoricalDrift(column.name, other, column));
  }
  const max = columns.length ? Math.max(...columns.map((c) => c.psi)) : null;
  return {
    reference: reference.source,
    columns,
    max_psi: max,
    drifted_feature_share: columns.length ? columns.filter((c) => c.level === 'major').length / columns.length : null,
    conventions: `PSI = Σ (cur − ref)·ln(cur/ref), empty shares floored at ${PSI_EPSILON}; numeric bins from the reference's deciles (linear interpolation, duplicate edges merged, [e_i, e_i+1)); stable < 0.1 ≤ minor ≤ 0.2 < major. KS p-value asymptotic (Stephens). Wasserstein over the reference sd. Jensen–Shannon distance with log base 2.`,
  };
}
