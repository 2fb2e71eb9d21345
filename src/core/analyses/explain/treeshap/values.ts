/**
 * The result every SHAP algorithm returns: values per row with the expected value they add up
 * from, the local-accuracy check, and the sum of the values of an ensemble's slices.
 */

/** SHAP values of rows with the expected value they add up from. */
export interface ShapValues {
  columns: string[];
  /** E[f] over the background (interventional) or under the covers (path-dependent), raw space. */
  expectedValue: number;
  /** One row of values per explained row. */
  values: Float64Array[];
  /** Model output of each explained row in the same raw space: expectedValue + Σ values. */
  outputs: Float64Array;
  /** Largest |expectedValue + Σ values − output| over the rows (local accuracy check). */
  localAccuracyError: number;
}

/** SHAP values with their local-accuracy check: the largest |E + Σ values − output| over the rows. */
export function withLocalAccuracy(columns: string[], expectedValue: number, values: Float64Array[], outputs: Float64Array): ShapValues {
  let worst = 0;
  values.forEach((phi, r) => {
    let sum = expectedValue;
    for (const v of phi) sum += v;
    worst = Math.max(worst, Math.abs(sum - outputs[r]));
  });
  return { columns, expectedValue, values, outputs, localAccuracyError: worst };
}

/** Rows of `width` values, packed flat. */
export function packRows(rows: readonly Float64Array[], width: number): Float64Array {
  const flat = new Float64Array(rows.length * width);
  rows.forEach((x, r) => flat.set(x.subarray(0, width), r * width));
  return flat;
}

/** SHAP values with their rows packed flat (a pool thread's answer). */
export type PackedShapValues = Omit<ShapValues, 'values'> & { values: Float64Array; width: number };

/** Values packed for the way back ({@link PackedShapValues}). */
export function packShapValues(shap: ShapValues): PackedShapValues {
  const width = shap.columns.length;
  return { ...shap, values: packRows(shap.values, width), width };
}

/** The SHAP values of a whole ensemble from those of its slices ({@link splitEnsemble}), local accuracy checked again on the sum. */
export function sumShap(parts: ShapValues[]): ShapValues {
  return sumPackedShap(parts.map(packShapValues));
}

/**
 * The sum of packed slices' values, the slices in order: the one summation of TreeSHAP's
 * slices, in this thread ({@link sumShap}) or over a pool, so the bits are the same.
 */
export function sumPackedShap(parts: PackedShapValues[]): ShapValues {
  const [first, ...rest] = parts;
  const values = Float64Array.from(first.values);
  const outputs = Float64Array.from(first.outputs);
  let expectedValue = first.expectedValue;
  for (const part of rest) {
    expectedValue += part.expectedValue;
    const flat = part.values;
    for (let i = 0; i < flat.length; i++) values[i] += flat[i];
    part.outputs.forEach((v, r) => (outputs[r] += v));
  }
  const w = first.width;
  return withLocalAccuracy(first.columns, expectedValue, Array.from(outputs, (_, r) => values.subarray(r * w, (r + 1) * w)), outputs);
}
