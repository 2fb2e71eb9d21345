#!/usr/bin/python3
"""Builds tests/models/lgbm_numpy.* with LightGBM itself (not on Debian: run it with a
throwaway venv, as build_lgbm_categorical_nan.py says, `V/bin/python
tests/models/build_lgbm_numpy.py`). Run by hand, never by tests; seeded (same bytes).

A binary model trained on a numpy array, as many scripts train: LightGBM names its features
Column_0…Column_3, and the file says nothing of the data's columns. The CSV holds them under
their own names (age, income, debt, tenure, in training order), which model.features
(--features) gives. Expected: Booster.predict (p) and pred_contrib on the CSV's rows.
"""
import json
import os

import lightgbm as lgb
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(4)
n = 500
names = ['age', 'income', 'debt', 'tenure']
X = np.column_stack([rng.integers(18, 80, n), np.round(rng.gamma(2, 20, n), 1), np.round(rng.gamma(1.5, 10, n), 1), rng.integers(0, 30, n)]).astype(float)
logit = 0.03 * (X[:, 0] - 45) + 0.03 * (X[:, 1] - 40) - 0.05 * (X[:, 2] - 15) + 0.04 * X[:, 3] - 0.4
y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
booster = lgb.train({'objective': 'binary', 'verbose': -1, 'num_leaves': 8, 'seed': 4}, lgb.Dataset(X[:400], y[:400]), 40)
path = os.path.join(HERE, 'lgbm_numpy.txt')
booster.save_model(path)
assert 'feature_names=Column_0 Column_1 Column_2 Column_3' in open(path).read()
test = X[400:]
with open(os.path.join(HERE, 'lgbm_numpy.csv'), 'w') as f:
    f.write(','.join(names + ['sex', 'y']) + '\n')
    for i, row in enumerate(test):
        f.write(','.join([repr(float(v)) for v in row] + [['f', 'm'][i % 2], str(y[400 + i])]) + '\n')
contrib = booster.predict(test, pred_contrib=True)
with open(os.path.join(HERE, 'lgbm_numpy.expected.json'), 'w') as f:
    json.dump({'lightgbm': lgb.__version__, 'features': names, 'p_positive': booster.predict(test).tolist(), 'contributions': contrib[:, :-1].tolist(), 'expected_value': float(contrib[0, -1])}, f)
