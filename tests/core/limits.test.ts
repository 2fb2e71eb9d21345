import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { runAudit, type AuditRequest } from '../../src/core/audit';
import { readTable } from '../../src/core/data/read';
import { ResourceLimitError } from '../../src/core/base/errors';
import { checkStageMemory, formatBytes, metricsEstimate, scoreEstimate, tablesEstimate } from '../../src/core/base/limits';
import { auditMemoryPlan, browserMemory, checkAuditMemory } from '../../src/core/audit/memory-plan';
import { openModel } from '../../src/core/model/classifier';
import { counterfactualFlips } from '../../src/core/analyses/robustness/stability';
import { expected, fixtureBytes } from '../support/fixtures';

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

describe('the whole audit, stage by stage, before it starts', () => {
  const MiB = 2 ** 20;
  const budget = (mb: number) => ({ memoryBytes: mb * MiB, seconds: null });
  // compas.csv's shape: 6,172 rows × 12 columns, the random forest (177,577 bytes, 9 inputs).
  const compas = { rows: 6172, columns: 12, reference: null, modelBytes: 177_577, modelColumns: 9 };

  it('estimates the tables, scoring and metrics from the sizes that drive them', () => {
    // 8 bytes a cell, the sample's copy and the reference included.
    expect(tablesEstimate(1000, 10, { rows: 500, columns: 4 }, 200)).toEqual({
      bytes: (1000 * 10 + 200 * 10 + 500 * 4) * 8,
      drivers: '1,000 rows × 10 columns, a sample of 200 rows, and a reference of 500 rows × 4 columns',
      fix: 'keep only the columns the audit needs (target, protected attributes, model inputs) or split the file',
    });
    // Scores and margins of every row, one 65,536-row block of the inputs and its copy, the model four times over.
    expect(scoreEstimate(100_000, 10, 1_000_000).bytes).toBe(100_000 * 16 + 65_536 * 10 * 16 + 4_000_000);
    expect(scoreEstimate(1000, 0, null).bytes).toBe(8000);
    // 160 bytes a row, 32 more per grouping, and the ECE simulation's draws × bins.
    expect(metricsEstimate(10_000, 5, 1000, 10)).toEqual({
      bytes: 10_000 * (160 + 5 * 32) + 1000 * (10 * 16 + 8),
      drivers: '10,000 rows × 5 groupings (protected attributes, intersections, slices), and 1,000 resamples × 10 calibration bins',
      fix: 'audit a sample of the rows (data.test_sample_size) or fewer intersections and slices (fairness.intersections, slices)',
    });
  });

  it('plans every stage that will run, in order, with the audit defaults', () => {
    const plan = auditMemoryPlan({ protectedAttributes: ['race', 'sex'], missingSections: { drift: 'turned off (drift.enabled: false)' } }, { ...compas, reference: { rows: 100, columns: 12 } });
    expect(plan.map((p) => [p.stage, p.section])).toEqual([['parse', null], ['score', null], ['explain', 'explainer'], ['metrics', null], ['robustness', 'robustness'], ['recourse', 'recourse']]);
    // race, sex, race × sex, and the two slices; a sample shrinks every stage after the tables.
    expect(plan[3].estimate!.drivers).toContain('6,172 rows × 5 groupings');
    const sampled = auditMemoryPlan({ protectedAttributes: ['race', 'sex'], sampleSize: 1000, intersections: [], slices: [] }, compas);
    expect(sampled.find((p) => p.stage === 'metrics')!.estimate!.drivers).toContain('1,000 rows × 2 groupings');
    expect(sampled[0].estimate!.drivers).toBe('6,172 rows × 12 columns, a sample of 1,000 rows');
    // The explainer's method decides its estimate: known now only for the tree methods.
    expect(plan[2].estimate).toBeNull();
    expect(auditMemoryPlan({ protectedAttributes: ['race'], explainer: { method: 'tree', backgroundRows: 50 } }, compas)[2].estimate!.drivers).toBe('100 explained rows and 50 background rows × 9 columns');
    // A score-column audit has nothing to explain or search counterfactuals with.
    expect(auditMemoryPlan({ protectedAttributes: ['race'], scoreColumn: 'decile_score' }, { ...compas, modelBytes: null, modelColumns: 0 }).map((p) => p.stage)).toEqual(['parse', 'score', 'metrics', 'robustness']);
  });

  it('refuses an audit whose scoring or metrics are over the stage budget, naming the stage, the estimate, the budget and the fix', () => {
    const plan = auditMemoryPlan({ protectedAttributes: ['race', 'sex'] }, compas);
    expect(() => checkAuditMemory(plan, budget(1), { raise: 'limits.stage_memory_mb (or ?memory_budget_mb= in the page address)' })).toThrow(
      new ResourceLimitError('Scoring would need about 1.6 MiB of memory (6,172 rows × 9 model inputs, and a 173 KB model), more than the 1.0 MiB a stage may use: audit a sample of the rows (data.test_sample_size), or raise limits.stage_memory_mb (or ?memory_budget_mb= in the page address).'),
    );
    // The metrics stage is budgeted too: a score column has almost nothing to score.
    const scoreOnly = auditMemoryPlan({ protectedAttributes: ['race', 'sex'], scoreColumn: 'decile_score' }, { ...compas, modelBytes: null, modelColumns: 0 });
    expect(() => checkAuditMemory(scoreOnly, budget(1))).toThrow(
      new ResourceLimitError('The metrics would need about 2.0 MiB of memory (6,172 rows × 5 groupings (protected attributes, intersections, slices), and 1,000 resamples × 10 calibration bins), more than the 1.0 MiB a stage may use: audit a sample of the rows (data.test_sample_size) or fewer intersections and slices (fairness.intersections, slices), or raise limits.stage_memory_mb.'),
    );
    expect(checkAuditMemory(scoreOnly, budget(4))).toEqual([]);
  });

  it('refuses a stage that fits its budget but not beside the tables the audit holds throughout', () => {
    const plan = auditMemoryPlan({ protectedAttributes: ['race', 'sex'] }, { rows: 10_000_000, columns: 30, reference: null, modelBytes: 1_000_000, modelColumns: 20 });
    const host = browserMemory(8);
    expect(host.bytes).toBe(4 * 2 ** 30);
    expect(() => checkAuditMemory(plan, budget(4096), { host })).toThrow(
      new ResourceLimitError('The metrics would need about 3.0 GiB of memory (10,000,000 rows × 5 groupings (protected attributes, intersections, slices), and 1,000 resamples × 10 calibration bins) beside the 2.2 GiB the tables hold, more than the 4.0 GiB this browser allows (half the 8 GiB of device memory it reports): audit a sample of the rows (data.test_sample_size) or fewer intersections and slices (fairness.intersections, slices), or run the plumbline CLI on a machine with more memory.'),
    );
    expect(browserMemory(undefined).what).toBe('this browser allows (half the 4 GiB of device memory it reports, assumed)');
  });

  it('gives, for an optional stage over the budget, the reason the audit gives when it leaves it out', async () => {
    // 0.7 MiB: the tables, scoring and metrics fit; recourse (10,192 candidates × 5 columns) does not.
    const limits = { stageMemoryMb: 0.7 };
    const plan = auditMemoryPlan({ protectedAttributes: ['race', 'sex'], bootstrapResamples: 50 }, { rows: 1852, columns: 12, reference: null, modelBytes: fixtureBytes('compas/mlp.onnx').length, modelColumns: want.features!.length });
    const leftOut = checkAuditMemory(plan, budget(limits.stageMemoryMb));
    expect(leftOut.map((l) => l.section)).toEqual(['recourse']);
    const result = await runAudit(ort, request({ limits }));
    expect(result.missing_sections.recourse).toBe(leftOut[0].reason);
    expect(result.robustness).toBeDefined();
  });
});
