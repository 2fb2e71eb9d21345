import { describe, expect, it } from 'vitest';
import { poolJobsSent, poolRunners } from '../../src/api/node-pool';
import { sortPresent } from '../../src/core/base/order';
import { Random } from '../../src/core/base/random';
import { SORT_AHEAD_MIN_VALUES, sortAhead, sortedPresent } from '../../src/core/data/sorted';

describe('sorting large columns ahead on the pool', () => {
  it("gives the drift and the profile the same sorted values as sorting here, each column's sort done once on a thread", async () => {
    const random = new Random(4, 'sort-ahead');
    const n = SORT_AHEAD_MIN_VALUES + 1_000;
    // Missing cells, ±0, ties and a wide range; one column too small to send, one given twice.
    const column = (missing: number) => Float64Array.from({ length: n }, (_, i) => (random.next() < missing ? Number.NaN : i % 50 === 0 ? (i % 100 === 0 ? -0 : 0) : Math.round(random.normal() * 10 ** random.int(6)) / 8));
    const big = [column(0), column(0.05), column(0.9)];
    const small = Float64Array.from({ length: 1_000 }, () => random.normal());
    const want = [...big, small].map((values) => sortPresent(values));
    const before = poolJobsSent();
    await sortAhead([...big, big[0], small], poolRunners(2).sorts);
    // One job per large column (the repeated one once); the small one is left to be sorted where it is read.
    expect(poolJobsSent() - before).toBe(3);
    [...big, small].forEach((values, k) => {
      const got = sortedPresent(values);
      expect(got.length).toBe(want[k].length);
      for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[k][i])) expect([k, i, got[i]]).toEqual([k, i, want[k][i]]);
    });
    // A column already sorted is not sent again.
    await sortAhead(big, poolRunners(2).sorts);
    expect(poolJobsSent() - before).toBe(3);
  });
});
