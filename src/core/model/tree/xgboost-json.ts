/**
 * The XGBoost JSON reader (`save_model("m.json")`): classifiers (binary and multiclass) and
 * regressions, into a {@link TreeEnsemble}.
 */
import { ModelLoadError, quote } from '../../base/errors';
import { log } from '../../base/math';
import { MISSING, type OutputTransform, type Tree, type TreeEnsemble } from './ensemble';
import { checkFeatures, checkTree, listedFeatures } from './validate';

interface XgbTreeJson {
  left_children: number[];
  right_children: number[];
  split_indices: number[];
  split_conditions: number[];
  default_left: (number | boolean)[];
  base_weights?: number[];
  sum_hessian?: number[];
  split_type?: number[];
  categories?: number[];
  categories_nodes?: number[];
  categories_segments?: number[];
  categories_sizes?: number[];
}

/**
 * JSON.parse, reading XGBoost's bare `NaN`, `Infinity` and `-Infinity` literals (which it
 * writes, e.g. as split conditions of categorical splits, and which JSON does not allow)
 * as those numbers: outside strings they become strings that `Number()` reads back.
 */
export function parseJsonWithNonFinite(text: string): never {
  if (!/NaN|Infinity/.test(text)) return JSON.parse(text) as never;
  const fixed = text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, (token) => (token.startsWith('"') ? token : `"${token}"`));
  return JSON.parse(fixed) as never;
}

/** Whether bytes look like an XGBoost JSON model. */
export function looksLikeXgboostJson(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 512)).trimStart();
  return head.startsWith('{') && head.includes('"learner"');
}

/**
 * Reads an XGBoost JSON model: leaves, splits (`x < threshold` goes left, in float32),
 * default directions for missing values, node covers (sum_hessian), and the base score.
 * For `binary:logistic` the base score is a probability and its logit is the base margin.
 * With `task: 'regression'` only the objectives of {@link XGBOOST_REGRESSION_OBJECTIVES}
 * (prediction = base score + Σ leaves) are read, and classifiers are refused; the default
 * reads classifiers only, as the binary audit always has.
 */
export function readXgboostJson(bytes: Uint8Array, fileName: string, task: 'classifier' | 'regression' = 'classifier', features?: readonly string[]): TreeEnsemble {
  let json: { learner?: { learner_model_param?: Record<string, string>; attributes?: Record<string, string>; objective?: { name?: string }; feature_names?: string[]; feature_types?: string[]; gradient_booster?: { name?: string; model?: { trees?: XgbTreeJson[]; tree_info?: number[]; gbtree_model_param?: { num_trees?: string; num_parallel_tree?: string } } } } };
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    json = parseJsonWithNonFinite(text);
  } catch (error) {
    // A JSON model is one object: text that starts it but does not close it was cut short.
    if (text.trimStart().startsWith('{') && !text.trimEnd().endsWith('}')) {
      throw new ModelLoadError(`${fileName}: the XGBoost JSON ends early (${bytes.length.toLocaleString('en-US')} bytes, and the model's closing "}" is missing): it was cut short, in a copy or a download. Copy the file again, or save the model again with save_model("model.json").`);
    }
    throw new ModelLoadError(`${fileName}: not a readable XGBoost JSON model (${(error as Error).message}). Save the model with save_model("model.json") and choose that file.`);
  }
  const learner = json.learner;
  const booster = learner?.gradient_booster;
  const trees = booster?.model?.trees;
  // The booster first: a dart or gblinear model is an XGBoost model, of another shape.
  if (booster?.name && booster.name !== 'gbtree') {
    const why = booster.name === 'dart' ? ' (its trees are weighted by the dropout it trained with)' : booster.name === 'gblinear' ? ' (a linear model, no trees)' : '';
    throw new ModelLoadError(`${fileName}: the XGBoost booster ${quote(booster.name)}${why} is not supported; only tree boosters (gbtree) can be audited. Train with booster="gbtree", or export the model to ONNX.`);
  }
  if (!learner || !Array.isArray(trees)) {
    throw new ModelLoadError(`${fileName}: this JSON is not an XGBoost model (no learner.gradient_booster.model.trees). Save the model with save_model("model.json").`);
  }
  // Trees taken out of the list would otherwise leave a model that scores every row wrong.
  const declared = booster?.model?.gbtree_model_param?.num_trees;
  if (declared !== undefined && Number(declared) !== trees.length) {
    throw new ModelLoadError(`${fileName}: the model declares ${quote(String(declared))} trees (gbtree_model_param.num_trees) but holds ${trees.length}: it is damaged or was edited. Save the model again with save_model("model.json").`);
  }
  const params = learner.learner_model_param ?? {};
  const objective = learner.objective?.name ?? 'unknown';
  const numClass = Number(params.num_class ?? 0);
  const multiclass = numClass > 1;
  if (Number(params.num_target ?? 1) > 1) {
    throw new ModelLoadError(`${fileName}: a model of ${params.num_target} targets (learner_model_param.num_target): one audit reads one target. Train one model per target, or audit a multiclass model (multi:softprob).`);
  }
  checkEarlyStopping(learner.attributes ?? {}, trees.length, Number(booster?.model?.gbtree_model_param?.num_parallel_tree ?? 1), Math.max(1, numClass), fileName);
  if (multiclass && !/^multi:soft(prob|max)$/.test(objective)) {
    throw new ModelLoadError(`${fileName}: a ${numClass}-class XGBoost model with the objective ${quote(objective)}; multiclass models are read with multi:softprob or multi:softmax.`);
  }
  if (task === 'regression') return xgboostRegression(json, objective, numClass, fileName, features);
  const transform: OutputTransform | null = multiclass || objective === 'binary:logistic' || objective === 'reg:logistic' || objective === 'binary:logitraw' ? 'logistic' : null;
  if (!transform) {
    const logLink = /^(count:poisson|reg:gamma|reg:tweedie|survival:)/.test(objective);
    throw new ModelLoadError(
      logLink
        ? `${fileName}: the XGBoost objective ${quote(objective)} predicts exp(margin) (a log link), which this audit does not read; regressions are read with ${XGBOOST_REGRESSION_OBJECTIVES.join(', ')}, classifiers with binary:logistic or multi:softprob. Export the model to ONNX, or train it with one of those objectives.`
        : `${fileName}: the XGBoost objective ${quote(objective)} does not produce a classifier score. Audit a model trained with binary:logistic or multi:softprob.`,
    );
  }
  const baseScore = Number(baseScoreOf(params.base_score, multiclass ? numClass : 1, fileName) ?? 0.5);
  // A probability base score of 0 or 1 is an infinite margin: every row would score exactly 0 or 1.
  if (!Number.isFinite(baseScore) || (!multiclass && objective !== 'binary:logitraw' && !(baseScore > 0 && baseScore < 1))) {
    throw new ModelLoadError(`${fileName}: base_score ${quote(String(params.base_score))} (learner_model_param) is not a probability strictly between 0 and 1, which ${objective} needs: the file is damaged or was edited. Save the model again with save_model("model.json").`);
  }
  // Softmax objectives add the base score to every class's margin as it is (it cancels out).
  const baseMargin = multiclass || objective === 'binary:logitraw' ? baseScore : log(baseScore / (1 - baseScore));
  const { featureNames, unnamedFeatures } = featureNamesOf(learner.feature_names, params.num_feature, features, fileName);
  const numFeature = featureNames.length;
  const parsed = trees.map((tree, t) => xgbTree(tree, t, fileName));
  parsed.forEach((tree, t) => {
    checkTree(tree, fileName, t);
    checkFeatures(tree, numFeature, fileName, t);
  });
  const missing = missingValueOf(learner.attributes ?? {}, fileName);
  const ensemble: TreeEnsemble = { format: 'xgboost-json', featureNames, ...(unnamedFeatures ? { unnamedFeatures } : {}), ...missing.field, trees: parsed, baseMargin, marginScale: 1, transform, description: `XGBoost ${objective}, ${trees.length} trees; p = sigmoid(base margin ${baseMargin} + Σ leaves)${missing.text}` };
  if (!multiclass) return ensemble;
  const info = booster?.model?.tree_info ?? [];
  if (info.length !== trees.length || info.some((k) => !(Number.isInteger(k) && k >= 0 && k < numClass))) {
    throw new ModelLoadError(`${fileName}: the ${numClass}-class model's tree_info does not give a class from 0 to ${numClass - 1} for each of its ${trees.length} trees: it is damaged or was edited. Save the model again with save_model("model.json").`);
  }
  return {
    ...ensemble,
    transform: 'identity',
    multiclass: { classes: numClass, treeClass: Int32Array.from(info), transform: 'softmax' },
    description: `XGBoost ${objective}, ${numClass} classes, ${trees.length} trees; p(class k) = softmax over classes of (base margin ${baseMargin} + Σ leaves of class k's trees)${missing.text}`,
  };
}

/**
 * The value XGBoost's scikit-learn wrapper was told marks a missing cell (XGBClassifier(
 * missing=-999)): stored in learner.attributes.scikit_learn (Python's JSON, where the
 * default NaN is written NaN), and read by predict as missing. Only a number other than NaN
 * is kept; the native API's DMatrix(missing=…) is not stored in the file.
 */
function missingValueOf(attributes: Record<string, string>, fileName: string): { field: { missingValue?: number }; text: string } {
  const meta = attributes.scikit_learn;
  // Saved through the native API: the DMatrix's missing value is not in the file, and NaN (DMatrix's default) is assumed — said, since a model trained with DMatrix(missing=0) reads a 0 as missing.
  if (meta === undefined) return { field: {}, text: '; blank cells are read as missing (the DMatrix default): the file, saved without the scikit-learn wrapper, does not record the value its DMatrix took as missing' };
  const found = /"missing"\s*:\s*([^,}\s]+)/.exec(meta);
  if (!found || /^(NaN|null|"nan")$/i.test(found[1])) return { field: {}, text: '' };
  // Python writes missing=np.inf as Infinity: a setting like any other number.
  const value = Number(found[1]);
  if (Number.isNaN(value)) throw new ModelLoadError(`${fileName}: learner.attributes.scikit_learn gives missing=${found[1]}, which is not a number: the file is damaged or was edited. Save the model again with save_model("model.json").`);
  return { field: { missingValue: value }, text: `; a cell of ${value} is read as missing, as the model was trained (missing=${value}, learner.attributes.scikit_learn)` };
}

/**
 * The model's feature names. A model trained on an array (numpy) stores none: the columns
 * `features` lists (model.features, in training order) name them, else XGBoost's own names
 * f0…fn−1 stand, marked unnamed (the summary asks for the order; scoring refuses it).
 */
function featureNamesOf(stored: string[] | undefined, declared: string | undefined, features: readonly string[] | undefined, fileName: string): { featureNames: string[]; unnamedFeatures: boolean } {
  const names = stored ?? [];
  const count = Number(declared ?? names.length);
  if (names.length === 0 && count > 0) {
    if (!features) return { featureNames: Array.from({ length: count }, (_, j) => `f${j}`), unnamedFeatures: true };
    return { featureNames: listedFeatures(features, count, fileName), unnamedFeatures: false };
  }
  if (names.length !== count) {
    throw new ModelLoadError(`${fileName}: the model stores ${names.length} feature names for ${count} features: it is damaged or was edited. Save the model again with save_model("model.json").`);
  }
  return { featureNames: names, unnamedFeatures: false };
}

/**
 * Refuses an early-stopped model that holds more trees than its best iteration: XGBoost's
 * scikit-learn API (predict_proba) scores with the trees up to best_iteration, its Booster
 * (predict) with all of them, and the file does not say which the deployed model is. A
 * model sliced at its best iteration holds just those trees and is read as it is.
 */
function checkEarlyStopping(attributes: Record<string, string>, trees: number, parallel: number, classes: number, fileName: string): void {
  const best = attributes.best_iteration !== undefined ? Number(attributes.best_iteration) : null;
  // best_ntree_limit counts an iteration's parallel trees, not its classes'.
  const used = best !== null ? (best + 1) * parallel * classes : attributes.best_ntree_limit !== undefined ? Number(attributes.best_ntree_limit) * classes : null;
  if (used === null || !Number.isFinite(used) || used >= trees) return;
  const at = best !== null ? `iteration ${best} (learner.attributes.best_iteration)` : `${attributes.best_ntree_limit} trees (learner.attributes.best_ntree_limit)`;
  throw new ModelLoadError(
    `${fileName}: the model was early-stopped at ${at} but holds ${trees} trees: XGBoost's predict_proba scores with the first ${used}, Booster.predict with all ${trees}, and the file does not say which the deployed model uses. Save the model you deploy: model.get_booster()[: model.best_iteration + 1].save_model("model.json") for the early-stopped one, or a model trained without early stopping for all its trees.`,
  );
}

/**
 * The base score as one number's text. XGBoost 3.1 and later store it as a list, "[5E-1]"
 * (a value per class or target): one value, or the same value for every class (softmax
 * ignores a constant added to every class), is that number; different values per class
 * are refused by name rather than read as one.
 */
function baseScoreOf(stored: string | undefined, classes: number, fileName: string): string | undefined {
  if (stored === undefined || !/^\s*\[/.test(stored)) return stored;
  const values = stored.trim().replace(/^\[|\]$/g, '').split(',').map((v) => v.trim());
  if (values.length === 1 || (values.length === classes && values.every((v) => Number(v) === Number(values[0])))) return values[0];
  throw new ModelLoadError(`${fileName}: base_score ${quote(stored)} (learner_model_param) holds ${values.length} values${values.length === classes ? ', one per class, not all equal' : ` for ${classes === 1 ? 'one score' : `${classes} classes`}`}; this audit reads one base score for every class. Train with one, XGBClassifier(base_score=0.5), or export the model to ONNX.`);
}

/** XGBoost objectives whose prediction is the margin itself (base score + Σ leaves), read by `readXgboostJson(…, 'regression')`. */
export const XGBOOST_REGRESSION_OBJECTIVES: readonly string[] = ['reg:squarederror', 'reg:absoluteerror', 'reg:pseudohubererror', 'reg:quantileerror', 'reg:linear'];

/** A regression ensemble: the identity of base score + Σ leaves, or a refusal naming the objective. */
function xgboostRegression(json: { learner?: { learner_model_param?: Record<string, string>; attributes?: Record<string, string>; feature_names?: string[]; gradient_booster?: { model?: { trees?: XgbTreeJson[] } } } }, objective: string, numClass: number, fileName: string, features?: readonly string[]): TreeEnsemble {
  if (numClass > 1 || !XGBOOST_REGRESSION_OBJECTIVES.includes(objective)) {
    const what = numClass > 1 ? `a ${numClass}-class classifier (${objective})` : `the objective ${quote(objective)}`;
    throw new ModelLoadError(`${fileName}: ${what} is not a regression read as base score + Σ leaves; regressions are read with ${XGBOOST_REGRESSION_OBJECTIVES.join(', ')}. Audit a classifier as one, or train the regressor with reg:squarederror.`);
  }
  const params = json.learner!.learner_model_param ?? {};
  const baseScore = Number(baseScoreOf(params.base_score, 1, fileName) ?? 0.5);
  if (!Number.isFinite(baseScore)) throw new ModelLoadError(`${fileName}: base_score ${quote(String(params.base_score))} (learner_model_param) is not a number: the file is damaged or was edited. Save the model again with save_model("model.json").`);
  const { featureNames, unnamedFeatures } = featureNamesOf(json.learner!.feature_names, params.num_feature, features, fileName);
  const numFeature = featureNames.length;
  const trees = json.learner!.gradient_booster!.model!.trees!.map((tree, t) => xgbTree(tree, t, fileName));
  trees.forEach((tree, t) => {
    checkTree(tree, fileName, t);
    checkFeatures(tree, numFeature, fileName, t);
  });
  const missing = missingValueOf(json.learner!.attributes ?? {}, fileName);
  return { format: 'xgboost-json', featureNames, ...(unnamedFeatures ? { unnamedFeatures } : {}), ...missing.field, trees, baseMargin: baseScore, marginScale: 1, transform: 'identity', description: `XGBoost ${objective}, ${trees.length} trees; prediction = base score ${baseScore} + Σ leaves${missing.text}` };
}

function xgbTree(tree: XgbTreeJson, index: number, fileName: string): Tree {
  const n = tree.left_children.length;
  const arrays = [tree.right_children, tree.split_indices, tree.split_conditions, tree.default_left];
  if (n === 0 || arrays.some((a) => !Array.isArray(a) || a.length !== n)) {
    throw new ModelLoadError(`${fileName}: tree ${index} is damaged (its node arrays have different lengths). Save the model again.`);
  }
  // A feature index must be a whole number: 1e400 (Infinity) would become feature 0 in an Int32Array.
  const badIndex = tree.split_indices.findIndex((v) => !(Number.isInteger(Number(v)) && Number(v) >= 0 && Number(v) < 2 ** 31));
  if (badIndex >= 0) throw new ModelLoadError(`${fileName}: tree ${index} node ${badIndex} splits on feature ${quote(String(tree.split_indices[badIndex]))}, which is not a feature index. The file is damaged or was edited; save the model again.`);
  const categories: (Set<number> | null)[] = new Array(n).fill(null);
  const rule = new Uint8Array(n);
  (tree.categories_nodes ?? []).forEach((node, k) => {
    const start = tree.categories_segments![k];
    const size = tree.categories_sizes![k];
    categories[node] = new Set(tree.categories!.slice(start, start + size));
    // XGBoost sends the listed categories to the right child.
    rule[node] = 3;
  });
  const left = Int32Array.from(tree.left_children);
  for (let i = 0; i < n; i++) {
    const child = left[i];
    if (child >= n || tree.right_children[i] >= n) throw new ModelLoadError(`${fileName}: tree ${index} node ${i} points to a child outside the tree. Save the model again.`);
  }
  return {
    feature: Int32Array.from(tree.split_indices),
    // XGBoost holds split values and leaf weights as float32 (bst_float) and writes each as its
    // shortest text ("3.2692823E-1"): read as a double that text is not the split value, and a
    // float32 feature equal to the split (every split of tree_method hist is a data value)
    // would go left where XGBoost sends it right.
    threshold: Float64Array.from(tree.split_conditions, Math.fround),
    left,
    right: Int32Array.from(tree.right_children),
    defaultLeft: Uint8Array.from(tree.default_left, (d) => (d ? 1 : 0)),
    value: Float64Array.from(tree.split_conditions, Math.fround),
    cover: tree.sum_hessian ? Float64Array.from(tree.sum_hessian) : null,
    rule,
    categories,
    missingType: new Uint8Array(n).fill(MISSING.defaultDirection),
  };
}
