import { ModelLoadError, quote } from '../errors';
import { TREE_KERNEL_F32, TREE_KERNEL_F64, TREE_KERNEL_LANES } from './tree-kernel-wasm';
import { exp, log } from '../math';

/**
 * A tree ensemble in one flat form, whatever file it came from. Node arrays are indexed
 * per tree; a node is a leaf when `left[i] < 0`.
 */
export interface Tree {
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  /** Where a missing value goes. */
  defaultLeft: Uint8Array;
  /** Leaf value (raw margin contribution); unused at internal nodes. */
  value: Float64Array;
  /** Training rows (or hessian sum) through each node, when the file carries them; for path-dependent TreeSHAP. */
  cover: Float64Array | null;
  /**
   * Split rule per node: 0 `float32(x) < t` goes left (XGBoost, ONNX BRANCH_LT),
   * 1 `x <= t` goes left (LightGBM), 2 categorical: left when x is in `categories[i]`,
   * 3 categorical: right when x is in it, 4 `float32(x) <= t` goes left (ONNX BRANCH_LEQ).
   */
  rule: Uint8Array;
  categories: (Set<number> | null)[];
  /** How a missing value is handled at each node: one of {@link MISSING}. */
  missingType: Uint8Array;
  /**
   * LightGBM linear leaves (`is_linear=1`), by node: a leaf's output is its constant plus
   * Σ coefficient·x[feature], or its plain value when one of those features is missing.
   */
  linear?: { constant: Float64Array; features: Int32Array[]; coefficients: Float64Array[] };
}

/** Missing-value handling at a split. */
export const MISSING = {
  /** NaN follows the default direction (XGBoost; LightGBM missing type NaN). */
  defaultDirection: 0,
  /** NaN is read as 0 (LightGBM missing type None). */
  asZero: 1,
  /** NaN is read as 0, and 0 follows the default direction (LightGBM missing type Zero). */
  zeroDefaultDirection: 2,
} as const;

/** LightGBM's kZeroThreshold: |x| at or below it counts as zero. */
const ZERO_THRESHOLD = 1e-35;

/** Turns the summed raw score into p(positive). */
export type OutputTransform = 'logistic' | 'identity';

/** A binary classifier made of trees, scored by the project's own evaluator. */
export interface TreeEnsemble {
  format: 'xgboost-json' | 'lightgbm-text' | 'onnx';
  featureNames: string[];
  trees: Tree[];
  /** Added to the sum of leaves (margin space). */
  baseMargin: number;
  /** Multiplies the margin before the transform (LightGBM's sigmoid parameter). */
  marginScale: number;
  transform: OutputTransform;
  /** Where the model came from and how its score is read, in words. */
  description: string;
  /**
   * A model of more than two classes: tree t adds to the margin of class `treeClass[t]`, and
   * the class probabilities are the softmax of the margins (or each class's own logistic,
   * LightGBM's multiclassova). Absent for a binary model (one margin).
   */
  multiclass?: {
    classes: number;
    treeClass: Int32Array;
    /** softmax over the margins; each class's own sigmoid (one-vs-all); or the margin is the probability (a forest averaging class shares: ONNX post_transform NONE). */
    transform: 'softmax' | 'logistic' | 'identity';
    /** Each class's own base margin, where they differ (ONNX base_values); `baseMargin` otherwise. */
    baseMargins?: Float64Array;
  };
  /** The categories each feature was trained on, when the file lists them (LightGBM's feature_infos for categorical features). */
  featureCategories?: (number[] | null)[];
}

/** One class's trees of a multiclass ensemble, as an ensemble of its own whose margin is that class's. */
export function classEnsemble(ensemble: TreeEnsemble, k: number): TreeEnsemble {
  const { multiclass } = ensemble;
  if (!multiclass) return ensemble;
  return { ...ensemble, trees: ensemble.trees.filter((_, t) => multiclass.treeClass[t] === k), baseMargin: multiclass.baseMargins?.[k] ?? ensemble.baseMargin, transform: 'identity', marginScale: 1, multiclass: undefined };
}

/** Whether an ensemble has linear leaves (they need the node-by-node walk, and no TreeSHAP applies). */
export function hasLinearLeaves(ensemble: TreeEnsemble): boolean {
  return ensemble.trees.some((tree) => tree.linear !== undefined);
}

/** The output of the leaf a row reached: its value, or its linear model (see {@link Tree.linear}). */
export function leafOutput(tree: Tree, leaf: number, x: Float64Array): number {
  const linear = tree.linear;
  if (!linear) return tree.value[leaf];
  const features = linear.features[leaf];
  const coefficients = linear.coefficients[leaf];
  let output = linear.constant[leaf];
  for (let i = 0; i < features.length; i++) {
    const v = x[features[i]];
    // LightGBM (Tree::Predict): a missing feature of the leaf's model falls back to the plain leaf value.
    if (Number.isNaN(v)) return tree.value[leaf];
    output += coefficients[i] * v;
  }
  return output;
}

/** Raw score (margin) of one row: the sum of the leaves it reaches, plus the base margin. */
export function treeMargin(ensemble: TreeEnsemble, x: Float64Array): number {
  let margin = ensemble.baseMargin;
  for (const tree of ensemble.trees) margin += tree.linear ? leafOutput(tree, leafOf(tree, x), x) : tree.value[leafOf(tree, x)];
  return margin;
}

/** The leaf a row reaches in one tree. */
export function leafOf(tree: Tree, x: Float64Array): number {
  let node = 0;
  while (tree.left[node] >= 0) node = goesLeft(tree, node, x[tree.feature[node]]) ? tree.left[node] : tree.right[node];
  return node;
}

/** Whether a value goes to the left child at an internal node. */
export function goesLeft(tree: Tree, node: number, raw: number): boolean {
  const rule = tree.rule[node];
  const missing = tree.missingType[node];
  let value = raw;
  if (Number.isNaN(value)) {
    if (missing === MISSING.defaultDirection) return tree.defaultLeft[node] === 1;
    value = 0;
  }
  if (rule === 4) return Math.fround(value) <= tree.threshold[node];
  if (rule >= 2) {
    // Categories are whole numbers; LightGBM truncates (static_cast<int>), negatives go right.
    const category = Math.trunc(value);
    const listed = category >= 0 && tree.categories[node]!.has(category);
    return rule === 2 ? listed : !listed;
  }
  if (missing === MISSING.zeroDefaultDirection && Math.abs(value) <= ZERO_THRESHOLD) return tree.defaultLeft[node] === 1;
  // XGBoost compares float32 values; LightGBM compares doubles.
  return rule === 0 ? Math.fround(value) < tree.threshold[node] : value <= tree.threshold[node];
}

/** Applies the ensemble's output transform to a margin. */
export function transformMargin(ensemble: TreeEnsemble, margin: number): number {
  const z = margin * ensemble.marginScale;
  return ensemble.transform === 'logistic' ? 1 / (1 + exp(-z)) : z;
}

// ---------------------------------------------------------------------------------------
// XGBoost JSON (`save_model("m.json")`)

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
export function readXgboostJson(bytes: Uint8Array, fileName: string, task: 'classifier' | 'regression' = 'classifier'): TreeEnsemble {
  let json: { learner?: { learner_model_param?: Record<string, string>; objective?: { name?: string }; feature_names?: string[]; feature_types?: string[]; gradient_booster?: { name?: string; model?: { trees?: XgbTreeJson[]; tree_info?: number[]; gbtree_model_param?: { num_trees?: string } } } } };
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
  if (!learner || !Array.isArray(trees)) {
    throw new ModelLoadError(`${fileName}: this JSON is not an XGBoost model (no learner.gradient_booster.model.trees). Save the model with save_model("model.json").`);
  }
  if (booster?.name && booster.name !== 'gbtree') {
    throw new ModelLoadError(`${fileName}: the XGBoost booster ${quote(booster.name)} is not supported; only tree boosters (gbtree) can be audited.`);
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
  if (multiclass && !/^multi:soft(prob|max)$/.test(objective)) {
    throw new ModelLoadError(`${fileName}: a ${numClass}-class XGBoost model with the objective ${quote(objective)}; multiclass models are read with multi:softprob or multi:softmax.`);
  }
  if (task === 'regression') return xgboostRegression(json, objective, numClass, fileName);
  const transform: OutputTransform | null = multiclass || objective === 'binary:logistic' || objective === 'reg:logistic' || objective === 'binary:logitraw' ? 'logistic' : null;
  if (!transform) throw new ModelLoadError(`${fileName}: the XGBoost objective ${quote(objective)} does not produce a classifier score. Audit a model trained with binary:logistic or multi:softprob.`);
  const baseScore = Number(params.base_score ?? 0.5);
  // A probability base score of 0 or 1 is an infinite margin: every row would score exactly 0 or 1.
  if (!Number.isFinite(baseScore) || (!multiclass && objective !== 'binary:logitraw' && !(baseScore > 0 && baseScore < 1))) {
    throw new ModelLoadError(`${fileName}: base_score ${quote(String(params.base_score))} (learner_model_param) is not a probability strictly between 0 and 1, which ${objective} needs: the file is damaged or was edited. Save the model again with save_model("model.json").`);
  }
  // Softmax objectives add the base score to every class's margin as it is (it cancels out).
  const baseMargin = multiclass || objective === 'binary:logitraw' ? baseScore : log(baseScore / (1 - baseScore));
  const featureNames = learner.feature_names ?? [];
  const numFeature = Number(params.num_feature ?? featureNames.length);
  if (featureNames.length !== numFeature) {
    throw new ModelLoadError(`${fileName}: the model stores ${featureNames.length} feature names for ${numFeature} features. Set feature names when training (a DataFrame or feature_names=) so columns can be matched.`);
  }
  const parsed = trees.map((tree, t) => xgbTree(tree, t, fileName));
  parsed.forEach((tree, t) => {
    checkTree(tree, fileName, t);
    checkFeatures(tree, numFeature, fileName, t);
  });
  const ensemble: TreeEnsemble = { format: 'xgboost-json', featureNames, trees: parsed, baseMargin, marginScale: 1, transform, description: `XGBoost ${objective}, ${trees.length} trees; p = sigmoid(base margin ${baseMargin} + Σ leaves)` };
  if (!multiclass) return ensemble;
  const info = booster?.model?.tree_info ?? [];
  if (info.length !== trees.length || info.some((k) => !(Number.isInteger(k) && k >= 0 && k < numClass))) {
    throw new ModelLoadError(`${fileName}: the ${numClass}-class model's tree_info does not give a class from 0 to ${numClass - 1} for each of its ${trees.length} trees: it is damaged or was edited. Save the model again with save_model("model.json").`);
  }
  return {
    ...ensemble,
    transform: 'identity',
    multiclass: { classes: numClass, treeClass: Int32Array.from(info), transform: 'softmax' },
    description: `XGBoost ${objective}, ${numClass} classes, ${trees.length} trees; p(class k) = softmax over classes of (base margin ${baseMargin} + Σ leaves of class k's trees)`,
  };
}

/** XGBoost objectives whose prediction is the margin itself (base score + Σ leaves), read by `readXgboostJson(…, 'regression')`. */
export const XGBOOST_REGRESSION_OBJECTIVES: readonly string[] = ['reg:squarederror', 'reg:absoluteerror', 'reg:pseudohubererror', 'reg:quantileerror', 'reg:linear'];

/** A regression ensemble: the identity of base score + Σ leaves, or a refusal naming the objective. */
function xgboostRegression(json: { learner?: { learner_model_param?: Record<string, string>; feature_names?: string[]; gradient_booster?: { model?: { trees?: XgbTreeJson[] } } } }, objective: string, numClass: number, fileName: string): TreeEnsemble {
  if (numClass > 1 || !XGBOOST_REGRESSION_OBJECTIVES.includes(objective)) {
    const what = numClass > 1 ? `a ${numClass}-class classifier (${objective})` : `the objective ${quote(objective)}`;
    throw new ModelLoadError(`${fileName}: ${what} is not a regression read as base score + Σ leaves; regressions are read with ${XGBOOST_REGRESSION_OBJECTIVES.join(', ')}. Audit a classifier as one, or train the regressor with reg:squarederror.`);
  }
  const params = json.learner!.learner_model_param ?? {};
  const baseScore = Number(params.base_score ?? 0.5);
  if (!Number.isFinite(baseScore)) throw new ModelLoadError(`${fileName}: base_score ${quote(String(params.base_score))} (learner_model_param) is not a number: the file is damaged or was edited. Save the model again with save_model("model.json").`);
  const featureNames = json.learner!.feature_names ?? [];
  const numFeature = Number(params.num_feature ?? featureNames.length);
  if (featureNames.length !== numFeature) {
    throw new ModelLoadError(`${fileName}: the model stores ${featureNames.length} feature names for ${numFeature} features. Set feature names when training (a DataFrame or feature_names=) so columns can be matched.`);
  }
  const trees = json.learner!.gradient_booster!.model!.trees!.map((tree, t) => xgbTree(tree, t, fileName));
  trees.forEach((tree, t) => {
    checkTree(tree, fileName, t);
    checkFeatures(tree, numFeature, fileName, t);
  });
  return { format: 'xgboost-json', featureNames, trees, baseMargin: baseScore, marginScale: 1, transform: 'identity', description: `XGBoost ${objective}, ${trees.length} trees; prediction = base score ${baseScore} + Σ leaves` };
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
    threshold: Float64Array.from(tree.split_conditions),
    left,
    right: Int32Array.from(tree.right_children),
    defaultLeft: Uint8Array.from(tree.default_left, (d) => (d ? 1 : 0)),
    value: Float64Array.from(tree.split_conditions),
    cover: tree.sum_hessian ? Float64Array.from(tree.sum_hessian) : null,
    rule,
    categories,
    missingType: new Uint8Array(n).fill(MISSING.defaultDirection),
  };
}

// ---------------------------------------------------------------------------------------
// LightGBM text (`save_model("m.txt")`)

/** Whether bytes look like a LightGBM text model. */
export function looksLikeLightgbmText(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 256));
  return /^tree\r?\nversion=/.test(head);
}

function numbers(line: string | undefined): number[] {
  return line === undefined || line.trim() === '' ? [] : line.trim().split(/\s+/).map(Number);
}

/**
 * Reads a LightGBM text model: `x <= threshold` goes left, decision_type bits (categorical,
 * default left, missing type None/Zero/NaN), categorical bitsets, leaf values and counts,
 * and the sigmoid of binary objectives.
 */
export function readLightgbmText(bytes: Uint8Array, fileName: string): TreeEnsemble {
  const text = new TextDecoder().decode(bytes);
  const blocks = text.split(/\r?\n\r?\n/);
  const header = new Map<string, string>();
  for (const line of blocks[0].split(/\r?\n/)) {
    const at = line.indexOf('=');
    if (at > 0) header.set(line.slice(0, at), line.slice(at + 1));
  }
  const objective = header.get('objective') ?? '';
  const numClass = Number(header.get('num_class') ?? 1);
  const perIteration = Number(header.get('num_tree_per_iteration') ?? numClass);
  const multiclass = numClass > 1;
  if (multiclass && (!/^multiclass(ova)?\b/.test(objective) || perIteration !== numClass)) {
    throw new ModelLoadError(`${fileName}: a ${numClass}-class LightGBM model with the objective ${quote(objective)} and ${perIteration} trees per iteration; multiclass models are read with objective=multiclass or multiclassova (one tree per class per iteration).`);
  }
  const ova = /^multiclassova\b/.test(objective);
  const sigmoid = /^binary\b/.test(objective) || ova ? Number(/sigmoid:([\d.eE+-]+)/.exec(objective)?.[1] ?? 1) : null;
  if (!multiclass && sigmoid === null && !/^(cross_entropy|xentropy)/.test(objective)) {
    throw new ModelLoadError(`${fileName}: the LightGBM objective ${quote(objective || 'missing')} does not produce a classifier score. Audit a model trained with objective=binary or multiclass.`);
  }
  // Random-forest mode (boosting=rf) writes `average_output`: the prediction is the mean of the trees' outputs.
  const averageOutput = /^average_output\s*$/m.test(blocks[0]);
  const featureNames = (header.get('feature_names') ?? '').split(/\s+/).filter(Boolean);
  // feature_infos: `[min:max]` for a numeric feature, `none` for an unused one, `a:b:c` for a categorical one's training categories.
  const featureCategories = (header.get('feature_infos') ?? '').split(/\s+/).filter(Boolean).map((info) => (/^-?\d+(:-?\d+)*$/.test(info) ? info.split(':').map(Number) : null));
  // LightGBM ends the trees with this line, and lists each tree's size in the header: a file
  // cut at a tree's end would otherwise load with fewer trees and score every row wrong.
  const listed = (header.get('tree_sizes') ?? '').split(/\s+/).filter(Boolean).length;
  if (!/^end of trees\s*$/m.test(text)) {
    throw new ModelLoadError(`${fileName}: the LightGBM model ends early (${listed > 0 ? `its header lists ${listed} trees, and ` : ''}the "end of trees" line is missing): it was cut short, in a copy or a download. Copy the file again, or save the model again with save_model("model.txt").`);
  }
  const trees: Tree[] = [];
  for (const block of blocks) {
    if (!/^Tree=\d+/.test(block.trimStart())) continue;
    const fields = new Map<string, string>();
    for (const line of block.split(/\r?\n/)) {
      const at = line.indexOf('=');
      if (at > 0) fields.set(line.slice(0, at), line.slice(at + 1));
    }
    trees.push(lightgbmTree(fields, trees.length, fileName));
  }
  if (listed > 0 && listed !== trees.length) {
    throw new ModelLoadError(`${fileName}: the LightGBM model's header lists ${listed} trees (tree_sizes) but the file holds ${trees.length}: it is damaged or was edited. Save the model again with save_model("model.txt").`);
  }
  if (trees.length === 0) throw new ModelLoadError(`${fileName}: the LightGBM model has no trees. Save the model again.`);
  trees.forEach((tree, t) => {
    checkTree(tree, fileName, t);
    checkFeatures(tree, featureNames.length, fileName, t);
  });
  const iterations = trees.length / (multiclass ? numClass : 1);
  if (averageOutput) for (const tree of trees) scaleTree(tree, 1 / iterations);
  const linear = trees.some((tree) => tree.linear) ? ', linear leaves (constant + coefficients · features; a missing feature falls back to the leaf value)' : '';
  const sum = averageOutput ? `the mean of the ${iterations} iterations' leaves (random-forest mode, average_output)` : 'Σ leaves';
  const shrinkageNote = 'leaf values already include shrinkage';
  if (multiclass) {
    return {
      format: 'lightgbm-text',
      featureNames,
      trees,
      baseMargin: 0,
      marginScale: ova ? sigmoid! : 1,
      transform: 'identity',
      multiclass: { classes: numClass, treeClass: Int32Array.from(trees, (_, t) => t % numClass), transform: ova ? 'logistic' : 'softmax' },
      featureCategories,
      description: `LightGBM ${objective}, ${numClass} classes, ${trees.length} trees${linear}; p(class k) = ${ova ? `sigmoid(${sigmoid} × ${sum} of class k)` : `softmax over classes of ${sum} of class k`} (${shrinkageNote})`,
    };
  }
  return {
    format: 'lightgbm-text',
    featureNames,
    trees,
    baseMargin: 0,
    marginScale: sigmoid ?? 1,
    transform: 'logistic',
    featureCategories,
    description: `LightGBM ${objective}, ${trees.length} trees${linear}; p = sigmoid(${sigmoid ?? 1} × ${sum}) (${shrinkageNote})`,
  };
}

/** Multiplies every output of a tree (leaf values, linear constants and coefficients) by `factor`. */
function scaleTree(tree: Tree, factor: number): void {
  for (let i = 0; i < tree.value.length; i++) if (tree.left[i] < 0) tree.value[i] *= factor;
  if (!tree.linear) return;
  for (let i = 0; i < tree.linear.constant.length; i++) tree.linear.constant[i] *= factor;
  for (const coefficients of tree.linear.coefficients) for (let i = 0; i < coefficients.length; i++) coefficients[i] *= factor;
}

/** Checks that every split reads a feature the model declares. */
export function checkFeatures(tree: Tree, width: number, fileName: string, index: number): void {
  for (let i = 0; i < tree.left.length; i++) {
    if (tree.left[i] >= 0 && tree.feature[i] >= width) throw new ModelLoadError(`${fileName}: tree ${index} node ${i} splits on feature ${tree.feature[i]}, but the model declares ${width} features. The file is damaged; export the model again.`);
  }
}

/**
 * Checks that a tree is a tree: every child index inside it, no node reached twice from
 * the root (so no cycle can make scoring loop forever), finite thresholds and leaf values.
 */
export function checkTree(tree: Tree, fileName: string, index: number): void {
  const n = tree.left.length;
  const seen = new Uint8Array(n);
  const stack = [0];
  while (stack.length) {
    const node = stack.pop()!;
    if (node < 0 || node >= n) throw new ModelLoadError(`${fileName}: tree ${index} points to node ${node}, outside the tree (${n} nodes). The file is damaged; export the model again.`);
    if (seen[node]) throw new ModelLoadError(`${fileName}: tree ${index} reaches node ${node} twice (a cycle or shared node). The file is damaged; export the model again.`);
    seen[node] = 1;
    if (tree.left[node] < 0) {
      if (!Number.isFinite(tree.value[node])) throw new ModelLoadError(`${fileName}: tree ${index} leaf ${node} has the value ${tree.value[node]}. The file is damaged; export the model again.`);
      continue;
    }
    if (Number.isNaN(tree.threshold[node]) && tree.rule[node] < 2) throw new ModelLoadError(`${fileName}: tree ${index} node ${node} splits at NaN. The file is damaged; export the model again.`);
    if (!(tree.feature[node] >= 0)) throw new ModelLoadError(`${fileName}: tree ${index} node ${node} splits on feature ${tree.feature[node]}. The file is damaged; export the model again.`);
    stack.push(tree.left[node], tree.right[node]);
  }
}

/** A tree of `n` nodes, all leaves of value 0, missing values following the default direction. */
export function emptyTree(n: number): Tree {
  return {
    feature: new Int32Array(n),
    threshold: new Float64Array(n),
    left: new Int32Array(n).fill(-1),
    right: new Int32Array(n).fill(-1),
    defaultLeft: new Uint8Array(n),
    value: new Float64Array(n),
    cover: null,
    rule: new Uint8Array(n),
    categories: new Array(n).fill(null),
    missingType: new Uint8Array(n).fill(MISSING.defaultDirection),
  };
}

function lightgbmTree(fields: Map<string, string>, index: number, fileName: string): Tree {
  const numLeaves = Number(fields.get('num_leaves'));
  const leafValues = numbers(fields.get('leaf_value'));
  if (!(numLeaves >= 1) || leafValues.length !== numLeaves) {
    throw new ModelLoadError(`${fileName}: tree ${index} is damaged (num_leaves ${fields.get('num_leaves')} but ${leafValues.length} leaf values). Save the model again.`);
  }
  const splitFeature = numbers(fields.get('split_feature'));
  const threshold = numbers(fields.get('threshold'));
  const decisionType = numbers(fields.get('decision_type'));
  const leftChild = numbers(fields.get('left_child'));
  const rightChild = numbers(fields.get('right_child'));
  const internal = numLeaves - 1;
  if ([splitFeature, threshold, decisionType, leftChild, rightChild].some((a) => a.length !== internal)) {
    throw new ModelLoadError(`${fileName}: tree ${index} is damaged (expected ${internal} splits). Save the model again.`);
  }
  const catBoundaries = numbers(fields.get('cat_boundaries'));
  const catThreshold = numbers(fields.get('cat_threshold'));
  const internalCount = numbers(fields.get('internal_count'));
  const leafCount = numbers(fields.get('leaf_count'));
  // Internal nodes keep their indices; leaf k becomes node internal + k.
  const n = internal + numLeaves;
  const node = (child: number) => (child < 0 ? internal + ~child : child);
  const tree = emptyTree(n);
  if (internalCount.length === internal && leafCount.length === numLeaves) tree.cover = new Float64Array(n);
  for (let i = 0; i < internal; i++) {
    const type = decisionType[i];
    tree.feature[i] = splitFeature[i];
    tree.threshold[i] = threshold[i];
    tree.left[i] = node(leftChild[i]);
    tree.right[i] = node(rightChild[i]);
    tree.defaultLeft[i] = type & 2 ? 1 : 0;
    const missingType = (type >> 2) & 3;
    tree.missingType[i] = missingType === 2 ? MISSING.defaultDirection : missingType === 1 ? MISSING.zeroDefaultDirection : MISSING.asZero;
    if (type & 1) {
      const k = threshold[i];
      const words = catThreshold.slice(catBoundaries[k], catBoundaries[k + 1]);
      const set = new Set<number>();
      words.forEach((word, w) => {
        for (let bit = 0; bit < 32; bit++) if ((word >>> bit) & 1) set.add(w * 32 + bit);
      });
      tree.rule[i] = 2;
      tree.categories[i] = set;
      // LightGBM sends NaN right when the missing type is NaN, else reads it as category 0.
      tree.missingType[i] = missingType === 2 ? MISSING.defaultDirection : MISSING.asZero;
      tree.defaultLeft[i] = 0;
    } else tree.rule[i] = 1;
    if (tree.cover) tree.cover[i] = internalCount[i];
  }
  for (let k = 0; k < numLeaves; k++) {
    tree.value[internal + k] = leafValues[k];
    if (tree.cover) tree.cover[internal + k] = leafCount[k];
  }
  if (fields.get('is_linear') === '1') tree.linear = linearLeaves(fields, internal, numLeaves, index, fileName);
  return tree;
}

/**
 * A linear tree's leaf models, by node: `leaf_const` per leaf, `num_features` per leaf, then
 * that many entries of `leaf_features` and `leaf_coeff` for each leaf in turn.
 */
function linearLeaves(fields: Map<string, string>, internal: number, numLeaves: number, index: number, fileName: string): NonNullable<Tree['linear']> {
  const constants = numbers(fields.get('leaf_const'));
  const counts = numbers(fields.get('num_features'));
  const features = numbers(fields.get('leaf_features'));
  const coefficients = numbers(fields.get('leaf_coeff'));
  const total = counts.reduce((sum, c) => sum + c, 0);
  if (constants.length !== numLeaves || counts.length !== numLeaves || features.length !== total || coefficients.length !== total || counts.some((c) => !(Number.isInteger(c) && c >= 0))) {
    throw new ModelLoadError(`${fileName}: tree ${index} has linear leaves (is_linear=1) whose leaf_const, num_features, leaf_features and leaf_coeff do not agree (${numLeaves} leaves, ${constants.length} constants, ${features.length} features and ${coefficients.length} coefficients for ${total} listed). The file is damaged; save the model again.`);
  }
  const n = internal + numLeaves;
  const linear = { constant: new Float64Array(n), features: Array.from({ length: n }, () => new Int32Array(0)), coefficients: Array.from({ length: n }, () => new Float64Array(0)) };
  let at = 0;
  for (let k = 0; k < numLeaves; k++) {
    linear.constant[internal + k] = constants[k];
    linear.features[internal + k] = Int32Array.from(features.slice(at, at + counts[k]));
    linear.coefficients[internal + k] = Float64Array.from(coefficients.slice(at, at + counts[k]));
    at += counts[k];
  }
  return linear;
}

/**
 * All trees in flat typed arrays with global node indices, laid out so that a node's right
 * child directly follows its left child: the fast evaluator then picks a child with
 * arithmetic instead of a branch. Built once per model.
 */
export interface CompiledEnsemble {
  roots: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  /** Left child (right child = left + 1); −1 at leaves. */
  left: Int32Array;
  /** 1 where a missing value goes right. */
  missingRight: Uint8Array;
  value: Float64Array;
  /** Every split is XGBoost's `float32(x) < t` with missing values following the default. */
  xgboostRule: boolean;
  /** The same trees padded to full binary trees, when they are shallow enough (see {@link fullLayout}). */
  full: FullTrees | null;
  /** The full trees for the WebAssembly kernel (null: deeper than it takes, split rules it does not take, no WebAssembly here, or turned off). */
  kernelModel: TreeKernelModel | null;
  /** The kernel for the last block width, made on first use. */
  kernel?: TreeKernel | null;
}

/**
 * Trees padded to full binary trees of their own depth, stored level by level: the children
 * of node i are 2i+1 and 2i+2, so a walk needs no child array and ends after `depth` steps
 * (one dependent load less per level). A leaf above the last level becomes a subtree whose
 * splits all go left (threshold +∞) and whose leaves all hold its value, so any path through
 * it ends at that value.
 */
interface FullTrees {
  depth: Int32Array;
  /** Where each tree's nodes start in `feature`/`threshold`/`missingRight`. */
  nodeStart: Int32Array;
  /** Where each tree's last level starts in `leaf`. */
  leafStart: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  missingRight: Uint8Array;
  leaf: Float64Array;
}

/** Deepest tree the JavaScript walk pads to a full tree (2^9 − 1 nodes); deeper ensembles keep the child array there. */
const FULL_MAX_DEPTH = 8;
/**
 * Deepest tree, and most padded nodes in all, the WebAssembly kernel takes (2^13 − 1 nodes a
 * tree; 2^21 nodes, 32 MiB in float64, in all): a padded walk of depth d costs d steps per
 * row, still far below a walk node by node in JavaScript.
 */
const KERNEL_MAX_DEPTH = 12;
const KERNEL_MAX_NODES = 2 ** 21;

/** The depth of a tree (a walk with an explicit stack: a fully grown tree is too deep to recurse over). */
export function treeDepth(tree: Tree): number {
  let deepest = 0;
  const nodes = [0];
  const depths = [0];
  while (nodes.length) {
    const node = nodes.pop()!;
    const depth = depths.pop()!;
    if (tree.left[node] < 0) {
      if (depth > deepest) deepest = depth;
      continue;
    }
    nodes.push(tree.left[node], tree.right[node]);
    depths.push(depth + 1, depth + 1);
  }
  return deepest;
}

/** The trees padded to full trees, or null when one is deeper than `maxDepth` or all would pass `maxNodes`. */
function fullLayout(ensemble: TreeEnsemble, maxDepth: number, maxNodes = Number.POSITIVE_INFINITY): FullTrees | null {
  const depths = ensemble.trees.map((tree) => treeDepth(tree));
  if (depths.some((d) => d > maxDepth)) return null;
  const nodes = depths.reduce((sum, d) => sum + ((1 << d) - 1), 0);
  if (nodes > maxNodes) return null;
  const leaves = depths.reduce((sum, d) => sum + (1 << d), 0);
  const full: FullTrees = {
    depth: Int32Array.from(depths),
    nodeStart: new Int32Array(depths.length),
    leafStart: new Int32Array(depths.length),
    feature: new Int32Array(nodes),
    threshold: new Float64Array(nodes),
    missingRight: new Uint8Array(nodes),
    leaf: new Float64Array(leaves),
  };
  let nodeAt = 0;
  let leafAt = 0;
  ensemble.trees.forEach((tree, t) => {
    const depth = depths[t];
    full.nodeStart[t] = nodeAt;
    full.leafStart[t] = leafAt;
    const place = (node: number, position: number, level: number): void => {
      if (level === depth) {
        full.leaf[leafAt + position - ((1 << depth) - 1)] = tree.value[node];
        return;
      }
      const leaf = tree.left[node] < 0;
      full.feature[nodeAt + position] = leaf ? 0 : tree.feature[node];
      full.threshold[nodeAt + position] = leaf ? Number.POSITIVE_INFINITY : tree.threshold[node];
      // Where a missing value goes, by the node's own rule (LightGBM's "None" reads it as 0).
      full.missingRight[nodeAt + position] = leaf || goesLeft(tree, node, Number.NaN) ? 0 : 1;
      place(leaf ? node : tree.left[node], 2 * position + 1, level + 1);
      place(leaf ? node : tree.right[node], 2 * position + 2, level + 1);
    };
    place(0, 0, 0);
    nodeAt += (1 << depth) - 1;
    leafAt += 1 << depth;
  });
  return full;
}

type KernelWalk = (trees: number, table: number, block: number, rows: number, rowBytes: number, out: number) => void;

/**
 * Full trees as the WebAssembly kernel's memory holds them (table, nodes and leaves: the
 * layout in tree-kernel-f32.wat / -f64.wat), with the base margin: all a thread needs to
 * score with the kernel, in one buffer. The worker pool sends this instead of the ensemble,
 * so a worker neither deserialises hundreds of trees nor compiles them.
 */
export interface TreeKernelModel {
  trees: number;
  baseMargin: number;
  /** 32: XGBoost's rule on float32 features; 64: LightGBM's on float64 ones. */
  precision: 32 | 64;
  image: Uint8Array;
}

/**
 * tree-kernel-f32.wat or -f64.wat over a {@link TreeKernelModel}, with room for one block of
 * rows. The same leaves are reached and added in the same order as by {@link goesLeft} node
 * by node, so the margins are equal to the bit; it is fast because WebAssembly loads need no
 * bounds check, XGBoost's float32 features are compared as float32, and eight rows are
 * walked side by side (their loads overlap: 686 → 384 ms per 100,000 rows, bench/NOTES.md).
 */
export interface TreeKernel {
  model: TreeKernelModel;
  width: number;
  /** Byte offsets in the kernel's memory: the block of features, then the margins. */
  block: number;
  out: number;
  /** Rows per block ({@link blockRowsFor} the width). */
  blockRows: number;
  /** Bytes of memory the model and one block take. */
  bytes: number;
}

/**
 * The kernel of one precision in this thread: one instance over one memory, grown as needed,
 * holding the model it last scored. Every model of that precision is scored in it; switching
 * models copies the new one's image in (~300 KB for 300 trees of depth 6, tens of
 * microseconds). A memory per model instead left one per opened model, in every pool worker,
 * to the garbage collector, each with the address space V8 reserves for a WebAssembly memory.
 * The memory keeps its largest size for the thread's life.
 */
interface KernelSlot {
  memory: WebAssembly.Memory;
  addComplete: KernelWalk;
  addCompleteWide: KernelWalk;
  addMissing: KernelWalk;
  addMissingWide: KernelWalk;
  /** The model whose image the memory holds. */
  loaded: TreeKernelModel | null;
  /** The memory's buffer as last seen (growing the memory detaches it). */
  buffer: ArrayBuffer | null;
  view32: Float32Array;
  view64: Float64Array;
}

const kernelSlots = new Map<32 | 64, KernelSlot>();

/** This thread's kernel of `precision`, its memory at least `bytes` long and holding `model`. */
function kernelSlot(model: TreeKernelModel, bytes: number): KernelSlot {
  let slot = kernelSlots.get(model.precision);
  if (!slot) {
    const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
    const { exports } = new WebAssembly.Instance(treeKernelModule(model.precision)!, { env: { memory } });
    slot = {
      memory,
      addComplete: exports.addComplete as KernelWalk,
      addCompleteWide: exports[`addComplete${TREE_KERNEL_LANES}`] as KernelWalk,
      addMissing: exports.addMissing as KernelWalk,
      addMissingWide: exports[`addMissing${TREE_KERNEL_LANES}`] as KernelWalk,
      loaded: null,
      buffer: null,
      view32: new Float32Array(0),
      view64: new Float64Array(0),
    };
    kernelSlots.set(model.precision, slot);
  }
  const have = slot.memory.buffer.byteLength;
  if (have < bytes) slot.memory.grow(Math.ceil((bytes - have) / 65536));
  if (slot.buffer !== slot.memory.buffer) {
    slot.buffer = slot.memory.buffer;
    slot.view32 = new Float32Array(slot.buffer);
    slot.view64 = new Float64Array(slot.buffer);
  }
  if (slot.loaded !== model) {
    new Uint8Array(slot.buffer).set(model.image);
    slot.loaded = model;
  }
  return slot;
}

const kernelModules = new Map<32 | 64, WebAssembly.Module | null>();

/** The compiled kernel of a precision, or null where the host has no WebAssembly (the JavaScript walk is then used). */
function treeKernelModule(precision: 32 | 64): WebAssembly.Module | null {
  if (!kernelModules.has(precision)) {
    try {
      kernelModules.set(precision, new WebAssembly.Module(precision === 32 ? TREE_KERNEL_F32 : TREE_KERNEL_F64));
    } catch {
      kernelModules.set(precision, null);
    }
  }
  return kernelModules.get(precision)!;
}

const scratch32 = new Float32Array(1);
const scratchBits = new Uint32Array(scratch32.buffer);

/**
 * The smallest float32 ≥ t. For a float32 x, `x >= t` exactly when `x >= float32AtLeast(t)`,
 * so the kernel can compare in float32 what XGBoost's rule compares in float64.
 */
export function float32AtLeast(t: number): number {
  const rounded = Math.fround(t);
  if (!(rounded < t)) return rounded;
  if (rounded === 0) return 2 ** -149;
  scratch32[0] = rounded;
  scratchBits[0] += rounded > 0 ? 1 : -1;
  return scratch32[0];
}

const scratch64 = new Float64Array(1);
const scratch64Bits = new BigUint64Array(scratch64.buffer);

/**
 * The smallest float64 > t, so that `x > t` (LightGBM's rule for going right) is `x >= it`
 * for every x that is not NaN; NaN for t = +∞ or NaN, since no x is greater.
 */
export function float64Above(t: number): number {
  if (Number.isNaN(t) || t === Number.POSITIVE_INFINITY) return Number.NaN;
  if (t === 0) return Number.MIN_VALUE;
  scratch64[0] = t;
  scratch64Bits[0] += t > 0 ? 1n : -1n;
  return scratch64[0];
}

/** Largest kernel memory (addresses are i32). */
const KERNEL_MAX_BYTES = 2 ** 31 - 65536;

function kernelModelOf(full: FullTrees, baseMargin: number, precision: 32 | 64): TreeKernelModel | null {
  const trees = full.depth.length;
  const cell = precision / 8;
  // A node: the feature's byte offset (i32), then the threshold at half the node's size.
  const nodeBytes = 2 * cell;
  const nodes = trees * 16;
  const leaves = nodes + full.feature.length * nodeBytes;
  const size = leaves + full.leaf.length * 8;
  if (!treeKernelModule(precision) || size > KERNEL_MAX_BYTES / 2) return null;
  const image = new Uint8Array(size);
  const ints = new Int32Array(image.buffer);
  const floats = new Float32Array(image.buffer);
  const doubles = new Float64Array(image.buffer);
  for (let t = 0; t < trees; t++) {
    const depth = full.depth[t];
    ints[t * 4] = depth;
    ints[t * 4 + 1] = nodes + full.nodeStart[t] * nodeBytes;
    ints[t * 4 + 2] = leaves + (full.leafStart[t] - ((1 << depth) - 1)) * 8;
  }
  for (let i = 0; i < full.feature.length; i++) {
    const at = nodes + i * nodeBytes;
    ints[at / 4] = (full.feature[i] * cell) | (full.missingRight[i] << 31);
    // XGBoost's float32(x) < t goes left; LightGBM's x <= t does: the kernel goes right on x >= threshold.
    if (precision === 32) floats[(at + cell) / 4] = float32AtLeast(full.threshold[i]);
    else doubles[(at + cell) / 8] = float64Above(full.threshold[i]);
  }
  doubles.set(full.leaf, leaves / 8);
  return { trees, baseMargin, precision, image };
}

/** The kernel over `model` with room for a block of `width` features; null where that would not fit a WebAssembly memory. */
export function treeKernel(model: TreeKernelModel, width: number): TreeKernel | null {
  const cell = model.precision / 8;
  const block = model.image.length;
  const blockRows = blockRowsFor(width, cell);
  const out = block + Math.ceil((blockRows * width * cell) / 8) * 8;
  const bytes = out + blockRows * 8;
  if (!treeKernelModule(model.precision) || bytes > KERNEL_MAX_BYTES) return null;
  return { model, width, block, out, blockRows, bytes };
}

/** The kernel for blocks of `width` features, made once per compiled model and width. */
function kernelOf(compiled: CompiledEnsemble, width: number): TreeKernel | null {
  if (!compiled.kernelModel) return null;
  if (compiled.kernel === undefined || (compiled.kernel && compiled.kernel.width !== width)) compiled.kernel = treeKernel(compiled.kernelModel, width);
  return compiled.kernel;
}

/** The model to send to another thread's {@link treeKernel} for rows of `width` features, when the kernel scores this ensemble. */
export function kernelModelFor(compiled: CompiledEnsemble, width: number): TreeKernelModel | null {
  return kernelOf(compiled, width) ? compiled.kernelModel : null;
}

/**
 * Flattens an ensemble for {@link marginsOf}, children adjacent (breadth-first per tree).
 * `wasm: false` keeps the walk in JavaScript (tests compare the two).
 */
export function compileEnsemble(ensemble: TreeEnsemble, options: { wasm?: boolean } = {}): CompiledEnsemble {
  const total = ensemble.trees.reduce((sum, tree) => sum + tree.left.length, 0);
  const compiled: CompiledEnsemble = {
    roots: new Int32Array(ensemble.trees.length),
    feature: new Int32Array(total),
    threshold: new Float64Array(total),
    left: new Int32Array(total).fill(-1),
    missingRight: new Uint8Array(total),
    value: new Float64Array(total),
    xgboostRule: true,
    full: null,
    kernelModel: null,
  };
  let lightgbmRule = true;
  let next = 0;
  ensemble.trees.forEach((tree, t) => {
    compiled.roots[t] = next;
    // Breadth-first: place the root, then each node's two children side by side.
    const queue: [number, number][] = [[0, next++]];
    for (let q = 0; q < queue.length; q++) {
      const [i, at] = queue[q];
      compiled.value[at] = tree.value[i];
      if (tree.left[i] < 0) continue;
      compiled.feature[at] = tree.feature[i];
      compiled.threshold[at] = tree.threshold[i];
      compiled.missingRight[at] = tree.defaultLeft[i] ? 0 : 1;
      compiled.left[at] = next;
      queue.push([tree.left[i], next++], [tree.right[i], next++]);
      if (tree.rule[i] !== 0 || tree.missingType[i] !== MISSING.defaultDirection) compiled.xgboostRule = false;
      if (tree.rule[i] !== 1 || tree.missingType[i] === MISSING.zeroDefaultDirection) lightgbmRule = false;
    }
    // A linear leaf's output depends on the row: only the node-by-node walk computes it.
    if (tree.linear) compiled.xgboostRule = lightgbmRule = false;
  });
  if (compiled.xgboostRule) compiled.full = fullLayout(ensemble, FULL_MAX_DEPTH);
  // The kernel: XGBoost's rule in float32, or LightGBM's numeric splits (NaN to the default
  // side or read as 0) in float64; categorical splits and LightGBM's "Zero" missing type are
  // walked node by node.
  const precision = compiled.xgboostRule ? 32 : lightgbmRule ? 64 : null;
  if (precision && options.wasm !== false) {
    const full = compiled.full ?? fullLayout(ensemble, KERNEL_MAX_DEPTH, KERNEL_MAX_NODES);
    if (full) compiled.kernelModel = kernelModelOf(full, ensemble.baseMargin, precision);
  }
  return compiled;
}

/** {@link addTree} on a full tree: `depth` steps, the child by arithmetic. */
function addFullTree(full: FullTrees, t: number, block: Float32Array, width: number, count: number, out: Float64Array, at: number): void {
  const { feature, threshold, missingRight, leaf } = full;
  const depth = full.depth[t];
  const start = full.nodeStart[t];
  const last = full.leafStart[t] - ((1 << depth) - 1);
  for (let r = 0; r < count; r++) {
    const base = r * width;
    let node = 0;
    for (let level = 0; level < depth; level++) {
      const v = block[base + feature[start + node]];
      node = 2 * node + 1 + ((v >= threshold[start + node] ? 1 : 0) | (v !== v ? missingRight[start + node] : 0));
    }
    out[at + r] += leaf[last + node];
  }
}

/** {@link addFullTree} for a block without missing values. */
function addFullTreeComplete(full: FullTrees, t: number, block: Float32Array, width: number, count: number, out: Float64Array, at: number): void {
  const { feature, threshold, leaf } = full;
  const depth = full.depth[t];
  const start = full.nodeStart[t];
  const last = full.leafStart[t] - ((1 << depth) - 1);
  for (let r = 0; r < count; r++) {
    const base = r * width;
    let node = 0;
    for (let level = 0; level < depth; level++) node = 2 * node + 1 + +(block[base + feature[start + node]] >= threshold[start + node]);
    out[at + r] += leaf[last + node];
  }
}

/** Adds one tree's leaf values for `count` rows of a block (rows × width float32) to `out[at…]`; a missing value follows the node's default side. */
function addTree(compiled: CompiledEnsemble, root: number, block: Float32Array, width: number, count: number, out: Float64Array, at: number): void {
  const { feature, threshold, left, missingRight, value } = compiled;
  for (let r = 0; r < count; r++) {
    const base = r * width;
    let node = root;
    let child = left[node];
    while (child >= 0) {
      const v = block[base + feature[node]];
      // Right when v >= t, or when v is missing and missing goes right.
      node = child + ((v >= threshold[node] ? 1 : 0) | (v !== v ? missingRight[node] : 0));
      child = left[node];
    }
    out[at + r] += value[node];
  }
}

/** {@link addTree} for a block without missing values: the child is chosen by one comparison. */
function addTreeComplete(compiled: CompiledEnsemble, root: number, block: Float32Array, width: number, count: number, out: Float64Array, at: number): void {
  const { feature, threshold, left, value } = compiled;
  for (let r = 0; r < count; r++) {
    const base = r * width;
    let node = root;
    let child = left[node];
    while (child >= 0) {
      node = child + +(block[base + feature[node]] >= threshold[node]);
      child = left[node];
    }
    out[at + r] += value[node];
  }
}

/**
 * Rows scored per block: one tree stays in cache while it walks the whole block, and the
 * block (4,096 rows × features as float32) stays in L2. Measured on 300 trees of depth 6:
 * 256 rows 1.8 s per 100,000 rows, 2,048–8,192 rows 1.1 s (bench/NOTES.md). Models with
 * hundreds of features take fewer rows per block, so a block stays within 4 MiB (the
 * WebAssembly kernel's memory keeps its largest block for the thread's life).
 */
const BLOCK_ROWS = 4096;
const BLOCK_BYTES = 4 * 1024 * 1024;

/** Rows per block for `width` features of `cell` bytes. */
function blockRowsFor(width: number, cell = 4): number {
  return Math.min(BLOCK_ROWS, Math.max(256, Math.floor(BLOCK_BYTES / (cell * Math.max(1, width)))));
}

/**
 * Margins (raw scores) of `rows`, reading feature j from `columns[j]`. Trees up to depth 12
 * with XGBoost's rule or LightGBM's numeric splits are walked by the WebAssembly kernel
 * (tree-kernel-f32.wat / -f64.wat: tree-major over blocks of rows, the child chosen by
 * arithmetic, eight rows side by side). Where the host has no WebAssembly, XGBoost-rule
 * trees take the same walk in JavaScript, with the same sums; the rest go through
 * {@link goesLeft} node by node.
 */
export function marginsOf(ensemble: TreeEnsemble, compiled: CompiledEnsemble, columns: Float64Array[], rows: Uint32Array, out: Float64Array): void {
  const width = columns.length;
  const kernel = kernelOf(compiled, width);
  if (kernel) {
    kernelMargins(kernel, columns, rows, out);
    return;
  }
  if (!compiled.xgboostRule) {
    const x = new Float64Array(width);
    for (let r = 0; r < rows.length; r++) {
      for (let j = 0; j < width; j++) x[j] = columns[j][rows[r]];
      out[r] = treeMargin(ensemble, x);
    }
    return;
  }
  const { roots } = compiled;
  const blockRows = blockRowsFor(width);
  const block = new Float32Array(blockRows * width);
  for (let start = 0; start < rows.length; start += blockRows) {
    const end = Math.min(rows.length, start + blockRows);
    const missing = fillBlock(block, columns, rows, start, end);
    for (let r = start; r < end; r++) out[r] = ensemble.baseMargin;
    // Small kernels: V8 optimises them fully (one large function with both loops stayed ~40% slower).
    const full = compiled.full;
    for (let t = 0; t < roots.length; t++) {
      if (full) {
        if (missing) addFullTree(full, t, block, width, end - start, out, start);
        else addFullTreeComplete(full, t, block, width, end - start, out, start);
      } else if (missing) addTree(compiled, roots[t], block, width, end - start, out, start);
      else addTreeComplete(compiled, roots[t], block, width, end - start, out, start);
    }
  }
}

/** Margins of `rows` by the WebAssembly kernel: {@link marginsOf} on another thread, from a {@link TreeKernelModel}. */
export function kernelMargins(kernel: TreeKernel, columns: Float64Array[], rows: Uint32Array, out: Float64Array): void {
  const { model, width, block, blockRows } = kernel;
  const { baseMargin } = model;
  const slot = kernelSlot(model, kernel.bytes);
  const features = model.precision === 32 ? slot.view32.subarray(block / 4, block / 4 + blockRows * width) : slot.view64.subarray(block / 8, block / 8 + blockRows * width);
  const sums = slot.view64.subarray(kernel.out / 8, kernel.out / 8 + blockRows);
  const rowBytes = width * features.BYTES_PER_ELEMENT;
  for (let start = 0; start < rows.length; start += blockRows) {
    const end = Math.min(rows.length, start + blockRows);
    const missing = fillBlock(features, columns, rows, start, end);
    const count = end - start;
    sums.fill(baseMargin, 0, count);
    // Rows in groups walked side by side, then the few left one at a time.
    const wide = count - (count % TREE_KERNEL_LANES);
    (missing ? slot.addMissingWide : slot.addCompleteWide)(model.trees, 0, block, wide, rowBytes, kernel.out);
    if (wide < count) (missing ? slot.addMissing : slot.addComplete)(model.trees, 0, block + wide * rowBytes, count - wide, rowBytes, kernel.out + wide * 8);
    out.set(sums.subarray(0, count), start);
  }
}

/** Writes rows [start, end) into `block` (float32: rounded, as XGBoost reads them), row-major; true when a cell is missing. */
function fillBlock(block: Float32Array | Float64Array, columns: Float64Array[], rows: Uint32Array, start: number, end: number): boolean {
  const width = columns.length;
  let missing = false;
  for (let r = start; r < end; r++) {
    const base = (r - start) * width;
    for (let j = 0; j < width; j++) {
      const v = columns[j][rows[r]];
      block[base + j] = v;
      if (v !== v) missing = true;
    }
  }
  return missing;
}
