/**
 * The tree-ensemble model: one flat form for every tree file the audit reads (XGBoost JSON,
 * LightGBM text, ONNX), with the split-rule and missing-value codes, and the small helpers
 * that make or narrow one (an empty tree, one class's trees).
 */

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

/** Turns the summed raw score into p(positive). */
export type OutputTransform = 'logistic' | 'identity';

/** A binary classifier made of trees, scored by the project's own evaluator. */
export interface TreeEnsemble {
  format: 'xgboost-json' | 'lightgbm-text' | 'onnx';
  featureNames: string[];
  /** The file names no features (an XGBoost model trained on an array): `featureNames` are its own f0…fn−1, which no table holds; model.features names them. */
  unnamedFeatures?: boolean;
  /**
   * The value the model reads as missing besides NaN: XGBoost's scikit-learn wrapper trained
   * with missing=-999 (or 0) stores it (learner.attributes.scikit_learn), and its predictions
   * send a cell of that value down each split's missing branch. See {@link withMissingValue}.
   */
  missingValue?: number;
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
  /** A LightGBM model trained on pandas category columns: each such feature's categories, whose positions the trees split on (see pandas-categories.ts). */
  pandasCategories?: (readonly (string | number)[] | null)[];
  /**
   * onnxruntime's arithmetic (an ONNX tree ensemble scored as onnxruntime scores it): the
   * leaves added from 0 in float32, each sum rounded to float32, then the base margin added
   * in float32. Otherwise the margin is the float64 sum from the base margin.
   */
  float32Sums?: boolean;
}

/** One class's trees of a multiclass ensemble, as an ensemble of its own whose margin is that class's. */
export function classEnsemble(ensemble: TreeEnsemble, k: number): TreeEnsemble {
  const { multiclass } = ensemble;
  if (!multiclass) return ensemble;
  // The same object for the same class on every call: the pool sends an ensemble to a thread once per object.
  let parts = classParts.get(ensemble);
  if (!parts) classParts.set(ensemble, (parts = new Map()));
  let part = parts.get(k);
  if (!part) {
    part = { ...ensemble, trees: ensemble.trees.filter((_, t) => multiclass.treeClass[t] === k), baseMargin: multiclass.baseMargins?.[k] ?? ensemble.baseMargin, transform: 'identity', marginScale: 1, multiclass: undefined };
    parts.set(k, part);
  }
  return part;
}

const classParts = new WeakMap<TreeEnsemble, Map<number, TreeEnsemble>>();

/** Whether an ensemble has linear leaves (they need the node-by-node walk, and no TreeSHAP applies). */
export function hasLinearLeaves(ensemble: TreeEnsemble): boolean {
  return ensemble.trees.some((tree) => tree.linear !== undefined);
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

/**
 * A model input column as the model reads it: cells holding the model's own missing value
 * (`missingValue`, XGBoost's missing=-999) as NaN; the column itself where it holds none.
 */
export function withMissingValue(values: Float64Array, missingValue: number | undefined): Float64Array {
  if (missingValue === undefined || !values.includes(missingValue)) return values;
  return values.map((v) => (v === missingValue ? Number.NaN : v));
}
