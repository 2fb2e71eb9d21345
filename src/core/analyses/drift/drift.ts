import { findColumn, presentValues, type Column, type Table } from '../../data/table';
import { sortedPresent } from '../../data/sorted';
import { AuditConfigError, quote } from '../../base/errors';
import { numbersOf } from './mixed';
import { levelOf, psi, PSI_EPSILON, PSI_THRESHOLDS } from './psi';
import { holdsNumbers, textBinDrift } from './text-bin';
import { INPUT_LIMITS } from '../../base/limits';
import { chiSquareSurvival, homogeneityChiSquare, kolmogorovSmirnov, wasserstein } from './statistics';
import { binShares, categoryCounts, decileEdges, sortedBinShares } from './bins';
import type { StoredDistribution } from './stored';

/** The bin of a categorical distribution that pools the categories not listed one by one. */
export const OTHER_CATEGORIES = '(other)';

/**
 * Refuses a reference table that shares no column with the audited one: it is not a
 * reference for this data (a text file read as a one-column CSV, a table of something
 * else), and nothing of it — not even its header line — may reach the result.
 */
export function checkReferenceTable(reference: Table, current: Table): void {
  if (current.columns.some((column) => findColumn(reference, column.name))) return;
  throw new AuditConfigError(
    `${reference.source}: the reference file has no column of ${current.source} (it has ${reference.columns.length.toLocaleString('en-US')} column${reference.columns.length === 1 ? '' : 's'}, none named as in the data), so it is not a reference table for this data. Choose the training data (CSV, Parquet or Arrow) with the same columns.`,
  );
}

/**
 * The categories a distribution lists one by one: the most frequent (by `weight`, ties in
 * first-seen order) up to {@link INPUT_LIMITS.distributionCategories} of them and
 * {@link INPUT_LIMITS.distributionChars} characters of names (a longer name is skipped);
 * only those in `allowed` when given. The rest are pooled into {@link OTHER_CATEGORIES}, so
 * an id or free-text column cannot make the result as large as its unique text.
 */
export function listedCategories(weight: Map<string, number>, allowed?: ReadonlySet<string>): Set<string> {
  const limit = INPUT_LIMITS.distributionCategories;
  const candidates = allowed ? [...weight.keys()].filter((c) => allowed.has(c)) : [...weight.keys()];
  let cutoff = -Infinity;
  if (candidates.length > limit) {
    const sorted = Float64Array.from(candidates, (c) => weight.get(c)!).sort();
    cutoff = sorted[sorted.length - limit];
  }
  const listed = new Set<string>();
  let chars = 0;
  // Strictly above the cutoff first, then ties at it in first-seen order.
  for (const pass of [0, 1]) {
    for (const c of candidates) {
      if (listed.size >= limit) break;
      const w = weight.get(c)!;
      if (pass === 0 ? !(w > cutoff) : w !== cutoff || listed.has(c)) continue;
      if (chars + c.length > INPUT_LIMITS.distributionChars) continue;
      listed.add(c);
      chars += c.length;
    }
  }
  return listed;
}

/** Amounts (counts or shares) of two samples over the listed categories (by name) and, when any is left out, one pooled bin last. */
export function pooledBins(reference: Map<string, number>, current: Map<string, number>, referencePooled?: number): { labels: string[]; reference: number[]; current: number[]; pooled: number } {
  const weight = new Map<string, number>(reference);
  for (const [c, share] of current) weight.set(c, (weight.get(c) ?? 0) + share);
  // A reference that pooled some of its categories: a current category it does not list may be among them.
  const listed = listedCategories(weight, referencePooled === undefined ? undefined : new Set(reference.keys()));
  const labels = [...listed].sort();
  const bins = { labels, reference: labels.map((c) => reference.get(c) ?? 0), current: labels.map((c) => current.get(c) ?? 0), pooled: weight.size - listed.size };
  if (bins.pooled > 0 || referencePooled !== undefined) {
    let ref = referencePooled ?? 0;
    let cur = 0;
    for (const [c, share] of reference) if (!listed.has(c)) ref += share;
    for (const [c, share] of current) if (!listed.has(c)) cur += share;
    labels.push(OTHER_CATEGORIES);
    bins.reference.push(ref);
    bins.current.push(cur);
  }
  return bins;
}

/** Counts divided by their total. */
export function sharesOf(counts: Map<string, number>): Map<string, number> {
  let total = 0;
  for (const c of counts.values()) total += c;
  const shares = new Map<string, number>();
  for (const [c, n] of counts) shares.set(c, n / Math.max(1, total));
  return shares;
}
import { log2, sampleMoments } from '../../base/math';

export { levelOf, psi, PSI_EPSILON, PSI_THRESHOLDS } from './psi';

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
    drifted_feature_share: driftedShare(columns),
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
  /** Categorical: categories pooled into the `(other)` bin (see {@link OTHER_CATEGORIES}); absent when every category is listed. */
  pooled_categories?: number;
  /** Numeric: the interior bin edges used. */
  edges?: number[];
  /** How a column read as text in a file was compared as numbers (a few texts among its numbers, or no values at all). */
  note?: string;
  /** Bin edges (numeric) or categories, with the reference and current shares: enough to compare later batches without the raw reference. */
  bins: { label: string; reference: number; current: number }[];
}

/** The drift section of a result. */
export interface DriftReport {
  reference: string;
  columns: ColumnDrift[];
  /**
   * Columns of the reference (or of the stored distributions) that the audited file lacks: a
   * renamed or dropped column (the target left out). Listed and found, not compared; absent when none.
   */
  missing_columns?: string[];
  max_psi: number | null;
  drifted_feature_share: number | null;
  prediction?: ColumnDrift;
  /** Why the predictions' drift was not measured (the model could not score the reference), when it was not. */
  prediction_not_measured?: string;
  label?: ColumnDrift;
  conventions: string;
}

/**
 * Drift of a numeric sample: PSI over 10 bins from the reference's deciles (interior edges
 * at its 10%…90% quantiles, linear interpolation, duplicate edges merged, bins [e_i, e_i+1)
 * so a value on an edge falls in the bin above, missing values a bin of their own), the
 * two-sample KS test, and the Wasserstein distance over the reference's sd.
 */
export function numericDrift(name: string, reference: Float64Array, current: Float64Array, bins = 10): ColumnDrift {
  // The present values in ascending order, each column's sorted once per audit: the data
  // profile and the stored decile bins read the same cached sort.
  const ref = sortedPresent(reference);
  const cur = sortedPresent(current);
  const edges = decileEdges(ref, bins);
  const count = (sample: Float64Array, total: number) => sortedBinShares(sample, total, edges);
  const refShares = count(ref, reference.length);
  const curShares = count(cur, current.length);
  return finishNumeric(name, edges, refShares, (reference.length - ref.length) / Math.max(1, reference.length), curShares, (current.length - cur.length) / Math.max(1, current.length), { ref, cur });
}

export function finishNumeric(name: string, edges: number[], refBins: number[], refMissing: number, curBins: number[], curMissing: number, samples: { ref: Float64Array; cur: Float64Array } | null): ColumnDrift {
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
  const { sd } = sampleMoments(ref);
  return { ...base, ks: kolmogorovSmirnov(ref, cur), wasserstein_normalized: sd > 0 ? wasserstein(ref, cur) / sd : null };
}

/**
 * Drift of a categorical column: PSI over the union of categories (empty shares floored),
 * χ² test of the 2 × k contingency table, Jensen–Shannon distance (√ of the divergence,
 * log base 2, so within [0, 1]), and the categories the reference never had.
 */
export function categoricalDrift(name: string, reference: Column, current: Column): ColumnDrift {
  const ref = categoryCounts(reference);
  const cur = categoryCounts(current);
  let n = 0;
  let m = 0;
  for (const c of ref.values()) n += c;
  for (const c of cur.values()) m += c;
  // Past the listing limits the rarest categories share one bin, and every statistic is of those bins.
  const bins = pooledBins(ref, cur);
  const categories = bins.labels;
  const refShares = bins.reference.map((count) => count / n);
  const curShares = bins.current.map((count) => count / m);
  const value = psi(refShares, curShares);
  const chi2 = homogeneityChiSquare(bins.reference, bins.current).statistic;
  let js = 0;
  categories.forEach((_, k) => {
    const p = refShares[k];
    const q = curShares[k];
    const mid = (p + q) / 2;
    if (p > 0) js += 0.5 * p * log2(p / mid);
    if (q > 0) js += 0.5 * q * log2(q / mid);
  });
  const df = categories.length - 1;
  return {
    column: name,
    kind: 'categorical',
    psi: value,
    level: levelOf(value),
    chi_square: { statistic: chi2, df, p_value: chiSquareSurvival(chi2, df) },
    jensen_shannon: Math.sqrt(Math.max(0, js)),
    new_categories: categories.filter((c) => c !== OTHER_CATEGORIES && !ref.has(c)).map((c) => ({ value: c, count: cur.get(c)! })),
    bins: categories.map((label, k) => ({ label, reference: refShares[k], current: curShares[k] })),
    ...(bins.pooled > 0 ? { pooled_categories: bins.pooled } : {}),
  };
}

/**
 * Drift of every column the two tables share (the target and any excluded column left
 * out), with `max_psi` and the share of columns whose PSI is major (> 0.2).
 */
export function driftReport(reference: Table, current: Table, options: { exclude?: string[]; bins?: number } = {}): DriftReport {
  checkReferenceTable(reference, current);
  const exclude = new Set(options.exclude ?? []);
  const columns: ColumnDrift[] = [];
  for (const column of current.columns) {
    if (exclude.has(column.name)) continue;
    const other = findColumn(reference, column.name);
    if (!other) continue;
    if (column.kind === 'numeric' && other.kind === 'numeric') {
      columns.push(numericDrift(column.name, other.values, column.values, options.bins));
      continue;
    }
    const [ref, cur] = [numbersOf(other), numbersOf(column)];
    if (ref && cur) columns.push(mixedDrift(column.name, { ...ref, source: reference.source }, { ...cur, source: current.source }, options.bins));
    // Numbers in one file, numbers and many texts in the other: the texts in a bin of their own (as against stored numbers), not the numbers as category names ("10.40" against 10.4).
    else if ((ref || cur) && holdsNumbers(ref ? column : other)) columns.push(textBinDrift(column.name, { column: other, source: reference.source }, { column, source: current.source }, options.bins));
    else columns.push(categoricalDrift(column.name, other, column));
  }
  const max = columns.length ? maxPsi(columns) : null;
  const missing = reference.columns.filter((column) => !exclude.has(column.name) && !findColumn(current, column.name)).map((column) => column.name);
  return {
    reference: reference.source,
    columns,
    ...(missing.length ? { missing_columns: missing } : {}),
    max_psi: max,
    drifted_feature_share: driftedShare(columns),
    conventions: `PSI = Σ (cur − ref)·ln(cur/ref), empty shares floored at ${PSI_EPSILON}; numeric bins from the reference's ${options.bins && options.bins !== 10 ? `${options.bins}-quantiles (drift.psi_bins: ${options.bins})` : 'deciles'} (linear interpolation, duplicate edges merged, [e_i, e_i+1)), and missing cells a bin of their own; stable < 0.1 ≤ minor ≤ 0.2 < major. KS statistic and its p-value (asymptotic, Stephens) and Wasserstein (over the reference sd) on the present values. Jensen–Shannon distance with log base 2.`,
  };
}

type Read = { values: Float64Array; texts: string[]; cells: number; source: string };

/** Drift of a column read as text in one file or both, compared as numbers (see {@link numbersOf}), with how it was read. */
function mixedDrift(name: string, reference: Read, current: Read, bins?: number): ColumnDrift {
  const drift = numericDrift(name, reference.values, current.values, bins);
  // A file without values has no distribution to test against: the missing share says it all.
  const empty = [reference, current].some((side) => !side.values.some((v) => !Number.isNaN(v)));
  const { ks: _ks, wasserstein_normalized: _w, ...rest } = drift;
  return { ...(empty ? rest : drift), note: readNote([reference, current]) };
}

/** How columns read as text were read as numbers, in words: the texts read as missing, or a file without values. */
export function readNote(sides: Read[]): string {
  const parts: string[] = [];
  for (const side of sides) {
    if (side.cells > 0) parts.push(`${side.texts.map((text) => quote(text)).join(', ')} (${side.cells.toLocaleString('en-US')} cell${side.cells === 1 ? '' : 's'}) in ${side.source} read as missing`);
    if (!side.values.some((v) => !Number.isNaN(v))) parts.push(`no values in ${side.source}`);
  }
  return `read as numbers: ${parts.join('; ')}`;
}

/**
 * The share of drifted features: the compared columns whose PSI is major. (A reference
 * column the audited file lacks has no distribution to compare: it is listed in
 * `missing_columns` and found, not counted; a batch without labels lacks the label column.)
 */
export function driftedShare(columns: ColumnDrift[]): number | null {
  return columns.length ? columns.filter((c) => c.level === 'major').length / columns.length : null;
}

/** The largest PSI of the columns (a loop: a spread of 20,000 columns' values is one call's arguments). */
export function maxPsi(columns: ColumnDrift[]): number {
  let max = -Infinity;
  for (const c of columns) if (c.psi > max) max = c.psi;
  return max;
}

/** A KS test that contradicts a stable PSI: significant (p below this) and large (D at least this). */
const KS_DISAGREES = { p: 0.001, statistic: 0.1 };

/**
 * What a drift report says about the audited file's columns beyond PSI: reference columns it
 * lacks (renamed or dropped: listed, not compared) and columns of text against stored
 * numbers (each such column's note), as data findings.
 */
export function driftFindings(drift: DriftReport | undefined, fileName: string): { check: 'drift'; severity: 'warning'; column?: string; message: string }[] {
  if (!drift) return [];
  const findings: { check: 'drift'; severity: 'warning'; column?: string; message: string }[] = [];
  const missing = drift.missing_columns ?? [];
  if (missing.length) {
    const shown = missing.slice(0, 10).map((name) => quote(name)).join(', ');
    findings.push({
      check: 'drift',
      severity: 'warning',
      message: `${fileName} lacks ${missing.length === 1 ? 'a column' : `${missing.length} columns`} of the reference ${drift.reference} (${shown}${missing.length > 10 ? ', …' : ''}): renamed or dropped? A model that reads one would refuse the file; here it is not compared.`,
    });
  }
  if (drift.prediction_not_measured) findings.push({ check: 'drift', severity: 'warning', message: `Prediction drift not measured: ${drift.prediction_not_measured}` });
  for (const column of drift.columns) if (column.note?.includes('compared in a bin of their own')) findings.push({ check: 'drift', severity: 'warning', column: column.column, message: `${column.column}: ${column.note}.` });
  // PSI's bins are the reference's quantiles: a shift inside one bin, or past the reference's range into an open end bin, is not seen ("stable" beside KS p ≈ 0).
  for (const column of drift.columns) {
    const ks = column.ks;
    if (column.level !== 'stable' || !ks || ks.p_value >= KS_DISAGREES.p || ks.statistic < KS_DISAGREES.statistic) continue;
    const p = ks.p_value < 1e-4 ? '< 0.0001' : `= ${ks.p_value.toFixed(4)}`;
    findings.push({ check: 'drift', severity: 'warning', column: column.column, message: `${column.column}: PSI ${column.psi.toFixed(4)} reads stable, but the KS test finds its distribution moved (D = ${ks.statistic.toFixed(3)}, p ${p}): PSI's bins are the reference's quantiles, so a shift within one bin, or past the reference's range into an open end bin, is not seen. Compare the two distributions before reading it as stable.` });
  }
  return findings;
}
