import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { explainModel, type ExplainMethod } from '../../src/core/analyses/explain/explain';
import { ExplainerCompatibilityError } from '../../src/core/base/errors';
import { COALITION_ROWS_PER_CALL, exactKernelShap } from '../../src/core/analyses/explain/kernelshap';
import { openModel } from '../../src/core/model/classifier';
import { readTable } from '../../src/core/data/read';
import { expected, fixtureBytes } from '../support/fixtures';
import { corpusBytes } from '../support/model-corpus';

ort.env.wasm.numThreads = 1;

interface ShapFixture {
  columns: string[];
  expected_value?: number;
  bias?: number;
  values: number[][];
  background?: string;
}

const file = (path: string) => ({ fileName: path.split('/').pop()!, bytes: fixtureBytes(path) });
const worst = (a: number[][], b: number[][]) => Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i][j]))));

// Exact methods against exact references: 1e-6 (fixtures README: float64 from the model's
// own parameters where the method reads them; KernelSHAP runs the float32 model, whose
// probabilities agree to ~1e-7, and averages them).
const CASES: { name: string; model: string; expected: string; method: ExplainMethod; key: 'shap' | 'shap_path_dependent'; data: string; background?: string; bgRows?: number; matrix: boolean }[] = [
  { name: 'compas rf, interventional TreeSHAP from the ONNX trees', model: 'compas/rf.onnx', expected: 'compas/rf.expected.json', method: 'tree', key: 'shap', data: 'compas/test.csv', background: 'compas/train.csv', matrix: true },
  { name: 'compas rf (TreeEnsemble v5), interventional TreeSHAP', model: 'compas/rf_v5.onnx', expected: 'compas/rf.expected.json', method: 'auto', key: 'shap', data: 'compas/test.csv', background: 'compas/train.csv', matrix: true },
  { name: 'compas mlp, exact KernelSHAP (32 coalitions)', model: 'compas/mlp.onnx', expected: 'compas/mlp.expected.json', method: 'auto', key: 'shap', data: 'compas/test.csv', background: 'compas/train.csv', matrix: true },
  { name: 'german xgb.onnx (one-hot inside the graph), interventional TreeSHAP per raw column', model: 'german_credit/xgb.onnx', expected: 'german_credit/xgb.expected.json', method: 'auto', key: 'shap', data: 'german_credit/test.csv', background: 'german_credit/train.csv', bgRows: 50, matrix: false },
  { name: 'german logreg (one-hot + Scaler + LinearClassifier, ZipMap), linear SHAP per raw column', model: 'german_credit/logreg_zipmap.onnx', expected: 'german_credit/logreg_zipmap.expected.json', method: 'auto', key: 'shap', data: 'german_credit/test.csv', background: 'german_credit/train.csv', bgRows: 50, matrix: false },
  { name: 'german xgb_numeric.json, path-dependent TreeSHAP (as pred_contribs)', model: 'german_credit/xgb_numeric.json', expected: 'german_credit/xgb_numeric.expected.json', method: 'tree-path', key: 'shap_path_dependent', data: 'german_credit/test.csv', matrix: false },
];

describe('explanations reproduce the fixtures’ exact SHAP values', () => {
  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const want = expected(testCase.expected) as unknown as Record<string, ShapFixture> & { features?: string[] };
      const shap = want[testCase.key];
      const result = await explainModel(ort, {
        model: file(testCase.model),
        data: file(testCase.data),
        background: testCase.background ? file(testCase.background) : undefined,
        rows: shap.values.length,
        backgroundRows: testCase.bgRows ?? 100,
        backgroundSelection: 'first',
        method: testCase.method,
        features: testCase.matrix ? want.features : undefined,
      });
      expect([...result.columns].sort()).toEqual([...shap.columns].sort());
      expect(result.values).toHaveLength(shap.values.length);
      // Compare by column name (the graph's input order may differ from the fixture's).
      const mine = result.values.map((row) => shap.columns.map((c) => row[result.columns.indexOf(c)]));
      expect(worst(mine, shap.values)).toBeLessThan(1e-6);
      if (shap.expected_value !== undefined || shap.bias !== undefined) expect(Math.abs(result.expected_value - (shap.expected_value ?? shap.bias!))).toBeLessThan(1e-6);
      // Local accuracy: values add up to output − expected value.
      expect(result.local_accuracy_error).toBeLessThan(1e-6);
    });
  }

  it('refuses a tree explainer for a neural network, naming its operators and the explainer that fits', async () => {
    const want = expected('compas/mlp.expected.json');
    await expect(explainModel(ort, { model: file('compas/mlp.onnx'), data: file('compas/test.csv'), rows: 2, method: 'tree', features: want.features })).rejects.toThrow(
      new ExplainerCompatibilityError('mlp.onnx: the TreeSHAP explainer needs a tree ensemble whose trees read the model\'s own inputs, but this model is Add, Cast, Concat, Div, Flatten, Greater, MatMul, Relu, Sigmoid, Squeeze, Sub. Use the kernel explainer (explainer.type: kernel in an audit config, --method kernel with plumbline explain; exact up to 12 columns).'),
    );
  });

  it('refuses path-dependent TreeSHAP for an ONNX forest without covers', async () => {
    const want = expected('compas/rf.expected.json');
    await expect(explainModel(ort, { model: file('compas/rf.onnx'), data: file('compas/test.csv'), rows: 2, method: 'tree-path', features: want.features })).rejects.toThrow(/does not carry \(sklearn-onnx exports have none\)/);
  });
});

describe('plumbline explain', () => {
  it('writes {columns, expected_value, values} for the fixture forest', async () => {
    const { readFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { fixture } = await import('../support/fixtures');
    const want = expected('compas/rf.expected.json') as unknown as { features: string[]; shap: ShapFixture };
    const out = join(mkdtempSync(join(tmpdir(), 'plumbline-explain-')), 'shap.json');
    const { runCli } = await import('../support/cli-in-process');
    const run = await runCli(['explain', '--model', fixture('compas/rf.onnx'), '--data', fixture('compas/test.csv'), '--background', fixture('compas/train.csv'), '--background-first', '--rows', '20', '--features', want.features.join(','), '--output', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(readFileSync(out, 'utf8'));
    expect(result.method).toBe('tree (interventional)');
    expect(result.columns).toEqual(want.shap.columns);
    expect(worst(result.values, want.shap.values)).toBeLessThan(1e-6);
  });
});

describe('explanation outputs', () => {
  const request = (extra: Record<string, unknown> = {}) => ({
    model: file('german_credit/xgb.onnx'),
    data: file('german_credit/test.csv'),
    background: file('german_credit/train.csv'),
    rows: 40,
    backgroundRows: 50,
    backgroundSelection: 'first' as const,
    ...extra,
  });

  it('gives reason codes only for adverse rows, never a protected or excluded column, in a stable order', async () => {
    const result = await explainModel(ort, request({ reasons: { count: 4, adverse: 'negative', threshold: 0.5, excluded: ['age', 'checking_status'] } }));
    expect(result.reason_codes!.length).toBeGreaterThan(0);
    for (const entry of result.reason_codes!) {
      expect(entry.score).toBeLessThan(0.5);
      expect(entry.reasons.length).toBeLessThanOrEqual(4);
      const columns = entry.reasons.map((r) => r.column);
      expect(columns).not.toContain('age');
      expect(columns).not.toContain('checking_status');
      // Each reason pushes toward the adverse (low) score, strongest first.
      for (const reason of entry.reasons) expect(reason.shap).toBeLessThan(0);
      for (let k = 1; k < entry.reasons.length; k++) expect(entry.reasons[k].shap).toBeGreaterThanOrEqual(entry.reasons[k - 1].shap);
      // The applicant's own value, as in the CSV.
      const lines = new TextDecoder().decode(fixtureBytes('german_credit/test.csv')).trim().split('\n');
      const header = lines[0].split(',');
      for (const reason of entry.reasons) expect(reason.value).toBe(lines[entry.row].split(',')[header.indexOf(reason.column)]);
    }
    const again = await explainModel(ort, request({ reasons: { count: 4, adverse: 'negative', threshold: 0.5, excluded: ['age', 'checking_status'] } }));
    expect(again.reason_codes).toEqual(result.reason_codes);
    expect(result.global_importance![0].mean_abs_shap).toBeGreaterThanOrEqual(result.global_importance!.at(-1)!.mean_abs_shap);
  });

  it('permutation importance is seeded and gives an unused column no importance', async () => {
    const want = expected('compas/rf.expected.json');
    // decile_score is not a model input: the model never sees it, so it is not listed.
    const run = () => explainModel(ort, { model: file('compas/rf.onnx'), data: file('compas/test.csv'), method: 'permutation', target: 'two_year_recid', features: want.features, seed: 3 });
    const result = await run();
    expect(result.permutation_importance!.map((p) => p.column).sort()).toEqual([...want.features!].sort());
    expect(result.permutation_importance![0].column).toBe('priors_count');
    expect(await run()).toEqual(result);
  });

  it('partial dependence walks a grid of the column and averages the predictions', async () => {
    const result = await explainModel(ort, request({ rows: 2, partialDependence: ['duration_months', 'housing'] }));
    const [duration, housing] = result.partial_dependence!;
    expect(duration.grid.length).toBeGreaterThan(3);
    expect(duration.pdp).toHaveLength(duration.grid.length);
    expect(housing.grid.sort()).toEqual(['forfree', 'own', 'rent']);
    expect(housing.ice[0]).toHaveLength(3);
  });
});

describe('reason codes as CSV', () => {
  it('neutralises formula-looking cells so a spreadsheet never runs them', async () => {
    const { reasonCodesCsv } = await import('../../src/core/analyses/explain/outputs');
    const csv = reasonCodesCsv([{ row: 3, score: 0.2, reasons: [{ column: 'purpose', value: '=HYPERLINK("http://x","y")', shap: -0.5 }, { column: 'note', value: '@SUM(A1)', shap: -0.1 }] }], 2);
    expect(csv).toBe('row,score,reason_1,value_1,shap_1,reason_2,value_2,shap_2\n3,0.2,purpose,"\'=HYPERLINK(""http://x"",""y"")",-0.5,note,\'@SUM(A1),-0.1\n');
  });
});

describe('sampled KernelSHAP', () => {
  it('approaches the exact values, adds up exactly, and repeats for a seed', async () => {
    const { exactKernelShap, sampledKernelShap } = await import('../../src/core/analyses/explain/kernelshap');
    const { openModel } = await import('../../src/core/model/classifier');
    const { parseCsv } = await import('../../src/core/data/csv');
    const want = expected('compas/mlp.expected.json');
    const model = await openModel(ort, fixtureBytes('compas/mlp.onnx'), 'mlp.onnx');
    const test = parseCsv(new TextDecoder().decode(fixtureBytes('compas/test.csv')), { fileName: 'test.csv' });
    const train = parseCsv(new TextDecoder().decode(fixtureBytes('compas/train.csv')), { fileName: 'train.csv' });
    const rows = Uint32Array.of(0, 1, 2);
    const bg = Uint32Array.from({ length: 50 }, (_, i) => i);
    const exact = await exactKernelShap(model, want.features!, test, rows, train, bg, { features: want.features });
    const sampled = await sampledKernelShap(model, want.features!, test, rows, train, bg, { samples: 4096, seed: 1, features: want.features });
    for (let r = 0; r < rows.length; r++) for (let j = 0; j < 5; j++) expect(Math.abs(sampled.values[r][j] - exact.values[r][j])).toBeLessThan(0.01);
    expect(sampled.localAccuracyError).toBeLessThan(1e-12);
    const again = await sampledKernelShap(model, want.features!, test, rows, train, bg, { samples: 4096, seed: 1, features: want.features });
    expect(again.values).toEqual(sampled.values);
    await model.release();
  });

  it('feeds a model that takes text the texts as written ("01", "2.50", "3.00"): each row’s values sum to scikit-learn’s probability', async () => {
    // Codes that read as numbers; the model's categories are the texts. Fed String(number)
    // ("1", "2.5", "3"), the coalitions hit no category and the values explain another model.
    const corpus = (name: string) => ({ fileName: name, bytes: corpusBytes(name) });
    const want = JSON.parse(new TextDecoder().decode(corpusBytes('onnx_codes_logreg.test.expected.json'))) as { p_positive: number[] };
    const result = await explainModel(ort, { model: corpus('onnx_codes_logreg.onnx'), data: corpus('onnx_codes.test.csv'), background: corpus('onnx_codes.train.csv'), rows: 6, backgroundRows: 10, method: 'kernel' });
    expect(result.method).toBe('kernel (exact)');
    result.values.forEach((row, r) => expect(Math.abs(result.expected_value + row.reduce((a, b) => a + b, 0) - want.p_positive[result.rows[r] - 1])).toBeLessThan(1e-6));
  });

  it('gives a row the same values to the bit whichever rows share its model call (several rows’ coalitions per call)', async () => {
    // The compas MLP (numbers) and the postal-code logreg (texts as written, categories):
    // rows explained together, in calls of COALITION_ROWS_PER_CALL coalition rows, against
    // each row explained alone.
    const cases = [
      { model: file('compas/mlp.onnx'), data: file('compas/test.csv'), background: file('compas/train.csv'), features: expected('compas/mlp.expected.json').features, bg: 100 },
      { model: { fileName: 'onnx_codes_logreg.onnx', bytes: corpusBytes('onnx_codes_logreg.onnx') }, data: { fileName: 'onnx_codes.test.csv', bytes: corpusBytes('onnx_codes.test.csv') }, background: { fileName: 'onnx_codes.train.csv', bytes: corpusBytes('onnx_codes.train.csv') }, features: undefined, bg: 40 },
    ];
    for (const c of cases) {
      const classifier = await openModel(ort, c.model.bytes, c.model.fileName);
      try {
        const table = readTable(c.data.bytes, c.data.fileName);
        const background = readTable(c.background.bytes, c.background.fileName);
        const columns = classifier.features(table, c.features);
        const bgRows = Uint32Array.from({ length: c.bg }, (_, i) => i);
        // Enough rows for two calls: the second starts part-way.
        const perCall = Math.floor(COALITION_ROWS_PER_CALL / (2 ** columns.length * c.bg));
        const rows = Uint32Array.from({ length: Math.min(table.rowCount, perCall + 3) }, (_, i) => i);
        expect(rows.length).toBeGreaterThan(perCall);
        const together = await exactKernelShap(classifier, columns, table, rows, background, bgRows, { features: c.features });
        for (const r of [0, 1, perCall - 1, perCall, rows.length - 1]) {
          const alone = await exactKernelShap(classifier, columns, table, rows.subarray(r, r + 1), background, bgRows, { features: c.features });
          expect(Array.from(together.values[r]), `${c.model.fileName} row ${r}`).toEqual(Array.from(alone.values[0]));
          expect(together.outputs[r]).toBe(alone.outputs[0]);
        }
      } finally {
        await classifier.release();
      }
    }
  });

  it('refuses a column that holds numbers in the data and text in the background, naming both files', async () => {
    const corpus = (name: string) => ({ fileName: name, bytes: corpusBytes(name) });
    const lines = new TextDecoder().decode(corpusBytes('onnx_codes.train.csv')).split('\n');
    // One zone that is not a number turns the background's postal_zone to text; the data's stays numbers.
    lines[1] = lines[1].replace(/^[^,]*/, 'Z9');
    const background = { fileName: 'zones.csv', bytes: new TextEncoder().encode(lines.join('\n')) };
    await expect(explainModel(ort, { model: corpus('onnx_codes_logreg.onnx'), data: corpus('onnx_codes.test.csv'), background, rows: 1, backgroundRows: 5, backgroundSelection: 'first', method: 'kernel' })).rejects.toThrow(
      new ExplainerCompatibilityError('onnx_codes.test.csv and zones.csv, column "postal_zone": the column holds numbers in onnx_codes.test.csv and text in zones.csv, so their cells cannot be mixed in one coalition. Use a background file of the same export as the data, or declare the column\'s type (data.dtypes).'),
    );
  });

  it('is what --method kernel uses beyond 12 columns (the 20-column German logreg)', async () => {
    const result = await explainModel(ort, { model: file('german_credit/logreg_zipmap.onnx'), data: file('german_credit/test.csv'), background: file('german_credit/train.csv'), rows: 2, backgroundRows: 20, method: 'kernel', kernelSamples: 512 });
    expect(result.method).toBe('kernel (sampled)');
    expect(result.columns).toHaveLength(20);
    expect(result.local_accuracy_error).toBeLessThan(1e-9);
  });
});
