#!/usr/bin/python3
"""Builds tests/models/onnx_rf_multiclass.* with Debian's scikit-learn and onnx. Run by hand,
never by tests; seeded (same bytes).

A scikit-learn RandomForestClassifier (10 trees, depth 5) of German credit's housing (own / rent
/ forfree, named in an order that is not sorted) from five numbers, written as skl2onnx writes
forests: a TreeEnsembleClassifier with post_transform NONE whose leaves hold each tree's class
shares over the tree count (so the sum is the forest's averaged probability), and a ZipMap.
Expected: predict_proba on the CSV's rows, in the model's class order.
"""
import json
import os

import numpy as np
import onnx
import pandas as pd
from onnx import TensorProto as T
from onnx import TypeProto
from onnx import helper as h
from sklearn.ensemble import RandomForestClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.environ.get('PLUMBLINE_FIXTURES', os.path.join(HERE, '..', '..', '..', 'shared', 'fixtures'))
F = ['duration_months', 'credit_amount', 'installment_rate', 'age', 'existing_credits']
ORDER = ['rent', 'own', 'forfree']
train = pd.read_csv(os.path.join(FIXTURES, 'german_credit', 'train.csv'))
test = pd.read_csv(os.path.join(FIXTURES, 'german_credit', 'test.csv'))
trees = 10
rf = RandomForestClassifier(n_estimators=trees, max_depth=5, random_state=0).fit(train[F].to_numpy(float), train.housing.map({c: i for i, c in enumerate(ORDER)}))
nodes = {k: [] for k in ['nodes_treeids', 'nodes_nodeids', 'nodes_featureids', 'nodes_values', 'nodes_modes', 'nodes_truenodeids', 'nodes_falsenodeids', 'nodes_missing_value_tracks_true', 'nodes_hitrates']}
leaves = {'class_treeids': [], 'class_nodeids': [], 'class_ids': [], 'class_weights': []}
for t, estimator in enumerate(rf.estimators_):
    tree = estimator.tree_
    for n in range(tree.node_count):
        leaf = tree.children_left[n] == -1
        nodes['nodes_treeids'].append(t)
        nodes['nodes_nodeids'].append(n)
        nodes['nodes_hitrates'].append(1.0)
        nodes['nodes_featureids'].append(0 if leaf else int(tree.feature[n]))
        nodes['nodes_values'].append(0.0 if leaf else float(np.float32(tree.threshold[n])))
        nodes['nodes_modes'].append('LEAF' if leaf else 'BRANCH_LEQ')
        nodes['nodes_truenodeids'].append(0 if leaf else int(tree.children_left[n]))
        nodes['nodes_falsenodeids'].append(0 if leaf else int(tree.children_right[n]))
        nodes['nodes_missing_value_tracks_true'].append(0)
        if leaf:
            shares = tree.value[n].ravel() / tree.value[n].sum()
            for k in range(len(ORDER)):
                leaves['class_treeids'].append(t)
                leaves['class_nodeids'].append(n)
                leaves['class_ids'].append(k)
                leaves['class_weights'].append(float(shares[k]) / trees)
zipped = TypeProto()
zipped.sequence_type.elem_type.map_type.key_type = T.STRING
zipped.sequence_type.elem_type.map_type.value_type.tensor_type.elem_type = T.FLOAT
graph = h.make_graph(
    [
        h.make_node('TreeEnsembleClassifier', ['input'], ['label', 'probabilities'], domain='ai.onnx.ml', classlabels_strings=ORDER, post_transform='NONE', **leaves, **nodes),
        h.make_node('ZipMap', ['probabilities'], ['output_probability'], domain='ai.onnx.ml', classlabels_strings=ORDER),
    ],
    'rf',
    [h.make_tensor_value_info('input', T.FLOAT, [None, len(F)])],
    [h.make_tensor_value_info('label', T.STRING, [None]), h.make_value_info('output_probability', zipped)],
)
model = h.make_model(graph, opset_imports=[h.make_opsetid('', 17), h.make_opsetid('ai.onnx.ml', 3)], producer_name='build_onnx_rf_multiclass.py')
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, os.path.join(HERE, 'onnx_rf_multiclass.onnx'))
out = test[F + ['gender', 'housing']]
out.to_csv(os.path.join(HERE, 'onnx_rf_multiclass.csv'), index=False)
with open(os.path.join(HERE, 'onnx_rf_multiclass.expected.json'), 'w') as f:
    json.dump({'features': F, 'classes': ORDER, 'p': rf.predict_proba(test[F].to_numpy(np.float32).astype(float)).tolist()}, f)
