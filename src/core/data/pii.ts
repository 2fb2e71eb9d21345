/**
 * Likely personal data in a column: e-mail addresses, phone numbers, national-ID numbers
 * (US SSN, UK National Insurance), payment card numbers (Luhn-valid) and personal names,
 * from the values and the column's name. The report names the column, what was found and
 * on what share of its values — never a value itself.
 */
import { isIsoDate, type Column } from './table';
import { AuditConfigError } from '../base/errors';

/** Kinds of personal data recognised. */
export type PiiKind = 'email' | 'phone' | 'national_id' | 'payment_card' | 'name';

/** One column that likely holds personal data. */
export interface PiiColumn {
  column: string;
  kind: PiiKind;
  /** Share of the column's non-missing values that look like it (0 when found by the name alone). */
  share: number;
  /** Rows whose value looks like it (0 when found by the name alone). */
  rows: number;
  /** What gave it away: the values, the column's name, or both. */
  evidence: 'values' | 'column name' | 'values and column name';
}

/** Share of values a column needs to match to be flagged on its values alone. */
export const PII_VALUE_SHARE = 0.5;
/** Share that suffices when the column's name says the same. */
export const PII_NAMED_SHARE = 0.1;

const EMAIL = /^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/;
const SSN = /^(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$/;
const UK_NINO = /^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]$/i;
const PHONE = /^\+?[\d\s().-]{7,22}$/;
const DOTTED_DATE = /^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$/;
const PERSON_NAME = /^[A-Z][a-z'’-]+(?: [A-Z][a-z'’.-]*){1,3}$/;
/** One capitalised word: a first name or a surname, counted only in a column named for one. */
const SINGLE_NAME = /^[A-Z][a-z'’-]+$/;
/** A column named for a person's name: `name`, `first_name`, `surname`, `applicant_full_name`, … (not `product_name`). */
const PERSON_NAME_COLUMN = /^(name|(.*_)?(first_?name|last_?name|surname|given_?name|family_?name|forename|full_?name))$/i;
/** Distinct name-like values a person-name column needs (a handful of capitalised labels is not a list of people). */
const MIN_NAMES = 10;

const NAME_HINTS: [PiiKind, RegExp][] = [
  ['email', /e-?mail/i],
  // "phone" anywhere (cellphone, phone_number); tel, mobile and cell only as the whole name or with a number suffix (not cell_count, mobile_user, telemetry).
  ['phone', /phone|(^|_)(tel|mobile|cell)(_?(no|nr|num|number))?$/i],
  ['national_id', /(^|_|\b)(ssn|social_security|national_id|nino|passport|tax_id|tin)(_|\b|$)/i],
  ['payment_card', /(card_?number|credit_?card|(^|_)pan)(_|\b|$)/i],
  ['name', /(^|_|\b)(name|first_?name|last_?name|surname|full_?name|given_?name)(_|\b|$)/i],
];

/**
 * How many digits a number of each kind has when stored as a number (leading zeros and
 * separators lost): a numeric column named for it is flagged when its values fit.
 */
const DIGITS: Partial<Record<PiiKind, [number, number]>> = { phone: [7, 15], national_id: [7, 12], payment_card: [13, 19] };

/** Rows of a numeric column whose value is a positive integer with the digits of `kind`. */
function numericFits(column: Column, kind: PiiKind): { rows: number; total: number } {
  const range = DIGITS[kind];
  let rows = 0;
  let total = 0;
  if (column.kind !== 'numeric') return { rows, total };
  for (const v of column.values) {
    if (Number.isNaN(v)) continue;
    total++;
    if (!range || !Number.isInteger(v) || v <= 0) continue;
    const digits = v.toFixed(0).length;
    if (digits >= range[0] && digits <= range[1]) rows++;
  }
  return { rows, total };
}

/** Whether a digit string passes the Luhn check (payment card numbers do). */
function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** What one value looks like, if it looks like personal data. */
export function piiKindOf(value: string): PiiKind | null {
  const text = value.trim();
  if (EMAIL.test(text)) return 'email';
  if (SSN.test(text) || UK_NINO.test(text)) return 'national_id';
  const digits = text.replace(/[\s-]/g, '');
  if (/^\d{13,19}$/.test(digits) && /^[\d\s-]+$/.test(text) && luhn(digits)) return 'payment_card';
  // A phone number: 7–15 digits written with the separators people write them with (a bare
  // run of digits is as likely an id or an amount).
  const count = text.replace(/\D/g, '').length;
  if (isIsoDate(text) || DOTTED_DATE.test(text)) return null;
  // Written as a phone number is: a + or (area code), or three groups of digits at least ("555-867-5309"); two groups are a range or a code ("25000-49999", ZIP+4 "12345-6789").
  if (PHONE.test(text) && count >= 7 && count <= 15 && (/^\+|\(/.test(text) || text.split(/\D+/).filter(Boolean).length >= 3)) return 'phone';
  if (PERSON_NAME.test(text)) return 'name';
  return null;
}

/** The kind the column's name suggests, if any. */
export function piiHintOf(name: string): PiiKind | null {
  for (const [kind, pattern] of NAME_HINTS) if (pattern.test(name)) return kind;
  return null;
}

/**
 * The column's distinct values with their counts (categorical). Every distinct value is
 * looked at, not a sample, so the share and the row count are exact.
 */
function valueCounts(column: Column): { value: string; count: number }[] {
  if (column.kind !== 'categorical') return [];
  const counts = new Float64Array(column.dictionary.length);
  for (const code of column.codes) if (code >= 0) counts[code]++;
  const out: { value: string; count: number }[] = [];
  for (let c = 0; c < column.dictionary.length; c++) if (counts[c] > 0) out.push({ value: column.dictionary[c], count: counts[c] });
  return out;
}

/**
 * Whether a column likely holds personal data: the share of its (non-missing) values of
 * the most frequent kind is at least {@link PII_VALUE_SHARE}, or at least
 * {@link PII_NAMED_SHARE} of a kind the column's name also says; a numeric column named for
 * a phone number, national id or card number is flagged when that share of its values have
 * such a number's digits ({@link DIGITS}). Names need variety too: at
 * least half the values distinct (a column of a few "Yes Please"-like labels is not names);
 * in a column named for a person's name (`first_name`, `surname`, …) single capitalised
 * words count too, from {@link MIN_NAMES} different ones.
 */
export function detectPii(column: Column): PiiColumn | null {
  const hint = piiHintOf(column.name);
  const values = valueCounts(column);
  const total = values.reduce((sum, v) => sum + v.count, 0);
  const byKind = new Map<PiiKind, number>();
  for (const { value, count } of values) {
    const kind = piiKindOf(value);
    if (kind) byKind.set(kind, (byKind.get(kind) ?? 0) + count);
  }
  let best: { kind: PiiKind; share: number; rows: number } | null = null;
  for (const [kind, count] of byKind) {
    const share = total ? count / total : 0;
    if (kind === 'name' && values.length < total / 2) continue;
    if (!best || share > best.share) best = { kind, share, rows: count };
  }
  if (best && (best.share >= PII_VALUE_SHARE || (hint === best.kind && best.share >= PII_NAMED_SHARE))) {
    return { column: column.name, kind: best.kind, share: best.share, rows: best.rows, evidence: hint === best.kind ? 'values and column name' : 'values' };
  }
  // First names or surnames alone are single words, as many labels are: counted only where
  // the column's name says it holds people's names, and only with enough different ones.
  if (PERSON_NAME_COLUMN.test(column.name.trim()) && total > 0) {
    let rows = 0;
    let distinct = 0;
    for (const { value, count } of values) {
      const text = value.trim();
      if (!SINGLE_NAME.test(text) && !PERSON_NAME.test(text)) continue;
      rows += count;
      distinct++;
    }
    if (distinct >= MIN_NAMES && rows / total >= PII_NAMED_SHARE) return { column: column.name, kind: 'name', share: rows / total, rows, evidence: 'values and column name' };
  }
  // Phone numbers or ids stored as numbers: the name, and values with their digits (a 0/1
  // `mobile_user` or a `cell_count` is not flagged).
  if (hint && hint !== 'name' && column.kind === 'numeric') {
    const fit = numericFits(column, hint);
    return fit.total && fit.rows / fit.total >= PII_NAMED_SHARE ? { column: column.name, kind: hint, share: fit.rows / fit.total, rows: fit.rows, evidence: 'values and column name' } : null;
  }
  // A column named for personal data with no value yet is where it will be.
  if (hint && hint !== 'name' && total === 0) return { column: column.name, kind: hint, share: 0, rows: 0, evidence: 'column name' };
  const hinted = hint && hint !== 'name' ? (byKind.get(hint) ?? 0) : 0;
  if (hint && hinted > 0) return { column: column.name, kind: hint, share: hinted / total, rows: hinted, evidence: 'values and column name' };
  return null;
}

/** {@link detectPii} by column, each read once (a column is never changed once read). */
const found = new WeakMap<Column, PiiColumn | null>();

/** The columns of a table that likely hold personal data ({@link detectPii}), in column order. */
export function personalColumns(columns: readonly Column[]): PiiColumn[] {
  const out: PiiColumn[] = [];
  for (const column of columns) {
    let hit = found.get(column);
    if (hit === undefined) found.set(column, (hit = detectPii(column)));
    if (hit) out.push(hit);
  }
  return out;
}

/** What a report says of a column that likely holds personal data: the column, the kind, the rows and the share of its values, never a value. */
export function personalDataMessage(p: PiiColumn): string {
  const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
  return `${p.column} likely holds personal data (${kindText(p.kind)}${p.rows ? ` in ${p.rows} ${p.rows === 1 ? 'row' : 'rows'}, ${pct(p.share)} of its values` : ''}; by its ${p.evidence}): remove or pseudonymise it before the file is shared or used for training.`;
}

/**
 * Columns of an audited table whose values are personal data by its reference's (the
 * reference holds e-mail addresses in `contact`; this file holds some, too few to tell
 * alone): marked once both are read, so every part of the audit leaves them out alike.
 */
const fromReference = new WeakMap<object, Map<string, PiiColumn & { where: string }>>();

/** Marks the columns of `table` that hold personal data in `reference` ({@link personalValueColumns} then counts them). */
export function markPersonalFromReference(table: { columns: readonly Column[] }, reference: { columns: readonly Column[]; source: string } | null | undefined): void {
  if (reference) markFrom(table, reference, `the reference ${reference.source}`);
}

/** Marks a sample's columns that hold personal data in the whole table it was drawn from (the sample alone may hold too few such cells to tell). */
export function inheritPersonal(sample: { columns: readonly Column[] }, whole: { columns: readonly Column[]; source: string }): void {
  markFrom(sample, whole, `the whole of ${whole.source}`);
  const inherited = fromReference.get(whole);
  if (inherited) fromReference.set(sample, new Map([...inherited, ...(fromReference.get(sample) ?? [])]));
}

function markFrom(table: { columns: readonly Column[] }, other: { columns: readonly Column[] }, where: string): void {
  const own = new Set(personalColumns(table.columns).filter((p) => p.rows > 0).map((p) => p.column));
  const marks = new Map(fromReference.get(table) ?? []);
  for (const p of personalColumns(other.columns)) {
    if (p.rows > 0 && !own.has(p.column) && !marks.has(p.column) && table.columns.some((c) => c.name === p.column)) marks.set(p.column, { ...p, where });
  }
  if (marks.size) fromReference.set(table, marks);
}

/** The columns of `table` marked personal by its reference ({@link markPersonalFromReference}). */
function personalByReference(table: { columns: readonly Column[] }): (PiiColumn & { where: string })[] {
  return [...(fromReference.get(table)?.values() ?? [])];
}

/**
 * The columns of a table whose values likely hold personal data, with what was found: its
 * own (a column named like one but holding none of its values, a blank `telephone`, has no
 * value to keep, and is not among them), then those its reference or the whole file shows
 * ({@link markPersonalFromReference}, {@link inheritPersonal}), with `where`.
 */
export function personalValuesOf(table: { columns: readonly Column[] }): (PiiColumn & { where?: string })[] {
  return [...personalColumns(table.columns).filter((p) => p.rows > 0), ...personalByReference(table)];
}

/** The names of the columns of these tables (the audited file, its reference) whose values likely hold personal data ({@link personalValuesOf}). */
export function personalValueColumns(tables: readonly ({ columns: readonly Column[] } | null | undefined)[]): Set<string> {
  const names = new Set<string>();
  for (const table of tables) if (table) for (const p of personalValuesOf(table)) names.add(p.column);
  return names;
}

/** A kind of personal data in words ("national id"). */
export const kindText = (kind: PiiKind): string => kind.replace('_', ' ');

/**
 * Refuses a column of personal data as a protected attribute, a slice or an intersection's
 * part: its values would name the groups of every table in the result.
 */
export function refusePersonalGroups(table: { columns: readonly Column[] }, uses: [key: string, columns: readonly string[]][]): void {
  const personal = personalValuesOf(table);
  for (const [key, columns] of uses) {
    const found = personal.find((p) => columns.includes(p.column));
    if (!found) continue;
    throw new AuditConfigError(`${key}: ${JSON.stringify(found.column)} likely holds personal data (${kindText(found.kind)}, by its ${found.evidence}), and its values would name the groups of every table in the result. Group by a coarser column (a region for a phone number, none for a name), or pseudonymise it first.`);
  }
}

/** What a drift report says of the columns it left out for holding personal data ('' when none). */
export function personalNote(names: ReadonlySet<string>): string {
  return names.size ? ` Not compared: ${[...names].join(', ')}, which likely hold personal data (their values are left out of the result).` : '';
}
