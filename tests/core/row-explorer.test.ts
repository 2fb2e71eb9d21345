import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { readTable } from '../../src/core/data/read';
import { explainRow, searchRows } from '../../src/core/analyses/explain/row';
import { openModel } from '../../src/core/model/classifier';
import { expected, fixtureBytes } from '../support/fixtures';
import { corpusBytes } from '../support/model-corpus';
import { explainModel } from '../../src/core/analyses/explain/explain';

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
    await expect(explainRow(model, modelFile, test, { ...query, row: 0, overrides: { age: 'old' } })).rejects.toThrow('test.csv: column "age" holds numbers; "old" is not one. Enter a number, or leave it empty for a missing value where the model takes one.');
    // A value the model refuses names the row edited (it said "row 1", the one-row table's).
    const codes = await openModel(ort, corpusBytes('onnx_codes_logreg.onnx'), 'onnx_codes_logreg.onnx');
    const data = readTable(corpusBytes('onnx_codes.test.csv'), 'onnx_codes.test.csv');
    const codesQuery = { threshold: 0.5, adverse: 'positive' as const, excluded: [] };
    await expect(explainRow(codes, { fileName: 'onnx_codes_logreg.onnx', bytes: corpusBytes('onnx_codes_logreg.onnx') }, data, { ...codesQuery, row: 8, overrides: { items: '2.5' } })).rejects.toThrow("onnx_codes.test.csv, row 9, column \"items\": the value holds 2.5, but the model's input takes whole numbers (int64). Check that the column is the one the model was trained on, or round it as training did.");
    await expect(explainRow(model, modelFile, test, { ...query, row: test.rowCount })).rejects.toThrow(`test.csv: row ${test.rowCount + 1} does not exist; the data has rows 1 to 1,852.`);
    await expect(explainRow(model, modelFile, test, { ...query, row: 0, overrides: { agee: '1' } })).rejects.toThrow('test.csv: no column "agee" to edit.');
  });

  it('shows cells as the file wrote them ("04", "2.50"), takes them back unedited, and feeds a typed code as typed', async () => {
    // A model that takes text: the postal zones and product codes are its categories as
    // written. Oracle: scikit-learn's probabilities for the file's rows.
    const codes = readTable(corpusBytes('onnx_codes.test.csv'), 'onnx_codes.test.csv');
    const lines = new TextDecoder().decode(corpusBytes('onnx_codes.test.csv')).trim().split('\n').map((line) => line.split(','));
    const header = lines[0];
    const sklearn = JSON.parse(new TextDecoder().decode(corpusBytes('onnx_codes_logreg.test.expected.json'))) as { p_positive: number[] };
    const file = { fileName: 'onnx_codes_logreg.onnx', bytes: corpusBytes('onnx_codes_logreg.onnx') };
    const model = await openModel(ort, file.bytes, file.fileName);
    const settings = { threshold: 0.5, adverse: 'negative' as const, excluded: [] as string[] };
    const features = header.filter((name) => name !== 'returned');
    // Row 1 as the app sends it back: every cell as shown.
    const shown = await explainRow(model, file, codes, { ...settings, row: 0, features });
    const cellsOf = (row: number) => Object.fromEntries(header.map((name, j) => [name, lines[row + 1][j]]));
    expect(Object.fromEntries(shown.cells.map((c) => [c.column, c.value]))).toEqual(cellsOf(0));
    const unchanged = await explainRow(model, file, codes, { ...settings, row: 0, features, overrides: Object.fromEntries(shown.cells.map((c) => [c.column, c.value])) });
    expect(unchanged.cells.some((c) => c.edited)).toBe(false);
    expect(Math.abs(unchanged.score - sklearn.p_positive[0])).toBeLessThan(1e-6);
    // Row 1 edited, cell by cell, into row 2 ("01", "2.50", …): scored as scikit-learn scores row 2.
    const typed = await explainRow(model, file, codes, { ...settings, row: 0, features, overrides: cellsOf(1) });
    expect(Object.fromEntries(typed.cells.map((c) => [c.column, c.value]))).toEqual(cellsOf(1));
    expect(Math.abs(typed.score - sklearn.p_positive[1])).toBeLessThan(1e-6);
    // Reason codes name the values as written.
    const explained = await explainModel(ort, { model: file, data: { fileName: 'onnx_codes.test.csv', bytes: corpusBytes('onnx_codes.test.csv') }, rows: 20, backgroundRows: 10, method: 'kernel', features, reasons: { count: 3, adverse: 'negative', threshold: 0.9, excluded: [] } });
    const reasons = explained.reason_codes!.flatMap((r) => r.reasons.map((reason) => ({ row: r.row, ...reason })));
    expect(reasons.length).toBeGreaterThan(0);
    for (const reason of reasons) expect(reason.value).toBe(lines[reason.row][header.indexOf(reason.column)]);
    expect(reasons.some((reason) => /^0\d|\.\d*0$/.test(reason.value))).toBe(true);
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
