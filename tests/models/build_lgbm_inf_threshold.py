#!/usr/bin/python3
"""Builds tests/models/lgbm_inf_threshold.* with LightGBM itself (not on Debian: run it with a
throwaway venv, as build_lgbm_categorical_nan.py says, `V/bin/python
tests/models/build_lgbm_inf_threshold.py`). Run by hand, never by tests; seeded (same bytes).

A default LGBMClassifier trained on German credit's numbers with a tenth of their cells blanked: LightGBM then
splits some nodes on "missing or not", writing the threshold as C's `inf` in the text file
(Plumbline read it as NaN and refused the file as damaged). Expected: Booster.predict (p) and
Booster.predict(pred_contrib=True) on the CSV's rows, blanks as NaN.
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
X = train[NUM].astype(float).mask(np.random.RandomState(1).rand(len(train), len(NUM)) < 0.10)
X_test = test[NUM].astype(float).mask(np.random.RandomState(2).rand(len(test), len(NUM)) < 0.10)
model = lgb.LGBMClassifier(verbose=-1).fit(X, train.good_credit)
path = os.path.join(HERE, 'lgbm_inf_threshold.txt')
model.booster_.save_model(path)
text = open(path).read()
infs = sum(1 for line in text.splitlines() if line.startswith('threshold=') and 'inf' in line.split('=', 1)[1].split())
assert infs > 0, 'the model must split on missing-or-not (a threshold of inf)'
booster = lgb.Booster(model_file=path)
rows = X_test.reset_index(drop=True)
out = rows.copy()
out['gender'] = test.gender
out['good_credit'] = test.good_credit
out.to_csv(os.path.join(HERE, 'lgbm_inf_threshold.csv'), index=False)
p = booster.predict(rows)
contrib = booster.predict(rows, pred_contrib=True)
with open(os.path.join(HERE, 'lgbm_inf_threshold.expected.json'), 'w') as f:
    json.dump({'lightgbm': lgb.__version__, 'inf_thresholds': infs, 'p_positive': p.tolist(), 'contributions': contrib[:, :-1].tolist(), 'expected_value': float(contrib[0, -1])}, f)
print('inf thresholds:', infs)
