import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../src/core/audit';
import { parseCsv } from '../../src/core/data/csv';
import { findColumn, type Table } from '../../src/core/data/table';
import { openModel, treeClassifier } from '../../src/core/model/classifier';
import { emptyTree, type TreeEnsemble } from '../../src/core/model/tree';
import { recourse, RECOURSE_DEFAULTS, recourseCallRows, recourseOptions } from '../../src/core/analyses/recourse';
import { recourseEstimate } from '../../src/core/base/limits';
import { syntheticAudit, syntheticEnsemble } from '../../bench/synthetic';
import { expected, fixtureBytes } from '../support/fixtures';
import { corpusBytes } from '../support/model-corpus';

/** One tree: x0 < 0.5 → margin −2 (adverse), else +2. x1 and x2 are ignored. */
function oneColumnModel(): TreeEnsemble {
  const tree = emptyTree(3);
  tree.feature[0] = 0;
  tree.threshold[0] = 0.5;
  tree.left[0] = 1;
  tree.right[0] = 2;
  tree.value[1] = -2;
  tree.value[2] = 2;
  return { format: 'xgboost-json', featureNames: ['x0', 'x1', 'x2'], trees: [tree], baseMargin: 0, marginScale: 1, transform: 'logistic', description: 'test' };
}

describe('recourse', () => {
  const rows = Array.from({ length: 40 }, (_, i) => `${(i / 40).toFixed(3)},${i % 7},${i % 3}`);
  const table = parseCsv(`x0,x1,x2\n${rows.join('\n')}\n`, { fileName: 'r.csv' });
  const classifier = treeClassifier(oneColumnModel(), 'one.json');
  const options = { threshold: 0.5, adverse: 'negative' as const, immutable: ['x2'], monotone: {}, seed: 1 };

  it('changes only the column that decides, to the cheapest value that flips, and re-scores it', async () => {
    const scores = await classifier.score(table);
    const report = await recourse(classifier, table, scores, ['x0', 'x1', 'x2'], [], options);
    expect(report.adverse_rows).toBe(20);
    expect(report.recourse_feasible_share).toBe(1);
    for (const entry of report.rows) {
      const best = entry.counterfactuals[0];
      expect(best.changes.map((c) => c.column)).toEqual(['x0']);
      expect(Number(best.changes[0].to)).toBeGreaterThanOrEqual(0.5);
      expect(best.score).toBeGreaterThanOrEqual(0.5);
      // The cheapest flipping value on the grid: the smallest candidate at or above 0.5.
      for (const other of entry.counterfactuals) expect(other.cost).toBeGreaterThanOrEqual(best.cost);
    }
  });

  it('finds nothing when the deciding column may only decrease, and never moves an immutable column', async () => {
    const scores = await classifier.score(table);
    const report = await recourse(classifier, table, scores, ['x0', 'x1', 'x2'], [], { ...options, monotone: { x0: 'decrease_only' } });
    expect(report.recourse_feasible_share).toBe(0);
    const frozen = await recourse(classifier, table, scores, ['x0', 'x1', 'x2'], [], { ...options, immutable: ['x0'] });
    expect(frozen.recourse_feasible_share).toBe(0);
  });

  it('stops a row whose next step would take more evaluations than it has left', async () => {
    const scores = await classifier.score(table);
    // The walk's first step tries every candidate of x0 and x1 at once: more than 5 of them.
    const starved = await recourse(classifier, table, scores, ['x0', 'x1', 'x2'], [], { ...options, maxEvaluations: 5 });
    expect(starved.rows_searched).toBe(20);
    expect(starved.recourse_feasible_share).toBe(0);
    const enough = await recourse(classifier, table, scores, ['x0', 'x1', 'x2'], [], { ...options, maxEvaluations: 200 });
    expect(enough.recourse_feasible_share).toBe(1);
  });

  it('finds the same counterfactuals whatever number of candidates a model call takes', async () => {
    // 300 adverse rows of a 40-tree model on 8 columns: a step of the walk has ~20,000 candidates,
    // so calls of 8,192 cut every step where calls of 65,536 do not.
    const ensemble = syntheticEnsemble(40, 5, 8, 4);
    const model = treeClassifier(ensemble, 'synthetic.json');
    const { table: synthetic } = syntheticAudit(2000, 5, 8);
    const scores = await model.score(synthetic);
    const search = (callRows: number) => recourse(model, synthetic, scores, ensemble.featureNames, ['race'], recourseOptions({ maxRows: 300 }, { threshold: 0.5, protectedAttributes: ['race', 'sex'], proxies: [], confidence: 0.95, seed: 9, callRows }));
    const small = await search(RECOURSE_DEFAULTS.callRows);
    expect(small.rows_searched).toBe(300);
    expect(small.recourse_feasible_share).toBeGreaterThan(0);
    expect(JSON.stringify(await search(RECOURSE_DEFAULTS.poolCallRows))).toBe(JSON.stringify(small));
    expect(JSON.stringify(await search(1000))).toBe(JSON.stringify(small));
  });

  it('changes a code written "06" to codes the file writes ("04", not "4"), for a model that takes the codes as text', async () => {
    // scikit-learn's one-hot categories are the texts; "4" is none of them, so a change fed as
    // "4" would be scored as an unknown category and the counterfactual would not be one.
    const csv = new TextDecoder().decode(corpusBytes('onnx_codes.test.csv'));
    const lines = csv.trim().split('\n').map((line) => line.split(','));
    const header = lines[0];
    const written = (column: string) => new Set(lines.slice(1).map((cells) => cells[header.indexOf(column)]));
    const result = await runAudit(ort, {
      model: { fileName: 'onnx_codes_logreg.onnx', bytes: corpusBytes('onnx_codes_logreg.onnx') },
      data: { fileName: 'onnx_codes.test.csv', bytes: corpusBytes('onnx_codes.test.csv') },
      target: 'returned',
      protectedAttributes: ['gender'],
      bootstrapResamples: 0,
      recourse: { maxRows: 30 },
    });
    const model = await openModel(ort, corpusBytes('onnx_codes_logreg.onnx'), 'onnx_codes_logreg.onnx');
    const changes = result.recourse!.rows.flatMap((entry) => entry.counterfactuals.map((cf) => ({ entry, cf })));
    expect(changes.some(({ cf }) => cf.changes.some((c) => c.column === 'postal_zone'))).toBe(true);
    for (const { entry, cf } of changes) {
      const cells = [...lines[entry.row]];
      for (const change of cf.changes) {
        if (['postal_zone', 'product_code'].includes(change.column)) expect(written(change.column), `${change.column} → ${change.to}`).toContain(change.to);
        expect(change.from).toBe(lines[entry.row][header.indexOf(change.column)]);
        cells[header.indexOf(change.column)] = change.to;
      }
      // The counterfactual written as a CSV row, read and scored as any file: its score, and a flip.
      const row = parseCsv(`${header.join(',')}\n${lines[1].join(',')}\n${cells.join(',')}\n`, { fileName: 'cf.csv' });
      const [, score] = await model.score(row, { features: header.filter((name) => name !== 'returned') });
      expect(Math.abs(score - cf.score)).toBeLessThan(1e-12);
      expect(score >= result.threshold).toBe(true);
    }
  });

  it('takes calls as large as the stage’s memory allows, and never smaller than its check counted', () => {
    const bytes = (n: number) => recourseEstimate(1000, 12, n + RECOURSE_DEFAULTS.evaluations).bytes;
    expect(recourseCallRows(() => true)).toBe(RECOURSE_DEFAULTS.poolCallRows);
    expect(recourseCallRows((n) => bytes(n) <= bytes(20_000))).toBe(16_384);
    expect(recourseCallRows(() => false)).toBe(RECOURSE_DEFAULTS.callRows);
  });

  it('on the COMPAS forest: every counterfactual flips when scored independently and breaks no constraint', async () => {
    const want = expected('compas/rf.expected.json');
    const result = await runAudit(ort, {
      model: { fileName: 'rf.onnx', bytes: fixtureBytes('compas/rf.onnx') },
      data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') },
      target: 'two_year_recid',
      protectedAttributes: ['race', 'sex'],
      features: want.features,
      bootstrapResamples: 0,
      explainer: { rows: 2, backgroundRows: 10 },
      recourse: { adverse: 'positive', immutable: ['age'], monotone: { priors_count: 'decrease_only' }, maxRows: 20 },
    });
    const report = result.recourse!;
    expect(report.rows_searched).toBe(20);
    expect(report.recourse_feasible_share).toBeGreaterThan(0);
    const test: Table = parseCsv(new TextDecoder().decode(fixtureBytes('compas/test.csv')), { fileName: 'test.csv' });
    const model = await openModel(ort, fixtureBytes('compas/rf.onnx'), 'rf.onnx');
    for (const entry of report.rows) {
      for (const cf of entry.counterfactuals) {
        const copy: Table = { ...test, columns: test.columns.map((c) => (c.kind === 'numeric' ? { ...c, values: c.values.slice() } : { ...c, codes: c.codes.slice() })) };
        for (const change of cf.changes) {
          expect(['age', 'race', 'sex']).not.toContain(change.column);
          const column = findColumn(copy, change.column)!;
          expect(column.kind).toBe('numeric');
          if (column.kind === 'numeric') {
            if (change.column === 'priors_count') expect(Number(change.to)).toBeLessThan(Number(change.from));
            const observed = new Set(findColumn(test, change.column)!.kind === 'numeric' ? (findColumn(test, change.column) as { values: Float64Array }).values : []);
            expect(observed.has(Number(change.to))).toBe(true);
            column.values[entry.row - 1] = Number(change.to);
          }
        }
        const [p] = await model.score(copy, { rows: Uint32Array.of(entry.row - 1), features: want.features });
        expect(p).toBeLessThan(result.threshold);
        expect(Math.abs(p - cf.score)).toBeLessThan(1e-12);
      }
    }
    await model.release();
  });
});

describe('the adverse decision of a recourse search', () => {
  it('says when it is the default (recourse.adverse not set), with when to set it', async () => {
    const { recourseReport } = await import('../../src/core/analyses/recourse/search/report');
    const table: Table = { source: 't.csv', rowCount: 0, columns: [] };
    const audit = { threshold: 0.5, protectedAttributes: [], proxies: [], confidence: 0.95, seed: 1 };
    expect(recourseReport(table, [], [], [], recourseOptions({}, audit), 0, false).conventions).toContain(
      'Adverse decision: p < 0.5 (the default: recourse.adverse is not set; set it to positive when the positive decision is the harm, a predicted default or reoffence). ',
    );
    expect(recourseReport(table, [], [], [], recourseOptions({ adverse: 'negative' }, audit), 0, false).conventions).toContain('Adverse decision: p < 0.5. ');
  });
});
