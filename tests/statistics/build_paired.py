"""Paired comparisons of two fixture models on the same rows (COMPAS random forest vs MLP,
German credit logistic regression vs XGBoost), by numpy and scipy, for tests/core/baseline-comparison.test.ts.

Run with Debian's Python (python3-numpy, python3-scipy):
    /usr/bin/python3 tests/statistics/build_paired.py
Writes tests/statistics/paired.json.

- DeLong's paired test (DeLong, DeLong & Clarke-Pearson 1988), by brute force over every
  positive x negative pair (no sorting): placement V10_i = mean_j psi(x_i, y_j),
  V01_j = mean_i psi(x_i, y_j), psi = 1 if x > y, 1/2 if equal, 0 otherwise; S10, S01 the
  2x2 sample covariances (ddof 1) of the two models' placements; var(AUC_b - AUC_a) =
  (S10_aa + S10_bb - 2 S10_ab)/m + (S01_aa + S01_bb - 2 S01_ab)/n; z = diff/se,
  p = 2 (1 - Phi(|z|)) (scipy.stats.norm).
- McNemar's exact test at threshold 0.5 (predicted positive when p >= 0.5): b = rows only
  the champion got right, c = rows only the challenger got right,
  p = scipy.stats.binomtest(min(b, c), b + c, 0.5).pvalue (two-sided).
- Accuracy and ROC AUC of each model, by scikit-learn.
"""
import json
import os

import numpy as np
import pandas as pd
from scipy.stats import binomtest, norm
from sklearn.metrics import accuracy_score, roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.environ.get("PLUMBLINE_FIXTURES", os.path.join(HERE, "..", "..", "..", "shared", "fixtures"))

def compare(data, target, champion, challenger):
    y = pd.read_csv(os.path.join(FIXTURES, data))[target].to_numpy()
    a = np.array(json.load(open(os.path.join(FIXTURES, champion)))["predictions_p1"], dtype=float)
    b = np.array(json.load(open(os.path.join(FIXTURES, challenger)))["predictions_p1"], dtype=float)

    def placements(s):
        pos, neg = s[y == 1], s[y == 0]
        psi = (pos[:, None] > neg[None, :]).astype(float) + 0.5 * (pos[:, None] == neg[None, :])
        return psi.mean(axis=1), psi.mean(axis=0)

    a10, a01 = placements(a)
    b10, b01 = placements(b)
    m, n = len(a10), len(a01)
    s10 = np.cov(np.vstack([a10, b10]), ddof=1)
    s01 = np.cov(np.vstack([a01, b01]), ddof=1)
    var = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / m + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / n
    se = float(np.sqrt(var))
    diff = float(b10.mean() - a10.mean())
    z = diff / se
    correct_a = (a >= 0.5).astype(int) == y
    correct_b = (b >= 0.5).astype(int) == y
    only_a = int(np.sum(correct_a & ~correct_b))
    only_b = int(np.sum(~correct_a & correct_b))
    return {
        "champion": champion,
        "challenger": challenger,
        "rows": int(len(y)),
        "auc_a": float(roc_auc_score(y, a)),
        "auc_b": float(roc_auc_score(y, b)),
        "delong": {"difference": diff, "standard_error": se, "z": z, "p_value": float(2 * norm.sf(abs(z))), "low": diff - float(norm.ppf(0.975)) * se, "high": diff + float(norm.ppf(0.975)) * se},
        "accuracy_a": float(accuracy_score(y, (a >= 0.5).astype(int))),
        "accuracy_b": float(accuracy_score(y, (b >= 0.5).astype(int))),
        "mcnemar": {"a_only": only_a, "b_only": only_b, "p_value": float(binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue)},
    }


out = {
    "compas": compare("compas/test.csv", "two_year_recid", "compas/rf.expected.json", "compas/mlp.expected.json"),
    "german_credit": compare("german_credit/test.csv", "good_credit", "german_credit/logreg_zipmap.expected.json", "german_credit/xgb.expected.json"),
}
with open(os.path.join(HERE, "paired.json"), "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
print(json.dumps(out, indent=2))
