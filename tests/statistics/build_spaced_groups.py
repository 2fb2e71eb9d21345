"""Groups of a protected attribute whose texts are written with and without surrounding
spaces ("Female", " Female", "Female "), as a hand-merged export often holds them.

Run with Debian's Python (python3-pandas, python3-sklearn):
    /usr/bin/python3 tests/statistics/build_spaced_groups.py
Writes tests/statistics/spaced_groups.csv (the data) and spaced_groups.json (the reference),
which tests/core/coded-groups.test.ts compares with.

pandas reads a quoted cell's spaces as part of its text (and a model that reads the column
as text is fed them): " Female" and "Female" are two groups. The reference groups the rows
by the texts as pandas reads them and computes each group's size and selection rate at
threshold 0.5, and the demographic parity difference (max − min of the selection rates).
"""
import csv
import json
import os

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261206)
n = 900
forms = np.array(["Female", " Female", "Female ", "Male", "Other"])
sex = forms[rng.integers(0, len(forms), n)]
shift = {"Female": -0.4, " Female": 0.9, "Female ": -0.8, "Male": 0.2, "Other": 0.0}
logit = np.array([shift[s] for s in sex]) + rng.normal(0, 1, n)
y = (logit + rng.normal(0, 0.7, n) > 0).astype(int)
p = np.round(1 / (1 + np.exp(-logit)), 6)
df = pd.DataFrame({"sex": sex, "p": p, "approved": y})
# Every text quoted, so the spaces are the cell's own (an unquoted cell's spaces too, in pandas).
df.to_csv(os.path.join(HERE, "spaced_groups.csv"), index=False, quoting=csv.QUOTE_NONNUMERIC)

data = pd.read_csv(os.path.join(HERE, "spaced_groups.csv"))
assert set(data["sex"]) == set(forms), "pandas must read the spaces as written"
threshold = 0.5
groups = {}
for value, rows in data.groupby("sex").groups.items():
    pred = (data["p"][rows].to_numpy() >= threshold).astype(int)
    groups[value] = {"n": int(len(rows)), "selection_rate": float(pred.mean())}
rates = [g["selection_rate"] for g in groups.values()]
out = {"threshold": threshold, "groups": groups, "demographic_parity_difference": max(rates) - min(rates)}
with open(os.path.join(HERE, "spaced_groups.json"), "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
