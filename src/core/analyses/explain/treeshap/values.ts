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

/** The SHAP values of a whole ensemble from those of its slices ({@link splitEnsemble}), local accuracy checked again on the sum. */
export function sumShap(parts: ShapValues[]): ShapValues {
  const [first, ...rest] = parts;
  const values = first.values.map((phi) => Float64Array.from(phi));
  const outputs = Float64Array.from(first.outputs);
  let expectedValue = first.expectedValue;
  for (const part of rest) {
    expectedValue += part.expectedValue;
    part.values.forEach((phi, r) => phi.forEach((v, j) => (values[r][j] += v)));
    part.outputs.forEach((v, r) => (outputs[r] += v));
  }
  return withLocalAccuracy(first.columns, expectedValue, values, outputs);
}
