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
import { projectRoot } from '../fixtures';

const models = join(projectRoot, 'tests', 'models');
const cases = [
  { model: 'xgb_multiclass.json', expected: 'xgb_multiclass.positive2.expected.json', data: 'xgb_multiclass.csv' },
  { model: 'lgbm_multiclass.txt', expected: 'lgbm_multiclass.positive1.expected.json', data: 'lgbm_applicants.csv' },
];

describe('class probabilities of multiclass tree ensembles', () => {
  for (const c of cases) {
    it(c.model, async () => {
      const want = JSON.parse(readFileSync(join(models, c.expected), 'utf8'));
      const table = parseCsv(readFileSync(join(models, c.data), 'utf8'), { fileName: c.data });
      const bytes = new Uint8Array(readFileSync(join(models, c.model)));
      // A multiclass model is opened for one class (the binary audit's contract); probabilities() gives them all.
      const model = await openModel(ort, bytes, c.model, { positiveLabel: 0 });
      const { width, values } = await model.probabilities!(table);
      expect(width).toBe(Array.isArray(want.classes) ? want.classes.length : want.classes);
      // The library's probability of the expected file's class, row by row.
      const k = Number(want.positive_label);
      expect(want.p_positive.length).toBe(table.rowCount);
      for (let i = 0; i < table.rowCount; i++) expect(Math.abs(values[i * width + k] - want.p_positive[i])).toBeLessThan(1e-6);
      // Each class's column is the score the binary audit reads with that class positive.
      for (let j = 0; j < width; j++) {
        const scores = await (await openModel(ort, bytes, c.model, { positiveLabel: j })).score(table);
        for (let i = 0; i < table.rowCount; i++) expect(values[i * width + j]).toBe(scores[i]);
      }
    });
  }
});
