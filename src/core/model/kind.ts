/**
 * What a model file is — a regressor, a classifier, or either — from its bytes alone, before
 * any session is made (task/resolve chooses the audit's task from it and the target).
 */
import { modelFormatOf } from './classifier';
import { decodeOnnx, inspectOnnx } from './onnx-graph';
import { XGBOOST_REGRESSION_OBJECTIVES } from './tree';

/** The objective an XGBoost JSON file was trained with, or null when it is not one. */
export function xgboostObjective(bytes: Uint8Array): string | null {
  try {
    const json = JSON.parse(new TextDecoder().decode(bytes)) as { learner?: { objective?: { name?: unknown } } };
    const name = json.learner?.objective?.name;
    return typeof name === 'string' ? name : null;
  } catch {
    return null;
  }
}

/** Whether an ONNX file looks like a regressor: no class labels, no ZipMap, one numeric output of one column (or an undeclared width). */
export function onnxLooksLikeRegressor(bytes: Uint8Array, fileName: string): boolean {
  const info = inspectOnnx(decodeOnnx(bytes, fileName));
  if (info.classLabels || info.hasZipMap) return false;
  const numeric = info.outputs.filter((o) => o.valueKind === 'tensor' && (o.elementType === 'float32' || o.elementType === 'float64'));
  if (numeric.length !== 1 || info.outputs.length !== 1) return false;
  const shape = numeric[0].shape;
  return shape.length === 1 || (shape.length === 2 && (shape[1] === 1 || shape[1] === null));
}

/**
 * What a model file is, from its bytes alone: a regressor (an XGBoost regression objective),
 * a classifier, or either (an ONNX model with one numeric output and no classes: a binary
 * classifier's p(positive) or a regression, told apart by the target or `task`).
 */
export function modelKind(bytes: Uint8Array, fileName: string): 'regressor' | 'classifier' | 'either' {
  const format = modelFormatOf(bytes, fileName).id;
  if (format === 'xgboost-json') {
    const objective = xgboostObjective(bytes);
    return objective !== null && XGBOOST_REGRESSION_OBJECTIVES.includes(objective) ? 'regressor' : 'classifier';
  }
  return format === 'onnx' && onnxLooksLikeRegressor(bytes, fileName) ? 'either' : 'classifier';
}

