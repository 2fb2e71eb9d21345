"""Log loss of probabilities at or near 0 and 1, where the clipping decides the value.

Run with Debian's Python (python3-sklearn 1.2):
    /usr/bin/python3 tests/statistics/build_log_loss_clip.py
Writes tests/statistics/log_loss_clip.json, which tests/core/metrics-cases.test.ts compares
with: scikit-learn's log_loss (eps='auto', the float64 epsilon, its default from 1.2).
"""
import json
import os

import sklearn
from sklearn.metrics import log_loss

HERE = os.path.dirname(os.path.abspath(__file__))
cases = [
    {"labels": [1, 0, 1, 0], "p": [0.0, 1.0, 0.7, 1e-17]},
    {"labels": [1], "p": [0.0]},
    {"labels": [1, 0], "p": [0.5, 0.5]},
    {"labels": [0, 1, 1], "p": [1e-300, 1 - 1e-16, 0.999999]},
]
for case in cases:
    case["log_loss"] = float(log_loss(case["labels"], case["p"], labels=[0, 1]))
with open(os.path.join(HERE, "log_loss_clip.json"), "w") as f:
    json.dump({"sklearn": sklearn.__version__, "cases": cases}, f, indent=1)
