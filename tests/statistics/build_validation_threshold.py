"""A threshold fitted on held-out data, by scikit-learn.

Run with Debian's Python (python3-sklearn, python3-pandas):
    /usr/bin/python3 tests/statistics/build_validation_threshold.py
Splits compas/test.csv (with the random forest's predictions_p1 as column `p`) into
compas_validation.csv (the first 900 rows) and compas_audited.csv (the rest), picks the
Youden threshold on the validation rows with sklearn.metrics.roc_curve (the threshold of
the largest TPR − FPR; the first, i.e. highest, on ties), and scores the audited rows at it
(predicted positive when p >= threshold). Writes validation_threshold.json, which
tests/hosts/validation-threshold.test.ts compares with.
"""
import json
import os

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, recall_score, roc_curve

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.environ.get("PLUMBLINE_FIXTURES", os.path.join(HERE, "..", "..", "..", "shared", "fixtures"))

df = pd.read_csv(os.path.join(FIXTURES, "compas", "test.csv"), keep_default_na=False, dtype=str)
df["p"] = [repr(float(x)) for x in json.load(open(os.path.join(FIXTURES, "compas", "rf.expected.json")))["predictions_p1"]]
validation, audited = df.iloc[:900], df.iloc[900:]
validation.to_csv(os.path.join(HERE, "compas_validation.csv"), index=False, lineterminator="\n")
audited.to_csv(os.path.join(HERE, "compas_audited.csv"), index=False, lineterminator="\n")

def youden(frame):
    fpr, tpr, thresholds = roc_curve(frame["two_year_recid"].astype(int), frame["p"].astype(float))
    return float(thresholds[int(np.argmax(tpr - fpr))])

t = youden(validation)
y = audited["two_year_recid"].astype(int)
pred = (audited["p"].astype(float) >= t).astype(int)
json.dump({
    "validation_rows": len(validation), "audited_rows": len(audited),
    "threshold": t, "threshold_on_audited": youden(audited),
    "accuracy": accuracy_score(y, pred), "recall": recall_score(y, pred), "selection_rate": float(pred.mean()),
}, open(os.path.join(HERE, "validation_threshold.json"), "w"), indent=1)
print(open(os.path.join(HERE, "validation_threshold.json")).read())
