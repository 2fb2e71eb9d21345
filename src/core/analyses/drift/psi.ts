/** The population stability index and its verdict thresholds. */
import { log } from '../../base/math';
import type { ColumnDrift } from './drift';

/** PSI floors an empty share at this value before the logarithm. */
export const PSI_EPSILON = 1e-4;

/** Drift verdict thresholds on PSI. */
export const PSI_THRESHOLDS = { minor: 0.1, major: 0.2 } as const;

/** PSI = Σ (cur − ref)·ln(cur/ref) over bins, empty shares floored at {@link PSI_EPSILON}. */
export function psi(reference: number[], current: number[]): number {
  let total = 0;
  for (let k = 0; k < reference.length; k++) {
    const r = reference[k] === 0 ? PSI_EPSILON : reference[k];
    const c = current[k] === 0 ? PSI_EPSILON : current[k];
    total += (c - r) * log(c / r);
  }
  return total;
}

export const levelOf = (value: number): ColumnDrift['level'] => (value > PSI_THRESHOLDS.major ? 'major' : value >= PSI_THRESHOLDS.minor ? 'minor' : 'stable');

