/**
 * The recourse search over the Node hosts' thread pool (src/core/pool, recourseOverPool): the
 * searched rows in slices, each searched on a thread with the model opened there again, give
 * the report the search gives in one thread, to the byte — for XGBoost JSON and LightGBM
 * text models, a positive label of 0 (the model's margin negated on the threads too),
 * numbers the file writes otherwise ("0.50"), monotone columns, costs and missing cells. A
 * classifier the threads cannot open again is searched where it is.
 */
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { poolJobsSent, poolRunners } from '../../src/api/node-pool';
import { parseCsv } from '../../src/core/data/csv';
import type { Table } from '../../src/core/data/table';
import { openModel, reopenableModel, treeClassifier, type Classifier } from '../../src/core/model/classifier';
import { toXgboostJson } from '../../src/core/model/export';
import { recourse, recourseOptions, type RecourseRunner } from '../../src/core/analyses/recourse';
import { syntheticAudit, syntheticEnsemble } from '../../bench/synthetic';
import { corpusBytes } from '../support/model-corpus';

/** The synthetic audit as a CSV file read back: x1 written to two places ("0.50"), every 13th x2 blank, so kept texts and missing cells reach the search. */
function syntheticCsv(rows: number): Table {
  const { table } = syntheticAudit(rows, 5, 8);
  const names = table.columns.map((c) => c.name);
  const lines = [names.join(',')];
  for (let i = 0; i < rows; i++) {
    lines.push(
      table.columns
        .map((c) => {
          if (c.kind !== 'numeric') return c.kind === 'categorical' ? c.dictionary[c.codes[i]] : '';
          if (c.name === 'x2' && i % 13 === 0) return '';
          return c.name === 'x1' ? c.values[i].toFixed(2) : String(c.values[i]);
        })
        .join(','),
    );
  }
  return parseCsv(`${lines.join('\n')}\n`, { fileName: 'synthetic.csv' });
}

/** The report of the search, one thread (no runner) or over the pool's `threads`, and the jobs the pool was sent meanwhile. */
async function search(model: Classifier, table: Table, features: string[], runner: RecourseRunner | undefined, settings: Parameters<typeof recourseOptions>[0] = {}, threshold = 0.5): Promise<{ report: string; jobs: number }> {
  const scores = await model.score(table);
  const before = poolJobsSent();
  const options = recourseOptions(settings, { threshold, protectedAttributes: ['race', 'sex'], proxies: [], confidence: 0.95, seed: 7, callRows: 8192, runner });
  const report = await recourse(model, table, scores, features, ['race', 'sex'], options);
  return { report: JSON.stringify(report), jobs: poolJobsSent() - before };
}

describe('recourse over the thread pool', () => {
  it('gives the one-thread report to the byte (XGBoost JSON, kept texts, a blank cell, monotone columns and costs), the rows searched on the threads', async () => {
    const ensemble = syntheticEnsemble(40, 5, 8, 4);
    const bytes = new TextEncoder().encode(toXgboostJson(ensemble));
    const table = syntheticCsv(3000);
    const settings = { maxRows: 200, monotone: { x3: 'increase_only' as const }, costs: { x4: 2.5 } };
    const model = await openModel(ort, bytes, 'synthetic.json');
    const one = await search(model, table, ensemble.featureNames, undefined, settings);
    expect(one.jobs).toBe(0);
    const parsed = JSON.parse(one.report) as { rows_searched: number; recourse_feasible_share: number; rows: { counterfactuals: { changes: { column: string; to: string }[] }[] }[] };
    expect(parsed.rows_searched).toBe(200);
    expect(parsed.recourse_feasible_share).toBeGreaterThan(0.3);
    // The search did change x1, whose candidates are written as the file writes them ("0.50").
    const x1 = parsed.rows.flatMap((r) => r.counterfactuals.flatMap((cf) => cf.changes.filter((c) => c.column === 'x1')));
    expect(x1.length).toBeGreaterThan(0);
    for (const change of x1) expect(change.to).toMatch(/^-?\d+\.\d\d$/);
    for (const threads of [2, 3]) {
      const many = await search(model, table, ensemble.featureNames, poolRunners(threads).recourse, settings);
      // Two slices per thread, one job each.
      expect(many.jobs).toBe(2 * threads);
      expect(many.report === one.report).toBe(true);
    }
  }, 120_000);

  it('gives the one-thread report to the byte for a LightGBM model audited for class 0, whose threads score p(0) too', async () => {
    const bytes = corpusBytes('lgbm_decision_types.txt');
    const table = parseCsv(new TextDecoder().decode(corpusBytes('lgbm_applicants.csv')), { fileName: 'lgbm_applicants.csv' });
    const features = ['age', 'income', 'net_change', 'debt_ratio', 'region'];
    for (const positiveLabel of [1, 0]) {
      const model = await openModel(ort, bytes, 'lgbm_decision_types.txt', { positiveLabel });
      // The model's scores lie on one side of 0.5: the decision at their median instead.
      const scores = Float64Array.from(await model.score(table)).sort();
      const threshold = scores[scores.length >> 1];
      const one = await search(model, table, features, undefined, { maxRows: 150 }, threshold);
      const parsed = JSON.parse(one.report) as { rows_searched: number; recourse_feasible_share: number };
      expect(parsed.rows_searched).toBe(150);
      expect(parsed.recourse_feasible_share).toBeGreaterThan(0.3);
      const two = await search(model, table, features, poolRunners(2).recourse, { maxRows: 150 }, threshold);
      expect(two.jobs).toBe(4);
      expect(two.report === one.report, `positive label ${positiveLabel}`).toBe(true);
    }
  }, 120_000);

  it('a cancelled search ends alone: another search on the same pool at the same time gives its report', async () => {
    const ensemble = syntheticEnsemble(40, 5, 8, 4);
    const table = syntheticCsv(3000);
    const model = await openModel(ort, new TextEncoder().encode(toXgboostJson(ensemble)), 'synthetic.json');
    const scores = await model.score(table);
    const one = await search(model, table, ensemble.featureNames, undefined, { maxRows: 200 });
    const runner = poolRunners(2).recourse;
    const controller = new AbortController();
    const options = (signal?: AbortSignal) => recourseOptions({ maxRows: 200 }, { threshold: 0.5, protectedAttributes: ['race', 'sex'], proxies: [], confidence: 0.95, seed: 7, callRows: 8192, runner, signal });
    const cancelled = recourse(model, table, scores, ensemble.featureNames, ['race', 'sex'], options(controller.signal));
    const other = recourse(model, table, scores, ensemble.featureNames, ['race', 'sex'], options());
    // Soon after both searches started, while their slices run (at 100 ms a fast machine had finished it, and nothing was cancelled).
    setTimeout(() => controller.abort(new Error('the stage budget ran out')), 10);
    await expect(cancelled).rejects.toThrow('the stage budget ran out');
    expect(JSON.stringify(await other)).toBe(one.report);
  }, 120_000);

  it('searches here a classifier the threads cannot open again: one made from trees, and one made from a file’s classifier', async () => {
    const ensemble = syntheticEnsemble(20, 4, 8, 2);
    const table = syntheticCsv(1000);
    const opened = await openModel(ort, new TextEncoder().encode(toXgboostJson(ensemble)), 'synthetic.json');
    expect(reopenableModel(opened)).not.toBeNull();
    const made = treeClassifier(ensemble, 'synthetic.json');
    // A scorer built by spreading the file's classifier (as a regression's recourse does) scores otherwise: it must not be opened again as the file.
    const wrapped: Classifier = { ...opened, score: async (t, o) => Float64Array.from(await opened.score(t, o), (p) => 1 - p) };
    for (const model of [made, wrapped]) {
      expect(reopenableModel(model)).toBeNull();
      const one = await search(model, table, ensemble.featureNames, undefined, { maxRows: 60 });
      const two = await search(model, table, ensemble.featureNames, poolRunners(2).recourse, { maxRows: 60 });
      expect(two.jobs).toBe(0);
      expect(two.report === one.report).toBe(true);
    }
  }, 120_000);
});
