/**
 * Reading and checking the audit's inputs before any scoring: a data input's table, the
 * refusals of protected attributes, intersections, slices and reference files that would
 * make the audit meaningless, and the default intersections.
 */
import { loadReaderFor, loadTableBytes, type LoadedTable } from '../data/read';
import { checkReferenceTable } from '../analyses/drift/drift';
import { findColumn, requireColumn, type Table } from '../data/table';
import { refusePersonalGroups } from '../data/pii';
import { AuditConfigError, quote } from '../base/errors';
import { withMissingValue, type TreeEnsemble } from '../model/tree';
import { checkLl144 } from '../metrics/ll144';
import { checkIntersection, checkProtectedAttribute, groupIndex, sliceIndex } from '../metrics/groups';
import type { AuditRequest, DataInput } from './request';

/** The table of a data input, reading its bytes when the host has not (loading apache-arrow first for an Arrow or Parquet file). */
export async function loadInput(input: DataInput, csv: AuditRequest['csv']): Promise<LoadedTable> {
  if ('loaded' in input) return input.loaded;
  await loadReaderFor(input.bytes);
  return loadTableBytes(input.bytes, input.fileName, csv);
}

/**
 * Refuses, before any scoring, the choices that would make the audit meaningless or its
 * work unbounded: a protected attribute that is blank, single-valued or id-like, an
 * intersection or slice column with too many values to list, and a reference file that
 * shares no column with the data (not a table of the same kind: nothing of it may reach
 * the result).
 */
export function validateColumns(table: Table, request: AuditRequest): void {
  if (request.protectedAttributes.length === 0) {
    throw new AuditConfigError('No protected attribute chosen. Name at least one column (e.g. --protected race,sex) so fairness can be audited.');
  }
  for (const attribute of request.protectedAttributes) requireColumn(table, attribute, 'protected attribute');
  if (request.protectedAttributes.includes(request.target)) {
    throw new AuditConfigError(`The target ${quote(request.target)} is also listed as a protected attribute. Choose different columns.`);
  }
  refusePersonalGroupsOf(table, request);
  for (const attribute of request.protectedAttributes) checkProtectedAttribute(table, attribute);
  const groupCounts = new Map<string, number>();
  const groupsOf = (attribute: string) => groupCounts.get(attribute) ?? groupCounts.set(attribute, groupIndex(table, attribute).groups.length).get(attribute)!;
  // A column the fairness settings name is one of the data's (it was refused as a missing "protected attribute column").
  for (const name of (request.intersections ?? []).flat()) requireColumn(table, name, 'fairness.intersections', 'Name columns of the data in fairness.intersections.');
  for (const name of request.slices ?? []) requireColumn(table, name, 'fairness.slice_columns', 'Name columns of the data in fairness.slice_columns.');
  for (const combination of request.intersections ?? defaultIntersections(request.protectedAttributes)) {
    if (combination.every((attribute) => findColumn(table, attribute))) checkIntersection(table, combination, combination.map(groupsOf));
  }
  for (const column of request.slices ?? []) if (!request.protectedAttributes.includes(column) && findColumn(table, column)) sliceIndex(table, column);
  if (request.ll144) checkLl144(table, request.ll144);
  if (request.reference && 'loaded' in request.reference) checkReferenceTable(request.reference.loaded.table, table);
  checkSettingColumns(table, request);
}

/**
 * Refuses a column of personal data as groups (a protected attribute, a slice, an
 * intersection's part, an LL144 column): it would name every group by a person's value (an
 * e-mail slice made 300 slices keyed by address). Checked with the data, and again once a
 * reference has marked its columns.
 */
export function refusePersonalGroupsOf(table: Table, request: AuditRequest): void {
  refusePersonalGroups(table, [
    ['data.target', request.target ? [request.target] : []],
    ['data.protected_attributes', request.protectedAttributes],
    ['fairness.slice_columns', request.slices ?? []],
    ['fairness.intersections', (request.intersections ?? []).flat()],
    ['fairness.ll144', [request.ll144?.sex, request.ll144?.race_ethnicity].filter((name): name is string => typeof name === 'string')],
  ]);
}

/**
 * The columns the recourse and robustness settings name are columns of the data, and a
 * declared proxy stands in for a protected attribute: a misspelt immutable column was
 * ignored (the column it meant was changed), a misspelt proxy disabled the flip test.
 */
function checkSettingColumns(table: Table, request: AuditRequest): void {
  const recourse = request.recourse ?? {};
  const categorical = recourse.categoricalChanges ?? [];
  const proxies = request.robustness?.proxies ?? {};
  const named: [string, string[]][] = [
    ['recourse.immutable', recourse.immutable ?? []],
    ['recourse.monotone', Object.keys(recourse.monotone ?? {})],
    ['recourse.costs', Object.keys(recourse.costs ?? {})],
    ['recourse.actionable', recourse.actionable ?? []],
    ['recourse.categorical_changes', Array.isArray(categorical) ? categorical : Object.keys(categorical)],
    ['robustness.proxies', Object.values(proxies)],
  ];
  for (const [key, names] of named) for (const name of names) requireColumn(table, name, key, `Name columns of the data in ${key}.`);
  for (const attribute of Object.keys(proxies)) {
    if (!request.protectedAttributes.includes(attribute)) throw new AuditConfigError(`robustness.proxies: ${quote(attribute)} is not a protected attribute (${request.protectedAttributes.join(', ')}); a proxy is declared for one. Key each proxy by the protected attribute it stands in for.`);
  }
}

/** Every pair of protected attributes (none with a single attribute). */
export function defaultIntersections(attributes: string[]): string[][] {
  const pairs: string[][] = [];
  for (let a = 0; a < attributes.length; a++) for (let b = a + 1; b < attributes.length; b++) pairs.push([attributes[a], attributes[b]]);
  return pairs;
}

/** A tree model's own missing value (XGBoost missing=-999) and the input columns the model reads it in. */
export interface ModelMissing {
  value: number;
  inputs: readonly string[];
}

/** The missing value of a model's trees (XGBoost missing=-999) and the columns it reads, or null where they have none. */
export function modelMissingOf(ensemble: TreeEnsemble | null | undefined): ModelMissing | null {
  return ensemble?.missingValue === undefined ? null : { value: ensemble.missingValue, inputs: ensemble.featureNames };
}

/**
 * The table with a tree model's own missing value as missing in the model's input columns:
 * the model reads those cells as missing, so the profile, drift, robustness and recourse do
 * too (noise on −999, or a counterfactual moving debt to −999, would be noise on a missing
 * value). The columns the audit groups rows by (protected attributes, slices, LL144) keep
 * their values: a missing=0 model would otherwise merge group 0 into "(missing)"; the model
 * still reads them as missing where it scores.
 */
export function withModelMissing(table: Table, missing: ModelMissing | null, request: Pick<AuditRequest, 'protectedAttributes' | 'slices' | 'll144'>): Table {
  if (!missing) return table;
  const grouping = new Set([...request.protectedAttributes, ...(request.slices ?? []), ...Object.values(request.ll144 ?? {}).filter((v): v is string => typeof v === 'string')]);
  const inputs = new Set(missing.inputs);
  const columns = table.columns.map((column) => {
    if (column.kind !== 'numeric' || !inputs.has(column.name) || grouping.has(column.name)) return column;
    const values = withMissingValue(column.values, missing.value);
    if (values === column.values) return column;
    let count = 0;
    for (const v of values) if (Number.isNaN(v)) count++;
    return { ...column, values, missing: count };
  });
  return { ...table, columns };
}
