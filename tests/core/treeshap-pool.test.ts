/**
 * TreeSHAP over the Node hosts' thread pool (treeShapOverPool): each thread is sent the
 * ensemble once, keeps it, and cuts the slices it is given from it. The values must be the
 * one-thread job's to the bit, call after call, for both algorithms and for two ensembles in
 * turn (a thread holding one must not explain with the other).
 */
import { describe, expect, it } from 'vitest';
import { poolJobsSent, poolRunners } from '../../src/api/node-pool';
import { runTreeShapJob, type TreeShapJob } from '../../src/core/analyses/explain/treeshap/jobs';
import type { ShapValues } from '../../src/core/analyses/explain/treeshap';
import { Random } from '../../src/core/base/random';
import { syntheticEnsemble } from '../../bench/synthetic';

function rowsOf(count: number, width: number, seed: number): Float64Array[] {
  const random = new Random(seed, 'pool-shap-rows');
  return Array.from({ length: count }, () => Float64Array.from({ length: width }, () => (random.next() < 0.1 ? Number.NaN : random.normal())));
}

/** The values, outputs and expected value as one string of exact numbers. */
const bits = (shap: ShapValues) => JSON.stringify({ e: shap.expectedValue, o: Array.from(shap.outputs), v: shap.values.map((phi) => Array.from(phi)), err: shap.localAccuracyError });

describe('TreeSHAP over the thread pool', () => {
  it('gives the one-thread values to the bit, sending each thread an ensemble once, for two ensembles in turn', async () => {
    const runner = poolRunners(2).treeShap!;
    const a = syntheticEnsemble(100, 6, 8, 71);
    const b = syntheticEnsemble(70, 5, 8, 72);
    const rows = rowsOf(200, 8, 1);
    const background = rowsOf(60, 8, 2);
    const jobs: TreeShapJob[] = [
      { kind: 'interventional', ensemble: a, rows, background },
      { kind: 'path', ensemble: a, rows },
      { kind: 'interventional', ensemble: b, rows, background },
      { kind: 'interventional', ensemble: a, rows, background, groups: { groupOf: Int32Array.from([0, 0, 1, 1, 2, 3, 3, 3]), columns: ['p', 'q', 'r', 's'] } },
      { kind: 'interventional', ensemble: a, rows, background },
    ];
    for (const job of jobs) {
      const before = poolJobsSent();
      const pooled = await runner(job);
      expect(poolJobsSent() - before).toBeGreaterThan(1);
      expect(bits(pooled)).toBe(bits(runTreeShapJob(job)));
    }
  });

  it('gives each of three ensembles explained at once its own values (threads keep two ensembles, the third is sent again)', async () => {
    const runner = poolRunners(2).treeShap!;
    const rows = rowsOf(150, 8, 3);
    const background = rowsOf(40, 8, 4);
    const jobs: TreeShapJob[] = [73, 74, 75].map((seed) => ({ kind: 'interventional', ensemble: syntheticEnsemble(64, 5, 8, seed), rows, background }));
    for (let round = 0; round < 2; round++) {
      const pooled = await Promise.all(jobs.map((job) => runner(job)));
      pooled.forEach((shap, i) => expect(bits(shap)).toBe(bits(runTreeShapJob(jobs[i]))));
    }
  });
});
