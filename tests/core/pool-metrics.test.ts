/**
 * The audit's metrics on a thread of the pool (src/core/pool/metrics.ts) are the metrics this
 * thread computes, to the bit, and a refusal reads the same; and the pool's spread leaves a
 * thread busy with another caller's job alone, so no task waits in its queue
 * (src/core/pool/scheduler.ts).
 */
import { describe, expect, it } from 'vitest';
import { poolJobsSent, poolRunners } from '../../src/api/node-pool';
import { auditScores, type MetricsRequest } from '../../src/core/audit/metrics';
import type { AuditSettings } from '../../src/core/audit/result';
import { Random } from '../../src/core/base/random';
import type { Table } from '../../src/core/data/table';
import { METRICS_AHEAD_MIN_ROWS } from '../../src/core/pool/metrics';
import { answerJob, neighboursOverPool, onnxScoresOverPool, PoolThreadState, WorkerPool, type PoolJob, type PoolThread } from '../../src/core/pool';
import * as ort from 'onnxruntime-web';
import { readFileSync } from 'node:fs';
import { openModel } from '../../src/core/model/classifier';
import { parseCsv } from '../../src/core/data/csv';
import { AuditConfigError } from '../../src/core/base/errors';
import { fixture, fixtureBytes } from '../support/fixtures';
import { neighbourGaps } from '../../src/core/analyses/robustness/neighbours';

/** A table of `rows` rows with its labels and scores: two categorical attributes (one with missing cells), a many-valued numeric slice column, other columns the metrics do not read. */
function audited(rows: number): { table: Table; labels: Uint8Array; scores: Float64Array } {
  const random = new Random(27, 'pool-metrics');
  const race = Int32Array.from({ length: rows }, () => (random.next() < 0.02 ? -1 : random.int(4)));
  const sex = Int32Array.from({ length: rows }, () => random.int(2));
  const labels = Uint8Array.from({ length: rows }, (_, i) => (random.next() < 0.25 + 0.1 * sex[i] ? 1 : 0));
  // Scores with ties (rounded) and a few NaN-free extremes, related to the label.
  const scores = Float64Array.from(labels, (y) => Math.min(1, Math.max(0, Math.round((0.35 + 0.2 * y + 0.2 * random.normal()) * 200) / 200)));
  const columns: Table['columns'] = [
    { kind: 'categorical', name: 'race', codes: race, dictionary: ['a', 'b', 'c', 'd'], missing: race.filter((c) => c < 0).length },
    { kind: 'categorical', name: 'sex', codes: sex, dictionary: ['f', 'm'], missing: 0 },
    { kind: 'numeric', name: 'age', values: Float64Array.from({ length: rows }, () => 18 + random.int(60) + random.next()), missing: 0 },
    { kind: 'numeric', name: 'unread', values: Float64Array.from({ length: rows }, () => random.normal()), missing: 0 },
  ];
  return { table: { source: 'm.csv', rowCount: rows, columns }, labels, scores };
}

const settings = (overrides: Partial<AuditSettings> = {}): AuditSettings => ({
  target: 'y',
  positive_label: '1',
  positive_label_convention: 'the label 1',
  protected_attributes: ['race', 'sex'],
  features: null,
  threshold_policy: { policy: 'youden' },
  scores_are_probabilities: true,
  seed: 7,
  test_sample_size: null,
  confidence: 0.95,
  bootstrap_resamples: 200,
  calibration_bins: 10,
  calibration_binning: 'equal-frequency',
  min_group_size: 30,
  power_difference: 0.05,
  intersections: [['race', 'sex']],
  slices: ['race', 'age'],
  reference_groups: { sex: 'm' },
  ll144: { sex: 'sex', race_ethnicity: 'race', rate: 'selection' },
  ...overrides,
});

describe('the audit\'s metrics on a thread of the pool', () => {
  it('are the metrics this thread computes, to the bit: bootstrap intervals, intersections, a binned slice, LL144 and a threshold fitted on validation rows', async () => {
    const runner = poolRunners(2).metrics!;
    const { table, labels, scores } = audited(METRICS_AHEAD_MIN_ROWS + 3_001);
    const validation = audited(2_000);
    const request: MetricsRequest = { table, labels, scores, settings: settings(), fit: { labels: validation.labels, scores: validation.scores, source: 'validation.csv' } };
    const before = poolJobsSent();
    const there = await runner(request)!;
    expect(poolJobsSent() - before).toBe(1);
    const here = auditScores(table, labels, scores, request.settings, request.fit);
    expect(here.threshold_selection).toMatchObject({ chosen_on: 'validation.csv', held_out: true });
    expect(Object.keys(here.slices.age.slices).length).toBeGreaterThan(2);
    expect(there).toEqual(here);
    // Without a fit (the threshold chosen on the rows themselves), and a fixed threshold.
    const fixed = { ...request, settings: settings({ threshold_policy: { policy: 'fixed', threshold: 0.5 } }), fit: undefined };
    expect(await runner(fixed)!).toEqual(auditScores(table, labels, scores, fixed.settings));
  }, 60_000);

  it('are refused in the words this thread refuses them with', async () => {
    const runner = poolRunners(2).metrics!;
    const { table, labels, scores } = audited(METRICS_AHEAD_MIN_ROWS);
    const wrong = settings({ reference_groups: { sex: 'x' } });
    let local: unknown;
    try {
      auditScores(table, labels, scores, wrong);
    } catch (error) {
      local = error;
    }
    expect(local).toBeInstanceOf(Error);
    await expect(runner({ table, labels, scores, settings: wrong })!).rejects.toThrow((local as Error).message);
    await expect(runner({ table, labels, scores, settings: wrong })!).rejects.toHaveProperty('name', (local as Error).name);
  }, 60_000);

  it('are left to this thread for a small table, one thread, or a column the settings name that the table lacks', () => {
    const small = audited(METRICS_AHEAD_MIN_ROWS - 1);
    expect(poolRunners(2).metrics!({ ...small, settings: settings() })).toBeNull();
    expect(poolRunners(1).metrics).toBeUndefined();
    const large = audited(METRICS_AHEAD_MIN_ROWS);
    expect(poolRunners(2).metrics!({ ...large, settings: settings({ slices: ['race', 'agee'] }) })).toBeNull();
  });
});

/** A thread in this process: `handle` answers each message posted (by calling `reply`); nothing to end. */
function inProcessThread(handle: (message: unknown, reply: (answer: unknown) => void) => void): PoolThread {
  const listeners: ((data: unknown) => void)[] = [];
  return {
    post: (message) => handle(message, (answer) => [...listeners].forEach((listener) => listener(answer))),
    listen: (onMessage) => {
      listeners.push(onMessage);
      return () => listeners.splice(listeners.indexOf(onMessage), 1);
    },
    terminate: () => {},
  };
}

/** A thread in this process: jobs run one after another, each taking `job.ms` ms, answered with the thread's index. */
function timedThread(index: number, log: string[]): PoolThread {
  let queue = Promise.resolve();
  return inProcessThread((message, reply) => {
    const { id, job } = message as { id: number; job: { name: string; ms: number } };
    queue = queue.then(
      () =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            log.push(`${job.name}@${index}`);
            reply({ id, ok: true, value: index });
            resolve();
          }, job.ms),
        ),
    );
  });
}

describe('the pool spreading tasks beside another caller’s job', () => {
  it('gives no task to a thread busy with another job; the spread ends without waiting for that job', async () => {
    const log: string[] = [];
    const pool = new WorkerPool((index) => timedThread(index, log));
    const [first, second] = pool.threads(2);
    expect(pool.quietest(2)).toBe(second);
    const long = pool.run<number>(second.thread, { kind: 'long', name: 'long', ms: 400 });
    // The thread with fewer jobs in flight is now the first.
    expect(pool.quietest(2)).toBe(first);
    const ran = await pool.spread(2, 6, (member, i) => pool.run<number>(member.thread, { kind: 'task', name: `task${i}`, ms: 10 }));
    expect(ran).toEqual([0, 0, 0, 0, 0, 0]);
    expect(log).toEqual(['task0@0', 'task1@0', 'task2@0', 'task3@0', 'task4@0', 'task5@0']);
    expect(await long).toBe(1);
  });

  it('lets a busy thread take the tasks left once its job is done', async () => {
    const log: string[] = [];
    const pool = new WorkerPool((index) => timedThread(index, log));
    const [, second] = pool.threads(2);
    void pool.run(second.thread, { kind: 'short', name: 'short', ms: 30 });
    // Tasks of 20 ms: the first thread takes two before the second is free, then both take them.
    const ran = await pool.spread(2, 8, (member, i) => pool.run<number>(member.thread, { kind: 'task', name: `task${i}`, ms: 20 }));
    expect(log[0]).toBe('task0@0');
    expect(log).toContain('short@1');
    expect(log.indexOf('short@1')).toBeLessThan(log.findIndex((entry) => entry.endsWith('@1') && entry.startsWith('task')));
    expect(ran.filter((thread) => thread === 1).length).toBeGreaterThan(0);
    expect(ran.filter((thread) => thread === 0).length).toBeGreaterThan(0);
  });

  it('frees a thread whose job could not be sent: the next spread uses it', async () => {
    const log: string[] = [];
    let refuse = true;
    const pool = new WorkerPool((index) => {
      const thread = timedThread(index, log);
      return {
        ...thread,
        post: (message, transfer) => {
          if (refuse && index === 1) throw new Error('DataCloneError: could not be cloned');
          thread.post(message, transfer);
        },
      };
    });
    const [, second] = pool.threads(2);
    await expect(pool.run(second.thread, { kind: 'task', name: 'refused', ms: 1 })).rejects.toThrow('DataCloneError: could not be cloned');
    refuse = false;
    const ran = await pool.spread(2, 4, (member, i) => pool.run<number>(member.thread, { kind: 'task', name: `task${i}`, ms: 20 }));
    expect(ran).toContain(1);
  });

  it('ends a spread waiting on busy threads when the pool is stopped (no task goes to an ended thread)', async () => {
    const log: string[] = [];
    const pool = new WorkerPool((index) => timedThread(index, log));
    const [first, second] = pool.threads(2);
    const foreign = [pool.run(first.thread, { kind: 'long', name: 'a', ms: 300 }), pool.run(second.thread, { kind: 'long', name: 'b', ms: 300 })];
    for (const job of foreign) job.catch(() => {});
    const spread = pool.spread(2, 4, (member, i) => pool.run<number>(member.thread, { kind: 'task', name: `task${i}`, ms: 10 }));
    pool.stop();
    await expect(spread).rejects.toThrow('The worker pool was stopped');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(log.filter((entry) => entry.startsWith('task'))).toEqual([]);
  });
});

/** A thread in this process running the core's own jobs (the message and answer copied, as a worker's would be). */
function coreThread(): PoolThread {
  const state = new PoolThreadState(() => Promise.reject(new Error('no onnxruntime here')));
  return inProcessThread((message, reply) => {
    const copy = structuredClone(message) as { id: number; job: PoolJob };
    setTimeout(() => void answerJob(copy, (job) => state.work(job), (answer) => reply(structuredClone(answer))), 0);
  });
}

describe('ONNX scoring over the pool', () => {
  it('names the file\'s row of a cell a pool thread refuses, not the row within its block', async () => {
    const state = new PoolThreadState(async () => ort);
    const pool = new WorkerPool(() => inProcessThread((message, reply) => {
      const copy = structuredClone(message) as { id: number; job: PoolJob };
      setTimeout(() => void answerJob(copy, (job) => state.work(job), (answer) => reply(structuredClone(answer))), 0);
    }));
    const model = await openModel(ort, fixtureBytes('german_credit/logreg_zipmap.onnx'), 'logreg_zipmap.onnx', { onnxScores: onnxScoresOverPool(pool, 2), onnxPoolWorthMs: 0 });
    // The german test rows repeated to 60,000 (the pool takes 50,000 or more); data row 30,001 has no duration (an int64 input without missing-value handling).
    const [header, ...rows] = readFileSync(fixture('german_credit/test.csv'), 'utf8').trim().split('\n');
    const lines = Array.from({ length: 60_000 }, (_, i) => (i === 30_000 ? rows[i % rows.length].replace(/^\d+/, '') : rows[i % rows.length]));
    const table = parseCsv(`${header}\n${lines.join('\n')}\n`, { fileName: 'big.csv' });
    try {
      await expect(model.score(table)).rejects.toThrow(new AuditConfigError('big.csv, row 30001, column "duration_months": the value is missing, but the model\'s input takes whole numbers (int64) and has no missing-value handling. Impute or drop such rows first.'));
    } finally {
      await model.release();
      pool.stop();
    }
  });
});

describe('the neighbour search over the pool', () => {
  it('starts no more threads than it is given, and gives the one-thread values', async () => {
    let started = 0;
    const pool = new WorkerPool(() => (started++, coreThread()));
    const random = new Random(3, 'pool-neighbours');
    const points = 20_000;
    const queries = 120;
    const dims = 12;
    const job = {
      points: Float64Array.from({ length: (points + queries) * dims }, () => random.normal()),
      pool: points,
      dims,
      k: 10,
      exclude: Int32Array.from({ length: queries }, (_, q) => (q % 3 === 0 ? q : -1)),
      scores: Float64Array.from({ length: points + queries }, () => random.next()),
    };
    const gaps = await neighboursOverPool(pool, 2)(job);
    expect(started).toBe(2);
    expect(gaps).toEqual(neighbourGaps({ ...job, from: 0, to: queries }));
  }, 60_000);

  it('sends a thread the points with its first slice only; a later search sends its own', async () => {
    const posted: { thread: number; job: PoolJob }[] = [];
    const pool = new WorkerPool((index) => {
      const thread = coreThread();
      return { ...thread, post: (message, transfer) => (posted.push({ thread: index, job: (message as { job: PoolJob }).job }), thread.post(message, transfer)) };
    });
    const random = new Random(4, 'pool-neighbours-sent');
    const search = (points: number, queries: number, dims: number) => ({
      points: Float64Array.from({ length: (points + queries) * dims }, () => random.normal()),
      pool: points,
      dims,
      k: 5,
      exclude: Int32Array.from({ length: queries }, (_, q) => (q % 4 === 0 ? q : -1)),
      scores: Float64Array.from({ length: points + queries }, () => random.next()),
    });
    const runner = neighboursOverPool(pool, 2);
    for (const job of [search(20_000, 200, 6), search(15_000, 300, 7)]) {
      posted.length = 0;
      expect(await runner(job)).toEqual(neighbourGaps({ ...job, from: 0, to: job.exclude.length }));
      const slices = posted.map((entry) => entry.job).filter((sent) => sent.kind === 'neighbours');
      expect(slices).toHaveLength(4);
      // Each thread is sent the points once, with the first of its slices.
      const carried = posted.filter((entry) => entry.job.kind === 'neighbours' && entry.job.search);
      expect(carried.map((entry) => entry.thread).sort()).toEqual([0, 1]);
      for (const thread of [0, 1]) expect(posted.find((entry) => entry.thread === thread)?.job).toHaveProperty('search');
      // …and told to let it go once every slice is answered (each kept its memory for the pool's life).
      expect(posted.filter((entry) => entry.job.kind === 'forget-search').map((entry) => entry.thread).sort()).toEqual([0, 1]);
    }
    pool.stop();
  }, 60_000);
});

describe('a pool thread\'s neighbour searches', () => {
  it('are kept for the slices that follow, and let go when told', async () => {
    const state = new PoolThreadState(() => Promise.reject(new Error('no onnxruntime here')));
    const random = new Random(5, 'pool-neighbours-forget');
    const search = { points: Float64Array.from({ length: 60 * 3 }, () => random.normal()), pool: 50, dims: 3, k: 3, exclude: new Int32Array(10).fill(-1), scores: Float64Array.from({ length: 60 }, () => random.next()) };
    await state.work({ kind: 'neighbours', searchId: 7, search, from: 0, to: 5 });
    expect(state.searches.has(7)).toBe(true);
    await state.work({ kind: 'neighbours', searchId: 7, from: 5, to: 10 });
    await state.work({ kind: 'forget-search', searchId: 7 });
    expect(state.searches.size).toBe(0);
    await expect(state.work({ kind: 'neighbours', searchId: 7, from: 0, to: 5 })).rejects.toThrow('pool worker: neighbour search 7 was never sent');
  });
});
