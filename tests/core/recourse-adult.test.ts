import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { runAudit, type AuditRequest, type AuditResult } from '../../src/core/audit';
import { parseCsv } from '../../src/core/data/csv';
import { findColumn, type Column, type Table } from '../../src/core/data/table';
import { openModel } from '../../src/core/model/classifier';
import { fixtureBytes } from '../support/fixtures';
import { corpusBytes } from '../support/model-corpus';

/** Columns an Adult applicant cannot (age, native_country) or should not be told to (marital status, relationship) change, and the protected attributes. */
const NEVER = ['age', 'marital_status', 'relationship', 'native_country', 'race', 'sex'];

const model = { fileName: 'adult_logreg.onnx', bytes: corpusBytes('adult_logreg.onnx') };
const data = { fileName: 'test.csv', bytes: fixtureBytes('adult/test.csv') };
const base: AuditRequest = { model, data, target: 'high_income', positiveLabel: '1', protectedAttributes: ['sex', 'race'], bootstrapResamples: 0, missingSections: { explainer: 'off in this test', robustness: 'off in this test' } };
const table: Table = parseCsv(new TextDecoder().decode(data.bytes), { fileName: 'test.csv' });

const ranks = new Map<string, Map<number, number>>();

/** Mid-rank percentile of a value in a numeric column, computed here on its own. */
function midRank(column: Column, value: number): number {
  if (!ranks.has(column.name)) ranks.set(column.name, new Map());
  const cache = ranks.get(column.name)!;
  if (!cache.has(value)) {
    const values = Array.from((column as { values: Float64Array }).values).filter((v) => !Number.isNaN(v));
    cache.set(value, (values.filter((v) => v < value).length + values.filter((v) => v === value).length / 2) / values.length);
  }
  return cache.get(value)!;
}

/** Every counterfactual of a report applied to its row, scored by a fresh model in one call. */
async function rescore(result: AuditResult): Promise<{ expected: number; got: number }[]> {
  const cases = result.recourse!.rows.flatMap((entry) => entry.counterfactuals.map((cf) => ({ row: entry.row - 1, cf })));
  const columns = table.columns.map((column): Column => {
    if (column.kind === 'numeric') return { ...column, values: Float64Array.from(cases, ({ row, cf }) => Number(cf.changes.find((c) => c.column === column.name)?.to ?? column.values[row])) };
    return { ...column, texts: undefined, codes: Int32Array.from(cases, ({ row, cf }) => {
      const change = cf.changes.find((c) => c.column === column.name);
      return change ? column.dictionary.indexOf(change.to) : column.codes[row];
    }) };
  });
  const fresh = await openModel(ort, model.bytes, model.fileName, { positiveLabel: '1' });
  const scores = await fresh.score({ source: 'counterfactuals', rowCount: cases.length, columns });
  await fresh.release();
  return cases.map(({ cf }, i) => ({ expected: cf.score, got: scores[i] }));
}

describe('recourse on the Adult data (adult_logreg.onnx, every Adult column an input)', () => {
  let result: AuditResult;
  beforeAll(async () => {
    result = await runAudit(ort, base);
  }, 60_000);

  it('suggests no change to age, marital_status, relationship, native_country, race or sex by default', () => {
    const report = result.recourse!;
    const changed = new Set(report.rows.flatMap((r) => r.counterfactuals.flatMap((cf) => cf.changes.map((c) => c.column))));
    expect(changed.size).toBeGreaterThan(0);
    for (const column of NEVER) expect(changed).not.toContain(column);
    // No category changes at all unless the config allows them.
    for (const column of changed) expect(findColumn(table, column)!.kind).toBe('numeric');
    const rule = (column: string) => report.columns.find((c) => c.column === column)!;
    expect(rule('age')).toEqual({ column: 'age', changes: 'never', reason: 'age-like: a person cannot change it' });
    expect(rule('sex').reason).toBe('protected attribute');
    expect(rule('native_country').reason).toBe('categorical: not named in recourse.categorical_changes');
    expect(rule('hours_per_week')).toMatchObject({ changes: 'numeric', reason: 'numeric model input' });
  });

  it('keeps numbers within their observed 5th–95th percentiles, costed by the percentile move, and every answer flips when re-scored', async () => {
    const report = result.recourse!;
    for (const entry of report.rows) {
      for (const cf of entry.counterfactuals) {
        let cost = 0;
        for (const change of cf.changes) {
          const column = findColumn(table, change.column)!;
          const [low, high] = report.columns.find((c) => c.column === change.column)!.range!;
          const to = Number(change.to);
          expect(to).toBeGreaterThanOrEqual(low);
          expect(to).toBeLessThanOrEqual(high);
          expect((column as { values: Float64Array }).values.includes(to)).toBe(true);
          cost += Math.abs(midRank(column, to) - midRank(column, Number(change.from)));
          expect(change.percentile_to).toBeCloseTo(midRank(column, to) * 100, 1);
        }
        expect(cf.cost).toBeCloseTo(cost, 12);
        expect(cf.score).toBeGreaterThanOrEqual(result.threshold);
      }
    }
    // capital_gain never jumps to 99,999: its 95th percentile bounds it.
    expect(report.columns.find((c) => c.column === 'capital_gain')!.range![1]).toBeLessThan(99999);
    for (const { expected, got } of await rescore(result)) expect(got).toBe(expected);
  });

  it('searches a seeded sample of 1,000 of the adverse rows and gives the feasible share its Wilson interval', async () => {
    const report = result.recourse!;
    expect(report.adverse_rows).toBeGreaterThan(7000);
    expect(report.rows_searched).toBe(1000);
    expect(report.selection).toBe('seeded sample');
    expect(report.confidence).toBe(0.95);
    const share = report.recourse_feasible_share!;
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThan(1);
    const { low, high } = report.recourse_feasible_interval!;
    expect(low).toBeLessThan(share);
    expect(high).toBeGreaterThan(share);
    expect(high - low).toBeLessThan(0.07);
    expect(report.conventions).toContain(`A seeded sample of 1,000 of ${report.adverse_rows.toLocaleString('en')} adverse rows searched`);
    const again = await runAudit(ort, base);
    expect(again.recourse).toEqual(report);
  }, 60_000);

  it('changes a category only to the values the config allows, and only the columns it names', async () => {
    const allowed = await runAudit(ort, { ...base, recourse: { categoricalChanges: { marital_status: ['Married-civ-spouse'] }, maxRows: 150 } });
    const changes = allowed.recourse!.rows.flatMap((r) => r.counterfactuals.flatMap((cf) => cf.changes));
    const marital = changes.filter((c) => c.column === 'marital_status');
    expect(marital.length).toBeGreaterThan(0);
    for (const change of marital) expect(change.to).toBe('Married-civ-spouse');
    for (const column of NEVER.filter((c) => c !== 'marital_status')) expect(changes.map((c) => c.column)).not.toContain(column);

    const hoursOnly = await runAudit(ort, { ...base, recourse: { actionable: ['hours_per_week', 'age'], immutable: ['age'], maxRows: 150 } });
    const columns = new Set(hoursOnly.recourse!.rows.flatMap((r) => r.counterfactuals.flatMap((cf) => cf.changes.map((c) => c.column))));
    expect([...columns]).toEqual(['hours_per_week']);
    // recourse.immutable wins over recourse.actionable.
    expect(hoursOnly.recourse!.columns.find((c) => c.column === 'age')!.reason).toBe('recourse.immutable');
    expect(hoursOnly.recourse!.columns.find((c) => c.column === 'capital_gain')!.reason).toBe('not in recourse.actionable');
  }, 60_000);
});
