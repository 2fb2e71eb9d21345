/**
 * Checks of a data file before any model exists (`plumbline check-data`, the app's drop of
 * a data file alone): size, missing values, duplicates, class balance, group sizes and base
 * rates per protected group, proxies of the protected attributes, freshness, likely
 * personal data, skewness, and drift against a reference — every one a gateable metric.
 */
import { profileTable, type ColumnProfile, type DataFinding, type ProxyAssociation } from '../analyses/profile/profile';
import { columnType, dateOrder, findColumn, isIsoDate, isoFromOrder, requireColumn, type Column, type Table } from '../data/table';
import { driftReport } from '../analyses/drift/drift';
import { chiSquareSurvival, homogeneityChiSquare } from '../analyses/drift/statistics';
import { numbersOf } from '../analyses/drift/mixed';
import { AuditConfigError, quote } from '../base/errors';
import { binaryTarget } from '../metrics/labels';
import { groupIndex } from '../metrics/groups';
import { daysBetween, isCalendarDate } from '../config/policy-terms';
import { personalColumns, personalDataMessage, refusePersonalGroups, type PiiColumn } from '../data/pii';

/** What to check and against what. */
export interface DataCheckOptions {
  /** The outcome column, for class balance and base rates per group. */
  target?: string;
  /** The positive outcome (default: 1 for a 0/1 target). */
  positiveLabel?: string;
  protectedAttributes: string[];
  /** A reference table (usually the training file) for drift. */
  reference?: Table;
  /** The column whose newest date gives the data's age. */
  dateColumn?: string;
  /** The data's date when no column holds it (YYYY-MM-DD). */
  dataDate?: string;
  /** The day the check is made (YYYY-MM-DD): ages are counted to it. */
  today: string;
  /** Significance level of the drift tests (KS, χ²): a column with p below it has drifted. */
  alpha: number;
  /** Missing share from which a column gets a warning. */
  missingWarn: number;
  /** |skewness| from which a numeric column gets a warning. */
  skewWarn: number;
}

/** What a user sets about a data check besides its columns: the flags' levels and how the data is dated. */
export type DataCheckFlags = Pick<DataCheckOptions, 'alpha' | 'missingWarn' | 'skewWarn' | 'dateColumn' | 'dataDate'>;

/** Defaults of the statistical flags, as the practice guide states them. */
export const DATA_CHECK_DEFAULTS = { alpha: 0.05, missingWarn: 0.05, skewWarn: 2 } as const;

/** One column as checked. */
export interface CheckedColumn {
  name: string;
  type: ColumnProfile['type'];
  missing: number;
  missing_share: number;
  distinct: number;
  /** Adjusted Fisher–Pearson skewness G1 (pandas' `skew`) of a numeric column; null otherwise or with fewer than 3 values. */
  skewness: number | null;
}

/** A column's drift test against the reference. */
export interface DriftTest {
  column: string;
  /** 'none' for a reference column the file lacks (no test: not drifted, with a note). */
  test: 'ks' | 'chi_square' | 'none';
  statistic: number | null;
  p_value: number | null;
  psi: number | null;
  drifted: boolean;
  /** A column of numbers with missing cells in either file: Pearson's χ² of its missing / present cells by file (KS reads the present values only). */
  missing?: { reference_share: number; share: number; statistic: number; p_value: number };
  /** Why the column counts as drifted without a test (it has no values in one of the files), or why it has no test (no column in the file). */
  note?: string;
}

/** The data-check report. */
export interface DataCheckReport {
  file: string;
  sha256: string;
  settings: { target: string | null; protected_attributes: string[]; alpha: number; missing_warn: number; skew_warn: number; reference: string | null; date_column: string | null; data_date: string | null; today: string };
  /** Every gateable metric (see DATA_CHECK_METRICS); null where the check could not run. */
  metrics: Record<string, number | null>;
  columns: CheckedColumn[];
  duplicate_rows: number;
  class_balance: Record<string, number> | null;
  groups: Record<string, Record<string, { n: number; share: number; base_rate: number | null }>>;
  proxies: ProxyAssociation[];
  pii: PiiColumn[];
  /** The data's newest date and age; `unreadable_rows`: rows of the date column holding no date (left out of the newest). */
  freshness: { source: string; newest: string; age_days: number; unreadable_rows?: number } | null;
  drift: DriftTest[] | null;
  findings: DataFinding[];
  /** Why a metric has no value, where the generic reason would mislead (e.g. several date columns). */
  not_computed: Record<string, string>;
  conventions: string;
}

/** Adjusted Fisher–Pearson skewness G1 = g1·√(n(n−1))/(n−2), g1 = m3/m2^1.5 (pandas `Series.skew`); null below 3 values or with no spread. */
export function skewness(values: Float64Array): number | null {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isNaN(v)) (n++, (sum += v));
  }
  if (n < 3) return null;
  const mean = sum / n;
  let m2 = 0;
  let m3 = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    const d = v - mean;
    m2 += d * d;
    m3 += d * d * d;
  }
  m2 /= n;
  m3 /= n;
  if (m2 <= 1e-14 * (mean * mean + 1)) return null;
  // m2^1.5 as m2·√m2: a non-integer power differs between engines in the last digit (Chromium and Node gave different skewness bytes).
  return (m3 / (m2 * Math.sqrt(m2))) * (Math.sqrt(n * (n - 1)) / (n - 2));
}

/**
 * The newest day (YYYY-MM-DD) of a date column — ISO 8601, or dates written in one
 * day/month/year order read from all its values ({@link dateOrder}) — and the rows whose
 * text is no date of that form (counted, never dropped silently). `ambiguous` when every
 * value fits both DD/MM/YYYY and MM/DD/YYYY.
 */
function newestDate(column: Column): { newest: string | null; unreadable: number } | 'ambiguous' {
  if (column.kind !== 'categorical') return { newest: null, unreadable: column.values.length - column.missing };
  const rows = new Float64Array(column.dictionary.length);
  for (let i = 0; i < column.codes.length; i++) {
    const code = column.codes[i];
    if (code >= 0) rows[code]++;
  }
  const present = column.dictionary.filter((_, code) => rows[code] > 0);
  const iso = present.some(isIsoDate);
  // The order is read from the values that are dates of some order; the others are counted as unreadable.
  const order = iso ? null : dateOrder(present.filter((text) => dateOrder([text]) !== null));
  if (order === 'ambiguous') return 'ambiguous';
  let newest: string | null = null;
  let unreadable = 0;
  column.dictionary.forEach((text, code) => {
    if (!rows[code]) return;
    const date = iso ? (isIsoDate(text) ? text : null) : order ? isoFromOrder(text, order) : null;
    if (date === null) return void (unreadable += rows[code]);
    const day = date.slice(0, 10);
    if (newest === null || day > newest) newest = day;
  });
  return { newest, unreadable };
}

/** Pearson's χ² (1 df) of a column's missing / present cells in the reference and the file; null where neither has a missing cell. */
function missingShift(reference: Column, current: Column): NonNullable<DriftTest['missing']> | null {
  // As KS reads the column: a marker text read as missing ("?", "unknown") is missing here too.
  const missingOf = (column: Column) => {
    const read = numbersOf(column);
    if (!read) return column.missing;
    let n = 0;
    for (const v of read.values) if (Number.isNaN(v)) n++;
    return n;
  };
  const [a, b] = [missingOf(reference), missingOf(current)];
  const [n, m] = [rowsOf(reference), rowsOf(current)];
  if (a + b === 0 || n === 0 || m === 0) return null;
  const { statistic } = homogeneityChiSquare([a, n - a], [b, m - b]);
  return { reference_share: a / n, share: b / m, statistic, p_value: chiSquareSurvival(statistic, 1) };
}

/** A column's cells. */
const rowsOf = (column: Column) => (column.kind === 'numeric' ? column.values.length : column.codes.length);

/** The data's age: from the date column (or the only date column), else the declared date. */
function freshnessOf(table: Table, options: DataCheckOptions): DataCheckReport['freshness'] {
  const fromColumn = (column: Column): DataCheckReport['freshness'] => {
    const found = newestDate(column);
    if (found === 'ambiguous') throw new AuditConfigError(`${table.source}: the date column ${quote(column.name)} holds dates that fit both DD/MM/YYYY and MM/DD/YYYY, so its newest date is not known. Write its dates as ISO 8601 (YYYY-MM-DD), or give the data's date with --data-date YYYY-MM-DD.`);
    if (!found.newest) throw new AuditConfigError(`${table.source}: the date column ${quote(column.name)} holds no dates (YYYY-MM-DD, or DD/MM/YYYY-like in one order). Write its dates as ISO 8601, or give the data's date with --data-date YYYY-MM-DD.`);
    return { source: `newest ${column.name}`, newest: found.newest, age_days: daysBetween(found.newest, options.today), ...(found.unreadable ? { unreadable_rows: found.unreadable } : {}) };
  };
  if (options.dateColumn) return fromColumn(requireColumn(table, options.dateColumn, 'date', 'Name the column holding the rows’ dates (--date-column), or give the data’s date with --data-date YYYY-MM-DD.'));
  if (options.dataDate) {
    if (!isCalendarDate(options.dataDate)) throw new AuditConfigError(`--data-date ${quote(options.dataDate)} is not a date: write it YYYY-MM-DD.`);
    // A declared date past the check's is a typo or a wrong clock: an age gate would pass on it.
    if (options.dataDate > options.today) throw new AuditConfigError(`--data-date ${options.dataDate} is after the check's date (${options.today}): give the date of the data's newest row, or set the clock (SOURCE_DATE_EPOCH).`);
    return { source: 'declared data date', newest: options.dataDate, age_days: daysBetween(options.dataDate, options.today) };
  }
  const dates = table.columns.filter((c) => columnType(c) === 'date');
  return dates.length === 1 ? fromColumn(dates[0]) : null;
}

const pct = (share: number) => `${(share * 100).toFixed(1)}%`;

/** Checks a table; every metric a data policy can gate is in `metrics`. */
export function checkDataTable(table: Table, sha256: string, options: DataCheckOptions): DataCheckReport {
  const rows = table.rowCount;
  const names = table.columns.map((c) => c.name);
  const columnNames = names.length > 20 ? `${names.slice(0, 20).join(', ')}, … ${names.length - 20} more` : names.join(', ');
  for (const attribute of options.protectedAttributes) requireColumn(table, attribute, 'protected attribute', `Give columns of the file with --protected A,B (its columns: ${columnNames}).`);
  // Its groups (base rates by group) would be keyed by each person's value, as an audit's would: refused as an audit refuses it.
  refusePersonalGroups(table, [['--protected', options.protectedAttributes], ['--target', options.target ? [options.target] : []]]);
  // Checked here, not by binaryTarget: a data check needs no target, so the fix is to name another or none.
  if (options.target) requireColumn(table, options.target, 'target', `Give the outcome column with --target, or leave --target out (class balance and base rates need it; the other checks do not).`);
  const target = options.target ? binaryTarget(table, options.target, options.positiveLabel) : null;
  const labels = target ? target.labels : new Uint8Array(rows);
  const profile = profileTable(table, options.target ?? '', labels, options.protectedAttributes);
  const findings: DataFinding[] = profile.findings.filter((f) => f.check !== 'high_missing' && (target !== null || (f.check !== 'class_imbalance' && f.check !== 'leakage')));

  const columns: CheckedColumn[] = profile.columns.map((c) => {
    const column = findColumn(table, c.name)!;
    return { name: c.name, type: c.type, missing: c.missing, missing_share: c.missing_rate, distinct: c.distinct, skewness: column.kind === 'numeric' && c.type !== 'boolean' ? skewness(column.values) : null };
  });
  for (const c of columns) {
    if (c.missing_share >= options.missingWarn && c.missing > 0) findings.push({ check: 'missing', severity: 'warning', column: c.name, message: `${c.name} is ${pct(c.missing_share)} missing (${c.missing} of ${rows} rows; warned from ${pct(options.missingWarn)}).` });
    if (c.skewness !== null && Math.abs(c.skewness) >= options.skewWarn) findings.push({ check: 'skewness', severity: 'warning', column: c.name, message: `${c.name} is skewed (skewness ${c.skewness.toFixed(2)}; flagged from |${options.skewWarn}|): check for outliers, and whether a rate computed on it is dominated by a tail.` });
  }

  const groups: DataCheckReport['groups'] = {};
  let minGroup: number | null = null;
  let maxGap: number | null = null;
  for (const attribute of options.protectedAttributes) {
    const index = groupIndex(table, attribute);
    groups[attribute] = {};
    const rates: number[] = [];
    index.groups.forEach((group, g) => {
      const members = index.rows[g];
      let positives = 0;
      for (const row of members) positives += labels[row];
      const rate = target && members.length ? positives / members.length : null;
      if (rate !== null) rates.push(rate);
      groups[attribute][group] = { n: members.length, share: members.length / rows, base_rate: rate };
      minGroup = minGroup === null ? members.length : Math.min(minGroup, members.length);
    });
    if (rates.length >= 2) maxGap = Math.max(maxGap ?? 0, Math.max(...rates) - Math.min(...rates));
  }

  // The profile found those with values (and kept none of them): its findings are among these; a column named for personal data with no value yet is where it will be.
  const pii = personalColumns(table.columns);
  for (const p of pii) if (p.rows === 0) findings.push({ check: 'personal_data', severity: 'error', column: p.column, message: personalDataMessage(p) });

  const freshness = freshnessOf(table, options);
  if (freshness?.unreadable_rows) findings.push({ check: 'freshness', severity: 'warning', message: `${freshness.unreadable_rows} ${freshness.unreadable_rows === 1 ? 'row' : 'rows'} of ${freshness.source.replace(/^newest /, '')} ${freshness.unreadable_rows === 1 ? 'holds' : 'hold'} no date it can read: the data's age is taken from the other rows.` });
  const notComputed: Record<string, string> = {};
  if (freshness && freshness.age_days < 0) {
    findings.push({ check: 'freshness', severity: 'warning', message: `The data's newest date (${freshness.newest}) is after the check's date (${options.today}): check the dates, or the clock (SOURCE_DATE_EPOCH).` });
    // A negative age would pass any age gate: the metric is not computed, and a gate on it is not evaluated.
    notComputed.data_age_days = `the data's newest date (${freshness.newest}) is after the check's date (${options.today})`;
  }
  const dateColumns = table.columns.filter((c) => columnType(c) === 'date').map((c) => c.name);
  if (!freshness && dateColumns.length > 1) {
    notComputed.data_age_days = `${table.source} has ${dateColumns.length} date columns (${dateColumns.join(', ')}): say which one dates the rows (--date-column), or give the data's date (--data-date)`;
    findings.push({ check: 'date_order', severity: 'warning', message: `The data's age is not known: ${notComputed.data_age_days}.` });
  }
  let drift: DriftTest[] | null = null;
  if (options.reference) {
    const report = driftReport(options.reference, table, { exclude: options.target ? [options.target] : [] });
    const reference = options.reference;
    const emptyIn = (t: Table, name: string) => {
      const column = findColumn(t, name);
      return column !== undefined && t.rowCount > 0 && column.missing === t.rowCount;
    };
    drift = report.columns.map((c): DriftTest => {
      const test = c.ks ? { test: 'ks' as const, statistic: c.ks.statistic, p_value: c.ks.p_value } : { test: 'chi_square' as const, statistic: c.chi_square?.statistic ?? 0, p_value: c.chi_square?.p_value ?? 1 };
      // A column empty in one file and not the other has changed whatever a test says (KS has nothing to compare).
      const empty = emptyIn(table, c.column) !== emptyIn(reference, c.column) ? `no values in ${emptyIn(table, c.column) ? table.source : reference.source}` : null;
      const missing = test.test === 'ks' ? missingShift(findColumn(reference, c.column)!, findColumn(table, c.column)!) : null;
      const drifted = empty !== null || test.p_value < options.alpha || (missing !== null && missing.p_value < options.alpha);
      return { column: c.column, ...test, psi: c.psi, drifted, ...(missing ? { missing } : {}), ...(empty ? { note: empty } : {}) };
    });
    // A reference column the file lacks (renamed or dropped; a batch without labels lacks the label): listed and found, no test to count.
    for (const name of report.missing_columns ?? []) drift.push({ column: name, test: 'none', statistic: null, p_value: null, psi: null, drifted: false, note: `no column ${quote(name)} in ${table.source} (renamed or dropped?), which ${reference.source} has` });
    for (const d of drift.filter((x) => x.test === 'none')) findings.push({ check: 'drift', severity: 'warning', column: d.column, message: `${d.note![0].toUpperCase()}${d.note!.slice(1)}: not compared.` });
    for (const d of drift.filter((x) => x.drifted && x.note)) findings.push({ check: 'drift', severity: 'warning', column: d.column, message: `${d.column} has ${d.note}: counted as drifted.` });
    const pOf = (p: number) => (p < 1e-4 ? p.toExponential(1) : p.toFixed(4));
    for (const d of drift.filter((x) => x.drifted && !x.note)) {
      const values = d.p_value! < options.alpha ? `${d.test === 'ks' ? 'KS' : 'χ²'} p = ${pOf(d.p_value!)} < α ${options.alpha}` : null;
      const missing = d.missing && d.missing.p_value < options.alpha ? `its missing share ${pct(d.missing.reference_share)} → ${pct(d.missing.share)}, χ² p = ${pOf(d.missing.p_value)} < α ${options.alpha}` : null;
      findings.push({ check: 'drift', severity: 'warning', column: d.column, message: `${d.column} differs from the reference (${[values, missing].filter(Boolean).join('; ')}; PSI ${d.psi!.toFixed(3)}).` });
    }
  }

  const positives = target ? labels.reduce((s, y) => s + y, 0) : 0;
  const skews = columns.filter((c) => c.skewness !== null).map((c) => Math.abs(c.skewness!));
  const metrics: Record<string, number | null> = {
    n_rows: rows,
    n_columns: table.columns.length,
    max_missing_share: columns.length ? Math.max(...columns.map((c) => c.missing_share)) : null,
    n_high_missing_columns: findings.filter((f) => f.check === 'missing').length,
    duplicate_rows: profile.duplicate_rows,
    duplicate_share: rows ? profile.duplicate_rows / rows : null,
    minority_class_share: target && rows ? Math.min(positives, rows - positives) / rows : null,
    min_group_size: minGroup,
    max_base_rate_gap: maxGap,
    max_proxy_strength: profile.proxies.length ? Math.max(...profile.proxies.map((p) => p.value)) : null,
    pii_columns: pii.length,
    data_age_days: freshness && freshness.age_days >= 0 ? freshness.age_days : null,
    n_drifted_columns: drift ? drift.filter((d) => d.drifted).length : null,
    max_psi: drift && drift.some((d) => d.psi !== null) ? Math.max(...drift.flatMap((d) => (d.psi === null ? [] : [d.psi]))) : null,
    max_abs_skewness: skews.length ? Math.max(...skews) : null,
    n_skewed_columns: skews.length ? findings.filter((f) => f.check === 'skewness').length : null,
  };
  return {
    file: table.source,
    sha256,
    settings: { target: options.target ?? null, protected_attributes: options.protectedAttributes, alpha: options.alpha, missing_warn: options.missingWarn, skew_warn: options.skewWarn, reference: options.reference?.source ?? null, date_column: options.dateColumn ?? null, data_date: options.dataDate ?? null, today: options.today },
    metrics,
    columns,
    duplicate_rows: profile.duplicate_rows,
    class_balance: target ? { [target.positiveLabel]: positives, [`not ${target.positiveLabel}`]: rows - positives } : null,
    groups,
    proxies: profile.proxies,
    pii,
    freshness,
    drift,
    findings,
    not_computed: notComputed,
    conventions: `${profile.conventions} Missing share warned from ${pct(options.missingWarn)}. Skewness: adjusted Fisher–Pearson G1 (pandas), flagged from |${options.skewWarn}|. Drift: KS (numeric, asymptotic p) or χ² (categorical) against the reference, drifted when p < α = ${options.alpha}. Personal data: e-mail addresses, phone numbers (7–15 digits written with separators), US SSN / UK NI numbers, Luhn-valid card numbers, and "First Last" names in varied values, flagged from ${pct(0.5)} of a column's values (${pct(0.1)} when its name says the same; single capitalised names in a first_name/surname-like column, 10 different at least; numbers with a phone/id/card number's digits in a column named for one); values are never printed. Age: days from the newest date (ISO 8601, or one day/month/year order) to ${options.today}.`,
  };
}
