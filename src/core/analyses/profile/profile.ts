/**
 * The data profile of the audited file: column summaries, the target's balance, duplicate
 * rows, proxies of the protected attributes, leakage and the findings a reviewer should see;
 * and the data summary a model card gives. The measures live in ./associations and ./duplicates.
 */
import { columnType, dateOrder, isIsoDate, isoFromOrder, sourceText, type CategoricalColumn, type Column, type ColumnType, type DateOrder, type NumericColumn, type Table } from '../../data/table';
import { sortedPresent } from '../../data/sorted';
import { sampleIndices } from '../../data/sample';
import { rocAuc } from '../../base/order';
import { storedDistribution, type StoredDistribution } from '../drift/stored';
import { numbersOf } from '../drift/mixed';
import { absPearson, categoricalCodes, correlationRatio, cramersV, spreadOf } from './associations';
import { spacedGroups } from '../../metrics/groups';
import { duplicateRows } from './duplicates';
import { withoutPersonalValues } from './personal';
import type { DataFinding } from '../../data/finding';
import { quote } from '../../base/errors';
import { sampleMoments } from '../../base/math';

export { cramersV, sparseCramersV } from './associations';
export type { DataFinding } from '../../data/finding';

/** Summary of one column. */
export interface ColumnProfile {
  name: string;
  kind: 'numeric' | 'categorical';
  /** What the values are: boolean (0/1, true/false, yes/no…), date (ISO 8601), integer, decimal or text. */
  type: ColumnType;
  missing: number;
  missing_rate: number;
  distinct: number;
  /** Date columns: the earliest and latest value, as ISO 8601. */
  date_range?: { min: string; max: string };
  /** Date columns not in ISO 8601: the order their values are written in (read from every value). */
  date_format?: DateOrder;
  /** Numeric columns: min, quartiles (linear interpolation), max, mean, sd (n − 1). */
  summary?: { min: number; q1: number; median: number; q3: number; max: number; mean: number; sd: number };
  /** Categorical columns: the most frequent values (ties by name). */
  top?: { value: string; count: number }[];
}

/** Association of a feature with a protected attribute. */
export interface ProxyAssociation {
  feature: string;
  attribute: string;
  measure: 'cramers_v' | 'correlation_ratio' | 'abs_pearson';
  value: number;
  flag: 'none' | 'warning' | 'error';
}

/** The data profile and quality checks of the audited file. */
export interface DataProfile {
  rows: number;
  columns: ColumnProfile[];
  target: { counts: Record<string, number>; imbalance_ratio: number | null };
  duplicate_rows: number;
  proxies: ProxyAssociation[];
  leakage: { feature: string; roc_auc: number }[];
  findings: DataFinding[];
  /** Each column's distribution (decile bins or category shares): a later audit can measure drift against it without these rows. */
  distributions: Record<string, StoredDistribution>;
  /** The scores' distribution (p(positive), or the score column), stored as a column's is: a later batch's prediction drift without these rows. */
  prediction_distribution?: StoredDistribution;
  conventions: string;
}

/** Rows the leakage check ranks at most (a seeded sample of a larger file). */
const LEAKAGE_ROWS = 200_000;
/** Folds of the rows for a category's out-of-fold positive rate (the leakage check). */
const LEAKAGE_FOLDS = 5;

/** Thresholds of the checks. */
export const DATA_CHECKS = { highMissing: 0.2, imbalance: 10, proxyWarning: 0.3, proxyError: 0.5, leakageAuc: 0.98 } as const;

function quantile(sorted: Float64Array, p: number): number {
  const position = p * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(sorted.length - 1, lower + 1);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

function profileColumn(column: Column, rows: number): ColumnProfile {
  const type = columnType(column);
  const base = { name: column.name, kind: column.kind, type, missing: column.missing, missing_rate: rows === 0 ? 0 : column.missing / rows };
  if (column.kind === 'numeric') {
    const present = sortedPresent(column.values);
    let distinct = 0;
    for (let i = 0; i < present.length; i++) if (i === 0 || present[i] !== present[i - 1]) distinct++;
    if (present.length === 0) return { ...base, distinct: 0 };
    const { mean, sd } = sampleMoments(present);
    return {
      ...base,
      distinct,
      summary: { min: present[0], q1: quantile(present, 0.25), median: quantile(present, 0.5), q3: quantile(present, 0.75), max: present[present.length - 1], mean, sd },
    };
  }
  const counts = new Float64Array(column.dictionary.length);
  for (let i = 0; i < column.codes.length; i++) {
    const code = column.codes[i];
    if (code >= 0) counts[code]++;
  }
  const distinct = counts.filter((c) => c > 0).length;
  const top = column.dictionary
    .map((value, code) => ({ value, count: counts[code] }))
    .filter((t) => t.count > 0)
    .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1))
    .slice(0, 5)
    // A value shown in reports is cut at 200 characters (a 1 MB cell would otherwise fill the result).
    .map((t) => (t.value.length > TOP_VALUE_CHARS ? { ...t, value: `${t.value.slice(0, TOP_VALUE_CHARS)}… (${t.value.length.toLocaleString('en-US')} characters)` } : t));
  if (type === 'date') {
    const present = column.dictionary.filter((_, code) => counts[code] > 0);
    // ISO 8601 text sorts in time order; other orders are read as ISO first.
    const order = present.every(isIsoDate) ? null : dateOrder(present);
    const iso = (order && order !== 'ambiguous' ? present.map((v) => isoFromOrder(v, order)!) : present).sort();
    return { ...base, distinct, top, date_range: { min: iso[0], max: iso[iso.length - 1] }, ...(order && order !== 'ambiguous' ? { date_format: order } : {}) };
  }
  return { ...base, distinct, top };
}

/** Most values (missing counted as one) a protected attribute written as numbers may have and still be read as groups by the proxy check. */
const MAX_CODED_LEVELS = 10;

/** Characters of a most-frequent value kept in the profile. */
const TOP_VALUE_CHARS = 200;

/** The texts a categorical column's rows hold. */
function presentTexts(column: CategoricalColumn): string[] {
  const used = new Uint8Array(column.dictionary.length);
  for (let i = 0; i < column.codes.length; i++) {
    const code = column.codes[i];
    if (code >= 0) used[code] = 1;
  }
  return column.dictionary.filter((_, code) => used[code]);
}

/**
 * Profiles the audited table: column summaries, the target's balance, duplicate rows,
 * proxies (association of every other column with every protected attribute: Cramér's V
 * for two categorical columns, the correlation ratio η for numeric × categorical, |r| for
 * a numeric column against a protected attribute of more than 10 numbers (a few are groups: η); flagged from 0.3, error-level from 0.5), leakage (a column whose values
 * alone rank the target with AUC ≥ 0.98) and the findings a reviewer should see.
 * `scoreColumn`: the column a score-column audit audits, left out of the leakage check (the
 * scores under audit separate the target by design: how well is what the audit measures).
 */
export function profileTable(table: Table, target: string, labels: Uint8Array, protectedAttributes: string[], scoreColumn?: string): DataProfile {
  const rows = table.rowCount;
  const columns = table.columns.map((c) => profileColumn(c, rows));
  const findings: DataFinding[] = [];
  for (const profile of columns) {
    if (profile.distinct <= 1) findings.push({ check: 'constant_column', severity: 'warning', column: profile.name, message: `${profile.name} has ${profile.distinct === 0 ? 'no values' : 'a single value'}: it carries no information.` });
    if (profile.missing_rate > DATA_CHECKS.highMissing) findings.push({ check: 'high_missing', severity: 'warning', column: profile.name, message: `${profile.name} is ${(profile.missing_rate * 100).toFixed(1)}% missing (more than 20%).` });
    const column = table.columns.find((c) => c.name === profile.name)!;
    if (profile.type === 'text' && column.kind === 'categorical' && dateOrder(presentTexts(column)) === 'ambiguous') {
      findings.push({ check: 'date_order', severity: 'warning', column: profile.name, message: `${profile.name} holds dates whose every value fits both DD/MM/YYYY and MM/DD/YYYY (e.g. ${profile.top?.[0]?.value ?? ''}): it is read as text. Write the dates as ISO 8601 (YYYY-MM-DD) to have them read as dates.` });
    }
    const grouped = table.delimiter === ';' && column.kind === 'numeric' ? thousandsLike(column) : null;
    if (grouped) findings.push({ check: 'thousands_separator', severity: 'error', column: profile.name, message: `${profile.name}: in a file separated by ";", as European exports are, every number written with a "." has three digits after it (${grouped}) and no whole number reaches 1,000: the "." looks like a thousands separator (5.943 for 5943), and these are read as decimals. Export the file without thousands separators; if they are decimals, this finding can be set aside.` });
    const integral = column.kind === 'categorical' || wholeNumbers(column.values);
    if (profile.name !== target && rows > 20 && profile.distinct === rows && integral) findings.push({ check: 'id_like', severity: 'warning', column: profile.name, message: `${profile.name} has a different value on every row: it looks like an identifier, not a feature.` });
  }

  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i];
  const negatives = rows - positives;
  const imbalance = positives === 0 || negatives === 0 ? null : Math.max(positives, negatives) / Math.min(positives, negatives);
  if (imbalance !== null && imbalance > DATA_CHECKS.imbalance) findings.push({ check: 'class_imbalance', severity: 'warning', column: target, message: `The target is imbalanced ${imbalance.toFixed(1)} to 1 (more than 10×): rates of the rare class are uncertain.` });

  const duplicates = duplicateRows(table);
  if (duplicates > 0) findings.push({ check: 'duplicate_rows', severity: 'warning', message: `${duplicates} row${duplicates === 1 ? ' repeats' : 's repeat'} an earlier row exactly.` });

  // A text column of numbers with a few texts (a marker such as "unknown" not listed as
  // missing): its numbers, the texts as missing, for the proxy and leakage checks; as its
  // categories, each number would be a category of its own (Cramér's V near 1, AUC 1).
  const asNumbers = new Map<Column, Column>();
  for (const column of table.columns) {
    const read = column.kind === 'categorical' && column.name !== target ? numbersOf(column) : null;
    if (!read || read.cells === 0) continue;
    let missing = 0;
    for (const v of read.values) if (Number.isNaN(v)) missing++;
    asNumbers.set(column, { kind: 'numeric', name: column.name, values: read.values, missing });
    const shown = read.texts.map((text) => quote(text)).join(', ');
    findings.push({ check: 'numbers_with_text', severity: 'warning', column: column.name, message: `${column.name} holds numbers but ${read.cells} cell${read.cells === 1 ? '' : 's'} of text (${shown}), so it is read as text: drift, proxy and leakage checks read those cells as missing. List ${read.texts.length === 1 ? 'it' : 'them'} in data.missing_values if ${read.texts.length === 1 ? 'it marks' : 'they mark'} missing values.` });
  }
  const numbersFor = (column: Column) => asNumbers.get(column) ?? column;
  const proxies: ProxyAssociation[] = [];
  // The protected attributes' codes and each numeric column's spread, read once for every
  // pairing (and the codes again by the leakage check); other columns' codes are not kept.
  const attributeCodes = new Map<Column, ReturnType<typeof categoricalCodes>>();
  const codesOf = (column: Column) => attributeCodes.get(column) ?? categoricalCodes(column);
  const spreads = memo(spreadOf);
  for (const attribute of protectedAttributes) {
    const protectedColumn = table.columns.find((c) => c.name === attribute);
    if (!protectedColumn) continue;
    const spellings = caseSpellings(protectedColumn);
    if (spellings) findings.push({ check: 'group_spellings', severity: 'warning', column: attribute, message: `${attribute} holds groups that differ only in letter case (${spellings}): each is audited as a group of its own. If they are one group, write them alike in the data.` });
    const spaced = spacedSpellings(protectedColumn);
    if (spaced) findings.push({ check: 'group_spellings', severity: 'warning', column: attribute, message: `${attribute} holds groups that differ only in surrounding spaces (${spaced}): each is audited as a group of its own, as pandas reads them and a model that reads the text is fed them. If they are one group, write them alike in the data.` });
    const p = codesOf(protectedColumn);
    attributeCodes.set(protectedColumn, p);
    for (const read of table.columns) {
      if (read.name === attribute || read.name === target || protectedAttributes.includes(read.name)) continue;
      const column = numbersFor(read);
      let measure: ProxyAssociation['measure'];
      let value: number;
      // A protected attribute written as a few numbers is groups (ethnicity 1/2/3, as fairness reads it: |r| with its codes hid a
      // proxy of one group); one of many values is a measurement (age), where η of noise across its many groups is large.
      if (column.kind === 'numeric' && protectedColumn.kind === 'numeric' && p.levels > MAX_CODED_LEVELS) {
        measure = 'abs_pearson';
        value = absPearson(column.values, protectedColumn.values);
      } else if (column.kind === 'numeric') {
        measure = 'correlation_ratio';
        value = correlationRatio(column.values, p.codes, p.levels, spreads(column.values));
      } else {
        const c = codesOf(column);
        measure = 'cramers_v';
        value = cramersV(c.codes, c.levels, p.codes, p.levels);
      }
      const flag = value >= DATA_CHECKS.proxyError ? 'error' : value >= DATA_CHECKS.proxyWarning ? 'warning' : 'none';
      proxies.push({ feature: column.name, attribute, measure, value, flag });
      if (flag !== 'none') findings.push({ check: 'proxy', severity: flag, column: column.name, message: `${column.name} is associated with ${attribute} (${measure.replace('_', ' ')} ${value.toFixed(2)}): it may act as a proxy for it.` });
    }
  }

  // Leakage: a column that alone ranks the target almost perfectly (measured on a seeded
  // sample of LEAKAGE_ROWS rows of a larger file: the AUC's standard error there is ~0.001).
  const leakage: { feature: string; roc_auc: number }[] = [];
  const leakageRows = rows > LEAKAGE_ROWS ? sampleIndices(rows, LEAKAGE_ROWS, 0, 'profile/leakage') : null;
  const leakageLabels = leakageRows ? Uint8Array.from(leakageRows, (row) => labels[row]) : labels;
  const m = leakageRows ? leakageRows.length : rows;
  const rowAt = (k: number) => (leakageRows ? leakageRows[k] : k);
  // One array of scores for every column in turn (rocAuc keeps nothing of it).
  const scores = new Float64Array(m);
  for (const read of table.columns) {
    if (read.name === target || read.name === scoreColumn) continue;
    const column = numbersFor(read);
    if (column.kind === 'numeric') {
      const values = column.values;
      for (let k = 0; k < m; k++) {
        const v = values[rowAt(k)];
        scores[k] = Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v;
      }
    } else {
      // A category's score is its positive rate among the rows of the other folds (row i in
      // fold i mod 5): what a model could learn from this column alone. Rates from the row's
      // own label would score a column of one-row categories (an id, a zip code) as a perfect
      // leak; a category no other fold holds scores the others' overall rate.
      const { codes, levels } = codesOf(column);
      const pos = new Float64Array(levels * LEAKAGE_FOLDS);
      const all = new Float64Array(levels * LEAKAGE_FOLDS);
      const foldPos = new Float64Array(LEAKAGE_FOLDS);
      const foldAll = new Float64Array(LEAKAGE_FOLDS);
      for (let i = 0; i < rows; i++) {
        const cell = codes[i] * LEAKAGE_FOLDS + (i % LEAKAGE_FOLDS);
        pos[cell] += labels[i];
        all[cell]++;
        foldPos[i % LEAKAGE_FOLDS] += labels[i];
        foldAll[i % LEAKAGE_FOLDS]++;
      }
      const sum = (values: Float64Array, from: number) => {
        let total = 0;
        for (let f = 0; f < LEAKAGE_FOLDS; f++) total += values[from + f];
        return total;
      };
      const levelPos = new Float64Array(levels);
      const levelAll = new Float64Array(levels);
      for (let c = 0; c < levels; c++) {
        levelPos[c] = sum(pos, c * LEAKAGE_FOLDS);
        levelAll[c] = sum(all, c * LEAKAGE_FOLDS);
      }
      const totalPos = sum(foldPos, 0);
      for (let k = 0; k < m; k++) {
        const row = rowAt(k);
        const c = codes[row];
        const fold = row % LEAKAGE_FOLDS;
        const others = levelAll[c] - all[c * LEAKAGE_FOLDS + fold];
        scores[k] = others > 0 ? (levelPos[c] - pos[c * LEAKAGE_FOLDS + fold]) / others : (totalPos - foldPos[fold]) / (rows - foldAll[fold]);
      }
    }
    const auc = rocAuc(leakageLabels, scores);
    if (auc === null) continue;
    const strength = Math.max(auc, 1 - auc);
    if (strength >= DATA_CHECKS.leakageAuc) {
      leakage.push({ feature: column.name, roc_auc: strength });
      findings.push({ check: 'leakage', severity: 'error', column: column.name, message: `${column.name} alone separates the target (AUC ${strength.toFixed(3)}): check it is not the outcome or recorded after it.` });
    }
  }

  return withoutPersonalValues(table, {
    rows,
    columns,
    target: { counts: { '1': positives, '0': negatives }, imbalance_ratio: imbalance },
    duplicate_rows: duplicates,
    proxies,
    leakage,
    findings,
    distributions: Object.fromEntries(table.columns.map((column) => [column.name, storedDistribution(column)])),
    conventions:
      'Quartiles by linear interpolation; sd with n − 1. Proxies: Cramér’s V, bias-corrected (Bergsma 2013; categorical × categorical, missing as a category), correlation ratio η, bias-corrected as √ε² (Kelley 1935; a numeric column across the attribute’s groups; an attribute written as up to 10 numbers is groups too), |Pearson r| (a numeric column against an attribute of more numbers, a measurement such as age); warning from 0.3, error from 0.5. Leakage: a column alone reaching ROC AUC ≥ 0.98 (numeric values as scores, categories scored by their positive rate among the other four of five folds, row i in fold i mod 5; on a seeded sample of 200,000 rows of a larger file). Duplicates: rows equal in every cell to an earlier row.',
  });
}

/** What a model card says of a data file: its size, class balance and the period its dates cover. */
export interface DataSummary {
  file: string;
  sha256: string;
  rows: number;
  columns: number;
  /** Rows per value of the target (null: the file has no target column); a missing label counts under "(missing)". */
  class_counts: Record<string, number> | null;
  /** The range of every column read as dates (ISO 8601). */
  periods: { column: string; min: string; max: string }[];
}

/** Summarises a data file (the reference, usually the training data) for the model card. */
export function summarizeData(table: Table, file: string, sha256: string, target: string): DataSummary {
  const column = table.columns.find((c) => c.name === target);
  let classCounts: Record<string, number> | null = null;
  if (column) {
    const counts = new Map<string, number>();
    for (let row = 0; row < table.rowCount; row++) {
      const missing = column.kind === 'numeric' ? Number.isNaN(column.values[row]) : column.codes[row] < 0;
      const key = missing ? '(missing)' : column.kind === 'numeric' ? String(column.values[row]) : column.dictionary[column.codes[row]];
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    classCounts = Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  const periods = table.columns
    .filter((c) => c.kind === 'categorical')
    .flatMap((c) => {
      const range = profileColumn(c, table.rowCount).date_range;
      return range ? [{ column: c.name, ...range }] : [];
    });
  return { file, sha256, rows: table.rowCount, columns: table.columns.length, class_counts: classCounts, periods };
}

/** `f` remembering its value for each argument (by identity). */
function memo<K extends object, V>(f: (key: K) => V): (key: K) => V {
  const values = new Map<K, V>();
  return (key) => {
    let value = values.get(key);
    if (value === undefined) values.set(key, (value = f(key)));
    return value;
  };
}

/** Whether every present value is a whole number (a plain loop: every() with a function is slow per row in Node). */
function wholeNumbers(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i]) && !Number.isInteger(values[i])) return false;
  return true;
}

/**
 * Up to three of a column's numbers, as written, that read as thousands grouped by "." (1 to
 * 3 digits, ".", 3 digits: 5.943, 5.190), when every number written with a "." is so and no
 * whole number reaches 1,000; or null. Judged on the texts: 71.3 has one decimal, whatever its
 * double.
 */
function thousandsLike(column: NumericColumn): string | null {
  const examples: string[] = [];
  for (let row = 0; row < column.values.length; row++) {
    const v = column.values[row];
    if (v !== v) continue;
    const text = sourceText(column, row).trim();
    if (text.includes('.')) {
      if (!/^[+-]?\d{1,3}\.\d{3}$/.test(text)) return null;
      if (examples.length < 3) examples.push(text);
    } else if (!/^[+-]?\d+$/.test(text) || Math.abs(v) >= 1000) return null;
  }
  return examples.length ? examples.join(', ') : null;
}

/** A protected attribute's groups that differ only in surrounding spaces, as {@link spacedGroups} names them (the first text so written), or null. */
function spacedSpellings(column: Column): string | null {
  if (column.kind !== 'categorical') return null;
  const nameOf = spacedGroups(column);
  if (!nameOf) return null;
  const byText = new Map<string, Set<string>>();
  for (let row = 0; row < column.codes.length; row++) {
    if (column.codes[row] < 0) continue;
    const text = column.dictionary[column.codes[row]];
    (byText.get(text) ?? byText.set(text, new Set()).get(text)!).add(nameOf(row));
  }
  const clash = [...byText.values()].find((names) => names.size > 1)!;
  return [...clash].map((name) => (name.startsWith('"') ? name : quote(name))).join(', ');
}

/** The first values of a text column that differ only in letter case ("Female", "female"), quoted, or null. */
function caseSpellings(column: Column): string | null {
  if (column.kind !== 'categorical') return null;
  const present = new Uint8Array(column.dictionary.length);
  for (const code of column.codes) if (code >= 0) present[code] = 1;
  const byKey = new Map<string, string[]>();
  column.dictionary.forEach((text, code) => {
    if (!present[code]) return;
    const key = text.trim().toLowerCase();
    byKey.set(key, [...(byKey.get(key) ?? []), text]);
  });
  const clash = [...byKey.values()].find((texts) => texts.length > 1);
  return clash ? clash.map((text) => quote(text)).join(', ') : null;
}
