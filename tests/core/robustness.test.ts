import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../src/core/audit';
import { cellText, findColumn, sourceText, type Table } from '../../src/core/data/table';
import { parseCsv } from '../../src/core/data/csv';
import { groupIndex, type GroupIndex } from '../../src/core/metrics/groups';
import { demographicShift } from '../../src/core/analyses/robustness/shift';
import { consistency, counterfactualFlips, noisy, perturbationStability, perturbedColumn, textInputsOf } from '../../src/core/analyses/robustness/stability';
import { explainModel } from '../../src/core/analyses/explain/explain';
import { openModel } from '../../src/core/model/classifier';
import { corpusBytes } from '../support/model-corpus';
import { neighbourGaps, type NeighbourRunner } from '../../src/core/analyses/robustness/neighbours';
import { NEIGHBOURS_KERNEL } from '../../src/core/analyses/robustness/neighbours-wasm';
import { Random } from '../../src/core/base/random';
import { sampleIndices } from '../../src/core/data/sample';
import { expected, fixtureBytes, projectRoot } from '../support/fixtures';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

describe('demographic shift', () => {
  it('degrades accuracy by the amount the reweighting implies', () => {
    // Group a (6 of 10 rows) is always right; group b (4 rows) always wrong: accuracy 0.6.
    // Moving b's share from 0.4 to 0.5 makes accuracy 0.5: a degradation of exactly 0.1.
    const table: Table = { source: 's.csv', rowCount: 10, columns: [{ kind: 'categorical', name: 'g', codes: Int32Array.from([0, 0, 0, 0, 0, 0, 1, 1, 1, 1]), dictionary: ['a', 'b'], missing: 0 }] };
    const labels = Uint8Array.from([1, 1, 1, 0, 0, 0, 1, 1, 0, 0]);
    const scores = Float64Array.from([0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9]);
    const report = demographicShift(labels, scores, 0.5, [groupIndex(table, 'g')], 0.1);
    expect(report.baseline.accuracy).toBeCloseTo(0.6, 15);
    const toward = report.scenarios.find((s) => s.group === 'b' && s.to > s.from)!;
    expect(toward.to).toBeCloseTo(0.5, 15);
    expect(toward.metrics.accuracy).toBeCloseTo(0.5, 12);
    expect(toward.degradation.accuracy).toBeCloseTo(0.1, 12);
    expect(report.max_shift_degradation).toBeGreaterThanOrEqual(0.1 - 1e-12);
  });
});

describe('demographic shift of scores that are not probabilities', () => {
  it('leaves ECE out (a decile score gave an "ECE" of 3.9 and the worst degradation), as the calibration section does', async () => {
    const result = await runAudit(ort, { scoreColumn: 'decile_score', threshold: 5, data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') }, target: 'two_year_recid', protectedAttributes: ['race', 'sex'], bootstrapResamples: 0, missingSections: { explainer: 'off' } });
    expect(result.settings.scores_are_probabilities).toBe(false);
    expect(result.calibration.expected_calibration_error).toBeNull();
    const shift = result.robustness!.demographic_shift!;
    expect(shift.baseline.expected_calibration_error).toBeNull();
    expect(shift.worst!.metric).not.toBe('expected_calibration_error');
    for (const scenario of shift.scenarios) expect(scenario.degradation.expected_calibration_error).toBeNull();
    expect(shift.conventions).toContain('ECE is not measured: the scores are not probabilities.');
  });
});

describe('demographic shift by counts', () => {
  // The oracle: every scenario's metrics summed row by row under its weight vector, as
  // the definition reads (accuracy … ECE, parity over each attribute's groups).
  function direct(labels: Uint8Array, scores: Float64Array, weights: Float64Array, threshold: number, indexes: GroupIndex[], bins: number): Record<string, number | null> {
    const sum = (keep: (i: number) => boolean) => {
      let s = 0;
      for (let i = 0; i < labels.length; i++) if (keep(i)) s += weights[i];
      return s;
    };
    const ratio = (a: number, b: number) => (b === 0 ? null : a / b);
    const pred = (i: number) => scores[i] >= threshold;
    const tp = sum((i) => labels[i] === 1 && pred(i));
    const fn = sum((i) => labels[i] === 1 && !pred(i));
    const fp = sum((i) => labels[i] === 0 && pred(i));
    const tn = sum((i) => labels[i] === 0 && !pred(i));
    const recall = ratio(tp, tp + fn);
    const specificity = ratio(tn, tn + fp);
    const binOf = (i: number) => Math.min(bins - 1, Math.max(0, Math.floor(scores[i] * bins)));
    const total = sum(() => true);
    let ece = 0;
    for (let b = 0; b < bins; b++) {
      const count = sum((i) => binOf(i) === b);
      if (count <= 0) continue;
      let p = 0;
      let q = 0;
      for (let i = 0; i < labels.length; i++) if (binOf(i) === b) (p += weights[i] * labels[i]), (q += weights[i] * scores[i]);
      ece += (count / total) * Math.abs(p / count - q / count);
    }
    const out: Record<string, number | null> = { accuracy: ratio(tp + tn, total), precision: ratio(tp, tp + fp), recall, balanced_accuracy: recall === null || specificity === null ? null : (recall + specificity) / 2, expected_calibration_error: ece };
    for (const index of indexes) {
      const rates = index.rows.map((rows) => {
        const inG = new Set(rows);
        const rowsW = sum((i) => inG.has(i));
        const positives = sum((i) => inG.has(i) && labels[i] === 1);
        return { selection: ratio(sum((i) => inG.has(i) && pred(i)), rowsW), tpr: ratio(sum((i) => inG.has(i) && labels[i] === 1 && pred(i)), positives) };
      });
      const spreadOf = (v: (number | null)[]) => {
        const d = v.filter((x): x is number => x !== null);
        return d.length < 2 ? null : Math.max(...d) - Math.min(...d);
      };
      out[`demographic_parity_difference[${index.attribute}]`] = spreadOf(rates.map((r) => r.selection));
      out[`equal_opportunity_difference[${index.attribute}]`] = spreadOf(rates.map((r) => r.tpr));
    }
    return out;
  }

  it('gives every scenario the metrics its weight vector gives, row by row (rows in no group, NaN and out-of-range scores, empty cells)', () => {
    const random = new Random(11, 'shift-oracle');
    const n = 2_000;
    const labels = Uint8Array.from({ length: n }, () => (random.next() < 0.3 ? 1 : 0));
    const scores = Float64Array.from({ length: n }, (_, i) => (i % 397 === 0 ? Number.NaN : i % 211 === 0 ? 1.2 : i % 307 === 0 ? -0.1 : random.next()));
    // Three attributes: 5 groups with rows in none (−1), 2 groups, and 3 groups of which one has no positives.
    const index = (attribute: string, groups: number, of: (i: number) => number): GroupIndex => {
      const groupOf = Int32Array.from({ length: n }, (_, i) => of(i));
      return { attribute, groups: Array.from({ length: groups }, (_, g) => `g${g}`), groupOf, rows: Array.from({ length: groups }, (_, g) => Uint32Array.from([...groupOf.keys()].filter((i) => groupOf[i] === g))) };
    };
    const indexes = [index('a', 5, (i) => (i % 13 === 0 ? -1 : Math.floor(random.next() * 5))), index('b', 2, () => (random.next() < 0.2 ? 0 : 1)), index('c', 3, (i) => (labels[i] === 1 && random.next() < 0.5 ? 0 : 1 + (i % 2)))];
    const threshold = 0.4;
    const report = demographicShift(labels, scores, threshold, indexes, 0.15, 10);
    const close = (got: Record<string, number | null>, want: Record<string, number | null>) => {
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      for (const [k, v] of Object.entries(want)) {
        if (v === null) expect(got[k], k).toBeNull();
        else expect(Math.abs((got[k] as number) - v), k).toBeLessThan(1e-12);
      }
    };
    close(report.baseline, direct(labels, scores, new Float64Array(n).fill(1), threshold, indexes, 10));
    // 5 + 2 + 3 groups, two directions each (none clamped to its own share).
    expect(report.scenarios).toHaveLength(20);
    for (const scenario of report.scenarios) {
      const idx = indexes.find((x) => x.attribute === scenario.attribute)!;
      const g = idx.groups.indexOf(scenario.group);
      const weights = new Float64Array(n).fill((1 - scenario.to) / (1 - scenario.from));
      for (const row of idx.rows[g]) weights[row] = scenario.to / scenario.from;
      close(scenario.metrics, direct(labels, scores, weights, threshold, indexes, 10));
    }
    // The worst is the first scenario of the largest worsening: attribute b's two groups
    // give the same weights in pairs ("g0 to s+δ" is "g1 to 1−s−δ"), a tie rounding must not break.
    const worsening = report.scenarios.flatMap((s) => Object.entries(s.degradation).map(([metric, d]) => ({ s, metric, d: d ?? -Infinity })));
    const largest = Math.max(...worsening.map((w) => w.d));
    const first = worsening.find((w) => w.d >= largest - 1e-12)!;
    expect(report.worst).toEqual({ attribute: first.s.attribute, group: first.s.group, to: first.s.to, metric: first.metric });
    expect(report.max_shift_degradation).toBe(first.d);
  });
});

describe('perturbation stability, the next ε drawn while one is scored', () => {
  const n = 20;
  const table: Table = { source: 't.csv', rowCount: n, columns: [{ kind: 'numeric', name: 'x', values: Float64Array.from({ length: n }, (_, i) => i * 0.37), missing: 0 }] };
  const scores = Float64Array.from({ length: n }, (_, i) => i / n);
  const model = (fail: (call: number) => Promise<void>) => {
    let calls = 0;
    return { score: async (t: Table) => {
      await fail(++calls);
      return Float64Array.from((t.columns[0] as { values: Float64Array }).values, (v) => Math.min(1, v / 10));
    } } as unknown as Parameters<typeof perturbationStability>[0];
  };
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => void unhandled.push(reason);

  it('fails with the scoring\'s error and leaves no rejection unhandled, whichever ε fails', async () => {
    process.on('unhandledRejection', record);
    try {
      const run = (fail: (call: number) => Promise<void>) => perturbationStability(model(fail), table, scores, 0.5, ['x'], { epsilons: [0.01, 0.05, 0.1], seed: 1 });
      await expect(run(async (call) => { if (call === 1) throw new Error('first ε'); })).rejects.toThrow('first ε');
      await expect(run(async (call) => { if (call === 2) { await new Promise((r) => setTimeout(r, 20)); throw new Error('second ε'); } })).rejects.toThrow('second ε');
      const controller = new AbortController();
      const aborting = perturbationStability(model(async (call) => {
        if (call === 1) setTimeout(() => controller.abort(), 0);
        await new Promise((r) => setTimeout(r, 30));
        if (call === 1) throw new Error('stopped by the abort');
      }), table, scores, 0.5, ['x'], { epsilons: [0.01, 0.05, 0.1], seed: 1, signal: controller.signal });
      await expect(aborting).rejects.toThrow('This operation was aborted');
      await new Promise((r) => setTimeout(r, 60));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it('gives each ε the same result as scoring it alone', async () => {
    const ok = model(async () => {});
    const together = await perturbationStability(ok, table, scores, 0.5, ['x'], { epsilons: [0.01, 0.05, 0.1], seed: 1 });
    for (const [e, epsilon] of [0.01, 0.05, 0.1].entries()) expect([together[e]]).toEqual(await perturbationStability(ok, table, scores, 0.5, ['x'], { epsilons: [epsilon], seed: 1 }));
  });
});

describe('consistency', () => {
  it('finds the same neighbours as brute force, and is 1 when similar rows get the same score', async () => {
    const random = new Random(5, 'knn-test');
    const n = 400;
    const x = Float64Array.from({ length: n }, () => random.normal());
    const y = Float64Array.from({ length: n }, () => random.normal());
    const table: Table = { source: 'k.csv', rowCount: n, columns: [{ kind: 'numeric', name: 'x', values: x, missing: 0 }, { kind: 'numeric', name: 'y', values: y, missing: 0 }] };
    const scores = Float64Array.from(x, (v, i) => 1 / (1 + Math.exp(-v - y[i])));
    const result = await consistency(table, scores, ['x', 'y'], { k: 5, seed: 1 });
    // Brute force over standardized points.
    const sd = (v: Float64Array) => {
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      return { m, s: Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)) };
    };
    const [sx, sy] = [sd(x), sd(y)];
    let total = 0;
    for (let i = 0; i < n; i++) {
      const distances = Array.from({ length: n }, (_, j) => ({ j, d: (((x[i] - x[j]) / sx.s) ** 2 + ((y[i] - y[j]) / sy.s) ** 2) })).filter((e) => e.j !== i).sort((a, b) => a.d - b.d).slice(0, 5);
      total += distances.reduce((sum, e) => sum + Math.abs(scores[i] - scores[e.j]), 0) / 5;
    }
    expect(result.consistency).toBeCloseTo(1 - total / n, 12);
    expect((await consistency(table, new Float64Array(n).fill(0.3), ['x', 'y'], { seed: 1 })).consistency).toBe(1);
  });

  it('on a sampled pool standardizes by the pool rows\' mean and sd, missing cells at the mean (brute force over the same samples)', async () => {
    const random = new Random(12, 'knn-pool-moments');
    const n = 900;
    // Columns of unequal scale, with missing cells: the standardization decides the neighbours.
    const x = Float64Array.from({ length: n }, (_, i) => (i % 37 === 5 ? Number.NaN : 100 * random.normal() + 40));
    const y = Float64Array.from({ length: n }, () => random.normal());
    const table: Table = { source: 'k.csv', rowCount: n, columns: [{ kind: 'numeric', name: 'x', values: x, missing: 0 }, { kind: 'numeric', name: 'y', values: y, missing: 0 }] };
    const scores = Float64Array.from({ length: n }, () => random.next());
    const result = await consistency(table, scores, ['x', 'y'], { k: 4, seed: 7, maxPool: 300, maxQueries: 60 });
    expect(result).toMatchObject({ rows_queried: 60, pool_rows: 300 });
    const pool = Array.from(sampleIndices(n, 300, 7, 'robustness/consistency-pool'));
    const queries = Array.from(sampleIndices(n, 60, 7, 'robustness/consistency'));
    const moments = (values: Float64Array) => {
      const present = pool.map((row) => values[row]).filter((v) => !Number.isNaN(v));
      const mean = present.reduce((a, b) => a + b, 0) / present.length;
      return { mean, sd: Math.sqrt(present.reduce((a, b) => a + (b - mean) ** 2, 0) / (present.length - 1)) };
    };
    const [mx, my] = [moments(x), moments(y)];
    const at = (row: number) => [Number.isNaN(x[row]) ? 0 : (x[row] - mx.mean) / mx.sd, (y[row] - my.mean) / my.sd];
    let total = 0;
    for (const row of queries) {
      const [qx, qy] = at(row);
      const nearest = pool.map((other, i) => ({ other, i, d: (at(other)[0] - qx) ** 2 + (at(other)[1] - qy) ** 2 })).filter((e) => e.other !== row).sort((a, b) => a.d - b.d || a.i - b.i).slice(0, 4);
      total += nearest.reduce((sum, e) => sum + Math.abs(scores[row] - scores[e.other]), 0) / 4;
    }
    expect(result.consistency).toBeCloseTo(1 - total / queries.length, 12);
  });

  it('draws seeded samples without replacement, each row equally likely (partial Fisher–Yates)', () => {
    const n = 10;
    const counts = new Array(n).fill(0);
    const draws = 4000;
    for (let seed = 0; seed < draws; seed++) {
      const sample = Array.from(sampleIndices(n, 3, seed, 'sample-test'));
      expect(sample).toHaveLength(3);
      expect(new Set(sample).size).toBe(3);
      expect(sample).toEqual([...sample].sort((a, b) => a - b));
      for (const row of sample) counts[row]++;
    }
    // Each row is in a sample with probability 3/10: 1,200 of 4,000, sd √(4000·0.3·0.7) ≈ 29.
    for (const count of counts) expect(Math.abs(count - (draws * 3) / n)).toBeLessThan(5 * 29);
    expect(Array.from(sampleIndices(5, 9, 1, 'sample-test'))).toEqual([0, 1, 2, 3, 4]);
  });

  it('keeps the k smallest by (distance, pool index), in WebAssembly and in JavaScript alike, with ties, exclusions and any pool size', () => {
    const cases = [[12, true, 3000, 10], [7, false, 3001, 10], [3, true, 3003, 10], [13, true, 2002, 10], [1, true, 999, 10], [5, false, 6, 10], [4, true, 4, 3]] as const;
    for (const [dims, integer, P, k] of cases) {
      const random = new Random(dims * P, 'knn-rule');
      const Q = 60;
      const points = Float64Array.from({ length: (P + Q) * dims }, () => (integer ? Math.round(2 * random.normal()) : random.normal()));
      const scores = Float64Array.from({ length: P + Q }, () => random.next());
      // Every third query excludes a pool point, among them the pool's last (in its last, partial block of four).
      const exclude = Int32Array.from({ length: Q }, (_, q) => (q % 3 === 0 ? (q === 0 ? P - 1 : (q * 37) % P) : -1));
      const want = new Float64Array(Q);
      for (let q = 0; q < Q; q++) {
        const all: { i: number; d2: number }[] = [];
        for (let i = 0; i < P; i++) {
          if (i === exclude[q]) continue;
          let d2 = 0;
          for (let d = 0; d < dims; d++) d2 += (points[i * dims + d] - points[(P + q) * dims + d]) ** 2;
          all.push({ i, d2 });
        }
        const nearest = all.sort((a, b) => a.d2 - b.d2 || a.i - b.i).slice(0, k);
        let sum = 0;
        for (const { i } of nearest) sum += Math.abs(scores[P + q] - scores[i]);
        want[q] = sum / nearest.length;
      }
      const job = { points, pool: P, dims, k, exclude, scores, from: 0, to: Q };
      expect(neighbourGaps(job), `${dims} columns, ${P} points, WebAssembly`).toEqual(want);
      expect(neighbourGaps(job, false), `${dims} columns, ${P} points, JavaScript`).toEqual(want);
      expect(neighbourGaps({ ...job, from: 7, to: 20 })).toEqual(want.subarray(7, 20));
    }
  });

  it('keeps neighbours-wasm.ts equal to neighbours.wat (scripts/build-wasm.mjs), small enough to compile on any thread', async () => {
    const { neighboursModuleSource } = await import('../../scripts/build-wasm.mjs');
    const dir = join(projectRoot, 'src', 'core', 'analyses', 'robustness');
    expect(await neighboursModuleSource(readFileSync(join(dir, 'neighbours.wat'), 'utf8'))).toBe(readFileSync(join(dir, 'neighbours-wasm.ts'), 'utf8'));
    // Chromium compiles a module synchronously (new WebAssembly.Module) only up to 4 KB on a page's main thread.
    expect(NEIGHBOURS_KERNEL.length).toBeLessThanOrEqual(4096);
    // It compiles: the search does not fall back to JavaScript unseen (the rule test compares both paths).
    expect(new WebAssembly.Module(NEIGHBOURS_KERNEL)).toBeInstanceOf(WebAssembly.Module);
  });

  it('on a large file estimates from seeded samples, with a standard error that covers the exact value', async () => {
    const random = new Random(9, 'knn-large');
    const n = 30_000;
    const x = Float64Array.from({ length: n }, () => random.normal());
    const y = Float64Array.from({ length: n }, () => random.normal());
    const z = Float64Array.from({ length: n }, () => random.normal());
    const table: Table = { source: 'k.csv', rowCount: n, columns: [['x', x], ['y', y], ['z', z]].map(([name, values]) => ({ kind: 'numeric' as const, name: name as string, values: values as Float64Array, missing: 0 })) };
    const scores = Float64Array.from(x, (v, i) => 1 / (1 + Math.exp(-2 * v - y[i] + z[i])));
    const exact = await consistency(table, scores, ['x', 'y', 'z'], { seed: 1, maxQueries: Infinity, maxPool: Infinity });
    expect(exact).toMatchObject({ rows_queried: n, pool_rows: n, standard_error: null });
    // Sampling the queried rows only: unbiased, within 4 standard errors.
    const sampled = await consistency(table, scores, ['x', 'y', 'z'], { seed: 1, maxPool: Infinity });
    expect(sampled).toMatchObject({ rows_queried: 2000, pool_rows: n });
    expect(Math.abs(sampled.consistency! - exact.consistency!)).toBeLessThan(4 * sampled.standard_error!);
    // The defaults also sample the neighbour pool; the same seed gives the same numbers.
    const bounded = await consistency(table, scores, ['x', 'y', 'z'], { seed: 1 });
    expect(bounded).toMatchObject({ rows_queried: 2000, pool_rows: 20_000 });
    expect(await consistency(table, scores, ['x', 'y', 'z'], { seed: 1 })).toEqual(bounded);
    // Searched in slices of the queries (as a host's threads search them): the same numbers to the bit.
    let slices = 0;
    const sliced: NeighbourRunner = async (job) => {
      const queries = job.exclude.length;
      const cuts = [0, 1, 700, 1999, queries];
      const gaps = new Float64Array(queries);
      for (let i = 0; i + 1 < cuts.length; i++) {
        gaps.set(neighbourGaps({ ...job, from: cuts[i], to: cuts[i + 1] }), cuts[i]);
        slices++;
      }
      return gaps;
    };
    expect(await consistency(table, scores, ['x', 'y', 'z'], { seed: 1, neighbours: sliced })).toEqual(bounded);
    expect(slices).toBe(4);
  });
});

describe('robustness in the audit', () => {
  it('runs on the fixture forest: seeded noise, consistency, and no counterfactual test for an attribute the model does not read', async () => {
    const want = expected('compas/rf.expected.json');
    const request = {
      model: { fileName: 'rf.onnx', bytes: fixtureBytes('compas/rf.onnx') },
      data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') },
      target: 'two_year_recid',
      protectedAttributes: ['race', 'sex'],
      features: want.features,
      bootstrapResamples: 0,
      explainer: { rows: 2, backgroundRows: 10 },
    };
    const result = await runAudit(ort, request);
    const robustness = result.robustness!;
    expect(robustness.perturbation!.map((p) => p.epsilon)).toEqual([0.01, 0.05, 0.1]);
    expect(robustness.perturbation![2].flip_rate).toBeGreaterThanOrEqual(robustness.perturbation![0].flip_rate);
    expect(robustness.consistency!.consistency).toBeGreaterThan(0.8);
    expect(robustness.counterfactual_flips[0]).toMatchObject({ attribute: 'race', applicable: false });
    expect(robustness.max_shift_degradation).toBe(robustness.demographic_shift.max_shift_degradation);
    const again = await runAudit(ort, request);
    expect(again.robustness).toEqual(robustness);
    for (const p of robustness.perturbation!) {
      expect(p.rows).toBe(result.n);
      expect(p.flip_rate_interval!.low).toBeLessThanOrEqual(p.flip_rate);
      expect(p.flip_rate_interval!.high).toBeGreaterThanOrEqual(p.flip_rate);
    }
    // At the audit's confidence (bootstrap.confidence): the flip rate's interval stayed at 95% when the rest were at 90%.
    const { wilsonInterval } = await import('../../src/core/metrics/intervals');
    const at90 = await runAudit(ort, { ...request, confidence: 0.9, missingSections: { recourse: 'off', explanations: 'off' } });
    for (const p of at90.robustness!.perturbation!) expect(p.flip_rate_interval).toEqual(wilsonInterval(Math.round(p.flip_rate * p.rows), p.rows, 0.9));
  });

  it('perturbs a seeded sample of a large file, with the flip rate’s interval', async () => {
    const want = expected('compas/rf.expected.json');
    const { openModel } = await import('../../src/core/model/classifier');
    const { readTable } = await import('../../src/core/data/read');
    const model = await openModel(ort, fixtureBytes('compas/rf.onnx'), 'rf.onnx');
    const table = readTable(fixtureBytes('compas/test.csv'), 'test.csv');
    const scores = await model.score(table, { features: want.features });
    const options = { epsilons: [0.1], seed: 3, features: want.features, maxRows: 500 };
    const [sampled] = await perturbationStability(model, table, scores, 0.5, want.features!, options);
    expect(sampled.rows).toBe(500);
    expect(sampled.flip_rate * 500).toBe(Math.round(sampled.flip_rate * 500));
    expect((await perturbationStability(model, table, scores, 0.5, want.features!, options))[0]).toEqual(sampled);
  });
});

describe('perturbation of whole-number model inputs', () => {
  it('keeps int64 inputs whole, so a per-column sklearn-onnx model can be perturbed (regression)', async () => {
    const result = await runAudit(ort, {
      model: { fileName: 'logreg_zipmap.onnx', bytes: fixtureBytes('german_credit/logreg_zipmap.onnx') },
      data: { fileName: 'test.csv', bytes: fixtureBytes('german_credit/test.csv') },
      target: 'good_credit',
      protectedAttributes: ['gender'],
      bootstrapResamples: 0,
      explainer: { rows: 2, backgroundRows: 10 },
    });
    expect(result.missing_sections.robustness).toBeUndefined();
    expect(result.robustness!.perturbation).toHaveLength(3);
  });
});

describe('counterfactual flips through a declared proxy', () => {
  it('changes the proxy column when the model does not read the attribute, grouping by the attribute', async () => {
    const { counterfactualFlips } = await import('../../src/core/analyses/robustness/stability');
    const { treeClassifier } = await import('../../src/core/model/classifier');
    const { emptyTree } = await import('../../src/core/model/tree');
    // The model reads only `zip` (0 or 1): zip ≥ 0.5 → accepted.
    const tree = emptyTree(3);
    Object.assign(tree, { left: Int32Array.of(1, -1, -1), right: Int32Array.of(2, -1, -1), threshold: Float64Array.of(0.5, 0, 0), value: Float64Array.of(0, -3, 3) });
    const model = treeClassifier({ format: 'xgboost-json', featureNames: ['zip'], trees: [tree], baseMargin: 0, marginScale: 1, transform: 'logistic', description: 'zip' }, 'zip.json');
    const table: Table = {
      source: 'p.csv',
      rowCount: 4,
      columns: [
        { kind: 'numeric', name: 'zip', values: Float64Array.of(0, 0, 1, 1), missing: 0 },
        { kind: 'categorical', name: 'race', codes: Int32Array.of(0, 0, 1, 1), dictionary: ['a', 'b'], missing: 0 },
      ],
    };
    const scores = await model.score(table);
    const direct = await counterfactualFlips(model, table, scores, 0.5, 'race', ['zip']);
    expect(direct.applicable).toBe(false);
    const viaProxy = await counterfactualFlips(model, table, scores, 0.5, 'race', ['zip'], { proxy: 'zip' });
    expect(viaProxy).toMatchObject({ applicable: true, changed: 'zip', flip_rate: { a: 1, b: 1 } });
  });
});

describe('texts of perturbed cells', () => {
  it('a cell keeps the text it was read with ("007", "12.500", " b") only while it keeps its value; a whole number moved to another the file writes otherwise takes that text ("08")', () => {
    const rows = Array.from({ length: 400 }, (_, i) => [['007', '12.500', '3', '-4.250'][i % 4], [' b', 'a', 'b', 'c'][i % 4], ['007', '08', '9', '10'][i % 4]].join(','));
    // How the file writes the whole numbers of w (x holds decimals: its moved cells are new numbers).
    const written: Record<string, Map<number, string>> = { x: new Map(), c: new Map(), w: new Map([[7, '007'], [8, '08']]) };
    const table = parseCsv(`x,c,w\n${rows.join('\n')}\n`, { fileName: 'f.csv' });
    let moved = 0;
    let kept = 0;
    for (const name of ['x', 'c', 'w']) {
      const column = findColumn(table, name)!;
      const after = noisy(column, 0.3, new Random(5, 'texts'));
      for (let row = 0; row < table.rowCount; row++) {
        const same = column.kind === 'numeric' ? (after as typeof column).values[row] === column.values[row] : (after as typeof column).codes[row] === column.codes[row];
        if (same) kept++;
        else moved++;
        const value = after.kind === 'numeric' ? after.values[row] : Number.NaN;
        expect(sourceText(after, row), `${name} row ${row}`).toBe(same ? sourceText(column, row) : (written[name].get(value) ?? cellText(after, row)));
      }
    }
    // Both kinds of cell are seen (whole numbers often round back to their value), and moves onto a spelled number.
    expect(moved).toBeGreaterThan(100);
    expect(kept).toBeGreaterThan(100);
    const w = findColumn(table, 'w')!;
    const wAfter = noisy(w, 0.3, new Random(5, 'texts'));
    expect(Array.from({ length: table.rowCount }, (_, row) => sourceText(wAfter, row)).filter((text, row) => text === '08' && sourceText(w, row) !== '08').length).toBeGreaterThan(0);
  });
});

describe('a number the file writes otherwise ("06") set in every cell', () => {
  // The postal-code model takes the zones as text (scikit-learn's categories "01"…"10"): the
  // flip test and partial dependence set the zone to each value as the file writes it. The
  // oracle rewrites the file's column to that text and scores the file as any other.
  const csv = new TextDecoder().decode(corpusBytes('onnx_codes.test.csv'));
  const lines = csv.trim().split('\n').map((line) => line.split(','));
  const header = lines[0];
  const at = header.indexOf('postal_zone');
  const features = header.filter((name) => name !== 'returned');
  const withZone = (zone: string) => parseCsv([header, ...lines.slice(1).map((cells) => cells.map((cell, j) => (j === at ? zone : cell)))].map((cells) => cells.join(',')).join('\n'), { fileName: 'zone.csv' });
  const zones = [...new Set(lines.slice(1).map((cells) => cells[at]))].sort();

  it('flips the zone to "04", not "4", and the flip rates are the rewritten files’ ', async () => {
    const model = await openModel(ort, corpusBytes('onnx_codes_logreg.onnx'), 'onnx_codes_logreg.onnx');
    const table = parseCsv(csv, { fileName: 'onnx_codes.test.csv' });
    const scores = await model.score(table, { features });
    const flips = await counterfactualFlips(model, table, scores, 0.5, 'postal_zone', features, { features });
    expect(flips.applicable).toBe(true);
    const flipped = new Uint8Array(table.rowCount);
    for (const zone of zones) {
      const after = await model.score(withZone(zone), { features });
      after.forEach((p, i) => (flipped[i] ||= +(p >= 0.5 !== scores[i] >= 0.5)));
    }
    // Per zone as the file writes it ("01" apart from "1"), as fairness names the groups.
    const zoneOf = lines.slice(1).map((cells) => cells[header.indexOf('postal_zone')]);
    expect(Object.keys(flips.flip_rate).sort()).toEqual([...new Set(zoneOf)].sort());
    for (const [group, rate] of Object.entries(flips.flip_rate)) {
      const rows = Array.from(zoneOf.keys()).filter((i) => zoneOf[i] === group);
      expect(rate, `zone ${group}`).toBe(rows.reduce((n, i) => n + flipped[i], 0) / rows.length);
    }
    expect(Object.values(flips.flip_rate).some((rate) => rate > 0)).toBe(true);
  });

  it('noise swaps a zone the model reads as text for another zone of the file, never a number no row has', async () => {
    const table = parseCsv(csv, { fileName: 'onnx_codes.test.csv' });
    const model = await openModel(ort, corpusBytes('onnx_codes_logreg.onnx'), 'onnx_codes_logreg.onnx');
    const textInputs = textInputsOf(model.summary);
    expect([...textInputs].sort()).toEqual(['channel', 'postal_zone', 'product_code']);
    for (const name of ['postal_zone', 'product_code']) {
      const column = findColumn(table, name)!;
      const texts = new Set(lines.slice(1).map((cells) => cells[header.indexOf(name)]));
      const after = perturbedColumn(column, 0.3, new Random(3, 'zones'), textInputs);
      let changed = 0;
      for (let row = 0; row < table.rowCount; row++) {
        expect(texts, `${name} row ${row}`).toContain(sourceText(after, row));
        if (sourceText(after, row) !== sourceText(column, row)) changed++;
      }
      expect(changed).toBeGreaterThan(table.rowCount / 10);
      // Without the model's word that it reads text, the column is noised as numbers.
      expect(perturbedColumn(column, 0.3, new Random(3, 'zones')).kind).toBe('numeric');
    }
    const result = await runAudit(ort, { model: { fileName: 'onnx_codes_logreg.onnx', bytes: corpusBytes('onnx_codes_logreg.onnx') }, data: { fileName: 'onnx_codes.test.csv', bytes: corpusBytes('onnx_codes.test.csv') }, target: 'returned', protectedAttributes: ['gender'], bootstrapResamples: 0, missingSections: { recourse: 'off' } });
    expect(result.robustness!.conventions).toContain('(and so the texts of postal_zone, product_code, numbers the model reads as text)');
    expect(result.robustness!.perturbation).toHaveLength(3);
  });

  it('partial dependence labels its grid "01"… and averages the rewritten files’ scores', async () => {
    const model = { fileName: 'onnx_codes_logreg.onnx', bytes: corpusBytes('onnx_codes_logreg.onnx') };
    const result = await explainModel(ort, { model, data: { fileName: 'onnx_codes.test.csv', bytes: corpusBytes('onnx_codes.test.csv') }, rows: 2, backgroundRows: 5, method: 'kernel', features, partialDependence: ['postal_zone'] });
    const pd = result.partial_dependence![0];
    const classifier = await openModel(ort, model.bytes, model.fileName);
    expect(pd.grid.every((label) => zones.includes(label))).toBe(true);
    for (const [k, label] of pd.grid.entries()) {
      const scores = await classifier.score(withZone(label), { features });
      expect(Math.abs(pd.pdp[k] - scores.reduce((a, b) => a + b, 0) / scores.length), `zone ${label}`).toBeLessThan(1e-12);
    }
  });
});

describe('a reference whose model column holds text', () => {
  it('leaves the explainer out with the column and the cell named (it crashed: "Cannot read properties of undefined")', async () => {
    const { cellVectors } = await import('../../src/core/analyses/explain/explain');
    const { AuditConfigError } = await import('../../src/core/base/errors');
    const reference = parseCsv('age,priors\na43,1\n30,2\n', { fileName: 'ref.csv' });
    expect(() => cellVectors(reference, ['age', 'priors'], Uint32Array.from([0, 1]))).toThrow(
      new AuditConfigError('ref.csv, column "age": the model reads numbers, and this column holds text (row 1: "a43"). Choose a reference file whose model columns match the data\'s.'),
    );
  });
});

describe('the demographic shift under equal-frequency calibration', () => {
  it('measures ECE in the calibration section\'s bins: its baseline is that section\'s ECE (it kept equal-width bins, 0.0258 beside 0.0341)', async () => {
    const { calibration } = await import('../../src/core/metrics/calibration');
    const random = new Random(9, 'shift-bins');
    const n = 3000;
    const scores = Float64Array.from({ length: n }, () => random.next() ** 2);
    const labels = Uint8Array.from(scores, (p) => (random.next() < p * 0.9 + 0.05 ? 1 : 0));
    const table = parseCsv(['g', ...Array.from({ length: n }, (_, i) => ['a', 'b', 'c'][i % 3])].join('\n'), { fileName: 'g.csv' });
    for (const binning of ['equal-width', 'equal-frequency'] as const) {
      const shift = demographicShift(labels, scores, 0.5, [groupIndex(table, 'g')], 0.1, 10, binning);
      expect(shift.baseline.expected_calibration_error).toBeCloseTo(calibration(labels, scores, { bins: 10, binning }).expected_calibration_error!, 12);
    }
  });
});

describe('demographic shift of a group of a few rows', () => {
  it('does not reweight a group under min_group_size rows (2 rows moved to a tenth of the data decided the worst degradation), and says so', () => {
    // 40 rows of a, 2 of b: b's rows are both wrong.
    const n = 42;
    const table: Table = { source: 's.csv', rowCount: n, columns: [{ kind: 'categorical', name: 'g', codes: Int32Array.from({ length: n }, (_, i) => (i < 40 ? 0 : 1)), dictionary: ['a', 'b'], missing: 0 }] };
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 2);
    const scores = Float64Array.from({ length: n }, (_, i) => (i < 40 ? (i % 2 ? 0.9 : 0.1) : i % 2 ? 0.1 : 0.9));
    const all = demographicShift(labels, scores, 0.5, [groupIndex(table, 'g')], 0.1);
    expect(all.scenarios.some((s) => s.group === 'b')).toBe(true);
    const sized = demographicShift(labels, scores, 0.5, [groupIndex(table, 'g')], 0.1, 10, 'equal-width', true, 30);
    expect(sized.scenarios.some((s) => s.group === 'b')).toBe(false);
    expect(sized.scenarios.some((s) => s.group === 'a')).toBe(true);
    expect(sized.not_shifted).toEqual(['g = b (2 rows)']);
    expect(sized.conventions).toContain(' Groups under 30 rows (fairness.min_group_size) are not reweighted — a share moved by ±δ would rest on those rows alone: g = b (2 rows).');
  });
});
