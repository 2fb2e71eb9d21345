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

describe('ONNX files that cannot be read alone', () => {
  it('refuses a model whose weights are in a side file, saying how to save it whole', async () => {
    const { fromBinary, toBinary } = await import('@bufbuild/protobuf');
    const { ModelProtoSchema, TensorProto_DataLocation } = await import('onnx-buf');
    const { inspectModel } = await import('../../src/core/model/classifier');
    const model = fromBinary(ModelProtoSchema, fixtureBytes('compas/mlp.onnx'));
    const tensor = model.graph!.initializer[0];
    tensor.dataLocation = TensorProto_DataLocation.EXTERNAL;
    tensor.rawData = new Uint8Array(0);
    tensor.externalData = [{ $typeName: 'onnx.StringStringEntryProto', key: 'location', value: 'mlp.onnx.data' }];
    expect(() => inspectModel(toBinary(ModelProtoSchema, model), 'mlp.onnx')).toThrow(
      `mlp.onnx: the model keeps its weights outside the .onnx file (tensor "${tensor.name}" is in "mlp.onnx.data"). Save a self-contained model — onnx.save_model(onnx.load("mlp.onnx"), "model.onnx", save_as_external_data=False) — and choose that file.`,
    );
  });
});
