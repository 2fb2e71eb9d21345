import { AuditConfigError, quote } from '../base/errors';
import { cellText, findColumn, isIsoDate, keptText, presentValues, requireColumn, shownText, type CategoricalColumn, type Column, type NumericColumn, type Table } from '../data/table';
import { INPUT_LIMITS } from '../base/limits';

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
export const MAX_NUMERIC_GROUPS = INPUT_LIMITS.numericProtectedGroups;

/** Most groups (distinct values, missing counted as one) a protected attribute may have. */
export const MAX_PROTECTED_GROUPS = INPUT_LIMITS.protectedGroups;

/**
 * Below this many distinct values a protected attribute is never refused for having more
 * values than half its rows (a small hand-made table may well have 6 groups in 10 rows).
 */
const FEW_GROUPS = 20;

const count = (n: number) => n.toLocaleString('en-US');

/**
 * Refuses a protected attribute that would make the fairness audit meaningless or
 * unbounded, before any metric is computed: a column with no values (every row missing:
 * one "(missing)" group, every disparity 0, every gate passing unchecked), a column with a
 * single value, and a column with more groups than {@link MAX_PROTECTED_GROUPS} (or, past
 * a few, more distinct values than half its non-missing rows: most groups would hold one
 * row) — an id or a zip code picked by mistake. The message names the column and says
 * what it looks like.
 */
export function checkProtectedAttribute(table: Table, attribute: string): void {
  const column = requireColumn(table, attribute, 'protected attribute');
  const where = `${table.source}, column ${quote(attribute)}`;
  const rows = table.rowCount;
  let missing = 0;
  let distinct = 0;
  // Up to a few distinct values, as texts, to say what the column looks like.
  const examples: string[] = [];
  const spaced = column.kind === 'categorical' ? spacedGroups(column) : null;
  if (column.kind === 'categorical' && !spaced) {
    const used = new Uint8Array(column.dictionary.length);
    for (let i = 0; i < column.codes.length; i++) {
      const code = column.codes[i];
      if (code < 0) missing++;
      else if (used[code] === 0) {
        used[code] = 1;
        distinct++;
        if (examples.length < 50) examples.push(column.dictionary[code]);
      }
    }
  } else {
    // A column of codes ("01" beside "1") is two groups, as groupIndex makes them; so is a text written with and without spaces.
    const nameOf = groupNamer(column);
    const keyOf = column.kind === 'numeric' ? numberGroupKey(column) : nameOf;
    const seen = new Set<number | string>();
    for (let i = 0; i < rows; i++) {
      if (column.kind === 'numeric' ? Number.isNaN(column.values[i]) : column.codes[i] < 0) missing++;
      // Numbers stop counting past the numeric limit; texts (written two ways) count on, for the limits below.
      else if ((column.kind !== 'numeric' || seen.size <= MAX_NUMERIC_GROUPS) && !seen.has(keyOf(i))) {
        seen.add(keyOf(i));
        if (examples.length < 50) examples.push(nameOf(i));
      }
    }
    distinct = seen.size;
  }
  const present = rows - missing;
  if (distinct === 0) {
    throw new AuditConfigError(
      `${where}: the protected attribute holds no values (all ${count(rows)} rows are missing), so there are no groups to compare and every fairness gate would pass unchecked. Choose the column that holds the attribute, or fill it in.`,
    );
  }
  if (distinct === 1 && missing === 0) {
    throw new AuditConfigError(`${where}: every row holds the same value ${quote(examples[0])} (${count(rows)} rows), so there is a single group and no disparity to measure. Choose a protected attribute with at least two groups.`);
  }
  if (column.kind === 'numeric' && distinct > MAX_NUMERIC_GROUPS) {
    throw new AuditConfigError(
      `${where}: a protected attribute needs groups, but this numeric column has more than ${MAX_NUMERIC_GROUPS} distinct values (${lookalike(examples, distinct, present, true)}). Bin it into groups (e.g. an age_group column) first.`,
    );
  }
  const groups = distinct + (missing > 0 ? 1 : 0);
  if (groups > MAX_PROTECTED_GROUPS || (distinct > FEW_GROUPS && distinct * 2 > present)) {
    throw new AuditConfigError(
      `${where}: a protected attribute needs a few groups to compare, but this column has ${count(distinct)} distinct values in ${count(present)} rows (${lookalike(examples, distinct, present, false)}). Choose the column that holds the groups, or group its values first (e.g. zip code → region): a protected attribute may have at most ${count(MAX_PROTECTED_GROUPS)} groups, and fewer distinct values than half its rows.`,
    );
  }
}

/** What a column of many distinct values looks like, from a few of them, in words. */
function lookalike(examples: string[], distinct: number, present: number, numeric: boolean): string {
  if (distinct === present) return 'every value is different: an id or a row number?';
  const all = (pattern: RegExp) => examples.every((value) => pattern.test(value.trim()));
  if (all(/^\d{5}(-\d{4})?$/)) return 'five-digit codes: a zip code?';
  if (all(/^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$/i)) return 'postcodes?';
  if (examples.every((value) => isIsoDate(value.trim()))) return 'dates: group them by year or period first?';
  if (numeric && examples.every((value) => Number.isInteger(Number(value)))) return 'whole numbers: an id, a zip code or a count?';
  if (numeric) return 'numbers: a measurement, not groups?';
  if (all(/^\d+$/)) return 'numeric codes: an id or a zip code?';
  if (examples.reduce((sum, value) => sum + value.length, 0) > 40 * examples.length) return 'long texts: free text, not groups?';
  return 'far more values than groups';
}

/** Builds a group index from a per-row key code (0…keys.length−1) and the keys' names. */
function indexFromCodes(attribute: string, codes: Int32Array, names: string[]): GroupIndex {
  const counts = new Uint32Array(names.length);
  for (let i = 0; i < codes.length; i++) counts[codes[i]]++;
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

/**
 * Whether a number column's file writes codes: some present cell has a leading zero ("01",
 * "007"), which a measurement would not. Such a column's groups are its texts — "01" and
 * "1" are two branches, as pandas reading the column as text keeps them — where a column of
 * numbers groups "1.50" with "1.5".
 */
export function writesCodes(column: Column): boolean {
  if (column.kind !== 'numeric' || !column.texts) return false;
  const { rows, codes, dictionary } = column.texts;
  const coded = dictionary.map((text) => /^\s*[+-]?0\d/.test(text));
  for (let k = 0; k < rows.length; k++) if (codes[k] >= 0 && coded[codes[k]] && !Number.isNaN(column.values[rows[k]])) return true;
  return false;
}

/**
 * What a number column's present rows are grouped by: the value, or where the file writes codes
 * ({@link writesCodes}) the text as written ("01" is not "1"). Groups, the single-group check
 * and the proxy check key their rows alike.
 */
export function numberGroupKey(column: NumericColumn): (row: number) => number | string {
  return writesCodes(column) ? (row) => shownText(column, row) : (row) => column.values[row];
}

/**
 * A text column's groups where a text is written with and without surrounding spaces ("a",
 * " a", "a "): a group per written text, as pandas reads them (and a model that reads the
 * text is fed them); the texts so written are named quoted (`" a"`). Null where no text is
 * written two ways: the texts without their spaces name the same groups.
 */
export function spacedGroups(column: CategoricalColumn): ((row: number) => string) | null {
  // Asked for by the groups, the single-group check, the proxy check and the profile's warning alike: read once a column.
  let namer = spacedGroupsCache.get(column);
  if (namer === undefined) spacedGroupsCache.set(column, (namer = spacedNamer(column)));
  return namer;
}

/** {@link spacedGroups} by column (a column is never changed once read). */
const spacedGroupsCache = new WeakMap<CategoricalColumn, ((row: number) => string) | null>();

function spacedNamer(column: CategoricalColumn): ((row: number) => string) | null {
  const texts = column.texts;
  if (!texts || texts.rows.length === 0) return null;
  const { dictionary, codes } = column;
  // Each text's written forms: those kept (with spaces), and the bare one where some present cell was not kept.
  const forms = new Map<number, Set<string>>();
  const spacedCells = new Int32Array(dictionary.length);
  // Only texts kept for their spaces: a number kept with its trailing zeros ("1.0" beside "1", in a column turned to text) is another matter.
  const spacedForm = (code: number, written: string | undefined) => written !== undefined && written !== dictionary[code] && written.trim() === dictionary[code];
  for (let k = 0; k < texts.rows.length; k++) {
    const code = codes[texts.rows[k]];
    if (code < 0 || texts.codes[k] < 0) continue;
    const written = texts.dictionary[texts.codes[k]];
    if (!spacedForm(code, written)) continue;
    spacedCells[code]++;
    (forms.get(code) ?? forms.set(code, new Set()).get(code)!).add(written);
  }
  if (forms.size === 0) return null;
  const cells = new Int32Array(dictionary.length);
  for (let i = 0; i < codes.length; i++) if (codes[i] >= 0) cells[codes[i]]++;
  const twoWays = new Uint8Array(dictionary.length);
  for (const [code, written] of forms) twoWays[code] = written.size + (cells[code] > spacedCells[code] ? 1 : 0) > 1 ? 1 : 0;
  if (!twoWays.some((v) => v === 1)) return null;
  return (row) => {
    const code = codes[row];
    if (code < 0) return MISSING_GROUP;
    if (!twoWays[code]) return dictionary[code];
    const written = keptText(column, row);
    return spacedForm(code, written) ? JSON.stringify(written) : dictionary[code];
  };
}

/**
 * The group a row of `column` is in, by name: its text ({@link cellText}; a column of codes
 * as written, {@link writesCodes}), or {@link MISSING_GROUP}. Fairness groups and recourse's
 * per-group shares name their groups alike.
 */
export function groupNamer(column: Column): (row: number) => string {
  if (column.kind === 'categorical') return spacedGroups(column) ?? ((row) => (column.codes[row] < 0 ? MISSING_GROUP : column.dictionary[column.codes[row]]));
  const text = writesCodes(column) ? shownText : cellText;
  return (row) => (Number.isNaN(column.values[row]) ? MISSING_GROUP : text(column, row));
}

/** Per-row codes of a column's values (missing → its own code) and the codes' names; a column of codes by its texts ({@link writesCodes}). */
function columnCodes(table: Table, attribute: string): { codes: Int32Array; names: string[] } {
  const column = requireColumn(table, attribute, 'protected attribute');
  const codes = new Int32Array(table.rowCount);
  if (column.kind === 'categorical' && !spacedGroups(column)) {
    const missing = column.dictionary.length;
    for (let i = 0; i < codes.length; i++) codes[i] = column.codes[i] < 0 ? missing : column.codes[i];
    return { codes, names: [...column.dictionary, MISSING_GROUP] };
  }
  // Numbers by value (or by text, where they are codes); texts written two ways by their written forms.
  const nameOf = groupNamer(column);
  const keyOf = column.kind === 'numeric' ? numberGroupKey(column) : nameOf;
  const missingAt = (i: number) => (column.kind === 'numeric' ? Number.isNaN(column.values[i]) : column.codes[i] < 0);
  const byValue = new Map<number | string, number>();
  const names: string[] = [];
  for (let i = 0; i < codes.length; i++) {
    const key = missingAt(i) ? Number.NaN : keyOf(i);
    let code = byValue.get(key);
    if (code === undefined) {
      code = names.length;
      byValue.set(key, code);
      names.push(nameOf(i));
      if (column.kind === 'numeric' && names.length > MAX_NUMERIC_GROUPS) {
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
  const column = requireColumn(table, attribute, 'protected attribute');
  // Metrics, intervals, shift, robustness and the reports each ask for the same attributes.
  let index = groupIndexCache.get(column);
  if (!index) {
    const { codes, names } = columnCodes(table, attribute);
    index = indexFromCodes(attribute, codes, names);
    groupIndexCache.set(column, index);
  }
  return index;
}

/** Group indexes by column (read-only once built: nothing writes to a GroupIndex's arrays). */
const groupIndexCache = new WeakMap<Column, GroupIndex>();

/** Separator of attribute values in an intersection's group names ("Female × Hispanic"). */
export const INTERSECTION_SEPARATOR = ' × ';

/** Rows of each combination of several attributes, and the combinations with no rows. */
export interface IntersectionIndex extends GroupIndex {
  /** Combinations of observed values that no row has. */
  emptyCells: string[];
}

/**
 * Refuses an intersection whose possible cells (the product of its attributes' group
 * counts) pass {@link INPUT_LIMITS.intersectionCells}: each cell is named, and listed when
 * empty, so the work and the result grow with the product.
 */
export function checkIntersection(table: Table, attributes: string[], groupCounts?: number[]): void {
  const counts = groupCounts ?? attributes.map((attribute) => groupIndex(table, attribute).groups.length);
  let cells = 1;
  for (const c of counts) cells *= c;
  if (cells > INPUT_LIMITS.intersectionCells) {
    throw new AuditConfigError(
      `The intersection ${attributes.join(INTERSECTION_SEPARATOR)} has ${count(cells)} possible groups (${counts.map(count).join(' × ')}), more than the ${count(INPUT_LIMITS.intersectionCells)} an intersection may have. List fewer or smaller attributes in fairness.intersections (or [] for none).`,
    );
  }
}

/** Groups rows by the combination of several attributes' values (e.g. race × sex). */
export function intersectionIndex(table: Table, attributes: string[]): IntersectionIndex {
  const parts = attributes.map((attribute) => groupIndex(table, attribute));
  checkIntersection(table, attributes, parts.map((part) => part.groups.length));
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
  if (column?.kind === 'numeric' && !writesCodes(column)) {
    const distinct = new Set<number>();
    for (const v of column.values) {
      if (!Number.isNaN(v)) distinct.add(v);
      if (distinct.size > MAX_SLICE_VALUES) break;
    }
    if (distinct.size > MAX_SLICE_VALUES) {
      const sorted = presentValues(column.values).sort();
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
  const index = groupIndex(table, name);
  if (index.groups.length > INPUT_LIMITS.sliceGroups) {
    throw new AuditConfigError(
      `${table.source}, column ${quote(name)}: a slice column needs a few values to compare, but this one has ${count(index.groups.length)} (more than ${count(INPUT_LIMITS.sliceGroups)}). Leave it out of fairness.slice_columns, or group its values first.`,
    );
  }
  return index;
}
