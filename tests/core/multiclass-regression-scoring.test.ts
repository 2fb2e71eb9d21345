/**
 * The reference multiclass and regression models (tests/models/build_multiclass_regression.py)
 * scored by the project's loaders against the training library's own predictions: every
 * class's probability (openModel(...).probabilities) and the regressors' values
 * (openRegressor), and the binary audit's entry point still refusing a regressor.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/core/data/csv';
import { openModel } from '../../src/core/model/classifier';
import { openRegressor } from '../../src/core/model/regressor';
import { projectRoot } from '../support/fixtures';

const models = join(projectRoot, 'tests', 'models');
const read = (name: string) => readFileSync(join(models, name));
const tableOf = (name: string) => parseCsv(read(name).toString('utf8'), { fileName: name });
const expectedOf = (name: string) => JSON.parse(read(name).toString('utf8'));

describe('class probabilities of the reference multiclass models', () => {
  for (const [model, expectedFile, first] of [
    ['mc3_xgb.json', 'mc3_xgb.expected.json', 0],
    ['mc5_linear.onnx', 'mc5_linear.expected.json', 'A'],
    // The mc3_xgb trees as an ONNX TreeEnsembleClassifier (SOFTMAX, string labels), scored by onnxruntime.
    ['mc3_xgb_trees.onnx', 'mc3_xgb.expected.json', 'low'],
  ] as const) {
    it(`${model}: every class within 1e-6 of the training library's predict_proba`, async () => {
      const want = expectedOf(expectedFile) as { data: string; features: string[]; labels: string[]; probabilities: number[][] };
      const table = tableOf(want.data);
      const classifier = await openModel(ort, new Uint8Array(read(model)), model, { positiveLabel: first });
      const { width, values } = await classifier.probabilities!(table, { features: want.features });
      expect(width).toBe(want.labels.length);
      // The ONNX file names its classes; the XGBoost file numbers them (0, 1, 2 = low, medium, high).
      if (model.endsWith('.onnx')) expect(classifier.summary.classLabels).toEqual(want.labels);
      expect(want.probabilities.length).toBe(table.rowCount);
      let worst = 0;
      want.probabilities.forEach((row, i) => row.forEach((p, k) => (worst = Math.max(worst, Math.abs(values[i * width + k] - p)))));
      expect(worst).toBeLessThan(1e-6);
      await classifier.release();
    });
  }
});

describe('predictions of the reference regressors', () => {
  for (const [model, expectedFile] of [
    ['reg_xgb.json', 'reg_xgb.expected.json'],
    ['reg_linear.onnx', 'reg_linear.expected.json'],
  ] as const) {
    it(`${model}: within 1e-6 of the training library's predictions, relative to their scale`, async () => {
      const want = expectedOf(expectedFile) as { data: string; features: string[]; predictions: number[] };
      const table = tableOf(want.data);
      const regressor = await openRegressor(ort, new Uint8Array(read(model)), model);
      expect(regressor.features(table, want.features)).toEqual(want.features);
      const predicted = await regressor.predict(table, { features: want.features });
      expect(predicted.length).toBe(want.predictions.length);
      // Credit amounts run to 12,000: xgboost sums its leaves in float32 and the ONNX model
      // computes in float32, whose own rounding there is ~1e-3, so the bound is 1e-6 of the
      // largest prediction (measured: 3.3e-7 for xgboost, 8.9e-8 for the ONNX model).
      const scale = Math.max(...want.predictions.map(Math.abs));
      let worst = 0;
      want.predictions.forEach((p, i) => (worst = Math.max(worst, Math.abs(predicted[i] - p))));
      expect(worst / scale).toBeLessThan(1e-6);
      // Rows may be chosen, as for a classifier's scores.
      const some = await regressor.predict(table, { features: want.features, rows: Uint32Array.of(7, 3) });
      expect([...some]).toEqual([predicted[7], predicted[3]]);
      await regressor.release();
    });
  }

  it('explains the XGBoost regressor from its own trees; the ONNX one has no ensemble', async () => {
    const xgb = await openRegressor(ort, new Uint8Array(read('reg_xgb.json')), 'reg_xgb.json');
    expect(xgb.ensemble?.transform).toBe('identity');
    expect(xgb.convention).toMatch(/^XGBoost reg:squarederror, 60 trees; prediction = base score .* \+ Σ leaves$/);
    const linear = await openRegressor(ort, new Uint8Array(read('reg_linear.onnx')), 'reg_linear.onnx');
    expect(linear.ensemble).toBeNull();
    await linear.release();
  });
});

describe('the binary audit and the regression entry point keep to their own models', () => {
  it('openModel still refuses an XGBoost regressor', async () => {
    await expect(openModel(ort, new Uint8Array(read('reg_xgb.json')), 'reg_xgb.json')).rejects.toThrow('reg_xgb.json: the XGBoost objective "reg:squarederror" does not produce a classifier score. Audit a model trained with binary:logistic or multi:softprob.');
  });

  it('openRegressor refuses classifiers, naming why', async () => {
    await expect(openRegressor(ort, new Uint8Array(read('mc3_xgb.json')), 'mc3_xgb.json')).rejects.toThrow(
      'mc3_xgb.json: a 3-class classifier (multi:softprob) is not a regression read as base score + Σ leaves; regressions are read with reg:squarederror, reg:absoluteerror, reg:pseudohubererror, reg:quantileerror, reg:linear. Audit a classifier as one, or train the regressor with reg:squarederror.',
    );
    await expect(openRegressor(ort, new Uint8Array(read('xgb_binary.json')), 'xgb_binary.json')).rejects.toThrow('xgb_binary.json: the objective "binary:logistic" is not a regression');
    await expect(openRegressor(ort, new Uint8Array(read('mc5_linear.onnx')), 'mc5_linear.onnx')).rejects.toThrow(
      'mc5_linear.onnx: the model names classes (A, B, C, D, E), so it is a classifier; a regressor has one numeric output of one value per row. Audit a classifier as one, or export the regressor with a single output.',
    );
    await expect(openRegressor(ort, new Uint8Array(read('lgbm_multiclass.txt')), 'lgbm_multiclass.txt')).rejects.toThrow('lgbm_multiclass.txt: not a regression model Plumbline can read.');
  });
});
