/**
 * The data profile on a thread of the pool (src/core/pool/profile.ts) gives the profile this
 * thread gives, to the bit; and the pool's spread leaves a thread busy with another caller's
 * job alone, so no task waits in its queue (src/core/pool/scheduler.ts).
 */
import { describe, expect, it } from 'vitest';
import { poolJobsSent, poolRunners } from '../../src/api/node-pool';
import { profileTable } from '../../src/core/analyses/profile/profile';
import { Random } from '../../src/core/base/random';
import { sortedPresent } from '../../src/core/data/sorted';
import type { Table } from '../../src/core/data/table';
import { PROFILE_AHEAD_MIN_ROWS } from '../../src/core/pool/profile';
import { WorkerPool, type PoolThread } from '../../src/core/pool';

/** A table of `rows` rows: numbers with missing cells, −0 and repeats; categories with missing cells; a target; repeated rows. */
function table(rows: number): { table: Table; labels: Uint8Array } {
  const random = new Random(27, 'pool-profile');
  const numeric = (name: string, draw: () => number) => ({ kind: 'numeric' as const, name, values: Float64Array.from({ length: rows }, draw), missing: 0 });
  const columns = [
    numeric('income', () => (random.next() < 0.05 ? Number.NaN : Math.round(random.normal() * 1000) / 10)),
    numeric('score', () => (random.next() < 0.1 ? -0 : random.next() < 0.1 ? 0 : random.normal())),
    numeric('age', () => 18 + random.int(60)),
    numeric('flag', () => random.int(2)),
    { kind: 'categorical' as const, name: 'race', codes: Int32Array.from({ length: rows }, () => (random.next() < 0.02 ? -1 : random.int(4))), dictionary: ['a', 'b', 'c', 'd'], missing: 0 },
    { kind: 'categorical' as const, name: 'sex', codes: Int32Array.from({ length: rows }, () => random.int(2)), dictionary: ['f', 'm'], missing: 0 },
    numeric('y', () => (random.next() < 0.3 ? 1 : 0)),
  ];
  for (const column of columns) column.missing = column.kind === 'numeric' ? column.values.filter(Number.isNaN).length : column.codes.filter((c) => c < 0).length;
  // Every 97th row repeats the row before it.
  for (let i = 97; i < rows; i += 97) for (const column of columns) if (column.kind === 'numeric') column.values[i] = column.values[i - 1];
  for (let i = 97; i < rows; i += 97) for (const column of columns) if (column.kind === 'categorical') column.codes[i] = column.codes[i - 1];
  const y = columns[columns.length - 1] as { values: Float64Array };
  return { table: { source: 'p.csv', rowCount: rows, columns }, labels: Uint8Array.from(y.values) };
}

describe('the data profile on a thread of the pool', () => {
  it('is the profile this thread computes, to the bit, with or without the columns sorted ahead', async () => {
    const runner = poolRunners(2).profile!;
    const { table: data, labels } = table(PROFILE_AHEAD_MIN_ROWS + 3_001);
    const request = { table: data, target: 'y', labels, protectedAttributes: ['race', 'sex'], memoryBytes: 2 ** 31 };
    const before = poolJobsSent();
    const unsorted = await runner(request);
    expect(poolJobsSent() - before).toBe(1);
    // Two columns sorted here first: their sorts go to the thread with the table.
    for (const name of ['income', 'score']) sortedPresent((data.columns.find((c) => c.name === name) as { values: Float64Array }).values);
    const sortedAhead = await runner(request);
    const here = profileTable(data, 'y', labels, ['race', 'sex']);
    expect(here.duplicate_rows).toBeGreaterThan(0);
    expect(unsorted).toEqual(here);
    expect(sortedAhead).toEqual(here);
    // The inputs here are untouched (the thread was sent copies).
    expect(labels.length).toBe(data.rowCount);
  }, 60_000);

  it('is left to this thread for a small table, one thread, or a copy over the memory allowed', () => {
    const { table: small, labels } = table(PROFILE_AHEAD_MIN_ROWS - 1);
    const request = { table: small, target: 'y', labels, protectedAttributes: ['race'], memoryBytes: 2 ** 31 };
    expect(poolRunners(2).profile!(request)).toBeNull();
    expect(poolRunners(1).profile).toBeUndefined();
    const large = table(PROFILE_AHEAD_MIN_ROWS);
    expect(poolRunners(2).profile!({ ...request, table: large.table, labels: large.labels, memoryBytes: 1 << 20 })).toBeNull();
  });
});

/** A thread in this process: jobs run one after another, each taking `job.ms` ms, answered with the thread's index. */
function timedThread(index: number, log: string[]): PoolThread {
  const listeners: ((data: unknown) => void)[] = [];
  let queue = Promise.resolve();
  return {
    post: (message) => {
      const { id, job } = message as { id: number; job: { name: string; ms: number } };
      queue = queue.then(
        () =>
          new Promise<void>((resolve) =>
            setTimeout(() => {
              log.push(`${job.name}@${index}`);
              for (const listener of [...listeners]) listener({ id, ok: true, value: index });
              resolve();
            }, job.ms),
          ),
      );
    },
    listen: (onMessage) => {
      listeners.push(onMessage);
      return () => listeners.splice(listeners.indexOf(onMessage), 1);
    },
    terminate: () => {},
  };
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
});
