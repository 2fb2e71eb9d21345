"""NYC Local Law 144 bias-audit tables for the COMPAS random forest's predictions, by pandas.

Run with Debian's Python (python3-pandas):
    /usr/bin/python3 tests/statistics/build_ll144.py
Writes tests/statistics/compas_ll144.csv (compas/test.csv with the forest's predictions_p1
as column `p`, and about 3% of the `sex` and of the `race` cells blanked, seeded) and
tests/statistics/ll144_compas.json, which tests/core/ll144.test.ts compares with.

The rules, as the NYC DCWP's final rule (6 RCNY § 5-300) states them:
- selection rate: the share of a category's rows the tool selects (here p >= 0.5);
- scoring rate: the share of a category's rows scoring above the median score of every row;
- impact ratio: a category's rate over the highest rate among the categories compared;
- categories: sex, race/ethnicity and every sex × race/ethnicity intersection;
- rows of unknown category (a blank cell) are counted and left out of the categories;
- a category under 2% of the rows with a known category may be excluded from the impact
  ratios: it is reported, marked excludable, and not a candidate for the highest rate.
"""
import json
import os

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.environ.get("PLUMBLINE_FIXTURES", os.path.join(HERE, "..", "..", "..", "shared", "fixtures"))

df = pd.read_csv(os.path.join(FIXTURES, "compas", "test.csv"), keep_default_na=False, dtype=str)
p = json.load(open(os.path.join(FIXTURES, "compas", "rf.expected.json")))["predictions_p1"]
df["p"] = [repr(float(x)) for x in p]
rng = np.random.default_rng(144)
for column in ["sex", "race"]:
    blank = rng.random(len(df)) < 0.03
    df.loc[blank, column] = ""
df.to_csv(os.path.join(HERE, "compas_ll144.csv"), index=False, lineterminator="\n")

scores = df["p"].astype(float)
median = float(np.median(scores))
selected = {"selection": scores >= 0.5, "scoring": scores > median}


def table(keys, rate):
    known = keys.notna()
    n_known = int(known.sum())
    rows = []
    for category, index in keys[known].groupby(keys[known]).groups.items():
        n = len(index)
        chosen = int(selected[rate][index].sum())
        rows.append({"category": category, "n": n, "selected": chosen, "rate": chosen / n, "share": n / n_known, "excludable": n / n_known < 0.02})
    candidates = [r for r in rows if not r["excludable"]] or rows
    best = max(candidates, key=lambda r: r["rate"])
    for r in rows:
        r["impact_ratio"] = r["rate"] / best["rate"] if best["rate"] > 0 else None
    return {"unknown": int((~known).sum()), "reference_category": best["category"], "categories": sorted(rows, key=lambda r: r["category"])}


sex = df["sex"].replace("", np.nan)
race = df["race"].replace("", np.nan)
both = (sex + " × " + race).where(sex.notna() & race.notna())
out = {"median_score": median, "rows": len(df)}
for rate in ["selection", "scoring"]:
    out[rate] = {"sex": table(sex, rate), "race_ethnicity": table(race, rate), "intersectional": table(both, rate)}
json.dump(out, open(os.path.join(HERE, "ll144_compas.json"), "w"), indent=1)
print({rate: {k: (v["unknown"], len(v["categories"])) for k, v in out[rate].items()} for rate in ["selection", "scoring"]})
