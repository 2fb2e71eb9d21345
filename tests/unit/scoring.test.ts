import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/core/data/csv';
import { openOnnxClassifier, planInputs, scoreOnnx } from '../../src/core/model/onnx-scorer';
import { expected, fixture, fixtureBytes } from '../fixtures';
import { FIXTURE_CASES } from './fixture-cases';

ort.env.wasm.numThreads = 1;

// onnxruntime-web computes in float32; the references are float64: agreement to 1e-6
// in probability (see ../shared/fixtures/README.md, "Precision").
const TOLERANCE = 1e-6;

describe('ONNX fixtures score test.csv like the reference', () => {
  for (const testCase of FIXTURE_CASES.filter((c) => c.format === 'onnx')) {
    it(testCase.name, async () => {
      const want = expected(testCase.expected);
      const table = parseCsv(readFileSync(fixture(testCase.data), 'utf8'), { fileName: testCase.data });
      const model = await openOnnxClassifier(ort, fixtureBytes(testCase.model), testCase.model);
      const plan = planInputs(model, table, testCase.matrix ? want.features : undefined);
      const scores = await scoreOnnx(ort, model, table, plan);
      expect(scores.length).toBe(want.predictions_p1.length);
      let worst = 0;
      scores.forEach((p, i) => (worst = Math.max(worst, Math.abs(p - want.predictions_p1[i]))));
      expect(worst).toBeLessThan(TOLERANCE);
    });
  }

  it('rewrites a ZipMap output to the probability tensor that feeds it', async () => {
    const model = await openOnnxClassifier(ort, fixtureBytes('german_credit/logreg_zipmap.onnx'), 'logreg_zipmap.onnx');
    expect(model.info.hasZipMap).toBe(true);
    expect(model.session.outputNames).not.toContain('output_probability');
    expect(model.probabilityOutput.convention).toMatch(/p\(class 1\), from the model's class labels/);
  });
});
