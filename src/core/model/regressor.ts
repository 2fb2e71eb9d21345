import { ModelLoadError, quote } from '../base/errors';
import type { Table } from '../data/table';
import { inspectModel, treeClassifier, type ModelSummary, type ScoreOptions, type TreeMarginRunner } from './classifier';
import { decodeOnnx, inspectOnnx } from './onnx-graph';
import { onnxProbabilities, openOnnxClassifier, planInputs, type OrtRuntime } from './onnx-scorer';
import { looksLikeOnnx } from './sniff';
import { looksLikeXgboostJson, readXgboostJson, type TreeEnsemble } from './tree';

/**
 * Regression models: a number per row, read as the model gives it (no transform, no class).
 * A separate entry point from {@link openModel}, so the binary audit keeps accepting and
 * refusing exactly what it did: a regressor is never read as a classifier's score here, nor
 * a classifier as a regressor.
 */

/** An opened regression model. */
export interface Regressor {
  fileName: string;
  format: 'onnx' | 'xgboost-json';
  /** How the prediction is read from the model, in words (for the report). */
  convention: string;
  /** The signature the file declares (inputs, producer, operators), with the prediction's convention. */
  summary: ModelSummary;
  /** The tree ensemble behind the model (TreeSHAP explains its margin, which is the prediction). */
  ensemble: TreeEnsemble | null;
  /** The feature columns used, in order, once planned against a table. */
  features(table: Table, requested?: string[]): string[];
  /** The prediction of each of `rows` (all rows by default), in float64. */
  predict(table: Table, options?: ScoreOptions): Promise<Float64Array>;
  release(): Promise<void>;
}

/** Options of {@link openRegressor}. */
export interface RegressorOptions {
  /** Cell texts the user declared missing (data.missing_values), for an ONNX text input. */
  userMissingValues?: readonly string[];
  /** Where the tree evaluator runs for large tables (this thread by default). */
  treeMargins?: TreeMarginRunner;
  /** The feature columns in training order (model.features): they name the features of a model that names none. */
  features?: readonly string[];
}

/**
 * Opens a regression model: an XGBoost JSON regressor (see `XGBOOST_REGRESSION_OBJECTIVES`;
 * prediction = base score + Σ leaves, evaluated in float64), or an ONNX model with one float
 * output of one column per row (evaluated by onnxruntime in the model's float32). A classifier
 * is refused with the reason. LightGBM regressors are not read yet (refused, naming the formats).
 */
/** The signature of an XGBoost JSON regressor (inputs, producer), its output the prediction. */
function xgboostRegressorSummary(ensemble: TreeEnsemble, fileName: string): ModelSummary {
  const trees = treeClassifier(ensemble, fileName);
  return { ...trees.summary, outputs: [{ name: 'prediction', valueKind: 'tensor', elementType: 'float64', shape: [null, 1] }], classLabels: null, classCount: null, scoreConvention: ensemble.description };
}

/** The signature of a regression model file (XGBoost JSON regressor, or an ONNX model with one numeric output), read from the file alone. */
export function inspectRegressor(bytes: Uint8Array, fileName: string): ModelSummary {
  if (looksLikeXgboostJson(bytes)) return xgboostRegressorSummary(readXgboostJson(bytes, fileName, 'regression'), fileName);
  const summary = inspectModel(bytes, fileName);
  return { ...summary, scoreConvention: `the output ${quote(summary.outputs[0]?.name ?? '')}, one value per row` };
}

export async function openRegressor(ort: OrtRuntime, bytes: Uint8Array, fileName: string, options: RegressorOptions = {}): Promise<Regressor> {
  if (looksLikeXgboostJson(bytes)) {
    const ensemble = readXgboostJson(bytes, fileName, 'regression', options.features);
    // A single identity margin: the classifier machinery's score is the prediction itself.
    const trees = treeClassifier(ensemble, fileName, options.treeMargins);
    return {
      fileName,
      format: 'xgboost-json',
      convention: ensemble.description,
      summary: xgboostRegressorSummary(ensemble, fileName),
      ensemble,
      features: (table) => trees.features(table),
      predict: (table, scoreOptions) => trees.score(table, scoreOptions),
      release: async () => undefined,
    };
  }
  if (!looksLikeOnnx(bytes)) {
    throw new ModelLoadError(`${fileName}: not a regression model Plumbline can read. Choose an XGBoost JSON regressor (save_model("model.json")) or an ONNX model with one numeric output.`);
  }
  // A classifier is told apart before a session is made (opening one as a classifier would ask for a positive class).
  const info = inspectOnnx(decodeOnnx(bytes, fileName));
  const numeric = info.outputs.filter((o) => o.valueKind === 'tensor' && (o.elementType === 'float32' || o.elementType === 'float64'));
  const wide = numeric.find((o) => o.shape.length === 2 && o.shape[1] !== 1);
  if (info.classLabels || info.hasZipMap || numeric.length !== 1 || wide) {
    const why = info.classLabels
      ? `names classes (${info.classLabels.map(String).join(', ')}), so it is a classifier`
      : wide
        ? `gives ${String(wide.shape[1] ?? 'several')} columns per row in its output ${quote(wide.name)}`
        : `has ${numeric.length} numeric outputs (${info.outputs.map((o) => o.name).join(', ')})`;
    throw new ModelLoadError(`${fileName}: the model ${why}; a regressor has one numeric output of one value per row. Audit a classifier as one, or export the regressor with a single output.`);
  }
  const model = await openOnnxClassifier(ort, bytes, fileName, { userMissingValues: options.userMissingValues });
  const output = model.probabilityOutput;
  return {
    fileName,
    format: 'onnx',
    convention: `the output ${quote(output.name)} as the model computes it (float32 in onnxruntime), one value per row`,
    summary: inspectRegressor(bytes, fileName),
    ensemble: null,
    features: (table, requested) => {
      const plan = planInputs(model, table, requested);
      return plan.kind === 'matrix' ? plan.features : plan.inputs.map((i) => i.column);
    },
    async predict(table, { features, ...rest } = {}) {
      const { width, values } = await onnxProbabilities(ort, model, table, planInputs(model, table, features), rest);
      if (width !== 1) throw new ModelLoadError(`${fileName}: the output ${quote(output.name)} returned ${width} columns per row; a regressor gives one. Choose a model with one numeric output per row.`);
      return values;
    },
    release: () => model.session.release(),
  };
}
