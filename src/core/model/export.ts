import { create, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProto_DataType,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
} from 'onnx-buf';
import { ModelLoadError } from '../base/errors';
import type { TreeEnsemble } from './tree';
import { exp } from '../base/math';

/**
 * Writers for tree ensembles that split with XGBoost's rule (`x < t` goes left, missing
 * values follow the default direction): XGBoost JSON and ONNX (TreeEnsembleClassifier,
 * ai.onnx.ml 3, BRANCH_LT), so one model can be scored by both evaluators.
 */
function requireXgboostRule(ensemble: TreeEnsemble): void {
  for (const tree of ensemble.trees) {
    for (let i = 0; i < tree.left.length; i++) {
      if (tree.left[i] >= 0 && tree.rule[i] !== 0) throw new ModelLoadError('only trees with numeric `x < t` splits can be written (no categorical or `x <= t` splits).');
    }
  }
}

/** The ensemble as an XGBoost JSON model (binary:logistic, base score from the base margin). */
export function toXgboostJson(ensemble: TreeEnsemble): string {
  requireXgboostRule(ensemble);
  // xgboost's JSON reader tells integers from reals by their text: float fields must be
  // written with a decimal point (1.0, not 1), or xgboost refuses the file ("Invalid cast").
  const floats: string[] = [];
  const float = (values: ArrayLike<number>): string => {
    floats.push(`[${Array.from(values, (v) => (Number.isInteger(v) ? v.toFixed(1) : String(v))).join(',')}]`);
    return `\u0000float${floats.length - 1}\u0000`;
  };
  const baseScore = 1 / (1 + exp(-ensemble.baseMargin));
  const trees = ensemble.trees.map((tree, id) => {
    const n = tree.left.length;
    const parents = new Array<number>(n).fill(2147483647);
    for (let i = 0; i < n; i++) {
      if (tree.left[i] >= 0) {
        parents[tree.left[i]] = i;
        parents[tree.right[i]] = i;
      }
    }
    return {
      base_weights: float(tree.value),
      categories: [],
      categories_nodes: [],
      categories_segments: [],
      categories_sizes: [],
      default_left: Array.from(tree.defaultLeft),
      id,
      left_children: Array.from(tree.left),
      loss_changes: float(new Array(n).fill(0)),
      parents,
      right_children: Array.from(tree.right),
      split_conditions: float(Array.from({ length: n }, (_, i) => (tree.left[i] >= 0 ? tree.threshold[i] : tree.value[i]))),
      split_indices: Array.from(tree.feature, (f, i) => (tree.left[i] >= 0 ? f : 0)),
      split_type: new Array(n).fill(0),
      sum_hessian: float(tree.cover ?? new Array(n).fill(1)),
      tree_param: { num_deleted: '0', num_feature: String(ensemble.featureNames.length), num_nodes: String(n), size_leaf_vector: '0' },
    };
  });
  const json = JSON.stringify({
    learner: {
      attributes: {},
      feature_names: ensemble.featureNames,
      feature_types: ensemble.featureNames.map(() => 'float'),
      gradient_booster: {
        model: { gbtree_model_param: { num_parallel_tree: '1', num_trees: String(trees.length), size_leaf_vector: '0' }, tree_info: trees.map(() => 0), trees },
        name: 'gbtree',
      },
      learner_model_param: { base_score: String(baseScore), boost_from_average: '1', num_class: '0', num_feature: String(ensemble.featureNames.length), num_target: '1' },
      objective: { name: 'binary:logistic', reg_loss_param: { scale_pos_weight: '1' } },
    },
    version: [1, 7, 0],
  });
  return json.replace(/"\\u0000float(\d+)\\u0000"/g, (_, k: string) => floats[Number(k)]);
}

/** An INTS attribute. */
export const ints = (name: string, values: number[]): AttributeProto =>
  create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INTS, ints: values.map((v) => BigInt(v)) });
const floats = (name: string, values: number[]): AttributeProto => create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOATS, floats: values });
const strings = (name: string, values: string[]): AttributeProto =>
  create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.STRINGS, strings: values.map((v) => new TextEncoder().encode(v)) });
const string = (name: string, value: string): AttributeProto => create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.STRING, s: new TextEncoder().encode(value) });

/** A tensor's name, element type and shape (a string dimension is symbolic, e.g. 'N'). */
export function tensorInfo(name: string, elemType: TensorProto_DataType, dims: (number | string)[]) {
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType,
          shape: create(TensorShapeProtoSchema, {
            dim: dims.map((d) => create(TensorShapeProto_DimensionSchema, { value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d } })),
          }),
        }),
      },
    }),
  });
}

/**
 * The ensemble as an ONNX binary classifier: one `float_input` [N, F] (columns in
 * `featureNames` order, also stored in metadata_props `feature_names`), a
 * TreeEnsembleClassifier with BRANCH_LT splits, missing values tracking the default
 * direction, LOGISTIC post-transform, outputs `label` and `probabilities` [N, 2].
 */
export function toOnnx(ensemble: TreeEnsemble): Uint8Array {
  requireXgboostRule(ensemble);
  const a = { treeIds: [] as number[], nodeIds: [] as number[], features: [] as number[], values: [] as number[], modes: [] as string[], trueIds: [] as number[], falseIds: [] as number[], missingTrue: [] as number[] };
  const leaves = { treeIds: [] as number[], nodeIds: [] as number[], classIds: [] as number[], weights: [] as number[] };
  ensemble.trees.forEach((tree, t) => {
    for (let i = 0; i < tree.left.length; i++) {
      const leaf = tree.left[i] < 0;
      a.treeIds.push(t);
      a.nodeIds.push(i);
      a.features.push(leaf ? 0 : tree.feature[i]);
      a.values.push(leaf ? 0 : tree.threshold[i]);
      a.modes.push(leaf ? 'LEAF' : 'BRANCH_LT');
      a.trueIds.push(leaf ? 0 : tree.left[i]);
      a.falseIds.push(leaf ? 0 : tree.right[i]);
      a.missingTrue.push(leaf ? 0 : tree.defaultLeft[i]);
      if (leaf) {
        leaves.treeIds.push(t);
        leaves.nodeIds.push(i);
        leaves.classIds.push(0);
        leaves.weights.push(tree.value[i]);
      }
    }
  });
  const node = create(NodeProtoSchema, {
    opType: 'TreeEnsembleClassifier',
    domain: 'ai.onnx.ml',
    name: 'trees',
    input: ['float_input'],
    output: ['label', 'probabilities'],
    attribute: [
      ints('nodes_treeids', a.treeIds),
      ints('nodes_nodeids', a.nodeIds),
      ints('nodes_featureids', a.features),
      floats('nodes_values', a.values),
      strings('nodes_modes', a.modes),
      ints('nodes_truenodeids', a.trueIds),
      ints('nodes_falsenodeids', a.falseIds),
      ints('nodes_missing_value_tracks_true', a.missingTrue),
      ints('class_treeids', leaves.treeIds),
      ints('class_nodeids', leaves.nodeIds),
      ints('class_ids', leaves.classIds),
      floats('class_weights', leaves.weights),
      ints('classlabels_int64s', [0, 1]),
      floats('base_values', [ensemble.baseMargin]),
      string('post_transform', 'LOGISTIC'),
    ],
  });
  const graph = create(GraphProtoSchema, {
    name: 'plumbline_trees',
    node: [node],
    input: [tensorInfo('float_input', TensorProto_DataType.FLOAT, ['N', ensemble.featureNames.length])],
    output: [tensorInfo('label', TensorProto_DataType.INT64, ['N']), tensorInfo('probabilities', TensorProto_DataType.FLOAT, ['N', 2])],
  });
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: 'plumbline',
    graph,
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 15n }), create(OperatorSetIdProtoSchema, { domain: 'ai.onnx.ml', version: 3n })],
    metadataProps: [{ $typeName: 'onnx.StringStringEntryProto', key: 'feature_names', value: ensemble.featureNames.join(',') }],
  });
  return toBinary(ModelProtoSchema, model);
}
