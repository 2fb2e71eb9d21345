import { quote } from '../../base/errors';
import { fileRow, type CategoricalColumn, type Table } from '../table';
import { personalColumns, personalValueColumns } from '../pii';

/**
 * Reading decimal numbers from cell text: a fast exact path for plain decimals, JavaScript's
 * own reading behind a strict pattern for the rest, and, in the same pass, whether the text
 * reads back from its number. No allocation on the common path.
 */

/** A decimal number's text: sign, digits with at most one point, an optional exponent. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Exact powers of ten (10^0 … 10^22 are doubles without rounding). */
const POW10: number[] = [1];
for (let k = 1; k <= 22; k++) POW10.push(POW10[k - 1] * 10);

/**
 * How the text of the number last read by {@link parseDecimal} or {@link readDecimal} relates
 * to it: 0 `String(n)` gives the text back; d > 0 `n.toFixed(d)` does ("12.500"); −1 neither
 * is known (compare with `String(n)`).
 */
export const decimalForm = new Int32Array(1);

/**
 * A decimal number, or NaN; {@link decimalForm} says how its text reads back. Fast path
 * ({@link readDecimal}); anything else (exponents, long numbers) goes through Number()
 * behind the strict pattern, its form unknown.
 */
export function parseDecimal(text: string): number {
  const value = text.length <= DECIMAL_CHARS ? readDecimal(asciiBytes(text), 0, text.length) : Number.NaN;
  if (!Number.isNaN(value)) return value;
  decimalForm[0] = -1;
  return slowDecimal(text);
}

/** The most characters of a text {@link readDecimal} reads: a sign, 15 digits and a point. */
const DECIMAL_CHARS = 17;
const SCRATCH = new Uint8Array(DECIMAL_CHARS);

/** A short text's characters as bytes (one that is not ASCII as 0xFF, which no number holds). */
function asciiBytes(text: string): Uint8Array {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    SCRATCH[i] = c < 128 ? c : 0xff;
  }
  return SCRATCH;
}

/**
 * The fast path over the bytes `text[from, to)` (Clinger's), or NaN when it does not apply (then read
 * the text): a plain decimal of at most 15 digits and 22 decimals is its digits as an exact
 * integer divided by an exact power of ten, one correctly rounded operation, so the same
 * double `Number()` gives. In the same pass over the characters (the reader's hottest loop)
 * it sets {@link decimalForm}: −1 for forms `String(n)` never writes ("+5", ".5", "007", "5.",
 * "-0", "0.0"), for "0.0…" (tiny numbers print with an exponent) and for texts over 15
 * characters; d for a text ending in a zero after its point ("12.500": at most 15
 * significant digits, so the double is within 10^−(d+1) of the decimal and `toFixed(d)`
 * gives it back exactly); else 0.
 */
export function readDecimal(text: Uint8Array, from: number, to: number): number {
  let i = from;
  let c = text[i];
  const negative = c === 45;
  const plus = c === 43;
  if (negative || plus) i++;
  const first = i;
  let mantissa = 0;
  let digits = 0;
  let decimals = -1;
  let point = -1;
  for (; i < to; i++) {
    c = text[i];
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      if (decimals >= 0) decimals++;
    } else if (c === 46 && decimals < 0) {
      decimals = 0;
      point = i;
    } else return Number.NaN;
  }
  if (digits === 0 || digits > 15 || decimals > 22) return Number.NaN;
  const magnitude = decimals > 0 ? mantissa / POW10[decimals] : mantissa;
  const value = negative ? -magnitude : magnitude;
  const integerDigits = (point < 0 ? to : point) - first;
  const zeroLed = text[first] === 48;
  // Forms String(n) never writes: "+5", ".5", "007", "5.", "-0".
  let form = plus || integerDigits === 0 || (zeroLed && integerDigits > 1) || decimals === 0 || (value === 0 && (negative || point >= 0)) ? -1 : 0;
  if (form === 0 && point >= 0 && text[to - 1] === 48) form = decimals; // "12.500": toFixed(3)
  else if (form === 0 && (to - from > 15 || (zeroLed && first + 2 < to && text[first + 2] === 48))) form = -1; // long, or "0.0…" (may print with an exponent)
  decimalForm[0] = form;
  return value;
}

/** A whole number's text: digits, maybe signed, no point or exponent. */
const WHOLE = /^[+-]?\d+$/;

/**
 * Exponents and long numbers: JavaScript's own reading, for decimal text only. A whole number
 * from 2^53 on is not one: a double cannot hold every such number ("9007199254740993" would read
 * as …992), and such texts are identifiers (account numbers, snowflake ids), kept as text so
 * that two of them stay two.
 */
function slowDecimal(text: string): number {
  if (!DECIMAL.test(text)) return Number.NaN;
  const value = Number(text);
  if (Math.abs(value) > Number.MAX_SAFE_INTEGER && WHOLE.test(text)) return Number.NaN;
  return Number.isFinite(value) ? value : Number.NaN;
}

/** A whole number's text past 2^53 as the nearest double (NaN for any other text): for a column declared numeric, which takes it rounded. */
export function wholeBeyondDouble(text: string): number {
  if (!WHOLE.test(text)) return Number.NaN;
  const value = Number(text);
  return Number.isFinite(value) && Math.abs(value) > Number.MAX_SAFE_INTEGER ? value : Number.NaN;
}

/** Trims only when needed (most cells have no surrounding spaces). */
export function trimmed(raw: string): string {
  const n = raw.length;
  if (n === 0) return raw;
  const a = raw.charCodeAt(0);
  const b = raw.charCodeAt(n - 1);
  return a <= 32 || b <= 32 ? raw.trim() : raw;
}

/**
 * Where a text column first holds a text that is not a number, for the messages that refuse
 * it where numbers are needed: `row 5: "inf"` (the file's data row, the table a sample or
 * not). A column of numbers with one such text reads as text, and its first text is then a
 * number, which explains nothing. A sample keeps the file's texts: one outside its rows is
 * quoted as such. An infinite number gets how to write it, a whole number past 2^53 why it
 * is text.
 */
export function firstNonNumber(table: Table, column: CategoricalColumn): string {
  const isNumber = column.dictionary.map((text) => !Number.isNaN(parseDecimal(trimmed(text))));
  // A column of words (half its cells or more hold a word, of two words or more) is categories, not numbers with a marker: its first text is not called a missing-value marker.
  let wordCells = 0;
  let cells = 0;
  for (const code of column.codes) {
    if (code < 0) continue;
    cells++;
    if (!isNumber[code]) wordCells++;
  }
  const words = isNumber.filter((n) => !n).length > 1 && wordCells * 2 >= cells;
  const why = (text: string) => (words ? whyText(text, true) : whyText(text));
  const row = column.codes.findIndex((code) => code >= 0 && !isNumber[code]);
  // A column of personal data is named by its row alone: a refusal goes to terminals and CI logs.
  if (personalValueColumns([table]).has(column.name) || personalColumns([column]).some((p) => p.rows > 0)) {
    return row >= 0 ? `row ${fileRow(table, row).toLocaleString('en-US')}: text (a value of personal data, not shown)` : 'text (a value of personal data, not shown)';
  }
  if (row >= 0) {
    const text = column.dictionary[column.codes[row]];
    return `row ${fileRow(table, row).toLocaleString('en-US')}: ${quote(text)}${why(text)}`;
  }
  const text = column.dictionary.find((_, code) => !isNumber[code]);
  if (text !== undefined) return `${quote(text)}${why(text)}, in a row the audit did not sample`;
  // Every text a number: declared categorical (data.dtypes), or stored as text in a Parquet or Arrow file.
  const first = column.codes.findIndex((code) => code >= 0);
  return first < 0 ? 'no value' : `row ${fileRow(table, first).toLocaleString('en-US')}: ${quote(column.dictionary[column.codes[first]])}, a number read as a category (declared categorical, or stored as text or as a categorical of numbers, pandas 'category', in the file: write the column as numbers)`;
}

/** Why a text that looks like a number is read as text ('' for any other text), for the messages that quote it; `categories`: the column holds words, so a word is one of them, not a marker. */
export function whyText(text: string, categories = false): string {
  const bare = text.trim();
  if (/^[+-]?\d{1,3}(,\d{3})+$/.test(bare)) return ': a thousands separator (5,943 for 5943), or a decimal comma? Numbers are read without thousands separators and with a decimal point (5943, 12.5): export the file so';
  if (/^[+-]?inf(inity)?$/i.test(bare)) return ': an infinite number, which the audit cannot use; leave such cells blank (missing) or cap them';
  if (DECIMAL.test(bare) && !Number.isFinite(Number(bare))) return ': a number past the largest double (1.8e308), which the audit cannot use; leave such cells blank (missing) or cap them';
  if (WHOLE.test(bare)) return ': a whole number from 2^53 on, read as text because a double cannot hold every such number (an identifier? data.dtypes numeric reads it rounded)';
  if (/^[+-]?\d+,\d+$/.test(bare)) return ': a decimal comma? Numbers are read with a decimal point (12.5): export the file so';
  // Words are categories: the message's own fix (encode them) applies, not a marker's.
  if (categories) return '';
  if (/^(\?|-+|\.|none|n\/a|na|null|nil|missing|unknown|unk|#n\/a)$/i.test(bare)) return ': a missing-value marker? List it in data.missing_values (--missing-values) to read it as missing';
  if (/^(true|false)$/i.test(bare)) return ': a boolean; a model that takes numbers reads it as 1/0: write the column as 1/0';
  return '';
}
