import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { runAudit, type AuditRequest } from '../../src/core/audit';
import { readTable } from '../../src/core/data/read';
import { ResourceLimitError } from '../../src/core/errors';
import { checkStageMemory, formatBytes } from '../../src/core/limits';
import { openModel } from '../../src/core/model/classifier';
import { counterfactualFlips } from '../../src/core/robustness/stability';
import { expected, fixtureBytes } from '../fixtures';

ort.env.wasm.numThreads = 1;
const want = expected('compas/mlp.expected.json');
// KernelSHAP of the MLP (5 columns: all 32 coalitions) against 1,000 background rows.
const request = (overrides: Partial<AuditRequest> = {}): AuditRequest => ({
  model: { fileName: 'mlp.onnx', bytes: fixtureBytes('compas/mlp.onnx') },
  data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') },
  target: 'two_year_recid',
  protectedAttributes: ['race', 'sex'],
  features: want.features,
  bootstrapResamples: 50,
  explainer: { backgroundRows: 1000 },
  ...overrides,
});

describe('stage budgets', () => {
  it('says what a stage would need, its budget and what to change', () => {
    const estimate = { bytes: 3.25 * 2 ** 30, drivers: '10 rows', fix: 'explain fewer rows' };
    expect(() => checkStageMemory('The explanations', estimate, { memoryBytes: 2 * 2 ** 30, seconds: null })).toThrow(
      new ResourceLimitError('The explanations would need about 3.3 GiB of memory (10 rows), more than the 2.0 GiB a stage may use: explain fewer rows, or raise limits.stage_memory_mb.'),
    );
    expect(() => checkStageMemory('Drift', { ...estimate, bytes: 2 * 2 ** 30 }, { memoryBytes: 2 * 2 ** 30, seconds: null })).not.toThrow();
    expect([5 * 2 ** 30, 300 * 2 ** 20, 2.5 * 2 ** 20, 96 * 1024, 10].map(formatBytes)).toEqual(['5.0 GiB', '300 MiB', '2.5 MiB', '96 KiB', '1 KiB']);
  });

  it('leaves out a stage over its memory budget, with why and what to change, and completes the rest', async () => {
    const result = await runAudit(ort, request({ limits: { stageMemoryMb: 1 } }));
    expect(result.explanations).toBeUndefined();
    // 32 coalitions × 1,000 background rows × (5 columns × 12 bytes + 8) per explained row, and 100 rows × 6 × 72 bytes kept: 2,219,200 bytes.
    expect(result.missing_sections.explainer).toBe(
      'The explanations would need about 2.1 MiB of memory (32 coalitions × 1,000 background rows × 5 columns per explained row, and 100 explained rows kept), more than the 1.0 MiB a stage may use: lower explainer.background_samples (1,000 now) or explain fewer rows (explainer.rows, 100 now), or raise limits.stage_memory_mb.',
    );
    expect(result.robustness?.consistency).toBeTruthy();
    expect(result.recourse).toBeDefined();
    expect(result.performance.roc_auc).toBeCloseTo(want.performance.roc_auc, 5);
    expect(result.settings.limits).toEqual({ stage_memory_mb: 1, stage_seconds: null });
    // Within the budget the same audit explains.
    const roomy = await runAudit(ort, request({ explainer: { backgroundRows: 1000, rows: 5 }, limits: { stageMemoryMb: 4 } }));
    expect(roomy.missing_sections.explainer).toBeUndefined();
    expect(roomy.explanations?.values).toHaveLength(5);
  });

  it('stops a stage that runs past its time budget and completes the rest', async () => {
    const result = await runAudit(ort, request({ limits: { stageSeconds: 0.001 } }));
    expect(result.explanations).toBeUndefined();
    expect(result.missing_sections.explainer).toBe('The explanations did not finish within 0.001 s (limits.stage_seconds): lower explainer.background_samples (1,000 now) or explain fewer rows (explainer.rows, 100 now), or raise limits.stage_seconds.');
    expect(result.performance.roc_auc).toBeCloseTo(want.performance.roc_auc, 5);
    expect(result.settings.limits).toEqual({ stage_memory_mb: 2048, stage_seconds: 0.001 });
  });

  it('cancels a stage when the user cancels, rather than leaving it out', async () => {
    const controller = new AbortController();
    const audit = runAudit(ort, request({ limits: { stageSeconds: 600 } }), { signal: controller.signal, onProgress: (p) => p.stage === 'explain' && controller.abort(new Error('cancelled by the user')) });
    await expect(audit).rejects.toThrow('cancelled by the user');
  });

  it('refuses the counterfactual flip test when a proxy has too many values to score', async () => {
    const table = readTable(fixtureBytes('compas/test.csv'), 'test.csv');
    const model = await openModel(ort, fixtureBytes('compas/rf.onnx'), 'rf.onnx');
    try {
      const scores = await model.score(table, { features: want.features });
      const age = table.columns.find((c) => c.name === 'age') as { values: Float64Array };
      const ages = new Set(age.values).size;
      const flips = await counterfactualFlips(model, table, scores, 0.5, 'race', want.features!, { features: want.features, proxy: 'age', maxScorings: 100_000 });
      const n = (x: number) => x.toLocaleString('en-US');
      expect(flips).toEqual({
        attribute: 'race',
        changed: 'age',
        applicable: false,
        reason: `changing age to each of its ${ages} values would score all ${n(table.rowCount)} rows ${ages} times (${n(ages * table.rowCount)} model evaluations, more than the 100,000 this test may use): declare a proxy with fewer values (robustness.proxies) or audit a sample (data.test_sample_size)`,
        flip_rate: {},
      });
      // Under the cap the test runs.
      expect((await counterfactualFlips(model, table, scores, 0.5, 'race', want.features!, { features: want.features, proxy: 'age' })).applicable).toBe(true);
    } finally {
      await model.release();
    }
  });
});
