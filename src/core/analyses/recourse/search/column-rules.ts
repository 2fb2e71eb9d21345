/**
 * Which model inputs the recourse search may change and how: the config's recourse columns
 * checked against the model and the data, and each input's rule with its reason.
 */
import { findColumn, type Table } from '../../../data/table';
import { sortedPresent } from '../../../data/sorted';
import { personalValueColumns } from '../../../data/pii';
import { AuditConfigError, closeMatches, quote } from '../../../base/errors';
import { quantile } from './percentiles';
import { RECOURSE_DEFAULTS, type RecourseOptions } from './settings';

/** Whether and how the search may change one model input, and why. */
export interface ColumnRule {
  column: string;
  changes: 'numeric' | 'categorical' | 'never';
  reason: string;
  /** Numeric: the observed 5th and 95th percentile values a change stays within. */
  range?: [number, number];
  /** Categorical: the categories a change may move to. */
  values?: string[];
}

/** Names a person cannot act on: age and birth dates (`age`, `age_group`, `ApplicantAge`, `dob`, `year_of_birth`), matched as words so `mortgage` or `percentage` are not. */
export function isAgeLike(name: string): boolean {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  return /(^|[^a-z])(age|aged|ages|dob|yob)([^a-z]|$)/.test(words) || words.includes('birth');
}

/** Names joined with commas, the first `max` of them and the count when there are more. */
function listNames(names: readonly string[], max = 12): string {
  return names.length > max ? `${names.slice(0, max).join(', ')}, … (${names.length} in all)` : names.join(', ');
}

/**
 * Refuses a recourse setting (actionable, categorical_changes, immutable, costs, monotone)
 * naming a column the model does not read (the audit checks this before the section runs: a
 * config mistake is exit 2, not a section left out).
 */
export function checkRecourseInputs(options: Partial<Pick<RecourseOptions, 'actionable' | 'categoricalChanges' | 'immutable' | 'costs' | 'monotone'>>, columns: readonly string[]): void {
  const categorical = options.categoricalChanges ?? [];
  const categoricalNames = Array.isArray(categorical) ? categorical : Object.keys(categorical);
  // Every column a recourse setting names (costs, monotone and immutable ones were ignored when the model does not read them).
  const named = [
    ['recourse.actionable', options.actionable ?? []],
    ['recourse.categorical_changes', categoricalNames],
    ['recourse.immutable', options.immutable ?? []],
    ['recourse.costs', Object.keys(options.costs ?? {})],
    ['recourse.monotone', Object.keys(options.monotone ?? {})],
  ] as const;
  for (const [key, names] of named) {
    for (const name of names) {
      if (columns.includes(name)) continue;
      const close = closeMatches(name, [...columns]);
      throw new AuditConfigError(`${key}: ${quote(name)} is not a model input${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}; the model reads ${listNames([...columns])}. Name model inputs only.`);
    }
  }
}

/**
 * Which model inputs may change and how: checks the config's recourse columns against the
 * model and the data (an unknown column, a numeric column given categories, or a category
 * the data does not hold is an {@link AuditConfigError}) and gives each input its rule.
 */
export function columnRules(table: Table, columns: string[], options: Pick<RecourseOptions, 'immutable' | 'protectedAttributes' | 'proxies' | 'actionable' | 'categoricalChanges'> & Partial<Pick<RecourseOptions, 'costs' | 'monotone'>>, codes: ReadonlySet<string> = new Set()): ColumnRule[] {
  const categorical = options.categoricalChanges ?? [];
  checkRecourseInputs(options, columns);
  const protectedSet = new Set(options.protectedAttributes ?? []);
  const immutable = new Set(options.immutable);
  const personal = personalValueColumns([table]);
  const actionable = options.actionable ? new Set(options.actionable) : null;
  const rules: ColumnRule[] = [];
  for (const name of columns) {
    const column = findColumn(table, name);
    if (!column) continue;
    const allowedValues = Array.isArray(categorical) ? (categorical.includes(name) ? null : undefined) : Object.hasOwn(categorical, name) ? categorical[name] : undefined;
    // A model's category codes (XGBoost enable_categorical, LightGBM categorical_feature) are not amounts: moving one to the next percentile changes the category arbitrarily.
    if (codes.has(name) && column.kind === 'numeric' && !protectedSet.has(name) && !immutable.has(name) && (allowedValues !== undefined || options.actionable?.includes(name))) {
      throw new AuditConfigError(`${allowedValues !== undefined ? 'recourse.categorical_changes' : 'recourse.actionable'}: ${quote(name)} holds the model's category codes (it splits on them by category), which recourse does not move as numbers. Remove it from the list: it stays as it is.`);
    }
    if (allowedValues !== undefined && column.kind === 'numeric') {
      throw new AuditConfigError(`recourse.categorical_changes: ${quote(name)} is numeric in ${table.source}; a number moves within its observed 5th to 95th percentiles. Name it in recourse.actionable instead.`);
    }
    const proxy = (options.proxies ?? []).find((p) => p.column === name);
    const proxyText = proxy ? (proxy.source === 'declared' ? `declared proxy of ${proxy.attribute} (robustness.proxies)` : `error-level proxy of ${proxy.attribute} (${proxy.measure?.replace('_', ' ')} ${proxy.value?.toFixed(2)})`) : '';
    const never = (reason: string) => rules.push({ column: name, changes: 'never', reason });
    if (protectedSet.has(name)) {
      never('protected attribute');
      continue;
    }
    if (immutable.has(name)) {
      never('recourse.immutable');
      continue;
    }
    // Its counterfactuals would list the person's values (from → to), which the result keeps none of.
    if (personal.has(name)) {
      never('likely personal data (see the data findings): its values are not kept');
      continue;
    }
    let reason: string;
    if (actionable) {
      if (!actionable.has(name) && allowedValues === undefined) {
        never('not in recourse.actionable');
        continue;
      }
      // A category changes only to the values recourse.categorical_changes names (it moved to any category it was named in actionable).
      if (column.kind === 'categorical' && allowedValues === undefined) {
        throw new AuditConfigError(`recourse.actionable: ${quote(name)} is categorical in ${table.source}, and a category changes only where recourse.categorical_changes allows it. Name it there (with the values it may take) instead.`);
      }
      reason = actionable.has(name) ? 'recourse.actionable' : 'recourse.categorical_changes';
    } else if (allowedValues !== undefined) {
      reason = 'recourse.categorical_changes';
    } else if (proxy) {
      never(`${proxyText}; name it in recourse.actionable to allow changes`);
      continue;
    } else if (isAgeLike(name)) {
      never('age-like: a person cannot change it');
      continue;
    } else if (column.kind === 'categorical') {
      never('categorical: not named in recourse.categorical_changes');
      continue;
    } else if (codes.has(name)) {
      never("category codes of the model (it splits on them by category): not moved as numbers");
      continue;
    } else {
      reason = 'numeric model input';
    }
    if (proxy) reason += ` (a ${proxyText}, changed because the config allows it)`;
    if (column.kind === 'numeric') {
      const sorted = sortedPresent(column.values);
      if (sorted.length === 0) {
        never('no values');
        continue;
      }
      const range: [number, number] = [quantile(sorted, RECOURSE_DEFAULTS.low), quantile(sorted, RECOURSE_DEFAULTS.high)];
      if (range[0] === range[1]) {
        never(`no spread between its 5th and 95th percentiles (both ${range[0]})`);
        continue;
      }
      rules.push({ column: name, changes: 'numeric', reason, range });
    } else {
      const present = new Set<number>();
      for (const code of column.codes) if (code >= 0) present.add(code);
      const observed = column.dictionary.filter((_, code) => present.has(code));
      if (allowedValues) {
        for (const value of allowedValues) {
          if (observed.includes(value)) continue;
          const close = closeMatches(value, observed);
          throw new AuditConfigError(`recourse.categorical_changes.${name}: ${quote(value)} is not a value of ${name} in ${table.source}${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}; its values are ${listNames([...observed].sort())}.`);
        }
      }
      rules.push({ column: name, changes: 'categorical', reason, values: allowedValues ? [...new Set(allowedValues)] : observed });
    }
  }
  // A direction has no meaning for a category (it was accepted, and the search moved categories any way).
  for (const name of Object.keys(options.monotone ?? {})) {
    if (rules.find((r) => r.column === name)?.changes === 'categorical') throw new AuditConfigError(`recourse.monotone: ${quote(name)} is categorical, and a category has no direction to keep. Remove it; recourse.categorical_changes names the values it may move to.`);
  }
  // A cost or a direction for a column the search never changes would never apply.
  for (const [key, names] of [['recourse.costs', Object.keys(options.costs ?? {})], ['recourse.monotone', Object.keys(options.monotone ?? {})]] as const) {
    for (const name of names) {
      const rule = rules.find((r) => r.column === name);
      if (rule?.changes === 'never') throw new AuditConfigError(`${key}: ${quote(name)} is never changed (${rule.reason}), so its ${key === 'recourse.costs' ? 'cost' : 'direction'} would never apply. Remove it${rule.reason === 'protected attribute' || rule.reason === 'recourse.immutable' ? '' : ', or name it in recourse.actionable to let it change'}.`);
    }
  }
  return rules;
}
