/**
 * How every report prints a number, an interval and a value that is missing: one way, so
 * that no output ever shows "undefined", "NaN" or "[object Object]".
 */

/** What a report prints where a number has no value (an empty group's rate, a metric not run). */
export const MISSING = '—';

/** A number to `digits` decimals; {@link MISSING} for null, undefined, NaN or ±Infinity; text as written. */
export function formatNumber(value: unknown, digits = 3): string {
  if (typeof value === 'number') return Number.isFinite(value) ? value.toFixed(digits) : MISSING;
  if (value === null || value === undefined) return MISSING;
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? MISSING;
}

/** An interval as `low–high`; {@link MISSING} when there is none. */
export function formatInterval(interval: { low: number; high: number } | null | undefined, digits = 3, dash = '–'): string {
  if (!interval || !Number.isFinite(interval.low) || !Number.isFinite(interval.high)) return MISSING;
  return `${interval.low.toFixed(digits)}${dash}${interval.high.toFixed(digits)}`;
}

/**
 * A settings object as readable rows: nested keys joined with dots, lists written out,
 * nothing as raw JSON broken mid-word.
 */
export function settingRows(value: unknown, prefix = ''): [string, string][] {
  if (value === null || value === undefined) return [[prefix, MISSING]];
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return [[prefix, value.length ? value.map((v) => formatNumber(v, 6)).join(', ') : '(none)']];
    return value.flatMap((v, i) => settingRows(v, `${prefix}[${i}]`));
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return [[prefix, '(none)']];
    return entries.flatMap(([k, v]) => settingRows(v, prefix ? `${prefix}.${k}` : k));
  }
  return [[prefix, typeof value === 'number' ? String(value) : formatNumber(value)]];
}
