"""Groups of a protected attribute and a slice column written as codes ("01", "1", "007").

Run with Debian's Python (python3-pandas, python3-sklearn):
    /usr/bin/python3 tests/statistics/build_coded_groups.py
Writes tests/statistics/coded_groups.csv (the data) and coded_groups.json (the reference),
which tests/core/coded-groups.test.ts compares with.

A branch code is a name, not a number: "01" and "1" are two branches. The reference reads
the code columns as text (pandas dtype=str), groups rows by them, and computes each group's
size, selection rate, TPR and FPR at threshold 0.5 and its ROC AUC (scikit-learn), as the
audit should when it reads a column whose file writes leading zeros.
"""
import json
import os

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261206)
n = 1200
branches = np.array(["01", "1", "02", "2", "10", "007"])
branch = branches[rng.integers(0, len(branches), n)]
# A slice column of zone codes with more than 20 values (a numeric column of that many values would be cut in quartiles).
zone = np.array([f"{k:03d}" for k in rng.integers(0, 24, n)])
income = np.round(rng.normal(50, 15, n), 1)
bias = {"01": 0.8, "1": -0.6, "02": 0.3, "2": -0.2, "10": 0.0, "007": 0.5}
logit = (income - 50) / 12 + np.array([bias[b] for b in branch]) + rng.normal(0, 1, n)
y = (logit > 0).astype(int)
p = 1 / (1 + np.exp(-(logit + rng.normal(0, 0.8, n))))
p = np.round(p, 6)
df = pd.DataFrame({"branch": branch, "zone": zone, "income": income, "p": p, "approved": y})
df.to_csv(os.path.join(HERE, "coded_groups.csv"), index=False)

data = pd.read_csv(os.path.join(HERE, "coded_groups.csv"), dtype={"branch": str, "zone": str})
assert set(data["branch"]) == set(branches), "pandas must read the codes as written"
threshold = 0.5


def group_stats(rows):
    yy = data["approved"][rows].to_numpy()
    pp = data["p"][rows].to_numpy()
    pred = (pp >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(yy, pred, labels=[0, 1]).ravel()
    return {
        "n": int(len(rows)),
        "selection_rate": float(pred.mean()),
        "tpr": float(tp / (tp + fn)) if tp + fn else None,
        "fpr": float(fp / (fp + tn)) if fp + tn else None,
        "roc_auc": float(roc_auc_score(yy, pp)) if len(set(yy)) == 2 else None,
    }


out = {"threshold": threshold, "branch": {}, "zone": {}}
for column in ["branch", "zone"]:
    for value, rows in data.groupby(column).groups.items():
        out[column][value] = group_stats(rows)
with open(os.path.join(HERE, "coded_groups.json"), "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
print({k: v["n"] for k, v in out["branch"].items()}, len(out["zone"]), "zones")
