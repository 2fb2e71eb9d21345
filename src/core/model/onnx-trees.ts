import type { AttributeProto, ModelProto, NodeProto } from 'onnx-buf';
import { ModelLoadError } from '../base/errors';
import { checkFeatures, checkTree, emptyTree, type Tree, type TreeEnsemble } from './tree';

/** One UTF-8 decoder for every name and string attribute (a tree's node modes are one string a node). */
const utf8 = new TextDecoder();

/**
 * Reads the trees of an ONNX tree classifier whose tree node takes the model's single
 * [N, F] input directly (through Identity/Cast at most): TreeEnsembleClassifier /
 * TreeEnsembleRegressor (ai.onnx.ml ≤ 3, legacy attributes) or TreeEnsemble (ai.onnx.ml 5).
 * Returns null when the trees sit behind other preprocessing (their inputs are then not
 * the user's columns). Leaf values are the positive class's weights: a forest's averaged
 * probabilities (post-transform NONE) or a boosted model's margins (LOGISTIC).
 */
export function onnxTreeEnsemble(model: ModelProto, fileName: string, width: number, behindPreprocessing = false, positiveColumn = 1): TreeEnsemble | null {
  const graph = model.graph!;
  const node = graph.node.find((n) => ['TreeEnsembleClassifier', 'TreeEnsembleRegressor', 'TreeEnsemble'].includes(n.opType));
  if (!node) return null;
  const passThrough = graph.node.filter((n) => n !== node && n.opType !== 'ZipMap');
  // The caller vouches for the preprocessing (it encodes the features itself).
  if (!behindPreprocessing && passThrough.some((n) => n.opType !== 'Identity' && n.opType !== 'Cast')) return null;
  const featureNames = Array.from({ length: width }, (_, j) => `x${j}`);
  const ensemble = node.opType === 'TreeEnsemble' ? readV5(node, fileName, featureNames) : readLegacy(node, fileName, featureNames, positiveColumn);
  if (!ensemble) return null;
  ensemble.trees.forEach((tree, t) => {
    checkTree(tree, fileName, t);
    checkFeatures(tree, width, fileName, t);
  });
  return ensemble;
}

export const attr = (node: NodeProto, name: string): AttributeProto | undefined => node.attribute.find((a) => a.name === name);
const ints = (node: NodeProto, name: string) => (attr(node, name)?.ints ?? []).map(Number);
const floats = (node: NodeProto, name: string): number[] => {
  const a = attr(node, name);
  if (!a) return [];
  if (a.floats.length) return a.floats;
  const t = a.t;
  if (!t) return [];
  if (t.floatData.length) return t.floatData;
  if (t.doubleData.length) return t.doubleData;
  if (t.rawData.length) return Array.from(new Float32Array(t.rawData.slice().buffer));
  return [];
};
const text = (a: AttributeProto | undefined) => (a ? utf8.decode(a.s) : '');


/** Sets a split node from an ONNX mode; GTE/GT become LT/LEQ with the children swapped. */
function setSplit(tree: Tree, i: number, mode: string, feature: number, threshold: number, trueChild: number, falseChild: number, missingTrue: boolean, fileName: string): void {
  tree.feature[i] = feature;
  tree.threshold[i] = threshold;
  const swap = mode === 'BRANCH_GTE' || mode === 'BRANCH_GT';
  if (mode === 'BRANCH_LEQ' || mode === 'BRANCH_GT') tree.rule[i] = 4;
  else if (mode === 'BRANCH_LT' || mode === 'BRANCH_GTE') tree.rule[i] = 0;
  else throw new ModelLoadError(`${fileName}: tree split mode ${mode} is not supported by the explainer (BRANCH_LEQ, BRANCH_LT, BRANCH_GTE, BRANCH_GT are).`);
  tree.left[i] = swap ? falseChild : trueChild;
  tree.right[i] = swap ? trueChild : falseChild;
  // A missing value goes to the true branch when tracked, else compares false (false branch).
  const toTrue = missingTrue;
  tree.defaultLeft[i] = swap ? (toTrue ? 0 : 1) : toTrue ? 1 : 0;
}

/** The largest of many numbers (a loop: spreading hundreds of thousands of arguments overflows the stack). */
function largest(values: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > max) max = v;
  return max;
}

/** A legacy TreeEnsembleClassifier/Regressor's trees (splits only, leaves at 0) and its leaves' weights by class. */
export interface LegacyTrees {
  trees: Tree[];
  leafTrees: number[];
  leafNodes: number[];
  leafClasses: number[];
  leafWeights: number[];
  postTransform: string;
  baseValues: number[];
}

/** Reads a legacy tree node's splits and leaf lists, refusing ids that do not fit the node count. */
export function legacyTrees(node: NodeProto, fileName: string): LegacyTrees {
  const treeIds = ints(node, 'nodes_treeids');
  const nodeIds = ints(node, 'nodes_nodeids');
  const featureIds = ints(node, 'nodes_featureids');
  const values = floats(node, 'nodes_values');
  const modes = (attr(node, 'nodes_modes')?.strings ?? []).map((s) => utf8.decode(s));
  const trueIds = ints(node, 'nodes_truenodeids');
  const falseIds = ints(node, 'nodes_falsenodeids');
  const missingTrue = ints(node, 'nodes_missing_value_tracks_true');
  const classifier = node.opType === 'TreeEnsembleClassifier';
  // Sizes are checked against the node count before anything is allocated: a tree id or
  // node id of 1e9 in a small file would otherwise ask for arrays of a billion entries.
  const treeCount = largest(treeIds) + 1;
  if (!(treeCount >= 1 && treeCount <= treeIds.length)) {
    throw new ModelLoadError(`${fileName}: the tree node lists ${treeIds.length.toLocaleString('en-US')} nodes but a tree id of ${(treeCount - 1).toLocaleString('en-US')}: the file is damaged or was altered. Export the model again.`);
  }
  const sizes = new Array<number>(treeCount).fill(0);
  for (let k = 0; k < treeIds.length; k++) sizes[treeIds[k]] = Math.max(sizes[treeIds[k]], nodeIds[k] + 1);
  const largestTree = largest(sizes);
  if (largestTree > treeIds.length) {
    throw new ModelLoadError(`${fileName}: the tree node lists ${treeIds.length.toLocaleString('en-US')} nodes but a node id of ${(largestTree - 1).toLocaleString('en-US')}: the file is damaged or was altered. Export the model again.`);
  }
  const trees = sizes.map((n) => emptyTree(n));
  for (let k = 0; k < treeIds.length; k++) {
    if (modes[k] === 'LEAF') continue;
    setSplit(trees[treeIds[k]], nodeIds[k], modes[k], featureIds[k], values[k], trueIds[k], falseIds[k], missingTrue[k] === 1, fileName);
  }
  return {
    trees,
    leafTrees: ints(node, classifier ? 'class_treeids' : 'target_treeids'),
    leafNodes: ints(node, classifier ? 'class_nodeids' : 'target_nodeids'),
    leafClasses: ints(node, classifier ? 'class_ids' : 'target_ids'),
    leafWeights: floats(node, classifier ? 'class_weights' : 'target_weights'),
    postTransform: text(attr(node, 'post_transform')) || 'NONE',
    baseValues: floats(node, 'base_values'),
  };
}

/**
 * The trees of a legacy TreeEnsembleClassifier/Regressor, reading the weights of the
 * positive class's column; null when they cannot be read as one margin (a model of more
 * than two classes, or a binary model storing one column read for class 0 without a
 * logistic transform), and the explainer then falls back to one that needs no trees.
 */
function readLegacy(node: NodeProto, fileName: string, featureNames: string[], positiveColumn: number): TreeEnsemble | null {
  if (node.opType === 'TreeEnsembleClassifier' && legacyClassCount(node) > 2) return null;
  const { trees, leafTrees, leafNodes, leafClasses, leafWeights, postTransform, baseValues } = legacyTrees(node, fileName);
  // The positive class's weights: its column when the node stores both classes; a binary
  // boosted model stores one column, the margin of class 1 (read negated for class 0).
  const bothStored = leafClasses.some((c) => c === 1);
  const positiveClass = bothStored ? positiveColumn : 0;
  const negate = !bothStored && positiveColumn === 0;
  const transform = postTransform === 'LOGISTIC' ? 'logistic' : postTransform === 'NONE' ? 'identity' : null;
  if (!transform) throw new ModelLoadError(`${fileName}: tree post_transform ${postTransform} is not supported by the explainer (NONE and LOGISTIC are).`);
  if (negate && transform !== 'logistic') return null;
  for (let k = 0; k < leafTrees.length; k++) {
    if (leafClasses[k] === positiveClass) trees[leafTrees[k]].value[leafNodes[k]] += negate ? -leafWeights[k] : leafWeights[k];
  }
  const base = baseValues[positiveClass] ?? baseValues[0] ?? 0;
  return {
    format: 'onnx',
    featureNames,
    trees,
    baseMargin: negate ? -base : base,
    marginScale: 1,
    transform,
    description: `ONNX ${node.opType}, ${trees.length} trees, post_transform ${postTransform}`,
  };
}

/** The classes a legacy TreeEnsembleClassifier names. */
export function legacyClassCount(node: NodeProto): number {
  return ints(node, 'classlabels_int64s').length || (attr(node, 'classlabels_strings')?.strings.length ?? 0);
}

/**
 * Every class's trees of an ONNX multiclass tree classifier (legacy TreeEnsembleClassifier
 * of more than two classes, whose tree node takes the model's single [N, F] input, as
 * {@link onnxTreeEnsemble} requires), for TreeSHAP per class: each tree that weighs a class's
 * leaves becomes one tree of that class (a forest's tree, weighing every class, becomes C),
 * with the class's base value. post_transform SOFTMAX reads the margins through a softmax,
 * LOGISTIC each through its sigmoid, NONE as the probabilities themselves (a forest's
 * averaged class shares). Null for a binary model (see {@link onnxTreeEnsemble}), a
 * regressor, or trees behind preprocessing. ONNX files carry no node covers, so only
 * interventional TreeSHAP (against background rows) applies.
 */
export function onnxClassEnsemble(model: ModelProto, fileName: string, width: number, behindPreprocessing = false): TreeEnsemble | null {
  const graph = model.graph!;
  const node = graph.node.find((n) => n.opType === 'TreeEnsembleClassifier');
  if (!node || graph.node.some((n) => n.opType === 'TreeEnsemble' || n.opType === 'TreeEnsembleRegressor')) return null;
  if (!behindPreprocessing && graph.node.some((n) => n !== node && !['Identity', 'Cast', 'ZipMap'].includes(n.opType))) return null;
  const classes = legacyClassCount(node);
  if (classes <= 2) return null;
  const { trees, leafTrees, leafNodes, leafClasses, leafWeights, postTransform, baseValues } = legacyTrees(node, fileName);
  const transform = postTransform === 'SOFTMAX' ? 'softmax' : postTransform === 'LOGISTIC' ? 'logistic' : postTransform === 'NONE' ? 'identity' : null;
  if (!transform) throw new ModelLoadError(`${fileName}: tree post_transform ${postTransform} is not supported by the explainer (SOFTMAX, LOGISTIC and NONE are).`);
  // One value array per (tree, class) that the leaves weigh; the split arrays are shared.
  const values = new Map<number, Float64Array>();
  for (let k = 0; k < leafTrees.length; k++) {
    const [t, c] = [leafTrees[k], leafClasses[k]];
    if (!(c >= 0 && c < classes)) throw new ModelLoadError(`${fileName}: a leaf of tree ${t} weighs class ${c}, but the model names ${classes} classes: the file is damaged or was altered. Export the model again.`);
    const key = c * trees.length + t;
    if (!values.has(key)) values.set(key, new Float64Array(trees[t].value.length));
    values.get(key)![leafNodes[k]] += leafWeights[k];
  }
  const classTrees: Tree[] = [];
  const treeClass: number[] = [];
  for (const key of [...values.keys()].sort((a, b) => a - b)) {
    const t = key % trees.length;
    classTrees.push({ ...trees[t], value: values.get(key)! });
    treeClass.push(Math.floor(key / trees.length));
  }
  const bases = Float64Array.from({ length: classes }, (_, k) => baseValues[k] ?? 0);
  const ensemble: TreeEnsemble = {
    format: 'onnx',
    featureNames: Array.from({ length: width }, (_, j) => `x${j}`),
    trees: classTrees,
    baseMargin: 0,
    marginScale: 1,
    transform: 'identity',
    description: `ONNX ${node.opType}, ${classes} classes, ${trees.length} trees, post_transform ${postTransform}`,
    multiclass: { classes, treeClass: Int32Array.from(treeClass), transform, baseMargins: bases },
  };
  ensemble.trees.forEach((tree, t) => {
    checkTree(tree, fileName, t);
    checkFeatures(tree, width, fileName, t);
  });
  return ensemble;
}

const V5_MODES = ['BRANCH_LEQ', 'BRANCH_LT', 'BRANCH_GTE', 'BRANCH_GT', 'BRANCH_EQ', 'BRANCH_NEQ', 'BRANCH_MEMBER'];

function readV5(node: NodeProto, fileName: string, featureNames: string[]): TreeEnsemble {
  const roots = ints(node, 'tree_roots');
  const featureIds = ints(node, 'nodes_featureids');
  const splits = floats(node, 'nodes_splits');
  const modeTensor = attr(node, 'nodes_modes')?.t;
  const modes = modeTensor ? Array.from(modeTensor.rawData.length ? modeTensor.rawData : modeTensor.int32Data) : [];
  const trueIds = ints(node, 'nodes_truenodeids');
  const falseIds = ints(node, 'nodes_falsenodeids');
  const trueLeafs = ints(node, 'nodes_trueleafs');
  const falseLeafs = ints(node, 'nodes_falseleafs');
  const missingTrue = ints(node, 'nodes_missing_value_tracks_true');
  const leafWeights = floats(node, 'leaf_weights');
  const postTransform = Number(attr(node, 'post_transform')?.i ?? 0n);
  const aggregate = Number(attr(node, 'aggregate_function')?.i ?? 1n);
  if (Number(attr(node, 'n_targets')?.i ?? 1n) !== 1 || aggregate !== 1 || (postTransform !== 0 && postTransform !== 2)) {
    throw new ModelLoadError(`${fileName}: this TreeEnsemble (targets, aggregate or post_transform) is not supported by the explainer (one target, SUM, NONE or LOGISTIC are).`);
  }
  // Rebuild each tree with local indices: split nodes first-come, leaves appended.
  const trees = roots.map((root) => {
    const local: { kind: 'split' | 'leaf'; index: number }[] = [];
    const ids = new Map<string, number>();
    // Depth first with an explicit stack: a fully grown tree is too deep to recurse over.
    const stack: ['split' | 'leaf', number][] = [[splits.length > 0 && roots.length > 0 ? 'split' : 'leaf', root]];
    while (stack.length) {
      const [kind, index] = stack.pop()!;
      const key = `${kind}${index}`;
      if (ids.has(key)) continue;
      ids.set(key, local.length);
      local.push({ kind, index });
      if (kind === 'split') {
        if (!(index >= 0 && index < splits.length)) throw new ModelLoadError(`${fileName}: a TreeEnsemble node points to split ${index}, outside the ${splits.length} splits: the file is damaged. Export the model again.`);
        stack.push([falseLeafs[index] ? 'leaf' : 'split', falseIds[index]], [trueLeafs[index] ? 'leaf' : 'split', trueIds[index]]);
      }
    }
    const tree = emptyTree(local.length);
    local.forEach(({ kind, index }, i) => {
      if (kind === 'leaf') {
        tree.value[i] = leafWeights[index];
        return;
      }
      const trueChild = ids.get(`${trueLeafs[index] ? 'leaf' : 'split'}${trueIds[index]}`)!;
      const falseChild = ids.get(`${falseLeafs[index] ? 'leaf' : 'split'}${falseIds[index]}`)!;
      setSplit(tree, i, V5_MODES[modes[index]] ?? `mode ${modes[index]}`, featureIds[index], splits[index], trueChild, falseChild, missingTrue[index] === 1, fileName);
    });
    return tree;
  });
  return {
    format: 'onnx',
    featureNames,
    trees,
    baseMargin: 0,
    marginScale: 1,
    transform: postTransform === 2 ? 'logistic' : 'identity',
    description: `ONNX TreeEnsemble (ai.onnx.ml 5), ${roots.length} trees`,
  };
}
