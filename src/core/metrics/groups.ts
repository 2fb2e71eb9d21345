import { AuditConfigError, quote } from '../errors';
import { findColumn, requireColumn, type Table } from '../data/table';

/** The label shown for rows whose protected attribute is missing. */
export const MISSING_GROUP = '(missing)';

/** Rows of each value of one attribute, as index arrays into the table. */
export interface GroupIndex {
  attribute: string;
  /** Group names in sorted order. */
  groups: string[];
  rows: Uint32Array[];
  /** The position in `groups` of each row's group. */
  groupOf: Int32Array;
}

/** Most distinct values a numeric column may have to be used as a protected attribute. */
export const MAX_NUMERIC_GROUPS = 50;

/** Builds a group index from a per-row key code (0…keys.length−1) and the keys' names. */
function indexFromCodes(attribute: string, codes: Int32Array, names: string[]): GroupIndex {
  const counts = new Uint32Array(names.length);
  for (const code of codes) counts[code]++;
  const present = names.map((name, code) => ({ name, code })).filter(({ code }) => counts[code] > 0);
  present.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const position = new Int32Array(names.length).fill(-1);
  present.forEach(({ code }, g) => (position[code] = g));
  const rows = present.map(({ code }) => new Uint32Array(counts[code]));
  const fill = new Uint32Array(present.length);
  const groupOf = new Int32Array(codes.length);
  for (let row = 0; row < codes.length; row++) {
    const g = position[codes[row]];
    groupOf[row] = g;
    rows[g][fill[g]++] = row;
  }
  return { attribute, groups: present.map(({ name }) => name), rows, groupOf };
}

/** Per-row codes of a column's values (missing → its own code) and the codes' names. */
function columnCodes(table: Table, attribute: string): { codes: Int32Array; names: string[] } {
  const column = requireColumn(table, attribute, 'protected attribute');
  const codes = new Int32Array(table.rowCount);
  if (column.kind === 'categorical') {
    const missing = column.dictionary.length;
    for (let i = 0; i < codes.length; i++) codes[i] = column.codes[i] < 0 ? missing : column.codes[i];
    return { codes, names: [...column.dictionary, MISSING_GROUP] };
  }
  const byValue = new Map<number, number>();
  const names: string[] = [];
  for (let i = 0; i < codes.length; i++) {
    const value = column.values[i];
    const key = Number.isNaN(value) ? Number.NaN : value;
    let code = byValue.get(key);
    if (code === undefined) {
      code = names.length;
      byValue.set(key, code);
      names.push(Number.isNaN(value) ? MISSING_GROUP : String(value));
      if (names.length > MAX_NUMERIC_GROUPS) {
        throw new AuditConfigError(`${table.source}, column ${quote(attribute)}: a protected attribute needs groups, but this numeric column has more than ${MAX_NUMERIC_GROUPS} distinct values. Bin it into groups (e.g. an age_group column) first.`);
      }
    }
    codes[i] = code;
  }
  return { codes, names };
}

/**
 * Groups the rows of a table by the value of `attribute`; missing values form their own
 * group, so no row is dropped. Groups are sorted by name for a stable order.
 */
export function groupIndex(table: Table, attribute: string): GroupIndex {
  const { codes, names } = columnCodes(table, attribute);
  return indexFromCodes(attribute, codes, names);
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
  const codes = new Int32Array(table.rowCount);
  let names: string[] = [''];
  for (const part of parts) {
    const width = part.groups.length;
    for (let row = 0; row < codes.length; row++) codes[row] = codes[row] * width + part.groupOf[row];
    names = names.flatMap((prefix) => part.groups.map((g) => (prefix ? `${prefix}${INTERSECTION_SEPARATOR}${g}` : g)));
  }
  const index = indexFromCodes(attributes.join(INTERSECTION_SEPARATOR), codes, names);
  const present = new Set(index.groups);
  return { ...index, emptyCells: names.filter((name) => !present.has(name)) };
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
      const rows = groups.map((g) => Uint32Array.from(members.get(g)!));
      const groupOf = new Int32Array(table.rowCount);
      rows.forEach((list, g) => list.forEach((row) => (groupOf[row] = g)));
      return { attribute: name, groups, rows, groupOf };
    }
  }
  return groupIndex(table, name);
}
