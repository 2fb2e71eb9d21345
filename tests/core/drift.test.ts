import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/core/data/csv';
import { findColumn, type NumericColumn, type Table } from '../../src/core/data/table';
import { categoricalDrift, driftFindings, driftReport, numericDrift, withThresholds } from '../../src/core/analyses/drift/drift';
import { driftFromStored, storedDistribution } from '../../src/core/analyses/drift/stored';
import { AuditConfigError } from '../../src/core/base/errors';
import { chiSquareSurvival, kolmogorovSmirnov, wasserstein } from '../../src/core/analyses/drift/statistics';
import { expected, fixture, projectRoot } from '../support/fixtures';
import { join } from 'node:path';

const load = (path: string) => parseCsv(readFileSync(fixture(path), 'utf8'), { fileName: path });

describe('drift against the fixture', () => {
  it('reproduces compas drift_train_vs_test PSI within 1e-9', () => {
    const want = expected('compas/rf.expected.json').drift_train_vs_test!.values;
    const report = driftReport(load('compas/train.csv'), load('compas/test.csv'));
    for (const [column, value] of Object.entries(want)) {
      const mine = report.columns.find((c) => c.column === column)!;
      expect(Math.abs(mine.psi - value), column).toBeLessThanOrEqual(1e-9);
    }
  });
});

describe('drift, hand-built cases', () => {
  it('gives PSI 0 and KS 0 for identical distributions', () => {
    const sample = Float64Array.from({ length: 500 }, (_, i) => (i * 7919) % 101);
    const drift = numericDrift('x', sample, sample.slice().reverse());
    expect(drift.psi).toBe(0);
    expect(drift.ks).toEqual({ statistic: 0, p_value: 1 });
    expect(drift.wasserstein_normalized).toBe(0);
    expect(drift.level).toBe('stable');
  });

  it('puts a value equal to an edge in the bin above', () => {
    // reference 1..10: deciles at 1.9, 2.8, …, 9.1; current all exactly 1.9 → bin [1.9, 2.8)
    const drift = numericDrift('x', Float64Array.from({ length: 10 }, (_, i) => i + 1), Float64Array.of(1.9, 1.9));
    expect(drift.bins[1]).toMatchObject({ reference: 0.1, current: 1 });
  });

  it('computes KS, Wasserstein and the χ² tail as worked by hand', () => {
    // {1,2,3} vs {2,3,4}: D = 1/3; W1 = ∫|F−G| = 1/3 + 1/3 + 1/3 = 1
    expect(kolmogorovSmirnov(Float64Array.of(1, 2, 3), Float64Array.of(2, 3, 4)).statistic).toBeCloseTo(1 / 3, 15);
    expect(wasserstein(Float64Array.of(1, 2, 3), Float64Array.of(2, 3, 4))).toBeCloseTo(1, 15);
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 9);
    expect(chiSquareSurvival(5.991464547107979, 2)).toBeCloseTo(0.05, 9);
  });

  it('flags a shifted numeric column as major drift and counts new categories', () => {
    const before = Float64Array.from({ length: 1000 }, (_, i) => i / 1000);
    const after = Float64Array.from({ length: 1000 }, (_, i) => 0.5 + i / 1000);
    const shifted = numericDrift('x', before, after);
    expect(shifted.level).toBe('major');
    expect(shifted.ks!.p_value).toBeLessThan(1e-6);
    const ref = { kind: 'categorical' as const, name: 'c', codes: Int32Array.of(0, 0, 1, 1), dictionary: ['a', 'b'], missing: 0 };
    const cur = { kind: 'categorical' as const, name: 'c', codes: Int32Array.of(0, 1, 2, 2), dictionary: ['a', 'b', 'z'], missing: 0 };
    const drift = categoricalDrift('c', ref, cur);
    expect(drift.new_categories).toEqual([{ value: 'z', count: 2 }]);
    // shares: a .5/.25, b .5/.25, z 0/.5 (ref floored at 1e-4)
    const psi = (0.25 - 0.5) * Math.log(0.25 / 0.5) * 2 + (0.5 - 1e-4) * Math.log(0.5 / 1e-4);
    expect(drift.psi).toBeCloseTo(psi, 12);
    // JS distance in base 2 is within [0, 1]
    expect(drift.jensen_shannon!).toBeGreaterThan(0);
    expect(drift.jensen_shannon!).toBeLessThanOrEqual(1);
  });

  it('summarises max PSI and the share of drifted columns', () => {
    const a = load('compas/train.csv');
    const report = driftReport(a, a, { exclude: ['two_year_recid'] });
    expect(report.max_psi).toBe(0);
    expect(report.drifted_feature_share).toBe(0);
    expect(report.columns.map((c) => c.column)).not.toContain('two_year_recid');
    expect((findColumn(a, 'age') as NumericColumn).kind).toBe('numeric');
  });
});

describe('drift in the audit', () => {
  it('is computed against --reference, read by gates as max_psi, and reported missing without one', async () => {
    const ort = await import('onnxruntime-web');
    const { runAudit } = await import('../../src/core/audit');
    const { evaluatePolicy } = await import('../../src/core/config/policy');
    const { fixtureBytes } = await import('../support/fixtures');
    const want = expected('compas/rf.expected.json');
    const base = {
      model: { fileName: 'rf.onnx', bytes: fixtureBytes('compas/rf.onnx') },
      data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') },
      target: 'two_year_recid',
      protectedAttributes: ['race'],
      features: want.features,
      bootstrapResamples: 0,
    };
    const result = await runAudit(ort, { ...base, reference: { fileName: 'train.csv', bytes: fixtureBytes('compas/train.csv') } });
    for (const [column, value] of Object.entries(want.drift_train_vs_test!.values)) {
      expect(Math.abs(result.drift!.columns.find((c) => c.column === column)!.psi - value)).toBeLessThanOrEqual(1e-9);
    }
    expect(result.drift!.prediction!.psi).toBeGreaterThan(0);
    const policy = { policy_name: 'p', gates: [{ name: 'psi', metric: 'max_psi', threshold: 0.1, comparison: 'less_than' as const, severity: 'error' as const }] };
    const facts = { seedGiven: true, strict: false, manifestWritten: true, gitCommit: null, today: '2026-12-04', modelId: 'm' };
    expect(evaluatePolicy(policy, 'h', result, facts).gates[0]).toMatchObject({ outcome: 'PASS', value: result.drift!.max_psi });
    const without = await runAudit(ort, base);
    expect(without.drift).toBeUndefined();
    expect(evaluatePolicy(policy, 'h', without, facts).gates[0]).toMatchObject({ outcome: 'NOT_EVALUATED', reason: 'no reference data was given (data.train, data.reference, --reference or --reference-result)' });
  });
});

describe('a column read as text in one file', () => {
  it('compares numbers with a few texts as numbers, the texts as missing and named; a file without values as no values (pandas/numpy/scipy)', () => {
    const want = JSON.parse(readFileSync(join(projectRoot, 'tests/data/mixed.expected.json'), 'utf8'));
    const read = (name: string) => parseCsv(readFileSync(join(projectRoot, 'tests/data', name), 'utf8'), { fileName: name });
    const report = driftReport(read('mixed-reference.csv'), read('mixed-current.csv'));
    const income = report.columns.find((c) => c.column === 'income')!;
    // Before: 1,001 categories of one value each, PSI 1.0, "major".
    expect(income).toMatchObject({ kind: 'numeric', note: 'read as numbers: "unknown" (1 cell) in mixed-current.csv read as missing' });
    expect(Math.abs(income.psi - want.income_psi)).toBeLessThan(1e-9);
    expect(Math.abs(income.ks!.statistic - want.income_ks)).toBeLessThan(1e-12);
    const score = report.columns.find((c) => c.column === 'score')!;
    expect(score).toMatchObject({ kind: 'numeric', level: 'major', note: 'read as numbers: no values in mixed-current.csv' });
    expect(score.ks).toBeUndefined();
    expect(Math.abs(score.psi - want.score_psi)).toBeLessThan(1e-9);
    // Reference-free: the batch against the reference's stored distributions reads the same, with the same PSI.
    const reference = read('mixed-reference.csv');
    const stored = Object.fromEntries(reference.columns.map((c) => [c.name, storedDistribution(c)]));
    const batch = driftFromStored(JSON.parse(JSON.stringify(stored)), read('mixed-current.csv'), 'stored distributions of ref.json');
    const storedIncome = batch.columns.find((c) => c.column === 'income')!;
    expect(storedIncome.note).toBe('read as numbers: "unknown" (1 cell) in mixed-current.csv read as missing');
    expect(Math.abs(storedIncome.psi - want.income_psi)).toBeLessThan(1e-9);
    const storedScore = batch.columns.find((c) => c.column === 'score')!;
    expect(storedScore.note).toBe('read as numbers: no values in mixed-current.csv');
    expect(Math.abs(storedScore.psi - want.score_psi)).toBeLessThan(1e-9);
    // A column of codes ("01", "02": every text a number) is still compared as categories.
    const codes = driftReport(parseCsv('zip\n01\n02\n', { fileName: 'a.csv', dtypes: { zip: 'categorical' } }), parseCsv('zip\n01\n03\n', { fileName: 'b.csv', dtypes: { zip: 'categorical' } }));
    expect(codes.columns[0].kind).toBe('categorical');
  });

  it('reports a batch whose column turned to text, and a column renamed away, instead of leaving them out (numpy oracle)', () => {
    const want = JSON.parse(readFileSync(join(projectRoot, 'tests/data/mixed.expected.json'), 'utf8')).batch_text;
    const read = (name: string) => parseCsv(readFileSync(join(projectRoot, 'tests/data', name), 'utf8'), { fileName: name });
    const reference = read('mixed-reference.csv');
    const stored = JSON.parse(JSON.stringify(Object.fromEntries(reference.columns.map((c) => [c.name, storedDistribution(c)]))));
    // Before: income (a third of it "band3"-like codes) and score (renamed score_v2) were both left out: max PSI null, no drift.
    const batch = driftFromStored(stored, read('mixed-batch-text.csv'), 'stored distributions of ref.json');
    const income = batch.columns.find((c) => c.column === 'income')!;
    expect(Math.abs(income.psi - want.income_psi)).toBeLessThan(1e-9);
    expect(income.level).toBe('major');
    expect(income.bins.at(-1)).toEqual({ label: 'text', reference: 0, current: want.text_cells / 300 });
    expect(income.note).toBe('100 cells of text in mixed-batch-text.csv ("band0", "band3", "band6", …) where the reference held numbers: compared in a bin of their own, which the reference never had');
    // score is listed and found, not compared (a batch without labels lacks its label column the same way): the share is of compared columns.
    expect(batch.missing_columns).toEqual(['score']);
    expect(batch.drifted_feature_share).toBe(1);
    expect(driftFindings(batch, 'mixed-batch-text.csv').map((f) => f.message)).toEqual([
      'mixed-batch-text.csv lacks a column of the reference stored distributions of ref.json ("score"): renamed or dropped? A model that reads one would refuse the file; here it is not compared.',
      `income: ${income.note}.`,
    ]);
    // The stored result's target is not a column the batch lacks.
    expect(driftFromStored(stored, read('mixed-batch-text.csv'), 'stored distributions of ref.json', ['score']).missing_columns).toBeUndefined();
    // Against the raw reference: the same bins and PSI, the χ² of their counts, and score missing the same way
    // (the numbers were category names, "50.4" against 50.40: PSI 6.9, and check-data's χ² of singletons p = 0.41).
    const raw = driftReport(reference, read('mixed-batch-text.csv'));
    expect(raw.missing_columns).toEqual(['score']);
    const rawIncome = raw.columns.find((c) => c.column === 'income')!;
    expect(rawIncome.kind).toBe('numeric');
    expect(Math.abs(rawIncome.psi - want.income_psi)).toBeLessThan(1e-9);
    expect(rawIncome.bins.at(-1)).toEqual({ label: 'text', reference: 0, current: want.text_cells / 300 });
    expect(rawIncome.chi_square!.df).toBe(want.income_chi2_df);
    expect(Math.abs(rawIncome.chi_square!.statistic - want.income_chi2)).toBeLessThan(1e-9 * want.income_chi2);
    expect(Math.abs(rawIncome.chi_square!.p_value - want.income_chi2_p)).toBeLessThan(1e-12);
    expect(rawIncome.note).toBe('100 cells of text in mixed-batch-text.csv ("band0", "band3", "band6", …) where mixed-reference.csv held numbers: compared in a bin of their own, with the χ² test of the bins\' counts');
    expect(driftFindings(raw, 'mixed-batch-text.csv').map((f) => f.message)).toContain(`income: ${rawIncome.note}.`);
    // The other way round: the texts are the reference's, in its bin.
    const back = driftReport(read('mixed-batch-text.csv'), reference).columns.find((c) => c.column === 'income')!;
    expect(Math.abs(back.psi - want.reverse_psi)).toBeLessThan(1e-9);
    expect(back.note).toBe('100 cells of text in mixed-batch-text.csv ("band0", "band3", "band6", …) where mixed-reference.csv held numbers: compared in a bin of their own, with the χ² test of the bins\' counts');
    expect(withThresholds(batch, { minor: 5, major: 10 }).drifted_feature_share).toBe(0);
  });
});

describe('reference-free drift', () => {
  it('against the distributions an audit of train.csv stored, gives the same PSI as the raw reference (and the fixture)', async () => {
    const ort = await import('onnxruntime-web');
    const { runAudit } = await import('../../src/core/audit');
    const { fixtureBytes } = await import('../support/fixtures');
    const want = expected('compas/rf.expected.json');
    const base = { model: { fileName: 'rf.onnx', bytes: fixtureBytes('compas/rf.onnx') }, target: 'two_year_recid', protectedAttributes: ['race'], features: want.features, bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off', recourse: 'off' } };
    const validated = await runAudit(ort, { ...base, data: { fileName: 'train.csv', bytes: fixtureBytes('compas/train.csv') } });
    const batch = await runAudit(ort, { ...base, data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') }, referenceDistributions: { source: 'stored distributions of train audit', distributions: validated.data.distributions, prediction: validated.data.prediction_distribution } });
    const raw = driftReport(load('compas/train.csv'), load('compas/test.csv'), { exclude: ['two_year_recid'] });
    for (const column of raw.columns) {
      const stored = batch.drift!.columns.find((c) => c.column === column.column)!;
      expect(Math.abs(stored.psi - column.psi), column.column).toBeLessThan(1e-12);
    }
    for (const [column, value] of Object.entries(want.drift_train_vs_test!.values)) {
      expect(Math.abs(batch.drift!.columns.find((c) => c.column === column)!.psi - value)).toBeLessThanOrEqual(1e-9);
    }
    expect(batch.drift!.conventions).toMatch(/^Reference-free/);
    // Prediction drift against the stored scores' deciles: the raw reference's PSI (it was left out).
    const rawAudit = await runAudit(ort, { ...base, data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') }, reference: { fileName: 'train.csv', bytes: fixtureBytes('compas/train.csv') } });
    expect(validated.data.prediction_distribution?.kind).toBe('numeric');
    expect(batch.drift!.prediction!.column).toBe('p(positive)');
    expect(Math.abs(batch.drift!.prediction!.psi - rawAudit.drift!.prediction!.psi)).toBeLessThan(1e-12);
    // A result stored before the scores' distribution was: said, not silently left out.
    const older = await runAudit(ort, { ...base, data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') }, referenceDistributions: { source: 'stored distributions of old.json', distributions: validated.data.distributions } });
    expect(older.drift!.prediction).toBeUndefined();
    expect(older.drift!.conventions).toContain('Prediction drift: stored distributions of old.json holds no stored score distribution');
  });

  it('refuses stored bins it cannot measure against, such as an edge JSON wrote as null', () => {
    const table = parseCsv('x,c\n1,a\n2,b\n3,a\n4,b\n', { fileName: 'batch.csv' });
    const stored = (x: unknown, c?: unknown) => JSON.parse(JSON.stringify({ x, c: c ?? { kind: 'categorical', categories: ['a', 'b'], shares: [0.5, 0.5] } }));
    const good = stored({ kind: 'numeric', edges: [2, 3], shares: [0.25, 0.25, 0.5], missing: 0 });
    expect(driftFromStored(good, table, 'stored distributions of ref.json').columns.map((c) => c.psi)).toEqual([0, 0]);
    const refused = (x: unknown, c?: unknown) => () => driftFromStored(stored(x, c), table, 'stored distributions of ref.json');
    // An earlier Plumbline stored the edges of a reference a tenth or more −∞ as [NaN, …]: JSON writes null, read back as 0.
    expect(refused({ kind: 'numeric', edges: [Number.NaN, 3], shares: [0, 0.5, 0.5], missing: 0 })).toThrow(
      new AuditConfigError('stored distributions of ref.json, column "x": the bin edges [null,3] are not ascending finite numbers (an earlier Plumbline wrote an edge of infinite values as null, or the file was edited). Audit the reference data again with this version and pass that result (--reference-result).'),
    );
    expect(refused({ kind: 'numeric', edges: [3, 2], shares: [0.25, 0.25, 0.5], missing: 0 })).toThrow('the bin edges [3,2] are not ascending finite numbers');
    expect(refused({ kind: 'numeric', edges: [2, 3], shares: [0.5, 0.5], missing: 0 })).toThrow(
      new AuditConfigError('stored distributions of ref.json, column "x": the shares [0.5,0.5] are not 3 numbers from 0 to 1, one per bin (the file was edited). Audit the reference data again with this version and pass that result (--reference-result).'),
    );
    expect(refused({ kind: 'numeric', edges: [2, 3], shares: [0.25, 0.25, 0.5] })).toThrow('column "x": the share of missing values undefined is not a number from 0 to 1 (the file was edited)');
    expect(refused(good.x, { kind: 'categorical', categories: ['a', 'b'], shares: [0.5, null] })).toThrow('column "c": the shares [0.5,null] are not 2 numbers from 0 to 1, one per category');
    expect(refused(good.x, { kind: 'categorical', categories: ['a', 2], shares: [0.5, 0.5] })).toThrow('column "c": the categories are not a list of texts');
    // Fields left out are refused in words, not with a TypeError.
    expect(refused({ kind: 'numeric', shares: [1], missing: 0 })).toThrow(new AuditConfigError('stored distributions of ref.json, column "x": the bin edges undefined are not ascending finite numbers (an earlier Plumbline wrote an edge of infinite values as null, or the file was edited). Audit the reference data again with this version and pass that result (--reference-result).'));
    expect(refused({ kind: 'numeric', edges: [], missing: 0 })).toThrow('column "x": the shares undefined are not 1 numbers from 0 to 1, one per bin (the file was edited)');
    expect(refused(good.x, { kind: 'categorical', categories: ['a'] })).toThrow('column "c": the shares undefined are not 1 numbers from 0 to 1, one per category');
  });

  it('stores finite edges for values more than the largest double apart, which it then accepts', () => {
    // The interpolation's gap MAX − (−MAX) overflows; the edges weigh the two ends instead.
    const values = Float64Array.from({ length: 20 }, (_, i) => (i < 10 ? -Number.MAX_VALUE : Number.MAX_VALUE));
    const table: Table = { source: 'wide.csv', rowCount: 20, columns: [{ kind: 'numeric', name: 'x', values, missing: 0 }] };
    const stored = JSON.parse(JSON.stringify({ x: storedDistribution(table.columns[0]) }));
    expect(stored.x.edges.length).toBeGreaterThan(0);
    expect(stored.x.edges.every((e: unknown) => typeof e === 'number' && Number.isFinite(e))).toBe(true);
    expect(driftFromStored(stored, table, 'stored distributions of wide.json').columns[0].psi).toBe(0);
  });
});

describe('drift thresholds', () => {
  it('re-grades levels and the drifted share with configured PSI thresholds', async () => {
    const { withThresholds } = await import('../../src/core/analyses/drift/drift');
    const report = driftReport(load('compas/train.csv'), load('compas/test.csv'), { exclude: ['two_year_recid'] });
    const strict = withThresholds(report, { minor: 0.001, major: 0.005 });
    expect(strict.columns.find((c) => c.column === 'age')!.level).toBe('major');
    expect(strict.drifted_feature_share).toBeGreaterThan(0);
    expect(report.drifted_feature_share).toBe(0);
  });
});

describe('counting over sorted values and codes', () => {
  it('bins sorted values by bisection as value by value (ties, −0, ±∞ and an edge of NaN, values on the edges)', async () => {
    const { binShares, decileEdges, sortedBinShares } = await import('../../src/core/analyses/drift/bins');
    const { Random } = await import('../../src/core/base/random');
    const { sortPresent } = await import('../../src/core/base/order');
    const random = new Random(11, 'sorted-bins');
    let nanEdges = 0;
    for (let trial = 0; trial < 40; trial++) {
      const n = trial === 0 ? 0 : 1 + random.int(2000);
      const levels = 1 + random.int(trial % 2 ? 5 : 1000);
      // Infinite values (an Arrow or Parquet file keeps them), in some trials a tenth or more
      // of the values: the lowest decile edge is then −∞ + NaN, an edge of NaN.
      const infinite = trial % 4 === 1 ? 0.25 : 0.02;
      const values = Float64Array.from({ length: n }, () => {
        const u = random.next();
        return u < 0.05 ? Number.NaN : u < 0.1 ? -0 : u < 0.1 + infinite ? Number.NEGATIVE_INFINITY : u < 0.12 + infinite ? Number.POSITIVE_INFINITY : random.int(levels) - levels / 2;
      });
      const sorted = sortPresent(values);
      // Edges from the values themselves (so values sit on them), or from a sample of other numbers.
      const edges = trial % 3 === 0 ? [-1.5, 0, 2] : decileEdges(sorted);
      expect(sortedBinShares(sorted, n, edges)).toEqual(binShares(values, n, edges));
      if (trial % 4 === 1 && n > 100) nanEdges++;
    }
    expect(nanEdges).toBeGreaterThan(3);
  });

  it('counts a categorical column by code as row by row by name, in first-seen order', async () => {
    const { categoryCounts } = await import('../../src/core/analyses/drift/bins');
    // The text "(missing)" and missing cells share one name, as they do row by row.
    const table = parseCsv('c,k\n"(missing)",1\nb,1\n,1\na,1\nb,1\n"(missing)",1\n,1\nc,1\na,1\n', { fileName: 'c.csv' });
    const column = findColumn(table, 'c')!;
    if (column.kind !== 'categorical') throw new Error('expected a categorical column');
    const byName = new Map<string, number>();
    for (let i = 0; i < column.codes.length; i++) {
      const key = column.codes[i] < 0 ? '(missing)' : column.dictionary[column.codes[i]];
      byName.set(key, (byName.get(key) ?? 0) + 1);
    }
    expect([...categoryCounts(column)]).toEqual([...byName]);
    expect(column.missing).toBe(2);
  });
});

describe('the drift conventions', () => {
  it('name the bins drift.psi_bins sets (they said deciles for any count)', async () => {
    const { parseCsv } = await import('../../src/core/data/csv');
    const { driftReport } = await import('../../src/core/analyses/drift/drift');
    const table = parseCsv(['x', ...Array.from({ length: 50 }, (_, i) => String(i))].join('\n'), { fileName: 't.csv' });
    expect(driftReport(table, table, { bins: 5 }).conventions).toContain("numeric bins from the reference's 5-quantiles (drift.psi_bins: 5) (linear interpolation");
    expect(driftReport(table, table).conventions).toContain("numeric bins from the reference's deciles (linear interpolation");
  });
});

describe('a reference the model cannot score', () => {
  it('still has its columns compared; the prediction drift is left out with the reason, as a finding (all drift was dropped)', async () => {
    const ort = await import('onnxruntime-web');
    const { runAudit } = await import('../../src/core/audit');
    const want = expected('compas/rf.expected.json');
    const train = readFileSync(fixture('compas/train.csv'), 'utf8').split('\n');
    const ageAt = train[0].split(',').indexOf('age');
    // Ages written with a prefix in the reference only ("a43"): the model reads numbers.
    const reference = train.map((line, i) => (i === 0 || !line ? line : line.split(',').map((cell, j) => (j === ageAt ? `a${cell}` : cell)).join(','))).join('\n');
    const result = await runAudit(ort as never, {
      model: { fileName: 'rf.onnx', bytes: new Uint8Array(readFileSync(fixture('compas/rf.onnx'))) },
      data: { fileName: 'test.csv', bytes: new Uint8Array(readFileSync(fixture('compas/test.csv'))) },
      reference: { fileName: 'ref.csv', bytes: new TextEncoder().encode(reference) },
      target: 'two_year_recid', protectedAttributes: ['race', 'sex'], features: want.features, bootstrapResamples: 0,
      missingSections: { explainer: 'off', robustness: 'off', recourse: 'off' },
    });
    expect(result.missing_sections.drift).toBeUndefined();
    expect(result.drift!.columns.map((c) => c.column)).toContain('priors_count');
    expect(result.drift!.prediction).toBeUndefined();
    expect(result.drift!.prediction_not_measured).toMatch(/^ref\.csv, column "age": the model's input "float_input" takes numbers, but this column holds text \(row 1: "a\d+"\)\./);
    expect(result.data.findings.some((f) => f.check === 'drift' && f.message.startsWith('Prediction drift not measured: ref.csv, column "age"'))).toBe(true);
  });
});

describe('a stable PSI beside a KS test that finds the distribution moved', () => {
  it('is named in a warning: PSI\'s reference-quantile bins do not see a shift past the reference\'s range', () => {
    // The reference's scores were capped at 3; the audited ones run to 10: 70% of the rows lie past the reference's largest value.
    const values = Float64Array.from({ length: 1000 }, (_, i) => 1 + (i % 10));
    const capped = values.map((v) => Math.min(v, 3));
    const drift = numericDrift('score', capped, values);
    expect(drift.level).toBe('stable');
    expect(drift.ks!.statistic).toBeCloseTo(0.7, 12);
    const findings = driftFindings({ reference: 'ref.csv', columns: [drift], max_psi: drift.psi, drifted_feature_share: 0, conventions: '' }, 'test.csv');
    expect(findings).toEqual([
      { check: 'drift', severity: 'warning', column: 'score', message: `score: PSI ${drift.psi.toFixed(4)} reads stable, but the KS test finds its distribution moved (D = 0.700, p < 0.0001): PSI's bins are the reference's quantiles, so a shift within one bin, or past the reference's range into an open end bin, is not seen. Compare the two distributions before reading it as stable.` },
    ]);
    // The same values on both sides: nothing to say.
    expect(driftFindings({ reference: 'ref.csv', columns: [numericDrift('score', values, values)], max_psi: 0, drifted_feature_share: 0, conventions: '' }, 'test.csv')).toEqual([]);
  });
});
