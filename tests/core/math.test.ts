import { describe, expect, it } from 'vitest';
import { cos, exp, log, log2, powInt, sampleMoments } from '../../src/core/base/math';
import { Random } from '../../src/core/base/random';
import { ascendingOrder, rocAuc, sortNumbers, sortPresent } from '../../src/core/base/order';
import { rankMetricsByGroup, sortScores } from '../../src/core/base/ranks';

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
      // In place (a pool thread's copy): the same values, over the copy's first cells.
      const copy = withMissing.slice();
      const inPlace = sortPresent(copy, true);
      expect(inPlace.buffer).toBe(copy.buffer);
      expect(inPlace.length).toBe(wantPresent.length);
      for (let i = 0; i < inPlace.length; i++) if (!Object.is(inPlace[i], wantPresent[i])) expect([i, inPlace[i]]).toEqual([i, wantPresent[i]]);
    }
  });
});

describe('ascendingOrder (radix sort with its working arrays kept)', () => {
  it('gives the stable order of a comparator sort, for sizes in turn larger and smaller than the last (the kept arrays reused) and for chosen rows', () => {
    const random = new Random(11, 'ascending-order');
    // By value, −0 before +0, as the engine's sort orders numbers; ties are left to the caller.
    const byValue = (values: Float64Array) => (a: number, b: number) => values[a] - values[b] || (Object.is(values[a], -0) ? 0 : 1) - (Object.is(values[b], -0) ? 0 : 1);
    for (const n of [200_000, 10, 50_000, 0, 1, 300_000, 4_097, 120_000]) {
      const values = new Float64Array(n);
      // Few distinct values (ties, passes skipped where every key has the same digit), signs and ±0.
      const kind = n % 3;
      for (let i = 0; i < n; i++) values[i] = kind === 0 ? random.int(5) - 2 : kind === 1 ? (random.next() < 0.1 ? -0 : random.normal()) : Math.round(random.normal() * 100) / 8;
      const want = Array.from({ length: n }, (_, i) => i).sort((a, b) => byValue(values)(a, b) || a - b);
      const got = ascendingOrder(values);
      expect(got.length).toBe(n);
      for (let i = 0; i < n; i++) if (got[i] !== want[i]) expect([i, got[i]]).toEqual([i, want[i]]);
      // Chosen rows: their indices, in the order of their values, ties in the given order.
      const rows = Uint32Array.from({ length: Math.floor(n / 3) }, (_, k) => (k * 7919) % Math.max(n, 1));
      const position = new Map(Array.from(rows, (row, k) => [row, k]));
      const wantRows = Array.from(rows).sort((a, b) => byValue(values)(a, b) || position.get(a)! - position.get(b)!);
      const gotRows = ascendingOrder(values, rows);
      for (let i = 0; i < rows.length; i++) if (gotRows[i] !== wantRows[i]) expect([i, gotRows[i]]).toEqual([i, wantRows[i]]);
    }
    // Every value the same: no pass moves a key, and the order is 0…n−1.
    expect(Array.from(ascendingOrder(new Float64Array(5_000).fill(0.25)).subarray(0, 4))).toEqual([0, 1, 2, 3]);
  });
});

describe('rocAuc (one group, in the sort\'s working arrays)', () => {
  it('gives rankMetricsByGroup\'s AUC to the bit: ties, ±0, −Infinity and NaN scores (each NaN a tie block of its own), either class absent, sizes in turn', () => {
    const random = new Random(12, 'roc-auc');
    for (const n of [50_000, 7, 200_000, 4_096, 1, 0, 30_000]) {
      const scores = new Float64Array(n);
      const labels = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const u = random.next();
        scores[i] = u < 0.05 ? -0 : u < 0.1 ? 0 : u < 0.12 ? Number.NEGATIVE_INFINITY : u < 0.13 ? Number.NaN : u < 0.5 ? random.int(20) / 4 : random.normal();
        labels[i] = random.next() < 0.3 + 0.4 * (u > 0.5 ? 1 : 0) ? 1 : 0;
      }
      const want = rankMetricsByGroup(sortScores(labels, scores), new Int32Array(n), 1)[0].auc;
      expect(Object.is(rocAuc(labels, scores), want)).toBe(true);
      expect(rocAuc(new Uint8Array(n), scores)).toBeNull();
      expect(rocAuc(new Uint8Array(n).fill(1), scores)).toBeNull();
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

describe('the core computes no engine-dependent function', () => {
  it('calls no Math power, exponential, logarithm or trigonometric function and no non-integer power outside base/math.ts (their last digit differs between Chromium and Node; a power of two is exact)', async () => {
    const { readdirSync, readFileSync, statSync } = await import('node:fs');
    const { join, relative } = await import('node:path');
    const root = join(__dirname, '../../src/core');
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts')) files.push(path);
      }
    };
    walk(root);
    const found: string[] = [];
    for (const file of files) {
      if (relative(root, file) === join('base', 'math.ts')) continue;
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        // Code only: not comments, nor text in quotes (a Markdown **bold** in a message).
        const code = line.replace(/\/\*.*?\*\//g, '').replace(/^\s*(\/\*|\*).*$/, '').replace(/'[^']*'|`[^`]*`|"[^"]*"/g, "''").replace(/\/\/.*$/, '');
        if (/Math\.(pow|exp|expm1|log|log1p|log2|log10|sin|cos|tan|tanh|sinh|cosh|asin|acos|atan|atan2|cbrt)\(/.test(code) || /\*\*\s*\d*\.\d|(?<!\b2 )\*\*\s*[A-Za-z_(]/.test(code)) found.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(found).toEqual([]);
  });
});
