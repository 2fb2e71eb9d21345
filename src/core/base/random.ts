import { cos, log, powInt } from './math';
/**
 * Seeded randomness. Every random choice of an audit draws from a stream derived from the
 * audit's seed and the name of the analysis, so analyses do not disturb each other and the
 * same seed gives the same result everywhere.
 */

/** FNV-1a hash of a label, to derive independent streams from one seed. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function splitmix32(state: number): () => number {
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A xoshiro128** generator: uniform doubles in [0, 1) and integers, from a seed and a stream name. */
export class Random {
  #s = new Uint32Array(4);

  /** The seed of a named stream, for the manifest. */
  static streamSeed(seed: number, stream: string): number {
    return (hashLabel(stream) ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0;
  }

  constructor(seed: number, stream = '') {
    const next = splitmix32(Random.streamSeed(seed, stream));
    for (let i = 0; i < 4; i++) this.#s[i] = next();
  }

  /** Next 32 random bits. */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  next(): number {
    return ((this.nextUint32() >>> 5) * 67108864 + (this.nextUint32() >>> 6)) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal draw (Box–Muller, one value per call). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * log(u)) * cos(2 * Math.PI * this.next());
  }

  /**
   * Binomial(n, p) draw: exact inversion when the variance is small, otherwise the normal
   * approximation with continuity correction (variance > 100, where its error is far
   * below the Monte-Carlo noise of a bootstrap).
   */
  binomial(n: number, p: number): number {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    const variance = n * p * (1 - p);
    if (variance > 100) {
      const draw = Math.round(n * p + Math.sqrt(variance) * this.normal());
      return Math.min(n, Math.max(0, draw));
    }
    if (p > 0.5) return n - this.binomial(n, 1 - p);
    // Inversion by sequential search over the pmf (expected O(np) steps).
    const q = 1 - p;
    const ratio = p / q;
    let probability = powInt(q, n);
    let cumulative = probability;
    const u = this.next();
    let k = 0;
    while (u > cumulative && k < n) {
      probability *= (ratio * (n - k)) / (k + 1);
      cumulative += probability;
      k++;
      if (probability === 0 && cumulative < u) break;
    }
    return k;
  }

  /** Multinomial(n, weights) draw, as a sequence of conditional binomials. */
  multinomial(n: number, probabilities: readonly number[]): number[] {
    const counts = new Array<number>(probabilities.length).fill(0);
    let remaining = n;
    let mass = 1;
    for (let i = 0; i < probabilities.length - 1 && remaining > 0; i++) {
      const p = mass <= 0 ? 0 : Math.min(1, probabilities[i] / mass);
      counts[i] = this.binomial(remaining, p);
      remaining -= counts[i];
      mass -= probabilities[i];
    }
    counts[probabilities.length - 1] += remaining;
    return counts;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
