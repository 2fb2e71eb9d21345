/** SHAP of linear models: the exact interventional values in closed form, no walk or sampling. */
import { withLocalAccuracy, type ShapValues } from './values';

/**
 * Exact interventional SHAP of a linear model's log-odds, per raw column:
 * φ_G = Σ_{j∈G} w_j·(z_j(x) − mean over the background of z_j(b)).
 */
export function linearShap(weights: Float64Array, intercept: number, rows: Float64Array[], background: Float64Array[], groups: { groupOf: Int32Array; columns: string[] }): ShapValues {
  const width = weights.length;
  const mean = new Float64Array(width);
  for (const b of background) for (let j = 0; j < width; j++) mean[j] += b[j] / background.length;
  let expectedValue = intercept;
  for (let j = 0; j < width; j++) expectedValue += weights[j] * mean[j];
  const values = rows.map((z) => {
    const phi = new Float64Array(groups.columns.length);
    for (let j = 0; j < width; j++) phi[groups.groupOf[j]] += weights[j] * (z[j] - mean[j]);
    return phi;
  });
  const outputs = Float64Array.from(rows, (z) => {
    let sum = intercept;
    for (let j = 0; j < width; j++) sum += weights[j] * z[j];
    return sum;
  });
  return withLocalAccuracy(groups.columns, expectedValue, values, outputs);
}
