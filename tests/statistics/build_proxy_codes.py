"""A protected attribute written as numeric codes (ethnicity 1/2/3, as survey and HR exports write it)
and a column that is a strong, non-monotone proxy of it (zone: group 2 against the others).

Run with Debian's Python (python3-pandas, python3-numpy):
    /usr/bin/python3 tests/statistics/build_proxy_codes.py
Writes tests/statistics/proxy_codes.csv and proxy_codes.json: the correlation ratio η of each
numeric column across the ethnicity groups, sqrt(SS_between / SS_total) by pandas groupby, which
tests/core/profile.test.ts compares the proxy check with. (|Pearson r| of zone with the codes is
near 0: a number read as a measurement hides the proxy.)
"""
import json
import os

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(9)
n = 3000
ethnicity = rng.choice([1, 2, 3], n)
zone = np.round(np.where(ethnicity == 2, 0.0, 10.0) + rng.normal(0, 1, n), 2)
age = rng.integers(18, 80, n).astype(float)
y = (rng.random(n) < 0.3 + 0.2 * (ethnicity == 2)).astype(int)
data = pd.DataFrame({'age': age, 'zone': zone, 'ethnicity': ethnicity, 'y': y})
data.to_csv(os.path.join(HERE, 'proxy_codes.csv'), index=False)

back = pd.read_csv(os.path.join(HERE, 'proxy_codes.csv'))


def eta(column):
    groups = back.groupby('ethnicity')[column]
    mean = back[column].mean()
    between = (groups.count() * (groups.mean() - mean) ** 2).sum()
    total = ((back[column] - mean) ** 2).sum()
    return float(np.sqrt(between / total))


out = {'eta': {c: eta(c) for c in ['age', 'zone']}, 'abs_pearson_zone': float(abs(np.corrcoef(back.zone, back.ethnicity)[0, 1]))}
with open(os.path.join(HERE, 'proxy_codes.json'), 'w') as f:
    json.dump(out, f, indent=1, sort_keys=True)
print(out)
