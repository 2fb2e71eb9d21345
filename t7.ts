import { readFileSync } from 'node:fs';
import { decodeOnnx } from './src/core/model/onnx-graph';
import { onnxTreeEnsemble } from './src/core/model/onnx-trees';
import { readXgboostJson } from './src/core/model/trees';
import { interventionalTreeShap, pathDependentTreeShap } from './src/core/explain/treeshap';
import { parseCsv } from './src/core/data/csv';
const fx = '../shared/fixtures/';
const rowsOf = (file: string, cols: string[], n: number) => { const t = parseCsv(readFileSync(fx+file,'utf8'), {fileName: file}); const c = cols.map(f => (t.columns.find(x => x.name === f) as any).values); return Array.from({length: n}, (_, i) => Float64Array.from(c, (v: Float64Array) => v[i])); };
const maxdiff = (a: Float64Array[], b: number[][]) => Math.max(...a.flatMap((r, i) => Array.from(r, (v, j) => Math.abs(v - b[i][j]))));
{
  const exp = JSON.parse(readFileSync(fx+'compas/rf.expected.json','utf8'));
  for (const f of ['compas/rf.onnx','compas/rf_v5.onnx']) {
    const e = onnxTreeEnsemble(decodeOnnx(new Uint8Array(readFileSync(fx+f)), f), f, 5)!;
    const t0 = performance.now();
    const s = interventionalTreeShap(e, rowsOf('compas/test.csv', exp.features, 20), rowsOf('compas/train.csv', exp.features, 100));
    console.log(f, 'maxdiff', maxdiff(s.values, exp.shap.values), 'ev', s.expectedValue - exp.shap.expected_value, 'local acc', s.localAccuracyError, (performance.now()-t0).toFixed(0)+'ms');
  }
}
{
  const exp = JSON.parse(readFileSync(fx+'german_credit/xgb_numeric.expected.json','utf8'));
  const e = readXgboostJson(new Uint8Array(readFileSync(fx+'german_credit/xgb_numeric.json')), 'x');
  const s = pathDependentTreeShap(e, rowsOf('german_credit/test.csv', exp.features, 20));
  console.log('xgb path', maxdiff(s.values, exp.shap_path_dependent.values), 'bias', s.expectedValue - exp.shap_path_dependent.bias, s.localAccuracyError);
}
