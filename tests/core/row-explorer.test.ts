import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { readTable } from '../../src/core/data/read';
import { explainRow, searchRows } from '../../src/core/analyses/explain/row';
import { openModel } from '../../src/core/model/classifier';
import { expected, fixtureBytes } from '../support/fixtures';

ort.env.wasm.numThreads = 1;
const want = expected('compas/rf.expected.json') as ReturnType<typeof expected> & { shap: { columns: string[]; expected_value: number; values: number[][] }; predictions_p1: number[] };
const test = readTable(fixtureBytes('compas/test.csv'), 'test.csv');
const train = readTable(fixtureBytes('compas/train.csv'), 'train.csv');
const modelFile = { fileName: 'rf.onnx', bytes: fixtureBytes('compas/rf.onnx') };
const query = { threshold: want.threshold, adverse: 'positive' as const, excluded: ['race', 'sex'], features: want.features };

describe('row explorer', () => {
  it('explains a row as the reference does (same background), with its score and reasons', async () => {
    const model = await openModel(ort, modelFile.bytes, modelFile.fileName);
    for (const row of [0, 2, 19]) {
      const out = await explainRow(model, modelFile, test, { ...query, row }, { table: train, rows: 100, selection: 'first' });
      expect(out.row).toBe(row + 1);
      expect(Math.abs(out.score - want.predictions_p1[row])).toBeLessThan(1e-6);
      expect(out.shap!.columns).toEqual(want.shap.columns);
      expect(Math.abs(out.shap!.expected_value - want.shap.expected_value)).toBeLessThan(1e-6);
      out.shap!.values.forEach((v, j) => expect(Math.abs(v - want.shap.values[row][j])).toBeLessThan(1e-6));
      expect(out.decision).toBe(out.score >= want.threshold ? 'positive' : 'negative');
      // Reasons only for an adverse (here: positive) decision, never a protected column, largest push first.
      if (out.decision === 'positive') {
        expect(out.reasons.length).toBeGreaterThan(0);
        expect(out.reasons.every((r) => r.shap > 0 && !['race', 'sex'].includes(r.column))).toBe(true);
      } else expect(out.reasons).toEqual([]);
    }
  });

  it('re-scores an edited row exactly as the model scores that row written as a CSV', async () => {
    const model = await openModel(ort, modelFile.bytes, modelFile.fileName);
    const out = await explainRow(model, modelFile, test, { ...query, row: 4, overrides: { priors_count: '12', age: '23' } });
    expect(out.cells.find((c) => c.column === 'priors_count')).toMatchObject({ value: '12', edited: true, model_input: true });
    expect(out.cells.find((c) => c.column === 'race')).toMatchObject({ edited: false, model_input: false });
    // The same row, edited in the CSV text and read from scratch.
    const lines = new TextDecoder().decode(fixtureBytes('compas/test.csv')).trim().split('\n');
    const header = lines[0].split(',');
    const cells = lines[5].split(',');
    cells[header.indexOf('priors_count')] = '12';
    cells[header.indexOf('age')] = '23';
    const one = readTable(new TextEncoder().encode(`${lines[0]}\n${cells.join(',')}\n`), 'one.csv');
    const [score] = await model.score(one, { features: want.features });
    expect(out.score).toBe(score);
    // Local accuracy holds for the edited row too (the ONNX model scores in float32).
    expect(Math.abs(out.shap!.expected_value + out.shap!.values.reduce((a, b) => a + b, 0) - out.score)).toBeLessThan(1e-6);
  });

  it('refuses bad edits and rows in words', async () => {
    const model = await openModel(ort, modelFile.bytes, modelFile.fileName);
    await expect(explainRow(model, modelFile, test, { ...query, row: 0, overrides: { age: 'old' } })).rejects.toThrow('test.csv: column "age" holds numbers; "old" is not one. Enter a number, or leave it empty for a missing value.');
    await expect(explainRow(model, modelFile, test, { ...query, row: test.rowCount })).rejects.toThrow(`test.csv: row ${test.rowCount + 1} does not exist; the data has rows 1 to 1,852.`);
    await expect(explainRow(model, modelFile, test, { ...query, row: 0, overrides: { agee: '1' } })).rejects.toThrow('test.csv: no column "agee" to edit.');
  });

  it('finds rows by any cell text', () => {
    const rows = searchRows(test, 'native american', 50);
    const race = test.columns.find((c) => c.name === 'race')!;
    if (race.kind !== 'categorical') throw new Error('race is categorical');
    const code = race.dictionary.indexOf('Native American');
    const all = Array.from(race.codes.keys()).filter((i) => race.codes[i] === code);
    expect(rows).toEqual(all.slice(0, 50));
    expect(searchRows(test, '   ')).toEqual([]);
  });
});
