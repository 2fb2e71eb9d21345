import { AuditConfigError, closeMatches, quote } from '../errors';
import { findColumn, type Table } from '../data/table';

/** The label shown for rows whose protected attribute is missing. */
export const MISSING_GROUP = '(missing)';

/** Rows of each value of one attribute, as index arrays into the table. */
export interface GroupIndex {
  attribute: string;
  /** Group names in sorted order. */
  groups: string[];
  rows: Uint32Array[];
}

/** Most distinct values a numeric column may have to be used as a protected attribute. */
export const MAX_NUMERIC_GROUPS = 50;

/**
 * Groups the rows of a table by the value of `attribute`; missing values form their own
 * group, so no row is dropped. Groups are sorted by name for a stable order.
 */
export function groupIndex(table: Table, attribute: string): GroupIndex {
  const column = findColumn(table, attribute);
  if (!column) {
    const close = closeMatches(attribute, table.columns.map((c) => c.name));
    throw new AuditConfigError(`${table.source}: no protected attribute column ${quote(attribute)}${close.length ? ` (close matches: ${close.join(', ')})` : ''}.`);
  }
  const keys: string[] = new Array(table.rowCount);
  if (column.kind === 'categorical') {
    for (let i = 0; i < table.rowCount; i++) keys[i] = column.codes[i] < 0 ? MISSING_GROUP : column.dictionary[column.codes[i]];
  } else {
    for (let i = 0; i < table.rowCount; i++) keys[i] = Number.isNaN(column.values[i]) ? MISSING_GROUP : String(column.values[i]);
  }
  const members = new Map<string, number[]>();
  for (let i = 0; i < keys.length; i++) {
    let list = members.get(keys[i]);
    if (!list) members.set(keys[i], (list = []));
    list.push(i);
  }
  if (column.kind === 'numeric' && members.size > MAX_NUMERIC_GROUPS) {
    throw new AuditConfigError(`${table.source}, column ${quote(attribute)}: a protected attribute needs groups, but this numeric column has ${members.size} distinct values. Bin it into groups (e.g. an age_group column) first.`);
  }
  const groups = [...members.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { attribute, groups, rows: groups.map((g) => Uint32Array.from(members.get(g)!)) };
}

/** Separator of attribute values in an intersection's group names ("Female × Hispanic"). */
export const INTERSECTION_SEPARATOR = ' × ';

/** Rows of each combination of several attributes, and the combinations with no rows. */
export interface IntersectionIndex extends GroupIndex {
  /** Combinations of observed values that no row has. */
  emptyCells: string[];
}

/** Groups rows by the combination of several attributes' values (e.g. race × sex). */
export function intersectionIndex(table: Table, attributes: string[]): IntersectionIndex {
  const parts = attributes.map((attribute) => groupIndex(table, attribute));
  const memberOf = parts.map((part) => {
    const codes = new Int32Array(table.rowCount);
    part.rows.forEach((rows, g) => rows.forEach((row) => (codes[row] = g)));
    return codes;
  });
  const members = new Map<string, number[]>();
  for (let row = 0; row < table.rowCount; row++) {
    const key = parts.map((part, a) => part.groups[memberOf[a][row]]).join(INTERSECTION_SEPARATOR);
    let list = members.get(key);
    if (!list) members.set(key, (list = []));
    list.push(row);
  }
  let combinations: string[] = [''];
  for (const part of parts) combinations = combinations.flatMap((prefix) => part.groups.map((g) => (prefix ? `${prefix}${INTERSECTION_SEPARATOR}${g}` : g)));
  const groups = [...members.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    attribute: attributes.join(INTERSECTION_SEPARATOR),
    groups,
    rows: groups.map((g) => Uint32Array.from(members.get(g)!)),
    emptyCells: combinations.filter((c) => !members.has(c)),
  };
}

/** Most distinct values a numeric column may have before slices use its quartiles instead. */
export const MAX_SLICE_VALUES = 20;

/**
 * Slices of one column for slice evaluation: each value of a categorical or low-cardinality
 * column, or the quartile bins [q_k, q_k+1) (last closed) of a numeric column with many
 * values; missing values form their own slice.
 */
export function sliceIndex(table: Table, name: string): GroupIndex {
  const column = findColumn(table, name);
  if (column?.kind === 'numeric') {
    const distinct = new Set<number>();
    for (const v of column.values) {
      if (!Number.isNaN(v)) distinct.add(v);
      if (distinct.size > MAX_SLICE_VALUES) break;
    }
    if (distinct.size > MAX_SLICE_VALUES) {
      const sorted = column.values.filter((v) => !Number.isNaN(v)).sort();
      const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))];
      const edges = [...new Set([q(0), q(0.25), q(0.5), q(0.75)])];
      const labelOf = (k: number) => (k + 1 < edges.length ? `[${edges[k]}, ${edges[k + 1]})` : `[${edges[k]}, ${sorted[sorted.length - 1]}]`);
      const members = new Map<string, number[]>();
      for (let row = 0; row < table.rowCount; row++) {
        const v = column.values[row];
        let key = MISSING_GROUP;
        if (!Number.isNaN(v)) {
          let k = edges.length - 1;
          while (k > 0 && v < edges[k]) k--;
          key = labelOf(k);
        }
        let list = members.get(key);
        if (!list) members.set(key, (list = []));
        list.push(row);
      }
      const groups = [...members.keys()];
      return { attribute: name, groups, rows: groups.map((g) => Uint32Array.from(members.get(g)!)) };
    }
  }
  return groupIndex(table, name);
}
