/**
 * The LightGBM text reader (`save_model("m.txt")`): binary and multiclass classifiers,
 * categorical splits, linear leaves and random-forest mode, into a {@link TreeEnsemble}.
 */
import { ModelLoadError, quote } from '../../base/errors';
import { emptyTree, MISSING, type Tree, type TreeEnsemble } from './ensemble';
import { checkFeatures, checkTree, listedFeatures } from './validate';
import { pandasCategoriesOf } from './pandas-categories';

/** Whether bytes look like a LightGBM text model. */
export function looksLikeLightgbmText(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 256));
  return /^tree\r?\nversion=/.test(head);
}

/**
 * A line of numbers as LightGBM writes them: C's `inf` and `-inf` included (a split of
 * "missing or not" on a column with missing values has the threshold `inf`), where
 * Number() would read NaN.
 */
function numbers(line: string | undefined): number[] {
  return line === undefined || line.trim() === '' ? [] : line.trim().split(/\s+/).map(lightgbmNumber);
}

function lightgbmNumber(text: string): number {
  const lower = text.toLowerCase();
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity') return Number.POSITIVE_INFINITY;
  if (lower === '-inf' || lower === '-infinity') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/**
 * Reads a LightGBM text model: `x <= threshold` goes left, decision_type bits (categorical,
 * default left, missing type None/Zero/NaN), categorical bitsets, leaf values and counts,
 * and the sigmoid of binary objectives.
 */
export function readLightgbmText(bytes: Uint8Array, fileName: string, features?: readonly string[]): TreeEnsemble {
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
  if (/^(cross_entropy_lambda|xentlambda)\b/.test(objective)) {
    throw new ModelLoadError(`${fileName}: the LightGBM objective ${quote(objective)} predicts λ = log(1 + e^margin), an intensity that can exceed 1, not a probability to audit at a threshold. Audit the probability your system uses as a score column (--score, data.score_column), or train the model with objective=binary or cross_entropy.`);
  }
  if (!multiclass && sigmoid === null && !/^(cross_entropy|xentropy)(\s|$)/.test(objective)) {
    // A custom objective (a Python callable) leaves the file without one: its output is a raw margin whose link the file does not say.
    throw new ModelLoadError(objective === '' || objective === 'custom' || objective === 'none'
      ? `${fileName}: the model was trained with a custom objective (the file names none), so it does not say how its raw output becomes a probability. Audit the probability your system computes from it as a score column (--score, data.score_column), or train the model with objective=binary or multiclass.`
      : /^(regression|regression_l1|l1|l2|mse|mae|huber|fair|poisson|quantile|mape|gamma|tweedie|rmse|root_mean_squared_error)(\s|$)/.test(objective)
        ? `${fileName}: the LightGBM objective ${quote(objective)} is a regression, and LightGBM regressors are not read yet: convert the model to ONNX (onnxmltools.convert_lightgbm) and audit that file as a regression (task: regression).`
        : `${fileName}: the LightGBM objective ${quote(objective)} does not produce a classifier score. Audit a model trained with objective=binary or multiclass.`);
  }
  // Random-forest mode (boosting=rf) writes `average_output`: the prediction is the mean of the trees' outputs.
  const averageOutput = /^average_output\s*$/m.test(blocks[0]);
  const { featureNames, unnamedFeatures } = featureNamesOf((header.get('feature_names') ?? '').split(/\s+/).filter(Boolean), features, fileName);
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
  // A model trained on pandas category columns: the trees split on positions in each column's categories.
  const pandasCategories = pandasCategoriesOf(text, featureNames.length, fileName, featureCategories);
  const categoriesOf = pandasCategories ? { pandasCategories } : {};
  const iterations = trees.length / (multiclass ? numClass : 1);
  if (averageOutput) for (const tree of trees) scaleTree(tree, 1 / iterations);
  const linear = trees.some((tree) => tree.linear) ? ', linear leaves (constant + coefficients · features; a missing feature falls back to the leaf value)' : '';
  const sum = averageOutput ? `the mean of the ${iterations} iterations' leaves (random-forest mode, average_output)` : 'Σ leaves';
  const shrinkageNote = 'leaf values already include shrinkage';
  if (multiclass) {
    return {
      format: 'lightgbm-text',
      featureNames,
      ...(unnamedFeatures ? { unnamedFeatures } : {}),
      trees,
      baseMargin: 0,
      marginScale: ova ? sigmoid! : 1,
      transform: 'identity',
      multiclass: { classes: numClass, treeClass: Int32Array.from(trees, (_, t) => t % numClass), transform: ova ? 'logistic' : 'softmax' },
      featureCategories,
      ...categoriesOf,
      description: `LightGBM ${objective}, ${numClass} classes, ${trees.length} trees${linear}; p(class k) = ${ova ? `sigmoid(${sigmoid} × ${sum} of class k)` : `softmax over classes of ${sum} of class k`} (${shrinkageNote})`,
    };
  }
  return {
    format: 'lightgbm-text',
    featureNames,
    ...(unnamedFeatures ? { unnamedFeatures } : {}),
    trees,
    baseMargin: 0,
    marginScale: sigmoid ?? 1,
    transform: 'logistic',
    featureCategories,
    ...categoriesOf,
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
      // LightGBM sends NaN right at a category split whatever its missing type (Tree::
      // CategoricalDecision since v3.3.0; before, NaN cast to int was negative, which also went right).
      tree.missingType[i] = MISSING.defaultDirection;
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
 * The model's feature names. A model trained on an array (numpy) has LightGBM's own names
 * Column_0…Column_n−1: the columns `features` lists (model.features, in training order) name
 * them, else they stand, marked unnamed (scoring asks for the order, as for XGBoost's f0…).
 */
function featureNamesOf(stored: string[], features: readonly string[] | undefined, fileName: string): { featureNames: string[]; unnamedFeatures: boolean } {
  const unnamed = stored.length > 0 && stored.every((name, j) => name === `Column_${j}`);
  if (!unnamed) return { featureNames: stored, unnamedFeatures: false };
  if (!features) return { featureNames: stored, unnamedFeatures: true };
  return { featureNames: listedFeatures(features, stored.length, fileName, ` (LightGBM's Column_0…Column_${stored.length - 1})`), unnamedFeatures: false };
}
