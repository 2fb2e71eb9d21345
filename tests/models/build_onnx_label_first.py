#!/usr/bin/python3
"""Builds tests/models/onnx_label_first.* (run by hand, never by tests): a binary LinearClassifier
(LOGISTIC, one coefficient row, labels 0 and 1) whose graph casts its predicted label to float
and lists that output first (`Y`, float [N]) and the probabilities second (`Z`, float [N, 2]),
names without "prob" (a custom or PyTorch-style graph). Built with python3-onnx's helper.

Expected: p(class 1) = 1 / (1 + e^−(x·w + b)) in float64 numpy on the CSV's rows (onnxruntime
computes it in float32: within 1e-6). When onnxruntime is importable (a throwaway venv), its Z
column 1 is checked against that to 1e-6 and its Y against the 0/1 labels.
"""
import json
import os

import numpy as np
import onnx
import pandas as pd
from onnx import TensorProto as T, helper as h

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(5)
n = 300
X = np.round(rng.normal(0, 1, (n, 4)), 3).astype(np.float32)
w = np.array([1.2, -0.8, 0.5, 0.3], dtype=np.float32)
b = 0.2
y = (rng.random(n) < 1 / (1 + np.exp(-(X.astype(np.float64) @ w + b)))).astype(int)
linear = h.make_node('LinearClassifier', ['input'], ['label', 'Z'], domain='ai.onnx.ml', coefficients=[float(v) for v in w],
                     intercepts=[b], post_transform='LOGISTIC', classlabels_ints=[0, 1])
cast = h.make_node('Cast', ['label'], ['Y'], to=T.FLOAT)
graph = h.make_graph([linear, cast], 'label_first', [h.make_tensor_value_info('input', T.FLOAT, [None, 4])],
                     [h.make_tensor_value_info('Y', T.FLOAT, [None]), h.make_tensor_value_info('Z', T.FLOAT, [None, 2])])
model = h.make_model(graph, opset_imports=[h.make_opsetid('', 15), h.make_opsetid('ai.onnx.ml', 3)], producer_name='build_onnx_label_first.py')
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, os.path.join(HERE, 'onnx_label_first.onnx'))
frame = pd.DataFrame(X, columns=['a', 'b', 'c', 'd'])
frame['sex'] = rng.choice(['F', 'M'], n)
frame['y'] = y
frame.to_csv(os.path.join(HERE, 'onnx_label_first.csv'), index=False)
back = pd.read_csv(os.path.join(HERE, 'onnx_label_first.csv'), float_precision='round_trip')[['a', 'b', 'c', 'd']].to_numpy(np.float64)
p = 1 / (1 + np.exp(-(back.astype(np.float32).astype(np.float64) @ w.astype(np.float64) + b)))
check = None
try:
    import onnxruntime
    session = onnxruntime.InferenceSession(os.path.join(HERE, 'onnx_label_first.onnx'), providers=['CPUExecutionProvider'])
    labels, probabilities = session.run(None, {'input': back.astype(np.float32)})
    assert float(np.abs(probabilities[:, 1] - p).max()) < 1e-6
    assert set(np.unique(labels)) <= {0.0, 1.0}
    check = 'onnxruntime %s: Z[:, 1] within %.1e of p; Y holds only 0 and 1' % (onnxruntime.__version__, float(np.abs(probabilities[:, 1] - p).max()))
except ImportError:
    pass
with open(os.path.join(HERE, 'onnx_label_first.expected.json'), 'w') as f:
    json.dump({'library': 'numpy', 'how': 'p(class 1) = 1 / (1 + exp(-(x·w + b))) on the a, b, c, d columns of onnx_label_first.csv (float32 inputs)',
               'p_positive': [float(v) for v in p], **({'cross_check': check} if check else {})}, f)
    f.write('\n')
