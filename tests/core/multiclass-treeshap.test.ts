/**
 * TreeSHAP per class of a multiclass XGBoost model (multi:softprob, 3 classes) against
 * xgboost's own pred_contribs per class (tests/models/build_multiclass_regression.py →
 * mc3_xgb.expected.json), with local accuracy per class: each class's expected value plus
 * its contributions is that class's margin, which is xgboost's output_margin. The XGBoost
 * regressor's single margin against its pred_contribs, and a LightGBM multiclass model
 * (categorical splits) against Shapley values by enumeration of every coalition, its
 * margins against LightGBM's probabilities.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/core/data/csv';
import { findColumn } from '../../src/core/data/table';
import { classTreeShap, marginCount, shapOfRowClasses } from '../../src/core/analyses/explain/class-treeshap';
import { decodeOnnx } from '../../src/core/model/onnx-graph';
import { onnxClassEnsemble } from '../../src/core/model/onnx-trees';
import { classEnsemble, goesLeft, readLightgbmText, readXgboostJson, treeMargin, type Tree } from '../../src/core/model/tree';
import { projectRoot } from '../support/fixtures';

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
    // A class's ensemble is the same object on every call (the pool sends each object to a thread once).
    expect(classEnsemble(ensemble, 1)).toBe(classEnsemble(ensemble, 1));
    expect(classEnsemble(ensemble, 1)).not.toBe(classEnsemble(ensemble, 2));
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

describe('TreeSHAP per class of lgbm_multiclass.txt (LightGBM multiclass, categorical splits)', () => {
  const lgbm = readLightgbmText(new Uint8Array(readFileSync(join(models, 'lgbm_multiclass.txt'))), 'lgbm_multiclass.txt');
  const reference = JSON.parse(readFileSync(join(models, 'lgbm_multiclass.positive1.expected.json'), 'utf8')) as { p_positive: number[] };
  const data = parseCsv(readFileSync(join(models, 'lgbm_applicants.csv'), 'utf8'), { fileName: 'lgbm_applicants.csv' });
  const lgbmColumns = lgbm.featureNames.map((name) => (findColumn(data, name) as { values: Float64Array }).values);
  const lgbmRows = Array.from({ length: 40 }, (_, i) => Float64Array.from(lgbmColumns, (c) => c[i]));

  /**
   * Path-dependent Shapley values by their definition, over all 2^M coalitions: v(S) = Σ
   * trees E[tree | x_S], the expectation following x at splits on S and otherwise averaging
   * the children by their covers (Lundberg et al. 2018, Algorithm 1).
   */
  function shapleyByEnumeration(trees: Tree[], x: Float64Array, M: number): Float64Array {
    const expectation = (tree: Tree, node: number, inS: (f: number) => boolean): number => {
      if (tree.left[node] < 0) return tree.value[node];
      const [left, right] = [tree.left[node], tree.right[node]];
      if (inS(tree.feature[node])) return expectation(tree, goesLeft(tree, node, x[tree.feature[node]]) ? left : right, inS);
      const cover = tree.cover!;
      return (cover[left] * expectation(tree, left, inS) + cover[right] * expectation(tree, right, inS)) / cover[node];
    };
    const value = (mask: number) => trees.reduce((sum, tree) => sum + expectation(tree, 0, (f) => ((mask >> f) & 1) === 1), 0);
    const factorial = (k: number): number => (k <= 1 ? 1 : k * factorial(k - 1));
    const phi = new Float64Array(M);
    for (let mask = 0; mask < 1 << M; mask++) {
      const size = [...Array(M).keys()].filter((f) => (mask >> f) & 1).length;
      for (let j = 0; j < M; j++) {
        if ((mask >> j) & 1) continue;
        phi[j] += ((factorial(size) * factorial(M - size - 1)) / factorial(M)) * (value(mask | (1 << j)) - value(mask));
      }
    }
    return phi;
  }

  it('gives each class the Shapley values of its margin, and margins whose softmax is LightGBM’s probability', async () => {
    expect(marginCount(lgbm)).toBe(3);
    const perClass = await classTreeShap(lgbm, lgbmRows);
    const M = lgbm.featureNames.length;
    perClass.forEach((shap, k) => {
      const trees = lgbm.trees.filter((_, t) => lgbm.multiclass!.treeClass[t] === k);
      expect(shap.localAccuracyError).toBeLessThan(1e-9);
      lgbmRows.forEach((x, i) => {
        const phi = shapleyByEnumeration(trees, x, M);
        for (let j = 0; j < M; j++) expect(Math.abs(shap.values[i][j] - phi[j]), `row ${i} class ${k} ${lgbm.featureNames[j]}`).toBeLessThan(1e-9);
      });
    });
    lgbmRows.forEach((_, i) => {
      const margins = perClass.map((shap) => shap.outputs[i]);
      const top = Math.max(...margins);
      const sum = margins.reduce((s, m) => s + Math.exp(m - top), 0);
      expect(Math.abs(Math.exp(margins[1] - top) / sum - reference.p_positive[i])).toBeLessThan(1e-9);
    });
  });
});

describe('TreeSHAP per class of mc3_xgb_trees.onnx (the same trees as an ONNX TreeEnsembleClassifier, SOFTMAX)', () => {
  const bytes = new Uint8Array(readFileSync(join(models, 'mc3_xgb_trees.onnx')));
  const onnxTrees = onnxClassEnsemble(decodeOnnx(bytes, 'mc3_xgb_trees.onnx'), 'mc3_xgb_trees.onnx', want.features.length)!;
  const background = rows.filter((_, i) => i % 25 === 0);
  const explained = rows.slice(0, 12);
  const softmax = (margins: number[]) => {
    const top = Math.max(...margins);
    const sum = margins.reduce((s, m) => s + Math.exp(m - top), 0);
    return margins.map((m) => Math.exp(m - top) / sum);
  };

  it('reads one ensemble per class whose margins are xgboost’s, and whose softmax is predict_proba', () => {
    expect(marginCount(onnxTrees)).toBe(3);
    expect(onnxTrees.multiclass?.transform).toBe('softmax');
    const probabilities = (JSON.parse(readFileSync(join(models, 'mc3_xgb.expected.json'), 'utf8')) as { probabilities: number[][] }).probabilities;
    rows.forEach((x, i) => {
      const margins = [0, 1, 2].map((k) => treeMargin(classEnsemble(onnxTrees, k), x));
      margins.forEach((m, k) => expect(Math.abs(m - want.pred_contribs.margins[i][k]), `row ${i} class ${k}`).toBeLessThan(1e-6));
      softmax(margins).forEach((p, k) => expect(Math.abs(p - probabilities[i][k])).toBeLessThan(1e-6));
    });
  });

  it('gives interventional Shapley values per class equal to their definition over all coalitions', async () => {
    const perClass = await classTreeShap(onnxTrees, explained, { background });
    const M = want.features.length;
    const factorial = (k: number): number => (k <= 1 ? 1 : k * factorial(k - 1));
    perClass.forEach((shap, k) => {
      const part = classEnsemble(onnxTrees, k);
      expect(shap.localAccuracyError).toBeLessThan(1e-9);
      explained.forEach((x, i) => {
        // v(S) = mean over the background of the margin at x on S and the background row elsewhere.
        const value = (mask: number) => background.reduce((sum, b) => sum + treeMargin(part, Float64Array.from(b, (bj, j) => ((mask >> j) & 1 ? x[j] : bj))), 0) / background.length;
        for (let j = 0; j < M; j++) {
          let phi = 0;
          for (let mask = 0; mask < 1 << M; mask++) {
            if ((mask >> j) & 1) continue;
            const size = [...Array(M).keys()].filter((f) => (mask >> f) & 1).length;
            phi += ((factorial(size) * factorial(M - size - 1)) / factorial(M)) * (value(mask | (1 << j)) - value(mask));
          }
          expect(Math.abs(shap.values[i][j] - phi), `row ${i} class ${k} ${want.features[j]}`).toBeLessThan(1e-9);
        }
      });
    });
  });

  it('refuses path-dependent TreeSHAP (ONNX files carry no node covers), and reads no classes from other models', async () => {
    await expect(classTreeShap(onnxTrees, explained)).rejects.toThrow('path-dependent TreeSHAP needs node covers, which this model file does not carry');
    for (const name of ['mc5_linear.onnx', 'onnx_compas_rf_full.onnx']) {
      const other = new Uint8Array(readFileSync(join(models, name)));
      expect(onnxClassEnsemble(decodeOnnx(other, name), name, 6), name).toBeNull();
    }
  });
});
