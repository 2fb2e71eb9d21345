/**
 * The Node hosts' thread pool (src/api/node-pool.ts over src/core/pool): an audit gives the
 * same bytes on 1, 2 and 4 threads — tree scoring (the project's kernel) and TreeSHAP of an
 * XGBoost model, ONNX scoring and interventional TreeSHAP of the same trees as ONNX, and
 * `plumbline explain` by TreeSHAP and by KernelSHAP — and the work did go to the threads
 * (the pool counts the jobs it sends), the recourse search of the ONNX trees included.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { poolJobsSent } from '../../src/api/node-pool';
import { toOnnx, toXgboostJson } from '../../src/core/model/export';
import { syntheticAudit, syntheticEnsemble } from '../../bench/synthetic';
import { runCli } from '../support/cli-in-process';

/** 60,000 rows (above the 50,000 from which a table is scored over the pool) and a 60-tree model of depth 5 as XGBoost JSON and ONNX. */
function files(): string {
  const dir = mkdtempSync(join(tmpdir(), 'plumbline-threads-'));
  const rows = 60_000;
  const { table, labels } = syntheticAudit(rows, 7, 6);
  const names = table.columns.map((c) => c.name);
  const lines = [[...names, 'target'].join(',')];
  for (let i = 0; i < rows; i++) {
    const cells = table.columns.map((c) => (c.kind === 'numeric' ? (Number.isNaN(c.values[i]) ? '' : String(c.values[i])) : c.kind === 'categorical' ? c.dictionary[c.codes[i]] : ''));
    lines.push([...cells, labels[i]].join(','));
  }
  writeFileSync(join(dir, 'data.csv'), `${lines.join('\n')}\n`);
  const ensemble = syntheticEnsemble(60, 5, 6, 3);
  writeFileSync(join(dir, 'model.json'), toXgboostJson(ensemble));
  writeFileSync(join(dir, 'model.onnx'), toOnnx(ensemble));
  return dir;
}

const dir = files();

async function audit(model: string, threads: number): Promise<{ result: string; jobs: number; recourseJobs: number }> {
  const before = poolJobsSent();
  const recourseBefore = poolJobsSent('recourse');
  const run = await runCli(['audit', '--model', model, '--data', 'data.csv', '--target', 'target', '--protected', 'race,sex', '--features', 'x0,x1,x2,x3,x4,x5', '--threads', String(threads), '--output', `${model}-${threads}/result.json`], { cwd: dir, env: { SOURCE_DATE_EPOCH: '1790000000' } });
  expect(run.stderr).not.toContain('not run');
  expect(run.code).toBe(0);
  return { result: readFileSync(join(dir, `${model}-${threads}/result.json`), 'utf8'), jobs: poolJobsSent() - before, recourseJobs: poolJobsSent('recourse') - recourseBefore };
}

describe('an audit on 1, 2 and 4 threads', () => {
  for (const model of ['model.json', 'model.onnx']) {
    it(`gives the same result to the byte (${model}), the work done by the pool's threads`, async () => {
      const one = await audit(model, 1);
      expect(one.jobs).toBe(0);
      const parsed = JSON.parse(one.result) as { explanations?: { method?: string } };
      expect(parsed.explanations?.method).toBe('tree (interventional)');
      for (const threads of [2, 4]) {
        const many = await audit(model, threads);
        expect(many.jobs).toBeGreaterThan(threads);
        // The recourse search in slices on the threads, the ONNX trees opened there again as the kernel scores them.
        expect(many.recourseJobs).toBeGreaterThanOrEqual(threads);
        expect(many.result === one.result).toBe(true);
      }
    }, 240_000);
  }

  it('explains with the same values to the bit (plumbline explain, path-dependent TreeSHAP)', async () => {
    const explain = async (threads: number) => {
      const before = poolJobsSent();
      const run = await runCli(['explain', '--model', 'model.json', '--data', 'data.csv', '--features', 'x0,x1,x2,x3,x4,x5', '--method', 'tree-path', '--rows', '2000', '--threads', String(threads)], { cwd: dir });
      expect(run.code).toBe(0);
      return { out: run.stdout, jobs: poolJobsSent() - before };
    };
    const one = await explain(1);
    expect(one.jobs).toBe(0);
    expect((JSON.parse(one.out) as { values: number[][] }).values).toHaveLength(2000);
    const two = await explain(2);
    // 60 trees: two slices of at most 32, one job each.
    expect(two.jobs).toBe(2);
    expect(two.out === one.out).toBe(true);
  }, 120_000);

  it('explains with the same values to the bit (plumbline explain, exact KernelSHAP: the coalitions scored on the pool)', async () => {
    const explain = async (threads: number) => {
      const before = poolJobsSent();
      // 6 columns, 100 background rows: 6,400 coalition rows per row, 40 rows per model call
      // (256,000 and then 128,000 coalition rows, both scored over the pool on 2 threads).
      const run = await runCli(['explain', '--model', 'model.json', '--data', 'data.csv', '--features', 'x0,x1,x2,x3,x4,x5', '--method', 'kernel', '--rows', '60', '--threads', String(threads)], { cwd: dir });
      expect(run.code).toBe(0);
      return { out: run.stdout, jobs: poolJobsSent() - before };
    };
    const one = await explain(1);
    expect(one.jobs).toBe(0);
    const parsed = JSON.parse(one.out) as { method: string; values: number[][] };
    expect(parsed.method).toBe('kernel (exact)');
    expect(parsed.values).toHaveLength(60);
    const two = await explain(2);
    expect(two.jobs).toBeGreaterThan(1);
    expect(two.out === one.out).toBe(true);
  }, 120_000);

  it('uses every core by default (PLUMBLINE_THREADS unset), with the same result', async () => {
    const kept = process.env.PLUMBLINE_THREADS;
    delete process.env.PLUMBLINE_THREADS;
    try {
      const before = poolJobsSent();
      const run = await runCli(['audit', '--model', 'model.json', '--data', 'data.csv', '--target', 'target', '--protected', 'race,sex', '--features', 'x0,x1,x2,x3,x4,x5', '--output', 'default/result.json'], { cwd: dir, env: { SOURCE_DATE_EPOCH: '1790000000' } });
      expect(run.code).toBe(0);
      // On one core the default is one thread, and nothing goes to a pool.
      expect(poolJobsSent() - before > 0).toBe(availableParallelism() > 1);
      expect(readFileSync(join(dir, 'default/result.json'), 'utf8') === readFileSync(join(dir, 'model.json-1/result.json'), 'utf8')).toBe(true);
    } finally {
      if (kept !== undefined) process.env.PLUMBLINE_THREADS = kept;
    }
  }, 120_000);

  it('refuses a thread count it cannot use, naming the flag, the value and the range', async () => {
    const run = await runCli(['audit', '--model', 'model.json', '--data', 'data.csv', '--target', 'target', '--protected', 'sex', '--threads', '0'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('plumbline: --threads must be a whole number from 1 to 64, got 0.\n');
    const explain = await runCli(['explain', '--model', 'model.json', '--data', 'data.csv', '--threads', '65'], { cwd: dir });
    expect(explain.code).toBe(2);
    expect(explain.stderr).toBe('plumbline: --threads must be a whole number from 1 to 64, got 65.\n');
    const explainEnvironment = await runCli(['explain', '--model', 'model.json', '--data', 'data.csv'], { cwd: dir, env: { PLUMBLINE_THREADS: '0' } });
    expect(explainEnvironment.code).toBe(2);
    expect(explainEnvironment.stderr).toBe('plumbline: the environment variable PLUMBLINE_THREADS must be a whole number from 1 to 64, got "0". Set it so, or unset it to use every core.\n');
    const environment = await runCli(['audit', '--model', 'model.json', '--data', 'data.csv', '--target', 'target', '--protected', 'sex'], { cwd: dir, env: { PLUMBLINE_THREADS: 'all' } });
    expect(environment.code).toBe(2);
    expect(environment.stderr).toBe('plumbline: the environment variable PLUMBLINE_THREADS must be a whole number from 1 to 64, got "all". Set it so, or unset it to use every core.\n');
  });
});
