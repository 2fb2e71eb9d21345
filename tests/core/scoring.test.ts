import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/core/data/csv';
import { takeRows } from '../../src/core/data/table';
import { openModel } from '../../src/core/model/classifier';
import { openOnnxClassifier, planInputs, scoreOnnx } from '../../src/core/model/onnx-scorer';
import { decodeOnnx, inspectOnnx } from '../../src/core/model/onnx-graph';
import { warmOnnxRuntime } from '../../src/core/model/onnx-warm';
import { expected, fixture, fixtureBytes, projectRoot } from '../support/fixtures';
import { ModelLoadError } from '../../src/core/base/errors';
import { FIXTURE_CASES } from '../support/fixture-cases';

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
    expect(model.probabilityOutput.choice?.convention).toBe('probabilities[:, 1] = p(class 1), chosen by the model\'s class labels (0, 1)');
  });

  it('starts onnxruntime once ahead of a model, and the model then scores as before', async () => {
    const first = warmOnnxRuntime(ort);
    expect(warmOnnxRuntime(ort)).toBe(first);
    expect(await first).toBe(true);
    // A runtime that cannot open a session is not reported as started (the model's own session says why).
    const broken = { ...ort, InferenceSession: { create: () => Promise.reject(new Error('no WebAssembly')) } } as unknown as typeof ort;
    expect(await warmOnnxRuntime(broken)).toBe(false);
    const testCase = FIXTURE_CASES.find((c) => c.format === 'onnx')!;
    const model = await openOnnxClassifier(ort, fixtureBytes(testCase.model), testCase.model);
    const table = parseCsv(readFileSync(fixture(testCase.data), 'utf8'), { fileName: testCase.data });
    const want = expected(testCase.expected);
    const scores = await scoreOnnx(ort, model, table, planInputs(model, table, testCase.matrix ? want.features : undefined));
    expect(Math.max(...scores.map((p, i) => Math.abs(p - want.predictions_p1[i])))).toBeLessThan(TOLERANCE);
  });

  it('decodes a file once and leaves the shared graph whole when it drops the ZipMap', async () => {
    const bytes = fixtureBytes('german_credit/logreg_zipmap.onnx');
    const shared = decodeOnnx(bytes, 'logreg_zipmap.onnx');
    const outputs = shared.graph!.output.map((o) => o.name);
    const nodes = shared.graph!.node.length;
    await openOnnxClassifier(ort, bytes, 'logreg_zipmap.onnx');
    expect(decodeOnnx(bytes, 'logreg_zipmap.onnx')).toBe(shared);
    expect(shared.graph!.output.map((o) => o.name)).toEqual(outputs);
    expect(shared.graph!.node.length).toBe(nodes);
    expect(inspectOnnx(shared).hasZipMap).toBe(true);
    // A copy of the bytes is another file: decoded again.
    expect(decodeOnnx(bytes.slice(), 'logreg_zipmap.onnx')).not.toBe(shared);
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

describe('model files cut short in a copy or a download', () => {
  const open = (bytes: Uint8Array, name: string) => openModel(ort, bytes, name);
  const bytes = (n: number) => n.toLocaleString('en-US');

  it('say so for ONNX and XGBoost JSON, with the fix; an XGBoost JSON missing a tree is refused', async () => {
    const onnx = fixtureBytes('compas/rf.onnx');
    const half = onnx.subarray(0, onnx.length >> 1);
    await expect(open(half, 'rf.onnx')).rejects.toThrow(
      new ModelLoadError(`rf.onnx: the ONNX file ends early (a field runs past its last byte, ${bytes(half.length)} bytes in all): it was cut short, in a copy or a download. Copy or export the model again.`),
    );
    const json = fixtureBytes('german_credit/xgb_numeric.json');
    const most = json.subarray(0, Math.floor(json.length * 0.9));
    await expect(open(most, 'xgb_numeric.json')).rejects.toThrow(
      new ModelLoadError(`xgb_numeric.json: the XGBoost JSON ends early (${bytes(most.length)} bytes, and the model's closing "}" is missing): it was cut short, in a copy or a download. Copy the file again, or save the model again with save_model("model.json").`),
    );
    // Whole JSON with a tree taken out of the list: the model's own count says so.
    const model = JSON.parse(new TextDecoder().decode(json));
    const declared = model.learner.gradient_booster.model.gbtree_model_param.num_trees;
    model.learner.gradient_booster.model.trees.pop();
    await expect(open(new TextEncoder().encode(JSON.stringify(model)), 'edited.json')).rejects.toThrow(
      new ModelLoadError(`edited.json: the model declares "${declared}" trees (gbtree_model_param.num_trees) but holds ${Number(declared) - 1}: it is damaged or was edited. Save the model again with save_model("model.json").`),
    );
  });

  it('refuses a LightGBM file cut at the end of a tree, which would otherwise score with fewer trees', async () => {
    const text = readFileSync(join(projectRoot, 'tests', 'data', 'lightgbm-small.txt'), 'utf8');
    // Cut just before the third tree: two whole trees, no "end of trees".
    const cut = text.slice(0, text.indexOf('Tree=2'));
    await expect(open(new TextEncoder().encode(cut), 'small.txt')).rejects.toThrow(
      new ModelLoadError('small.txt: the LightGBM model ends early (its header lists 3 trees, and the "end of trees" line is missing): it was cut short, in a copy or a download. Copy the file again, or save the model again with save_model("model.txt").'),
    );
    // A tree taken out whole, the end line kept: the header's tree sizes still count three.
    const third = text.slice(text.indexOf('Tree=2'), text.indexOf('end of trees'));
    await expect(open(new TextEncoder().encode(text.replace(third, '')), 'edited.txt')).rejects.toThrow(
      new ModelLoadError('edited.txt: the LightGBM model\'s header lists 3 trees (tree_sizes) but the file holds 2: it is damaged or was edited. Save the model again with save_model("model.txt").'),
    );
    // The whole file still opens.
    await expect(open(new TextEncoder().encode(text), 'small.txt')).resolves.toBeTruthy();
  });
});

describe('ONNX scoring handed to a runner (the app’s pool of sessions)', () => {
  it('scores the first batch here and the rest through the runner, to the same bits as one session', async () => {
    // A network: a tree ensemble is scored by the kernel once it has matched onnxruntime (onnx-tree-kernel.test.ts).
    const want = expected('compas/mlp.expected.json');
    const base = parseCsv(readFileSync(fixture('compas/test.csv'), 'utf8'), { fileName: 'test.csv' });
    // 60,000 rows (above the runner's threshold): the COMPAS rows repeated.
    const table = takeRows(base, Uint32Array.from({ length: 60_000 }, (_, i) => i % base.rowCount));
    const bytes = fixtureBytes('compas/mlp.onnx');
    const alone = await openModel(ort, bytes, 'mlp.onnx');
    const expectedScores = await alone.score(table, { features: want.features });
    const handed: number[] = [];
    // A runner that scores each part in a session of its own, as a pool worker does.
    const runner = async (job: { modelBytes: Uint8Array; fileName: string; table: typeof table; columns: string[]; rows: Uint32Array; features?: string[] }) => {
      handed.push(job.rows[0], job.rows.length);
      const other = await openModel(ort, job.modelBytes, job.fileName);
      try {
        return await other.score(takeRows({ ...job.table, columns: job.table.columns.filter((c) => job.columns.includes(c.name)) }, job.rows), { features: job.features });
      } finally {
        await other.release();
      }
    };
    const pooled = await openModel(ort, bytes, 'mlp.onnx', { onnxScores: runner, onnxPoolWorthMs: 0 });
    expect(await pooled.score(table, { features: want.features })).toEqual(expectedScores);
    expect(handed).toEqual([8192, 60_000 - 8192]);
    // A model that would finish here soon enough keeps the whole table.
    handed.length = 0;
    const kept = await openModel(ort, bytes, 'mlp.onnx', { onnxScores: runner, onnxPoolWorthMs: Number.POSITIVE_INFINITY });
    expect(await kept.score(table, { features: want.features })).toEqual(expectedScores);
    expect(handed).toEqual([]);
    await Promise.all([alone.release(), pooled.release(), kept.release()]);
  });
});
