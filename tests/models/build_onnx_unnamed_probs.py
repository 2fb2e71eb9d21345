"""A classifier exported as a bare probability tensor of three columns: no class labels, no
ZipMap, nothing in the file that says how many classes it scores (a user's own export, or a
network's softmax output).

Run with Debian's Python (python3-onnx, python3-numpy, python3-sklearn):
    /usr/bin/python3 tests/models/build_onnx_unnamed_probs.py
Writes tests/models/onnx_unnamed_probs.onnx (Identity: the input columns p_low, p_medium,
p_high are the output), onnx_unnamed_probs.csv and onnx_unnamed_probs.expected.json
(scikit-learn's accuracy, macro F1 and one-vs-rest macro ROC AUC of those probabilities,
with the classes named low, medium, high in output order).
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261206)
n = 300
classes = ["low", "medium", "high"]
truth = rng.integers(0, 3, n)
logits = rng.normal(0, 1, (n, 3)) + 1.6 * np.eye(3)[truth]
p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
p = np.round(p, 6)
p[:, 2] = np.round(1 - p[:, 0] - p[:, 1], 6)
group = np.where(rng.random(n) < 0.5, "a", "b")
columns = ["p_low", "p_medium", "p_high"]
with open(os.path.join(HERE, "onnx_unnamed_probs.csv"), "w") as f:
    f.write(",".join(columns + ["grade", "group"]) + "\n")
    for i in range(n):
        f.write(",".join([f"{v:.6f}" for v in p[i]] + [classes[truth[i]], group[i]]) + "\n")

x = helper.make_tensor_value_info("x", TensorProto.DOUBLE, [None, 3])
y = helper.make_tensor_value_info("probabilities", TensorProto.DOUBLE, [None, 3])
graph = helper.make_graph([helper.make_node("Identity", ["x"], ["probabilities"])], "unnamed_probs", [x], [y])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, os.path.join(HERE, "onnx_unnamed_probs.onnx"))

predicted = p.argmax(axis=1)
expected = {
    "classes": classes,
    "features": columns,
    "accuracy": float(accuracy_score(truth, predicted)),
    "f1_macro": float(f1_score(truth, predicted, average="macro")),
    "roc_auc_ovr": float(roc_auc_score(truth, p, multi_class="ovr", average="macro")),
}
with open(os.path.join(HERE, "onnx_unnamed_probs.expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
