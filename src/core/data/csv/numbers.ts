/**
 * Reading decimal numbers from cell text: a fast exact path for plain decimals, JavaScript's
 * own reading behind a strict pattern for the rest, and the test for texts that may not read
 * back from their number. No allocation on the common path.
 */

/** A decimal number's text: sign, digits with at most one point, an optional exponent. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Exact powers of ten (10^0 … 10^22 are doubles without rounding). */
const POW10: number[] = [1];
for (let k = 1; k <= 22; k++) POW10.push(POW10[k - 1] * 10);

/**
 * A decimal number, or NaN. Fast path (Clinger's): a plain decimal of at most 15 digits
 * and 22 decimals is its digits as an exact integer divided by an exact power of ten,
 * one correctly rounded operation, so the same double `Number()` gives. Anything else
 * (exponents, long numbers) goes through Number() behind the strict pattern.
 */
export function parseDecimal(text: string): number {
  const value = fastDecimal(text, 0, text.length);
  return Number.isNaN(value) ? slowDecimal(text) : value;
}

/** {@link parseDecimal}'s fast path over `text[from, to)`, or NaN when it does not apply (then read the text). */
export function fastDecimal(text: string, from: number, to: number): number {
  let i = from;
  let c = text.charCodeAt(i);
  const negative = c === 45;
  if (negative || c === 43) i++;
  let mantissa = 0;
  let digits = 0;
  let decimals = -1;
  for (; i < to; i++) {
    c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      if (decimals >= 0) decimals++;
    } else if (c === 46 && decimals < 0) decimals = 0;
    else return Number.NaN;
  }
  if (digits === 0 || digits > 15 || decimals > 22) return Number.NaN;
  const value = decimals > 0 ? mantissa / POW10[decimals] : mantissa;
  return negative ? -value : value;
}

/**
 * How the text last read by {@link readDecimal} relates to its number: 0 `String(n)` gives it
 * back; d > 0 `n.toFixed(d)` does ("12.500"); −1 neither is known (compare with `String(n)`).
 */
export const decimalForm = new Int32Array(1);

/**
 * {@link fastDecimal} and the text's form in one pass over its characters (the reader's
 * hottest loop): the number, or NaN when the fast path does not apply, with
 * {@link decimalForm} set as {@link mayNotRoundTrip} and {@link fixedDecimals} would say.
 */
export function readDecimal(text: string, from: number, to: number): number {
  let i = from;
  let c = text.charCodeAt(i);
  const negative = c === 45;
  const plus = c === 43;
  if (negative || plus) i++;
  const first = i;
  let mantissa = 0;
  let digits = 0;
  let decimals = -1;
  let point = -1;
  for (; i < to; i++) {
    c = text.charCodeAt(i);
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
  const zeroLed = text.charCodeAt(first) === 48;
  // Forms String(n) never writes: "+5", ".5", "007", "5.", "-0".
  let form = plus || integerDigits === 0 || (zeroLed && integerDigits > 1) || decimals === 0 || (value === 0 && (negative || point >= 0)) ? -1 : 0;
  if (form === 0 && point >= 0 && text.charCodeAt(to - 1) === 48) form = decimals; // "12.500": toFixed(3)
  else if (form === 0 && (to - from > 15 || (zeroLed && first + 2 < to && text.charCodeAt(first + 2) === 48))) form = -1; // long, or "0.0…" (may print with an exponent)
  decimalForm[0] = form;
  return value;
}

/** Exponents and long numbers: JavaScript's own reading, for decimal text only. */
function slowDecimal(text: string): number {
  if (!DECIMAL.test(text)) return Number.NaN;
  const value = Number(text);
  return Number.isFinite(value) ? value : Number.NaN;
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
 * Whether the text of a decimal might not read back from its number (`String(n)`):
 * leading or trailing zeros, a sign, an exponent, very small or very long numbers. Only
 * such cells pay for the exact check.
 */
export function mayNotRoundTrip(text: string, from = 0, to = text.length): boolean {
  const n = to - from;
  if (n > 15) return true;
  let i = from;
  let c = text.charCodeAt(i);
  if (c === 45) c = text.charCodeAt(++i); // "-": look at what follows
  else if (c === 43 || c === 46) return true; // "+5", ".5"
  if (c === 46) return true; // "-.5"
  if (c === 48 && to > i + 1) {
    // "007", "0e1", "0.05" (tiny numbers print with an exponent)
    if (text.charCodeAt(i + 1) !== 46 || (i + 2 < to && text.charCodeAt(i + 2) === 48)) return true;
  } else if (c === 48 && i === from + 1) return true; // "-0"
  const last = text.charCodeAt(to - 1);
  let point = false;
  for (let k = from; k < to; k++) {
    const d = text.charCodeAt(k);
    if (d === 46) point = true;
    else if (d === 101 || d === 69) return true; // an exponent
  }
  return point && (last === 48 || last === 46); // "1.50", "1."
}

/**
 * The decimals d of a plain decimal `text[from, to)` that ends in a zero after its point
 * ("12.500", "-0.10"), whose text is then exactly its number's `toFixed(d)` — or 0 when the
 * text is not that form (a sign "+", leading zeros "007.50", no integer digit ".50", an
 * exponent, more than 15 digits, no trailing zero). Such a text is the nearest double to a
 * decimal of at most 15 significant digits, which toFixed(d) gives back exactly (the double
 * is within 10^−(d+1) of it). The caller excludes zero ("-0.0" would lose its sign).
 */
export function fixedDecimals(text: string, from: number, to: number): number {
  let i = from;
  if (text.charCodeAt(i) === 45) i++;
  const first = text.charCodeAt(i);
  if (first < 48 || first > 57) return 0;
  if (first === 48 && text.charCodeAt(i + 1) !== 46) return 0;
  let digits = 0;
  let point = -1;
  for (let k = i; k < to; k++) {
    const c = text.charCodeAt(k);
    if (c >= 48 && c <= 57) digits++;
    else if (c === 46 && point < 0) point = k;
    else return 0;
  }
  if (point < 0 || digits > 15 || text.charCodeAt(to - 1) !== 48) return 0;
  return to - point - 1;
}
