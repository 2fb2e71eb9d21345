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
