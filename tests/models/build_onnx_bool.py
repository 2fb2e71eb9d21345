#!/usr/bin/python3
"""Builds tests/models/onnx_bool.* : run by hand, never by tests, with a venv holding onnxruntime
(`/usr/bin/python3 -m venv --system-site-packages V; V/bin/pip install --no-index --no-deps
<onnxruntime wheel>`, then `V/bin/python tests/models/build_onnx_bool.py`); seeded.

A hand-built ONNX classifier whose input `is_member` is a bool tensor (age float [N,1],
is_member bool [N,1] → Cast → Concat → LinearClassifier, LOGISTIC), and a data file that writes
the flag as exports do: Y/N (SAS, Excel), which the test also rewrites as t/f (PostgreSQL COPY),
yes/no and 1/0. Expected: onnxruntime's probabilities[:, 1] for the rows with the flag as booleans.
"""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
from onnx import TensorProto as T
from onnx import helper as h

HERE = os.path.dirname(os.path.abspath(__file__))
age = h.make_tensor_value_info('age', T.FLOAT, [None, 1])
member = h.make_tensor_value_info('is_member', T.BOOL, [None, 1])
nodes = [
    h.make_node('Cast', ['is_member'], ['member_f'], to=T.FLOAT),
    h.make_node('Concat', ['age', 'member_f'], ['x'], axis=1),
    h.make_node('LinearClassifier', ['x'], ['label', 'probabilities'], domain='ai.onnx.ml', coefficients=[-0.05, -2.5, 0.05, 2.5], intercepts=[1.5, -1.5], classlabels_ints=[0, 1], post_transform='LOGISTIC'),
]
outputs = [h.make_tensor_value_info('label', T.INT64, [None]), h.make_tensor_value_info('probabilities', T.FLOAT, [None, 2])]
model = h.make_model(h.make_graph(nodes, 'bool_input', [age, member], outputs), opset_imports=[h.make_opsetid('', 15), h.make_opsetid('ai.onnx.ml', 1)], producer_name='hand')
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, os.path.join(HERE, 'onnx_bool.onnx'))

rng = np.random.default_rng(8)
n = 400
a = rng.integers(18, 80, n).astype(np.float32)
flag = rng.random(n) < 0.4
session = ort.InferenceSession(os.path.join(HERE, 'onnx_bool.onnx'))
p = session.run(None, {'age': a[:, None], 'is_member': flag[:, None]})[1][:, 1]
y = (rng.random(n) < p).astype(int)
pd.DataFrame({'age': a, 'is_member': np.where(flag, 'Y', 'N'), 'sex': rng.choice(['F', 'M'], n), 'y': y}).to_csv(os.path.join(HERE, 'onnx_bool_yn.csv'), index=False)
with open(os.path.join(HERE, 'onnx_bool.expected.json'), 'w') as f:
    json.dump({'library': 'onnxruntime %s' % ort.__version__, 'how': "InferenceSession(onnx_bool.onnx).run(...)[1][:, 1] with is_member = (the CSV's is_member == 'Y')", 'p_positive': [float(v) for v in p]}, f)
    f.write('\n')
