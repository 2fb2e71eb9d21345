#!/usr/bin/python3
"""Builds tests/models/lgbm_linear_multiclass.* with LightGBM itself (not on Debian: run it with a
throwaway venv, as build_lgbm_categorical_nan.py says, `V/bin/python
tests/models/build_lgbm_linear_multiclass.py`). Run by hand, never by tests; seeded (same bytes).

A LightGBM multiclass model with linear leaves (linear_tree=True) of German credit's housing
(own / rent / forfree, coded 0, 1, 2 in order of first appearance) from its numbers. TreeSHAP
does not apply to linear leaves; the audit explains it another way. Expected: Booster.predict
(each class's p) on the CSV's rows.
"""
import json
import os

import lightgbm as lgb
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.environ.get('PLUMBLINE_FIXTURES', os.path.join(HERE, '..', '..', '..', 'shared', 'fixtures'))
NUM = ['duration_months', 'credit_amount', 'installment_rate', 'age', 'existing_credits']
train = pd.read_csv(os.path.join(FIXTURES, 'german_credit', 'train.csv'))
test = pd.read_csv(os.path.join(FIXTURES, 'german_credit', 'test.csv'))
codes = {name: k for k, name in enumerate(pd.unique(train.housing))}
model = lgb.LGBMClassifier(objective='multiclass', n_estimators=20, num_leaves=7, linear_tree=True, verbose=-1, deterministic=True, num_threads=1).fit(train[NUM].astype(float), train.housing.map(codes))
path = os.path.join(HERE, 'lgbm_linear_multiclass.txt')
model.booster_.save_model(path)
booster = lgb.Booster(model_file=path)
out = test[NUM + ['gender']].copy()
out['housing'] = test.housing.map(codes)
out.to_csv(os.path.join(HERE, 'lgbm_linear_multiclass.csv'), index=False)
with open(os.path.join(HERE, 'lgbm_linear_multiclass.expected.json'), 'w') as f:
    json.dump({'lightgbm': lgb.__version__, 'classes': {str(k): name for name, k in codes.items()}, 'p': booster.predict(test[NUM].astype(float)).tolist()}, f)
