"""Data checks of the fixture CSVs, by pandas / numpy / scipy, for tests/hosts/check-data.test.ts.

Run with Debian's Python (python3-pandas, python3-scipy):
    /usr/bin/python3 tests/statistics/build_data_checks.py
Writes tests/statistics/data_checks.json.

Conventions (what `plumbline check-data` states it computes):
- missing cells: '', NA, N/A, NaN, nan, null, NULL (Plumbline's default missing-value tokens);
- duplicate rows: rows equal in every cell to an earlier row (pandas `duplicated`);
- groups: the protected attribute's values, a missing value its own group; base rate = mean
  of target == positive label within the group;
- skewness: pandas `Series.skew()` (adjusted Fisher-Pearson G1) of every numeric column
  whose values are not all 0/1;
- proxies (files without missing numbers): Cramer's V with Bergsma's (2013) bias correction (categorical x
  categorical, missing a category), correlation ratio eta, bias-corrected (sqrt epsilon^2, Kelley 1935; numeric x categorical), |Pearson r|
  (numeric x numeric); the strongest over the protected attributes and the other columns;
- drift against the reference: numeric columns, the two-sample KS statistic
  (scipy.stats.ks_2samp) with the asymptotic p-value of Stephens' correction
  Q_KS((sqrt(ne) + 0.12 + 0.11/sqrt(ne)) D), ne = nm/(n+m), written out here; categorical
  columns, Pearson's chi-square of the 2 x k table of category counts
  (scipy.stats.chi2_contingency, correction=False); a numeric column with missing cells in
  either file also gets the chi-square of its 2 x 2 table of missing / present cells by file
  ("missing"), as KS reads present values only; drifted when a p < 0.05 (and, in
  "n_drifted_columns_at", at other levels). scipy's own ks_2samp p-value (exact or
  asymptotic, as scipy picks) is kept beside it as "scipy_p_value";
- flags: columns whose missing share >= a threshold, numeric columns whose |skewness| >= a
  threshold, at the defaults (0.05, 2) and at other thresholds ("..._at").

A drifted file for the drift flags: compas_older.csv (written here, next to this script) is
the rows of compas/test.csv whose age is at least 35, checked against compas/train.csv.
"""
import json
import math
import os

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, ks_2samp, kstwobign

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.environ.get("PLUMBLINE_FIXTURES", os.path.join(HERE, "..", "..", "..", "shared", "fixtures"))
NA = ["", "NA", "N/A", "NaN", "nan", "null", "NULL"]


def read(path):
    full = os.path.join(HERE, path) if path.startswith("./") else os.path.join(FIXTURES, path)
    return pd.read_csv(full, keep_default_na=False, na_values=NA)


def numeric(series):
    return pd.api.types.is_numeric_dtype(series)


def cramers_v(a, b):
    table = pd.crosstab(a.fillna("(missing)").astype(str), b.fillna("(missing)").astype(str))
    if min(table.shape) < 2:
        return 0.0
    # Bias-corrected (Bergsma 2013): phi2 less its expectation under independence.
    chi2 = chi2_contingency(table.to_numpy(), correction=False)[0]
    n = table.to_numpy().sum()
    r, c = table.shape
    phi2 = max(0.0, chi2 / n - (r - 1) * (c - 1) / (n - 1))
    rr = r - (r - 1) ** 2 / (n - 1)
    cc = c - (c - 1) ** 2 / (n - 1)
    k = min(rr, cc) - 1
    return 0.0 if k <= 0 else math.sqrt(min(1.0, phi2 / k))


def eta(values, groups):
    # Bias-corrected, as the proxy check reads it: sqrt(epsilon^2), epsilon^2 = 1 - (SS_within / (n - k)) / (SS_total / (n - 1)) (Kelley 1935), floored at 0.
    frame = pd.DataFrame({"v": values, "g": groups.fillna("(missing)").astype(str)}).dropna(subset=["v"])
    mean = frame.v.mean()
    total = ((frame.v - mean) ** 2).sum()
    n, k = len(frame), frame.g.nunique()
    if total <= 0 or n <= k:
        return 0.0
    within = sum(((g.v - g.v.mean()) ** 2).sum() for _, g in frame.groupby("g"))
    return math.sqrt(max(0.0, 1 - (within / (n - k)) / (total / (n - 1))))


def stephens_p(d, n, m):
    ne = n * m / (n + m)
    lam = (math.sqrt(ne) + 0.12 + 0.11 / math.sqrt(ne)) * d
    return float(kstwobign.sf(lam))


def check(path, target, positive, protected, reference=None, proxies=True):
    df = read(path)
    out = {
        "n_rows": int(len(df)),
        "n_columns": int(df.shape[1]),
        "missing_share": {c: float(df[c].isna().mean()) for c in df.columns},
        "duplicate_rows": int(df.duplicated().sum()),
        "class_counts": {"positive": int((df[target] == positive).sum()), "negative": int((df[target] != positive).sum())},
        "groups": {},
        "skewness": {},
    }
    y = (df[target] == positive).astype(float)
    gaps = []
    for a in protected:
        g = df[a].fillna("(missing)").astype(str)
        out["groups"][a] = {k: {"n": int((g == k).sum()), "base_rate": float(y[g == k].mean())} for k in sorted(g.unique())}
        rates = [v["base_rate"] for v in out["groups"][a].values()]
        gaps.append(max(rates) - min(rates))
    out["max_base_rate_gap"] = max(gaps)
    out["min_group_size"] = min(v["n"] for a in protected for v in out["groups"][a].values())
    for c in df.columns:
        if numeric(df[c]) and not set(df[c].dropna().unique()) <= {0, 1}:
            out["skewness"][c] = float(df[c].skew())
    out["n_high_missing_columns_at"] = {str(t): sum(1 for v in out["missing_share"].values() if v >= t and v > 0) for t in (0.05, 0.1)}
    out["n_skewed_columns_at"] = {str(t): sum(1 for v in out["skewness"].values() if abs(v) >= t) for t in (2, 1)}
    if proxies:
        strongest = 0.0
        for a in protected:
            for c in df.columns:
                if c == target or c in protected:
                    continue
                if numeric(df[c]) and numeric(df[a]):
                    v = abs(float(np.corrcoef(df[c], df[a])[0, 1]))
                elif numeric(df[c]):
                    v = eta(df[c], df[a])
                else:
                    v = cramers_v(df[c], df[a])
                strongest = max(strongest, v)
        out["max_proxy_strength"] = strongest
    if reference:
        ref = read(reference)
        drift = {}
        for c in df.columns:
            if c == target or c not in ref.columns:
                continue
            if numeric(df[c]) and numeric(ref[c]):
                a, b = ref[c].dropna().to_numpy(), df[c].dropna().to_numpy()
                d = float(ks_2samp(a, b).statistic)
                drift[c] = {"test": "ks", "statistic": d, "p_value": stephens_p(d, len(a), len(b)), "scipy_p_value": float(ks_2samp(a, b).pvalue)}
                # KS reads the present values only: a shift of the missing share is Pearson's chi-square of missing / present by file.
                gaps = [int(ref[c].isna().sum()), int(df[c].isna().sum())]
                if sum(gaps) > 0:
                    chi2, p, _, _ = chi2_contingency(np.array([[gaps[0], len(ref) - gaps[0]], [gaps[1], len(df) - gaps[1]]]), correction=False)
                    drift[c]["missing"] = {"statistic": float(chi2), "p_value": float(p)}
            else:
                cats = sorted(set(ref[c].fillna("(missing)").astype(str)) | set(df[c].fillna("(missing)").astype(str)))
                table = np.array([[int((s.fillna("(missing)").astype(str) == k).sum()) for k in cats] for s in (ref[c], df[c])])
                chi2, p, dof, _ = chi2_contingency(table, correction=False)
                drift[c] = {"test": "chi_square", "statistic": float(chi2), "p_value": float(p)}
        out["drift"] = drift
        drifted = lambda v, alpha: v["p_value"] < alpha or ("missing" in v and v["missing"]["p_value"] < alpha)
        out["n_drifted_columns"] = sum(1 for v in drift.values() if drifted(v, 0.05))
        out["n_drifted_columns_at"] = {str(alpha): sum(1 for v in drift.values() if drifted(v, alpha)) for alpha in (0.01, 0.001)}
    return out


older = read("compas/test.csv")
older = older[older.age >= 35]
older.to_csv(os.path.join(HERE, "compas_older.csv"), index=False, lineterminator="\n")

cases = {
    "german_credit": check("german_credit/test.csv", "good_credit", 1, ["gender", "age_group"], reference="german_credit/train.csv"),
    "german_credit_missing": check("german_credit/test_missing.csv", "good_credit", 1, ["gender"], proxies=False, reference="german_credit/train.csv"),
    "compas": check("compas/test.csv", "two_year_recid", 1, ["race", "sex"], reference="compas/train.csv"),
    "adult": check("adult/test.csv", "high_income", 1, ["race", "sex"], reference="adult/train.csv"),
    "compas_older": check("./compas_older.csv", "two_year_recid", 1, ["race", "sex"], reference="compas/train.csv"),
}
with open(os.path.join(HERE, "data_checks.json"), "w") as f:
    json.dump(cases, f, indent=1)
    f.write("\n")
for name, case in cases.items():
    print(name, case["n_rows"], case["duplicate_rows"], case.get("n_drifted_columns"), case.get("max_proxy_strength"))
