import { describe, expect, it } from 'vitest';
import { cos, exp, log, log2, powInt, sampleMoments } from '../../src/core/base/math';
import { Random } from '../../src/core/base/random';
import { sortNumbers, sortPresent } from '../../src/core/base/order';

/** Units in the last place between two doubles. */
function ulps(a: number, b: number): number {
  if (a === b) return 0;
  const view = new DataView(new ArrayBuffer(16));
  view.setFloat64(0, a);
  view.setFloat64(8, b);
  return Math.abs(Number(view.getBigInt64(0) - view.getBigInt64(8)));
}

// The engine's own Math functions are the independent reference here: fdlibm's algorithms
// stay within one unit in the last place of the true value, as good implementations do, so
// the two agree within 1 ulp (usually to the bit) over the whole range.
describe('exp, log and cos the same in every engine', () => {
  const random = new Random(7, 'math');
  const samples = (f: () => number) => Array.from({ length: 20_000 }, f);

  it('exp agrees with Math.exp within 1 ulp, with its limits', () => {
    for (const x of [...samples(() => (random.next() - 0.5) * 1400), ...samples(() => (random.next() - 0.5) * 2), 0, -0, 1e-300, 709.7, -745.1]) {
      expect(ulps(exp(x), Math.exp(x)), String(x)).toBeLessThanOrEqual(1);
    }
    expect([exp(710), exp(-746), exp(Number.NaN), exp(Number.POSITIVE_INFINITY), exp(Number.NEGATIVE_INFINITY)]).toEqual([Infinity, 0, NaN, Infinity, 0]);
  });

  it('log and log2 agree with Math.log and Math.log2 within 1 ulp, with their limits', () => {
    for (const x of [...samples(() => random.next() * 1e6), ...samples(() => random.next()), ...samples(() => exp((random.next() - 0.5) * 1400)), 1, 2, 5e-324, 1e308]) {
      expect(ulps(log(x), Math.log(x)), String(x)).toBeLessThanOrEqual(1);
      expect(Math.abs(log2(x) - Math.log2(x))).toBeLessThanOrEqual(4 * Number.EPSILON * Math.max(1, Math.abs(Math.log2(x))));
    }
    expect([log(0), log(-1), log(Number.POSITIVE_INFINITY), log(Number.NaN)]).toEqual([-Infinity, NaN, Infinity, NaN]);
  });

  it('cos agrees with Math.cos on [0, 2π] (Box–Muller) and beyond', () => {
    for (const x of [...samples(() => 2 * Math.PI * random.next()), ...samples(() => (random.next() - 0.5) * 1000), 0, Math.PI / 2, Math.PI]) {
      expect(Math.abs(cos(x) - Math.cos(x)), String(x)).toBeLessThanOrEqual(2 * Number.EPSILON);
    }
  });

  it('powInt is exact for powers of two and agrees with Math.pow elsewhere', () => {
    expect(powInt(0.5, 10)).toBe(2 ** -10);
    for (const [q, n] of [[0.3, 17], [0.99, 1000], [0.5, 0]]) expect(Math.abs(powInt(q, n) - Math.pow(q, n)) / Math.pow(q, n)).toBeLessThan(1e-13);
  });
});

describe('sortNumbers (radix sort of float64 bits)', () => {
  it('orders numbers as the engine’s own TypedArray sort: signs, ±0, ±Infinity, subnormals, ties, every size', () => {
    const random = new Random(9, 'sort-numbers');
    for (const n of [0, 1, 4095, 4096, 10_000, 200_000]) {
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const u = random.next();
        values[i] = u < 0.05 ? 0 : u < 0.1 ? -0 : u < 0.2 ? Math.round(random.normal() * 3) : u < 0.22 ? -Infinity : u < 0.24 ? Infinity : u < 0.26 ? random.normal() * 1e-310 : random.normal() * 10 ** (random.int(40) - 20);
      }
      const want = values.slice().sort();
      const got = sortNumbers(values.slice());
      expect(got.length).toBe(n);
      for (let i = 0; i < n; i++) if (!Object.is(got[i], want[i])) expect([i, got[i]]).toEqual([i, want[i]]);
      // sortPresent: the same with NaN (missing) cells among them, left out; the input untouched.
      const withMissing = Float64Array.from(values, (v, i) => (i % 7 === 3 ? Number.NaN : v));
      const before = withMissing.slice();
      const present = sortPresent(withMissing);
      const wantPresent = withMissing.filter((v) => !Number.isNaN(v)).sort();
      expect(present.length).toBe(wantPresent.length);
      for (let i = 0; i < present.length; i++) if (!Object.is(present[i], wantPresent[i])) expect([i, present[i]]).toEqual([i, wantPresent[i]]);
      for (let i = 0; i < n; i++) if (!Object.is(withMissing[i], before[i])) expect([i, withMissing[i]]).toEqual([i, before[i]]);
    }
  });
});

describe('sampleMoments', () => {
  it('gives the mean and the n − 1 standard deviation of the values that are not NaN, as the pairwise-difference identity does', () => {
    const random = new Random(5, 'moments');
    const values = Float64Array.from({ length: 400 }, (_, i) => (i % 17 === 0 ? Number.NaN : 1e3 + 50 * random.normal()));
    const present = Array.from(values).filter((v) => !Number.isNaN(v));
    // Independent of the two passes: var = Σ_{i<j} (x_i − x_j)² / (n(n − 1)), mean by a reversed sum.
    let pairs = 0;
    for (let i = 0; i < present.length; i++) for (let j = i + 1; j < present.length; j++) pairs += (present[i] - present[j]) ** 2;
    const n = present.length;
    const moments = sampleMoments(values);
    expect(moments.count).toBe(n);
    expect(moments.mean).toBeCloseTo([...present].reverse().reduce((a, b) => a + b, 0) / n, 9);
    expect(Math.abs(moments.sd - Math.sqrt(pairs / (n * (n - 1)))) / moments.sd).toBeLessThan(1e-12);
  });

  it('gives a mean of 0 with no values and a standard deviation of 0 with fewer than two', () => {
    expect(sampleMoments(new Float64Array(0))).toEqual({ count: 0, mean: 0, sd: 0 });
    expect(sampleMoments(Float64Array.of(Number.NaN, 4, Number.NaN))).toEqual({ count: 1, mean: 4, sd: 0 });
  });
});
