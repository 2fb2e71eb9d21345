/**
 * Every class's probability from a tree ensemble (Classifier.probabilities), the input a
 * multiclass audit reads: against xgboost's predict_proba and LightGBM's predict, and
 * consistent with the one-class score the binary audit reads.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/core/data/csv';
import { openModel } from '../../src/core/model/classifier';
import { fixture, projectRoot } from '../support/fixtures';

const models = join(projectRoot, 'tests', 'models');
const fixtureData = (name: string) => (name.startsWith('fixtures:') ? fixture(name.slice('fixtures:'.length)) : join(models, name));
const cases: { model: string; expected: string; data: string; features?: string[] }[] = [
  // ONNX: the probability output's columns (a LinearClassifier + ZipMap with string labels; an MLP).
  { model: 'onnx_compas_grade_logreg.onnx', expected: 'onnx_compas_grade_logreg.high.expected.json', data: 'fixtures:compas/test.csv' },
  { model: 'onnx_compas_grade_mlp.onnx', expected: 'onnx_compas_grade_mlp.2.expected.json', data: 'onnx_compas_grade.test.csv', features: ['age', 'priors_count', 'juv_fel_count', 'juv_misd_count', 'juv_other_count'] },
  { model: 'xgb_multiclass.json', expected: 'xgb_multiclass.positive2.expected.json', data: 'xgb_multiclass.csv' },
  { model: 'lgbm_multiclass.txt', expected: 'lgbm_multiclass.positive1.expected.json', data: 'lgbm_applicants.csv' },
];

describe('class probabilities of multiclass tree ensembles', () => {
  for (const c of cases) {
    it(c.model, async () => {
      const want = JSON.parse(readFileSync(join(models, c.expected), 'utf8'));
      const table = parseCsv(readFileSync(fixtureData(c.data), 'utf8'), { fileName: c.data });
      const bytes = new Uint8Array(readFileSync(join(models, c.model)));
      // A multiclass model is opened for one class (the binary audit's contract); probabilities() gives them all.
      const first = Array.isArray(want.classes) ? want.classes[0] : 0;
      const model = await openModel(ort, bytes, c.model, { positiveLabel: first });
      const { width, values } = await model.probabilities!(table, c.features ? { features: c.features } : {});
      expect(width).toBe(Array.isArray(want.classes) ? want.classes.length : want.classes);
      // The library's probability of the expected file's class, row by row.
      const k = Array.isArray(want.classes) ? want.classes.indexOf(want.positive_label) : Number(want.positive_label);
      expect(want.p_positive.length).toBe(table.rowCount);
      // float32 in onnxruntime against float64 in the library: 1e-6.
      for (let i = 0; i < table.rowCount; i++) expect(Math.abs(values[i * width + k] - want.p_positive[i])).toBeLessThan(1e-6);
      for (let i = 0; i < table.rowCount; i++) {
        let sum = 0;
        for (let j = 0; j < width; j++) sum += values[i * width + j];
        expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
      }
      // Each class's column is the score the binary audit reads with that class positive.
      for (let j = 0; j < width; j++) {
        const label = Array.isArray(want.classes) ? want.classes[j] : j;
        const scores = await (await openModel(ort, bytes, c.model, { positiveLabel: label })).score(table, c.features ? { features: c.features } : {});
        for (let i = 0; i < table.rowCount; i++) expect(values[i * width + j]).toBe(scores[i]);
      }
    });
  }
});
