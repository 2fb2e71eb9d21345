/**
 * What a result keeps of its data's distributions (decile bins, category shares), and
 * reference-free drift: a later batch measured against them without the reference's rows.
 */
import { findColumn, presentValues, type Column, type Table } from '../../data/table';
import { sortedPresent } from '../../data/sorted';
import { AuditConfigError, quote } from '../../base/errors';
import { numbersOf } from './mixed';
import { binShares, categoryCounts, decileEdges, sortedBinShares } from './bins';
import { driftedShare, finishNumeric, levelOf, listedCategories, maxPsi, OTHER_CATEGORIES, pooledBins, psi, PSI_EPSILON, readNote, sharesOf, type ColumnDrift, type DriftReport } from './drift';

/**
 * Statistics of one column kept in every result, so later batches can be compared without
 * the raw data. A categorical column lists at most {@link INPUT_LIMITS.distributionCategories}
 * categories (the most frequent); `other` is the share of the rest, when any.
 */
export type StoredDistribution = { kind: 'numeric'; edges: number[]; shares: number[]; missing: number } | { kind: 'categorical'; categories: string[]; shares: number[]; other?: number };

/** The stored distribution of a column: decile bins (numeric) or category shares. */
export function storedDistribution(column: Column): StoredDistribution {
  if (column.kind === 'numeric') {
    const present = sortedPresent(column.values);
    const edges = decileEdges(present);
    return { kind: 'numeric', edges, shares: sortedBinShares(present, column.values.length, edges), missing: (column.values.length - present.length) / Math.max(1, column.values.length) };
  }
  const shares = sharesOf(categoryCounts(column));
  const listed = listedCategories(shares);
  const categories = [...listed].sort();
  const stored: StoredDistribution = { kind: 'categorical', categories, shares: categories.map((c) => shares.get(c)!) };
  if (listed.size < shares.size) {
    let other = 0;
    for (const [c, share] of shares) if (!listed.has(c)) other += share;
    stored.other = other;
  }
  return stored;
}

/**
 * Refuses a stored distribution that cannot be measured against: bin edges that are not
 * ascending finite numbers (JSON writes an infinite or NaN edge as null, which would read
 * as 0), or shares that do not match its bins. An earlier Plumbline wrote such edges from
 * infinite values; an edited file may hold anything.
 */
function checkStored(reference: StoredDistribution, name: string, source: string): void {
  const share = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 1;
  const shown = (v: unknown) => (JSON.stringify(v) ?? String(v)).slice(0, 80);
  const numeric = reference.kind === 'numeric';
  const edges = numeric ? reference.edges : [];
  const shares = Array.isArray(reference.shares) ? reference.shares : [];
  const bins = numeric ? (Array.isArray(edges) ? edges.length + 1 : -1) : Array.isArray(reference.categories) ? reference.categories.length : -1;
  let fault: string | null = null;
  if (numeric && !(Array.isArray(edges) && edges.every((e, k) => typeof e === 'number' && Number.isFinite(e) && (k === 0 || e > edges[k - 1])))) {
    fault = `the bin edges ${shown(edges)} are not ascending finite numbers (an earlier Plumbline wrote an edge of infinite values as null, or the file was edited)`;
  } else if (!numeric && !(bins >= 0 && reference.categories.every((c) => typeof c === 'string'))) fault = 'the categories are not a list of texts (the file was edited)';
  else if (shares.length !== bins || !shares.every(share)) {
    fault = `the shares ${shown(reference.shares)} are not ${bins} numbers from 0 to 1, one per ${numeric ? 'bin' : 'category'} (the file was edited)`;
  } else if (!(numeric ? share(reference.missing) : reference.other === undefined || share(reference.other))) {
    fault = `the share of ${numeric ? 'missing values' : 'other categories'} ${String(numeric ? reference.missing : reference.other)} is not a number from 0 to 1 (the file was edited)`;
  }
  if (fault) throw new AuditConfigError(`${source}, column ${quote(name)}: ${fault}. Audit the reference data again with this version and pass that result (--reference-result).`);
}

/** A column of numbers (the scores, for prediction drift) against a stored numeric distribution: PSI over its deciles and missing share. */
export function storedNumericDrift(name: string, stored: StoredDistribution, values: Float64Array, source: string): ColumnDrift {
  checkStored(stored, name, source);
  if (stored.kind !== 'numeric') throw new AuditConfigError(`${source}: the stored distribution of ${quote(name)} is of categories, not numbers. Use a result made by this version of Plumbline.`);
  return againstNumbers(name, stored, values);
}

/** PSI of `values` over a checked stored numeric distribution's deciles and missing share. */
function againstNumbers(name: string, stored: NumericStored, values: Float64Array): ColumnDrift {
  const present = presentValues(values);
  return finishNumeric(name, stored.edges, stored.shares, stored.missing, binShares(present, values.length, stored.edges), (values.length - present.length) / Math.max(1, values.length), null);
}

type NumericStored = Extract<StoredDistribution, { kind: 'numeric' }>;

/** The distributions an earlier result stored, as an audit is given them (--reference-result). */
export interface StoredReference {
  source: string;
  distributions: Record<string, StoredDistribution>;
  /** The scores' distribution, for prediction drift (absent in a result of an earlier version). */
  prediction?: StoredDistribution;
  /** The stored result's target column: not a column the batch lacks. */
  target?: string;
  /** What scored the stored result's rows: its model file's SHA-256, or `column NAME` of a score column (prediction drift compares the same model's scores). */
  scoredBy?: string;
}

/** Reference-free drift of `current` against a stored reference, neither the audit's target nor the stored result's a column it is said to lack. */
export function driftFromReference(reference: StoredReference, current: Table, exclude: string[]): DriftReport {
  const drift = driftFromStored(reference.distributions, current, reference.source, [...exclude, ...(reference.target ? [reference.target] : [])]);
  drift.conventions += ' Label drift: not measured against stored distributions (give the reference file, --reference, for it).';
  return drift;
}

/** What scored a result's rows, as {@link StoredReference.scoredBy} names it: its model file's SHA-256, or `column NAME`. */
export function scoredByOf(model: { sha256?: string; column?: string } | undefined): string | undefined {
  return model?.sha256 ?? (model?.column !== undefined ? `column ${model.column}` : undefined);
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
    checkStored(reference, column.name, source);
    // A batch whose column of numbers holds a few texts (or none at all) is read as numbers, as against a raw reference.
    const read = reference.kind === 'numeric' ? numbersOf(column) : null;
    if (reference.kind === 'numeric' && !read) {
      columns.push(textAgainstNumbers(column, reference, current.source));
    } else if (reference.kind === 'numeric' && read) {
      const drift = againstNumbers(column.name, reference, read.values);
      const note = column.kind === 'numeric' ? '' : readNote([{ ...read, source: current.source }]);
      columns.push(note ? { ...drift, note } : drift);
    } else if (reference.kind === 'categorical') {
      const counts = categoryCounts(column);
      const stored = new Map(reference.categories.map((c, k) => [c, reference.shares[k]] as const));
      const bins = pooledBins(stored, sharesOf(counts), reference.other);
      const value = psi(bins.reference, bins.current);
      const drift: ColumnDrift = {
        column: column.name,
        kind: 'categorical',
        psi: value,
        level: levelOf(value),
        // With a pooled reference, an unlisted category may be one it pooled: only a complete reference names new ones.
        new_categories: reference.other === undefined ? bins.labels.filter((c) => c !== OTHER_CATEGORIES && !stored.has(c)).map((c) => ({ value: c, count: counts.get(c)! })) : [],
        bins: bins.labels.map((label, k) => ({ label, reference: bins.reference[k], current: bins.current[k] })),
      };
      if (bins.pooled > 0 || reference.other !== undefined) drift.pooled_categories = bins.pooled;
      columns.push(drift);
    }
  }
  const missing = Object.keys(stored).filter((name) => !exclude.includes(name) && !findColumn(current, name));
  return {
    reference: source,
    columns,
    ...(missing.length ? { missing_columns: missing } : {}),
    max_psi: columns.length ? maxPsi(columns) : null,
    drifted_feature_share: driftedShare(columns),
    conventions: `Reference-free: PSI against the bins and shares stored in ${source} (its deciles, or its categories); empty shares floored at ${PSI_EPSILON}. KS, Wasserstein and chi-square need the raw reference and are not computed.`,
  };
}

/**
 * A batch column of text (more than a few texts: see {@link numbersOf}) against a stored
 * column of numbers: its numbers in the stored bins, its texts in a bin of their own that the
 * reference never had (as against a raw reference, where they are categories it never had).
 */
function textAgainstNumbers(column: Column, reference: NumericStored, source: string): ColumnDrift {
  const n = column.kind === 'categorical' ? column.codes.length : column.values.length;
  const values = new Float64Array(n).fill(Number.NaN);
  let texts = 0;
  const shown: string[] = [];
  if (column.kind === 'categorical') {
    const numbers = column.dictionary.map((text) => (text.trim() === '' ? Number.NaN : Number(text)));
    column.codes.forEach((code, row) => {
      if (code < 0) return;
      if (Number.isFinite(numbers[code])) values[row] = numbers[code];
      else {
        texts++;
        if (shown.length < 3 && !shown.includes(column.dictionary[code])) shown.push(column.dictionary[code]);
      }
    });
  }
  const present = presentValues(values);
  const drift = finishNumeric(column.name, reference.edges, reference.shares, reference.missing, binShares(present, n, reference.edges), (n - present.length - texts) / Math.max(1, n), null);
  const bins = [...drift.bins, { label: 'text', reference: 0, current: texts / Math.max(1, n) }];
  const value = psi(bins.map((b) => b.reference), bins.map((b) => b.current));
  return {
    ...drift,
    psi: value,
    level: levelOf(value),
    bins,
    note: `${texts.toLocaleString('en-US')} cell${texts === 1 ? '' : 's'} of text in ${source} (${shown.map((t) => quote(t)).join(', ')}${texts > shown.length ? ', …' : ''}) where the reference held numbers: compared in a bin of their own, which the reference never had`,
  };
}
