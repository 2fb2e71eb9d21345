import { classEnsemble, hasLinearLeaves, type TreeEnsemble } from '../../model/tree';
import { runTreeShapJob, type ShapValues, type TreeShapJob } from './treeshap';

/**
 * TreeSHAP per class of a multiclass tree ensemble (XGBoost multi:softprob, LightGBM
 * multiclass): each class's margin is the base margin plus the sum of that class's trees,
 * so each class is explained on its own, in margin (log-odds before the softmax) space, as
 * xgboost's `pred_contribs` does. Local accuracy holds per class: expected value + Σ values
 * = that class's margin. A binary or regression ensemble gives its single margin as class 0.
 */

/** Options of {@link classTreeShap}. */
export interface ClassTreeShapOptions {
  /** Background rows: interventional TreeSHAP against them; path-dependent (node covers) when omitted. */
  background?: Float64Array[];
  /** Explains these classes only (all by default), in this order. */
  classes?: readonly number[];
  signal?: AbortSignal;
  /**
   * Runs one class's job (slices over workers in the app); this thread by default. The
   * result is the same wherever it runs (see `treeShapSlices`).
   */
  run?: (job: TreeShapJob, signal?: AbortSignal) => Promise<ShapValues> | ShapValues;
}

/** The number of margins (classes) an ensemble has: C for a multiclass model, 1 otherwise. */
export function marginCount(ensemble: TreeEnsemble): number {
  return ensemble.multiclass?.classes ?? 1;
}

/**
 * SHAP values of `rows` for each class's margin, in class order (or `options.classes`'),
 * one {@link ShapValues} per class; for LightGBM's one-vs-all multiclass the margin is
 * before each class's sigmoid. Throws for linear leaves (no TreeSHAP applies) and, path-
 * dependent, for a file without node covers.
 */
export async function classTreeShap(ensemble: TreeEnsemble, rows: Float64Array[], options: ClassTreeShapOptions = {}): Promise<ShapValues[]> {
  if (hasLinearLeaves(ensemble)) throw new Error('TreeSHAP does not apply to trees with linear leaves');
  const count = marginCount(ensemble);
  const classes = options.classes ?? Array.from({ length: count }, (_, k) => k);
  const run = options.run ?? runTreeShapJob;
  const results: ShapValues[] = [];
  for (const k of classes) {
    if (!(Number.isInteger(k) && k >= 0 && k < count)) throw new RangeError(`class ${k} is not a class of this ${count}-margin model (0…${count - 1})`);
    const part = ensemble.multiclass ? classEnsemble(ensemble, k) : ensemble;
    const job: TreeShapJob = options.background ? { kind: 'interventional', ensemble: part, rows, background: options.background } : { kind: 'path', ensemble: part, rows };
    results.push(await run(job, options.signal));
  }
  return results;
}

/**
 * One class per row from per-class SHAP values (e.g. each row's predicted class, or the
 * class it was denied): row i gets the values of class `classOf[i]`, with that class's
 * expected value and margin. `perClass` is indexed by class (all classes explained).
 */
export function shapOfRowClasses(perClass: readonly ShapValues[], classOf: Int32Array): { values: Float64Array[]; expectedValues: Float64Array; outputs: Float64Array } {
  const n = classOf.length;
  const values: Float64Array[] = [];
  const expectedValues = new Float64Array(n);
  const outputs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const shap = perClass[classOf[i]];
    if (!shap) throw new RangeError(`row ${i}: class ${classOf[i]} has no SHAP values (${perClass.length} classes explained)`);
    values.push(shap.values[i]);
    expectedValues[i] = shap.expectedValue;
    outputs[i] = shap.outputs[i];
  }
  return { values, expectedValues, outputs };
}
