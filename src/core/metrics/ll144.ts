/**
 * The bias-audit tables of New York City's Local Law 144 (automated employment decision
 * tools), as the Department of Consumer and Worker Protection's rule (6 RCNY § 5-300)
 * defines them:
 * - a selection rate per category — the share of the category's rows the tool selects
 *   (here: predicted positive at the audit's threshold) — or, for a tool that only scores,
 *   a scoring rate: the share scoring above the median score of every audited row;
 * - an impact ratio per category: its rate over the highest rate among the categories;
 * - for sex, for race/ethnicity and for every sex × race/ethnicity intersection;
 * - the number of rows of unknown category (a missing cell), left out of the categories;
 * - categories under 2% of the rows of known category, which the rule lets an auditor
 *   exclude from the impact ratios: reported, marked `excludable`, and never the
 *   highest-rate reference (unless every category is that small).
 */
import { AuditConfigError, quote } from '../base/errors';
import { findColumn, type Table } from '../data/table';
import { median } from '../base/math';
import { groupIndex, INTERSECTION_SEPARATOR, MISSING_GROUP } from './groups';
import { flags } from '../base/rows';

/** What `fairness.ll144` asks for. */
export interface Ll144Settings {
  /** Column holding sex (null: none). */
  sex: string | null;
  /** Column holding race/ethnicity (null: none). */
  race_ethnicity: string | null;
  /** `selection` for a tool that selects; `scoring` for one that only scores. */
  rate: 'selection' | 'scoring';
}

/** One category's row of a LL144 table. */
export interface Ll144Category {
  category: string;
  n: number;
  /** Rows selected (or scoring above the median). */
  selected: number;
  rate: number;
  /** Share of the rows of known category. */
  share: number;
  /** Under 2% of the rows of known category: the rule allows leaving it out of the impact ratios. */
  excludable: boolean;
  /** Rate over the reference category's; null when that rate is 0. */
  impact_ratio: number | null;
}

/** The table for one characteristic (sex, race/ethnicity or their intersection). */
export interface Ll144Characteristic {
  column: string;
  /** Rows whose category is unknown (a missing cell), not in any category. */
  unknown: number;
  /** The highest-rate category the impact ratios divide by. */
  reference_category: string | null;
  categories: Ll144Category[];
}

/** The LL144 bias-audit tables of an audit. */
export interface Ll144Result {
  rate: 'selection' | 'scoring';
  /** How a row counts as selected, in words. */
  definition: string;
  /** The median score (scoring rate only). */
  median_score: number | null;
  rows: number;
  sex: Ll144Characteristic | null;
  race_ethnicity: Ll144Characteristic | null;
  intersectional: Ll144Characteristic | null;
  /** The 2% rule, in words. */
  excludable_rule: string;
}

/** Share of the known-category rows under which a category may be excluded from impact ratios. */
export const LL144_EXCLUDABLE_SHARE = 0.02;

/** Refuses a `fairness.ll144` block naming a column the data does not have. */
export function checkLl144(table: Table, settings: Ll144Settings): void {
  if (!settings.sex && !settings.race_ethnicity) throw new AuditConfigError('fairness.ll144 names neither sex nor race_ethnicity: name the column that holds each (for example {sex: gender, race_ethnicity: race}), or remove the block.');
  for (const key of ['sex', 'race_ethnicity'] as const) {
    const column = settings[key];
    if (column && !findColumn(table, column)) throw new AuditConfigError(`fairness.ll144.${key} names the column ${quote(column)}, which the data does not have. Columns: ${table.columns.map((c) => c.name).join(', ')}.`);
  }
}

function characteristic(column: string, keys: (string | null)[], selected: Uint8Array): Ll144Characteristic {
  const counts = new Map<string, { n: number; selected: number }>();
  let unknown = 0;
  keys.forEach((key, row) => {
    if (key === null) {
      unknown++;
      return;
    }
    const c = counts.get(key) ?? counts.set(key, { n: 0, selected: 0 }).get(key)!;
    c.n++;
    c.selected += selected[row];
  });
  const known = keys.length - unknown;
  const categories: Ll144Category[] = [...counts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([category, c]) => ({ category, n: c.n, selected: c.selected, rate: c.selected / c.n, share: c.n / known, excludable: c.n / known < LL144_EXCLUDABLE_SHARE, impact_ratio: null }));
  const candidates = categories.some((c) => !c.excludable) ? categories.filter((c) => !c.excludable) : categories;
  const reference = candidates.reduce<Ll144Category | null>((best, c) => (best === null || c.rate > best.rate ? c : best), null);
  for (const c of categories) c.impact_ratio = reference && reference.rate > 0 ? c.rate / reference.rate : null;
  return { column, unknown, reference_category: reference?.category ?? null, categories };
}

/** The LL144 tables for the audited rows, their scores and the threshold. */
export function ll144Tables(table: Table, scores: Float64Array, threshold: number, settings: Ll144Settings): Ll144Result {
  checkLl144(table, settings);
  const medianScore = settings.rate === 'scoring' ? median(scores) : null;
  const selected = flags(scores.length, (i) => (medianScore === null ? scores[i] >= threshold : scores[i] > medianScore));
  const keysOf = (column: string | null): (string | null)[] | null => {
    if (!column) return null;
    const index = groupIndex(table, column);
    return Array.from(index.groupOf, (g) => (index.groups[g] === MISSING_GROUP ? null : index.groups[g]));
  };
  const sex = keysOf(settings.sex);
  const race = keysOf(settings.race_ethnicity);
  const both = sex && race ? sex.map((s, row) => (s === null || race[row] === null ? null : `${s}${INTERSECTION_SEPARATOR}${race[row]}`)) : null;
  return {
    rate: settings.rate,
    definition:
      settings.rate === 'selection'
        ? `selected: predicted positive (score at or above the threshold ${threshold})`
        : `scoring rate: the share scoring above the median score of all ${scores.length} rows (${medianScore})`,
    median_score: medianScore,
    rows: scores.length,
    sex: sex && settings.sex ? characteristic(settings.sex, sex, selected) : null,
    race_ethnicity: race && settings.race_ethnicity ? characteristic(settings.race_ethnicity, race, selected) : null,
    intersectional: both ? characteristic(`${settings.sex}${INTERSECTION_SEPARATOR}${settings.race_ethnicity}`, both, selected) : null,
    excludable_rule: `A category under ${LL144_EXCLUDABLE_SHARE * 100}% of the rows of known category may be excluded from the impact ratios (6 RCNY § 5-301): it is reported, marked excludable, and never the reference.`,
  };
}
