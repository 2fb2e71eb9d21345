import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { openModel } from '../../src/core/model/classifier';
import { toOnnx, toXgboostJson } from '../../src/core/model/export';
import { syntheticAudit, syntheticEnsemble } from '../../bench/synthetic';

describe('model writers', () => {
  it('write one ensemble as ONNX and XGBoost JSON that score alike (and like the evaluator)', async () => {
    const ensemble = syntheticEnsemble(20, 4, 10, 7);
    const { table } = syntheticAudit(2000, 3, 10);
    const fromJson = await openModel(ort, new TextEncoder().encode(toXgboostJson(ensemble)), 'synthetic.json');
    const fromOnnx = await openModel(ort, toOnnx(ensemble), 'synthetic.onnx');
    expect(fromOnnx.summary.format).toBe('onnx');
    const a = await fromJson.score(table);
    const b = await fromOnnx.score(table, { features: ensemble.featureNames });
    let worst = 0;
    a.forEach((p, i) => (worst = Math.max(worst, Math.abs(p - b[i]))));
    // Missing values (10% of odd columns) must follow the same default directions.
    expect(worst).toBeLessThan(1e-6);
  });
});
