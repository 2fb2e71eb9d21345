/**
 * The KS p-value against scipy (tests/statistics/build_kolmogorov.py): Q_KS on a grid across
 * λ = 1.18, and two large, nearly identical columns (an alternating series alone said
 * p = 0.03 and 0.01 for them, flagging drift that is not there).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kolmogorovQ, kolmogorovSmirnov } from '../../src/core/analyses/drift/statistics';
import { projectRoot } from '../support/fixtures';

const want = JSON.parse(readFileSync(join(projectRoot, 'tests', 'statistics', 'kolmogorov.json'), 'utf8')) as { grid: { lambda: number; q: number }[]; two_sample: { n: number; statistic: number; p_value: number }[] };

describe('the Kolmogorov distribution', () => {
  it('Q_KS(λ) equals scipy.stats.kstwobign.sf on both sides of 1.18', () => {
    for (const { lambda, q } of want.grid) expect(Math.abs(kolmogorovQ(lambda) - q), `λ = ${lambda}`).toBeLessThan(1e-12);
  });

  it('two large, nearly identical columns are not drifted', () => {
    for (const { n, statistic, p_value } of want.two_sample) {
      const a = Float64Array.from({ length: n }, (_, i) => i);
      const b = Float64Array.from(a);
      b[n / 2] = -1;
      b.sort();
      const test = kolmogorovSmirnov(a, b);
      expect(test.statistic).toBe(statistic);
      expect(Math.abs(test.p_value - p_value)).toBeLessThan(1e-12);
    }
  });
});
