"""A protected attribute written as numeric codes (ethnicity 1/2/3, as survey and HR exports write it)
and a column that is a strong, non-monotone proxy of it (zone: group 2 against the others).

Run with Debian's Python (python3-pandas, python3-numpy):
    /usr/bin/python3 tests/statistics/build_proxy_codes.py
Writes tests/statistics/proxy_codes.csv and proxy_codes.json: the correlation ratio η of each
numeric column across the ethnicity groups, sqrt(SS_between / SS_total) by pandas groupby, and
its bias-corrected form sqrt(ε²), ε² = 1 − (SS_within / (n − k)) / (SS_total / (n − 1))
(Kelley 1935, floored at 0), which tests/core/profile.test.ts compares the proxy check with; and
a noise column across 60 groups of 10 rows (ethnicity_many), where η reads ~0.25 by chance and the
corrected value ~0. (|Pearson r| of zone with the codes is
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


def eta(frame, column, by):
    groups = frame.groupby(by)[column]
    mean = frame[column].mean()
    between = (groups.count() * (groups.mean() - mean) ** 2).sum()
    total = ((frame[column] - mean) ** 2).sum()
    return float(np.sqrt(between / total))


def eta_corrected(frame, column, by):
    n = len(frame)
    k = frame[by].nunique()
    within = ((frame[column] - frame.groupby(by)[column].transform('mean')) ** 2).sum()
    total = ((frame[column] - frame[column].mean()) ** 2).sum()
    epsilon2 = 1 - (within / (n - k)) / (total / (n - 1))
    return float(np.sqrt(max(0.0, epsilon2)))


# Noise across many small groups: the bias the correction removes.
many = pd.DataFrame({'noise': np.round(rng.normal(0, 1, 600), 4), 'ethnicity_many': [f'g{i % 60:02d}' for i in range(600)], 'y': rng.integers(0, 2, 600)})
many.to_csv(os.path.join(HERE, 'proxy_many_groups.csv'), index=False)
many = pd.read_csv(os.path.join(HERE, 'proxy_many_groups.csv'))

out = {
    'eta': {c: eta(back, c, 'ethnicity') for c in ['age', 'zone']},
    'eta_corrected': {c: eta_corrected(back, c, 'ethnicity') for c in ['age', 'zone']},
    'many_groups': {'eta': eta(many, 'noise', 'ethnicity_many'), 'eta_corrected': eta_corrected(many, 'noise', 'ethnicity_many')},
    'abs_pearson_zone': float(abs(np.corrcoef(back.zone, back.ethnicity)[0, 1])),
}
with open(os.path.join(HERE, 'proxy_codes.json'), 'w') as f:
    json.dump(out, f, indent=1, sort_keys=True)
print(out)
