"""Per-slice ROC AUC of the German credit XGBoost model (the fixture's own predictions_p1), by scikit-learn.

Run with Debian's Python (python3-sklearn, python3-pandas):
    /usr/bin/python3 tests/statistics/build_slices.py
Writes tests/statistics/slices_german.json, which tests/core/slices.test.ts compares with.
A slice underperforms when its AUC is more than 0.1 below the overall AUC and it has at
least 30 rows (fairness.min_group_size's default); slices without both classes have no AUC.
"""
import json
import os

import pandas as pd
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.environ.get("PLUMBLINE_FIXTURES", os.path.join(HERE, "..", "..", "..", "shared", "fixtures"))
COLUMNS = ["checking_status", "savings", "residence_years", "employment", "purpose", "age_group"]

df = pd.read_csv(os.path.join(FIXTURES, "german_credit", "test.csv"), keep_default_na=False, dtype=str)
p = json.load(open(os.path.join(FIXTURES, "german_credit", "xgb.expected.json")))["predictions_p1"]
y = df["good_credit"].astype(int)
scores = pd.Series(p)
overall = roc_auc_score(y, scores)
out = {"overall_roc_auc": overall, "min_group_size": 30, "gap": 0.1, "columns": COLUMNS, "slices": {}}
for column in COLUMNS:
    out["slices"][column] = {}
    for value, rows in df.groupby(column).groups.items():
        labels = y[rows]
        auc = roc_auc_score(labels, scores[rows]) if labels.nunique() == 2 else None
        gap = None if auc is None else overall - auc
        out["slices"][column][value] = {
            "n": int(len(rows)),
            "roc_auc": auc,
            "auc_gap": gap,
            "underperforming": bool(gap is not None and gap > 0.1 and len(rows) >= 30),
        }
with open(os.path.join(HERE, "slices_german.json"), "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
under = [(c, v, s["n"], round(s["auc_gap"], 4)) for c in out["slices"] for v, s in out["slices"][c].items() if s["underperforming"]]
print("overall", overall, "underperforming", under)
