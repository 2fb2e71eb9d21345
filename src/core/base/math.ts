/**
 * exp, log and cos computed the same to the bit in every JavaScript engine. Math.exp and
 * Math.log are only required to be approximations, and V8 in Node 20 and in Chromium give
 * different last bits for some arguments: a logistic score, a KS p-value or a
 * Jensen–Shannon distance then differed between the app and the CLI. These are fdlibm's
 * algorithms (e_exp.c, e_log.c, k_cos.c, k_sin.c; Sun Microsystems, freely distributable),
 * written with plain IEEE double operations only, which every engine performs alike.
 */

const view = new DataView(new ArrayBuffer(8));
const high = (x: number) => (view.setFloat64(0, x), view.getInt32(0));
const low = (x: number) => (view.setFloat64(0, x), view.getInt32(4));
function withWords(hi: number, lo: number): number {
  view.setInt32(0, hi);
  view.setInt32(4, lo);
  return view.getFloat64(0);
}
const withHigh = (x: number, hi: number) => withWords(hi, low(x));
/** 2^k, exactly, for −1022 ≤ k ≤ 1023. */
const pow2 = (k: number) => withWords((k + 1023) << 20, 0);

const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.4426950408889634074;
const P1 = 1.66666666666666019037e-1;
const P2 = -2.77777777770155933842e-3;
const P3 = 6.61375632143793436117e-5;
const P4 = -1.65339022054652515390e-6;
const P5 = 4.13813679705723846039e-8;

/**
 * 2^(j/32) for j = 0…31, as the bits of the nearest doubles: the table of the single-precision
 * e^x of musl, glibc and Arm's optimized-routines (there stored less j·2^47, added back here).
 */
const EXP2F_TABLE = [
  0x3ff0000000000000n, 0x3fefd9b0d3158574n, 0x3fefb5586cf9890fn, 0x3fef9301d0125b51n, 0x3fef72b83c7d517bn, 0x3fef54873168b9aan, 0x3fef387a6e756238n, 0x3fef1e9df51fdee1n,
  0x3fef06fe0a31b715n, 0x3feef1a7373aa9cbn, 0x3feedea64c123422n, 0x3feece086061892dn, 0x3feebfdad5362a27n, 0x3feeb42b569d4f82n, 0x3feeab07dd485429n, 0x3feea47eb03a5585n,
  0x3feea09e667f3bcdn, 0x3fee9f75e8ec5f74n, 0x3feea11473eb0187n, 0x3feea589994cce13n, 0x3feeace5422aa0dbn, 0x3feeb737b0cdc5e5n, 0x3feec49182a3f090n, 0x3feed503b23e255dn,
  0x3feee89f995ad3adn, 0x3feeff76f2fb5e47n, 0x3fef199bdd85529cn, 0x3fef3720dcef9069n, 0x3fef5818dcfba487n, 0x3fef7c97337b9b5fn, 0x3fefa4afa2a490dan, 0x3fefd0765b6e4540n,
];
const EXP2F_POWERS = (() => {
  const view = new DataView(new ArrayBuffer(8));
  return Float64Array.from(EXP2F_TABLE, (bits, j) => {
    view.setBigUint64(0, bits + (BigInt(j) << 47n));
    return view.getFloat64(0);
  });
})();
/** 32/ln 2 (1/ln 2 is 0x1.71547652b82fep0), and the cubic for 2^(r/32) − 1: coefficients of r³, r², r (0x1.c6af84b912394p-5, 0x1.ebfce50fac4f3p-3, 0x1.62e42ff0c52d6p-1 over powers of 32, which are exact). */
const EXPF_SCALE = 1.4426950408889634 * 32;
const EXPF_C0 = 0.05550361559341535 / 32 / 32 / 32;
const EXPF_C1 = 0.2402284522445722 / 32 / 32;
const EXPF_C2 = 0.6931471806916203 / 32;
/** 1.5·2^52: adding and subtracting it rounds a double of magnitude below 2^51 to the nearest integer, ties to even. */
const ROUND_SHIFT = 6755399441055744;

/**
 * e^x in float32 as the C libraries' `expf` computes it (musl, glibc, Arm optimized-routines;
 * onnxruntime's WebAssembly build links musl's): x·32/ln 2 = k + r, e^x = 2^(k/32) · (a cubic
 * in r), all in float64, rounded once to float32. The same bits as that `expf` (a float32 x).
 */
export function expf(x: number): number {
  if (Number.isNaN(x)) return x;
  // Over 0x1.62e42ep6 the float32 result overflows; under −0x1.9fe368p6 it is 0.
  if (x > 88.72283172607422) return Number.POSITIVE_INFINITY;
  if (x < -103.97207641601562) return 0;
  const z = EXPF_SCALE * x;
  const k = z + ROUND_SHIFT - ROUND_SHIFT;
  const r = z - k;
  const j = ((k % 32) + 32) % 32;
  const s = EXP2F_POWERS[j] * pow2((k - j) / 32);
  const y = (EXPF_C0 * r + EXPF_C1) * (r * r) + (EXPF_C2 * r + 1);
  return Math.fround(y * s);
}

/** e^x (fdlibm e_exp.c, error < 1 ulp). */
export function exp(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x > 7.09782712893383973096e2) return Number.POSITIVE_INFINITY;
  if (x < -7.45133219101941108420e2) return 0;
  const hx = high(x) & 0x7fffffff;
  const negative = x < 0;
  let hi = 0;
  let lo = 0;
  let k = 0;
  if (hx > 0x3fd62e42) {
    // |x| > ln2 / 2: x = k·ln2 + r, |r| ≤ ln2 / 2.
    if (hx < 0x3ff0a2b2) {
      hi = negative ? x + LN2_HI : x - LN2_HI;
      lo = negative ? -LN2_LO : LN2_LO;
      k = negative ? -1 : 1;
    } else {
      k = Math.trunc(INV_LN2 * x + (negative ? -0.5 : 0.5));
      hi = x - k * LN2_HI;
      lo = k * LN2_LO;
    }
    x = hi - lo;
  } else if (hx < 0x3e300000) {
    return 1 + x;
  }
  const t = x * x;
  const c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k === 0) return 1 - ((x * c) / (c - 2) - x);
  const y = 1 - (lo - (x * c) / (2 - c) - hi);
  if (k >= -1021) return k === 1024 ? y * 2 * pow2(1023) : y * pow2(k);
  return y * pow2(k + 1000) * 9.33263618503218878990e-302;
}

const LG1 = 6.666666666666735130e-1;
const LG2 = 3.999999999940941908e-1;
const LG3 = 2.857142874366239149e-1;
const LG4 = 2.222219843214978396e-1;
const LG5 = 1.818357216161805012e-1;
const LG6 = 1.531383769920937332e-1;
const LG7 = 1.479819860511658591e-1;

/** The natural logarithm (fdlibm e_log.c, error < 1 ulp). */
export function log(x: number): number {
  let hx = high(x);
  const lx = low(x);
  let k = 0;
  if (hx < 0x00100000) {
    if (((hx & 0x7fffffff) | lx) === 0) return Number.NEGATIVE_INFINITY;
    if (hx < 0) return Number.NaN;
    // Subnormal: scale up.
    k -= 54;
    x *= 1.8014398509481984e16;
    hx = high(x);
  }
  if (hx >= 0x7ff00000) return x + x;
  k += (hx >> 20) - 1023;
  hx &= 0x000fffff;
  const i = (hx + 0x95f64) & 0x100000;
  // Normalise x to [sqrt(2)/2, sqrt(2)).
  x = withHigh(x, hx | (i ^ 0x3ff00000));
  k += i >> 20;
  const f = x - 1;
  const dk = k;
  if ((0x000fffff & (2 + hx)) < 3) {
    if (f === 0) return k === 0 ? 0 : dk * LN2_HI + dk * LN2_LO;
    const R = f * f * (0.5 - 0.33333333333333333 * f);
    return k === 0 ? f - R : dk * LN2_HI - (R - dk * LN2_LO - f);
  }
  const s = f / (2 + f);
  const z = s * s;
  const w = z * z;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  const R = t2 + t1;
  if (((hx - 0x6147a) | (0x6b851 - hx)) > 0) {
    const hfsq = 0.5 * f * f;
    return k === 0 ? f - (hfsq - s * (hfsq + R)) : dk * LN2_HI - (hfsq - (s * (hfsq + R) + dk * LN2_LO) - f);
  }
  return k === 0 ? f - s * (f - R) : dk * LN2_HI - (s * (f - R) - dk * LN2_LO - f);
}

/** log base 2, as log(x) / ln 2. */
export function log2(x: number): number {
  return log(x) / Math.LN2;
}

/** q^n for a whole n ≥ 0, by repeated squaring. */
export function powInt(q: number, n: number): number {
  let result = 1;
  let base = q;
  for (let e = n; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) result *= base;
    base *= base;
  }
  return result;
}

const C1 = 4.16666666666666019037e-2;
const C2 = -1.38888888888741095749e-3;
const C3 = 2.48015872894767294178e-5;
const C4 = -2.75573143513906633035e-7;
const C5 = 2.08757232129817482790e-9;
const C6 = -1.13596475577881948265e-11;
const S1 = -1.66666666666666324348e-1;
const S2 = 8.33333333332248946124e-3;
const S3 = -1.98412698298579493134e-4;
const S4 = 2.75573137070700676789e-6;
const S5 = -2.50507602534068634195e-8;
const S6 = 1.58969099521155010221e-10;

/** cos on [−π/4, π/4] of x + y (y the tail of x), fdlibm k_cos.c. */
function kernelCos(x: number, y: number): number {
  const ix = high(x) & 0x7fffffff;
  const z = x * x;
  const r = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
  if (ix < 0x3fd33333) return 1 - (0.5 * z - (z * r - x * y));
  const qx = ix > 0x3fe90000 ? 0.28125 : withWords(ix - 0x00200000, 0);
  const hz = 0.5 * z - qx;
  return 1 - qx - (hz - (z * r - x * y));
}

/** sin on [−π/4, π/4] of x + y, fdlibm k_sin.c. */
function kernelSin(x: number, y: number): number {
  const z = x * x;
  const v = z * x;
  const r = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
  return x - ((z * (0.5 * y - v * r) - y) - v * S1);
}

const PIO2_1 = 1.57079632673412561417;
const PIO2_1T = 6.07710050650619224932e-11;

/**
 * cos x for |x| ≤ 2^19·π/2 (fdlibm's medium-size reduction by π/2, then its kernels); the
 * audit needs it for Box–Muller's cos(2πu), u in [0, 1).
 */
export function cos(x: number): number {
  const ax = Math.abs(x);
  if (!(ax <= 823549.6653753)) return Number.isNaN(x) || !Number.isFinite(x) ? Number.NaN : Math.cos(x);
  const n = Math.round(ax * 6.36619772367581382433e-1);
  const r = ax - n * PIO2_1;
  const w = n * PIO2_1T;
  const y0 = r - w;
  const y1 = r - y0 - w;
  switch (n & 3) {
    case 0:
      return kernelCos(y0, y1);
    case 1:
      return -kernelSin(y0, y1);
    case 2:
      return -kernelCos(y0, y1);
    default:
      return kernelSin(y0, y1);
  }
}

/** The median of some numbers (the mean of the middle two for an even count); the input is not changed. */
export function median(values: ArrayLike<number>): number {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The count, mean and sample standard deviation (n − 1) of the values that are not NaN:
 * summed in order, then the squared deviations from the mean summed in order. The mean is 0
 * with no values, the standard deviation 0 with fewer than two.
 */
export function sampleMoments(values: ArrayLike<number>): { count: number; mean: number; sd: number } {
  let count = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === v) {
      count++;
      sum += v;
    }
  }
  const mean = count ? sum / count : 0;
  if (count < 2) return { count, mean, sd: 0 };
  let squares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === v) squares += (v - mean) * (v - mean);
  }
  return { count, mean, sd: Math.sqrt(squares / (count - 1)) };
}
