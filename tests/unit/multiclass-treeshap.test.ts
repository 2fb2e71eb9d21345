/**
 * TreeSHAP per class of a multiclass XGBoost model (multi:softprob, 3 classes) against
 * xgboost's own pred_contribs per class (tests/models/build_multiclass_regression.py →
 * mc3_xgb.expected.json), with local accuracy per class: each class's expected value plus
 * its contributions is that class's margin, which is xgboost's output_margin.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/core/data/csv';
import { findColumn } from '../../src/core/data/table';
import { classTreeShap, marginCount, shapOfRowClasses } from '../../src/core/explain/class-treeshap';
import { readXgboostJson } from '../../src/core/model/trees';
import { projectRoot } from '../fixtures';

const models = join(projectRoot, 'tests', 'models');
const want = JSON.parse(readFileSync(join(models, 'mc3_xgb.expected.json'), 'utf8')) as {
  features: string[];
  labels: string[];
  pred_contribs: { shape: [number, number, number]; values: number[][][]; margins: number[][] };
};
const ensemble = readXgboostJson(new Uint8Array(readFileSync(join(models, 'mc3_xgb.json'))), 'mc3_xgb.json');
const table = parseCsv(readFileSync(join(models, 'mc3_xgb.csv'), 'utf8'), { fileName: 'mc3_xgb.csv' });
const columns = want.features.map((name) => (findColumn(table, name) as { values: Float64Array }).values);
const rows = Array.from({ length: table.rowCount }, (_, i) => Float64Array.from(columns, (column) => column[i]));

describe('TreeSHAP per class of mc3_xgb.json (XGBoost multi:softprob) against xgboost pred_contribs', () => {
  it('explains one margin per class, for rows with blank cells too', () => {
    expect(marginCount(ensemble)).toBe(3);
    expect(want.pred_contribs.shape).toEqual([table.rowCount, 3, want.features.length + 1]);
    expect(rows.some((x) => x.some(Number.isNaN))).toBe(true);
  });

  it('gives each class’s contributions and bias within 1e-6 of xgboost, and local accuracy per class', async () => {
    const perClass = await classTreeShap(ensemble, rows);
    expect(perClass).toHaveLength(3);
    const F = want.features.length;
    perClass.forEach((shap, k) => {
      expect(shap.columns).toEqual(want.features);
      shap.values.forEach((phi, i) => {
        const ref = want.pred_contribs.values[i][k];
        for (let j = 0; j < F; j++) expect(Math.abs(phi[j] - ref[j]), `row ${i} class ${k} ${want.features[j]}`).toBeLessThan(1e-6);
        // xgboost's last column is the class's bias: the expected margin under the covers.
        expect(Math.abs(shap.expectedValue - ref[F]), `row ${i} class ${k} bias`).toBeLessThan(1e-6);
        // Local accuracy: bias + Σ contributions = the class's margin, and that margin is xgboost's.
        let sum = shap.expectedValue;
        for (const v of phi) sum += v;
        expect(Math.abs(sum - shap.outputs[i])).toBeLessThan(1e-9);
        expect(Math.abs(shap.outputs[i] - want.pred_contribs.margins[i][k]), `row ${i} class ${k} margin`).toBeLessThan(1e-6);
      });
      expect(shap.localAccuracyError).toBeLessThan(1e-9);
    });
  });

  it('explains only the classes asked for, and each row for its own class', async () => {
    const [high] = await classTreeShap(ensemble, rows.slice(0, 20), { classes: [2] });
    const all = await classTreeShap(ensemble, rows.slice(0, 20));
    expect(high.values).toEqual(all[2].values);
    // Each row's predicted class: the class of the largest margin (softmax keeps the order).
    const predicted = Int32Array.from({ length: 20 }, (_, i) => {
      const m = want.pred_contribs.margins[i];
      return m.indexOf(Math.max(...m));
    });
    const picked = shapOfRowClasses(all, predicted);
    for (let i = 0; i < 20; i++) {
      expect(picked.values[i]).toBe(all[predicted[i]].values[i]);
      expect(picked.expectedValues[i]).toBe(all[predicted[i]].expectedValue);
    }
    await expect(classTreeShap(ensemble, rows.slice(0, 1), { classes: [3] })).rejects.toThrow('class 3 is not a class of this 3-margin model (0…2)');
  });
});

describe('TreeSHAP of reg_xgb.json (XGBoost reg:squarederror) against xgboost pred_contribs', () => {
  it('gives the single margin’s contributions and bias within 1e-6 of the prediction scale, with local accuracy', async () => {
    const reg = JSON.parse(readFileSync(join(models, 'reg_xgb.expected.json'), 'utf8')) as { features: string[]; predictions: number[]; pred_contribs: { shape: [number, number]; values: number[][] } };
    const regressor = readXgboostJson(new Uint8Array(readFileSync(join(models, 'reg_xgb.json'))), 'reg_xgb.json', 'regression');
    const data = parseCsv(readFileSync(join(models, 'reg.csv'), 'utf8'), { fileName: 'reg.csv' });
    const regColumns = reg.features.map((name) => (findColumn(data, name) as { values: Float64Array }).values);
    const regRows = Array.from({ length: data.rowCount }, (_, i) => Float64Array.from(regColumns, (c) => c[i]));
    expect(marginCount(regressor)).toBe(1);
    const [shap] = await classTreeShap(regressor, regRows);
    // xgboost computes in float32: on predictions in the thousands its own rounding is ~1e-3.
    const scale = Math.max(...reg.predictions.map(Math.abs));
    const F = reg.features.length;
    let worst = 0;
    shap.values.forEach((phi, i) => {
      const ref = reg.pred_contribs.values[i];
      for (let j = 0; j < F; j++) worst = Math.max(worst, Math.abs(phi[j] - ref[j]));
      worst = Math.max(worst, Math.abs(shap.expectedValue - ref[F]), Math.abs(shap.outputs[i] - reg.predictions[i]));
    });
    expect(worst / scale).toBeLessThan(1e-6);
    expect(shap.localAccuracyError / scale).toBeLessThan(1e-12);
  });
});
