#!/usr/bin/python3
"""Builds tests/models/lgbm_ova.* with LightGBM itself (not on Debian: run it with a throwaway
venv, as build_lgbm_categorical_nan.py says, `V/bin/python tests/models/build_lgbm_ova.py`). Run
by hand, never by tests; seeded (same bytes).

A LightGBM multiclassova model (one-vs-rest: each class's probability is the sigmoid of its own
trees' sum, and they do not sum to 1) of German credit's housing (own / rent / free, coded 0, 1, 2
in order of first appearance, as LightGBM needs classes 0…K−1) from its numbers, a tenth of the
cells blanked. Audited for one class against the rest, p(class k) is one ensemble's sum, so
TreeSHAP explains it exactly. Expected: Booster.predict (each class's p) and
Booster.predict(pred_contrib=True) (per class: the raw score's path-dependent SHAP values and
its expected value) on the CSV's rows, blanks as NaN.
"""
import json
import os

import lightgbm as lgb
import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.environ.get('PLUMBLINE_FIXTURES', os.path.join(HERE, '..', '..', '..', 'shared', 'fixtures'))
NUM = ['duration_months', 'credit_amount', 'installment_rate', 'residence_years', 'age', 'existing_credits', 'people_liable']
train = pd.read_csv(os.path.join(FIXTURES, 'german_credit', 'train.csv'))
test = pd.read_csv(os.path.join(FIXTURES, 'german_credit', 'test.csv'))
codes = {name: k for k, name in enumerate(pd.unique(train.housing))}
X = train[NUM].astype(float).mask(np.random.RandomState(1).rand(len(train), len(NUM)) < 0.10)
X_test = test[NUM].astype(float).mask(np.random.RandomState(2).rand(len(test), len(NUM)) < 0.10)
model = lgb.LGBMClassifier(objective='multiclassova', n_estimators=40, num_leaves=15, verbose=-1).fit(X, train.housing.map(codes))
path = os.path.join(HERE, 'lgbm_ova.txt')
model.booster_.save_model(path)
booster = lgb.Booster(model_file=path)
assert booster.params.get('objective', 'multiclassova').startswith('multiclassova') or 'multiclassova' in open(path).read()
rows = X_test.reset_index(drop=True)
out = rows.copy()
out['gender'] = test.gender
out['housing'] = test.housing.map(codes)
out.to_csv(os.path.join(HERE, 'lgbm_ova.csv'), index=False)
p = booster.predict(rows)
contrib = booster.predict(rows, pred_contrib=True)
width = len(NUM) + 1
classes = len(codes)
with open(os.path.join(HERE, 'lgbm_ova.expected.json'), 'w') as f:
    json.dump({
        'lightgbm': lgb.__version__,
        'classes': {str(k): name for name, k in codes.items()},
        'p': p.tolist(),
        'contributions': [contrib[:, k * width:(k + 1) * width - 1].tolist() for k in range(classes)],
        'expected_value': [float(contrib[0, (k + 1) * width - 1]) for k in range(classes)],
    }, f)
print('classes', codes, 'row sums of p (not 1):', p.sum(axis=1)[:3])
