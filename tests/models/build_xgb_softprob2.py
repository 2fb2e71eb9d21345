#!/usr/bin/python3
"""Builds tests/models/xgb_softprob2.* with Debian's xgboost (/usr/bin/python3). Run by hand,
never by tests; seeded (same bytes).

An XGBoost multi:softprob model of two classes (German credit's good_credit from its numbers, a
tenth of the cells blanked): p(class k) is the softmax of the two classes' margins, that is
sigmoid(m_k − m_other). Expected: Booster.predict (both classes' p) and
Booster.predict(pred_contribs=True) (per class: the margin's path-dependent SHAP values and
their bias) on the CSV's rows, blanks as NaN.
"""
import json
import os

import numpy as np
import pandas as pd
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.environ.get('PLUMBLINE_FIXTURES', os.path.join(HERE, '..', '..', '..', 'shared', 'fixtures'))
NUM = ['duration_months', 'credit_amount', 'installment_rate', 'residence_years', 'age', 'existing_credits', 'people_liable']
train = pd.read_csv(os.path.join(FIXTURES, 'german_credit', 'train.csv'))
test = pd.read_csv(os.path.join(FIXTURES, 'german_credit', 'test.csv'))
X = train[NUM].astype(float).mask(np.random.RandomState(1).rand(len(train), len(NUM)) < 0.10)
X_test = test[NUM].astype(float).mask(np.random.RandomState(2).rand(len(test), len(NUM)) < 0.10).reset_index(drop=True)
params = {'objective': 'multi:softprob', 'num_class': 2, 'max_depth': 4, 'eta': 0.3, 'seed': 0}
booster = xgb.train(params, xgb.DMatrix(X, label=train.good_credit), num_boost_round=30)
path = os.path.join(HERE, 'xgb_softprob2.json')
booster.save_model(path)
booster = xgb.Booster(model_file=path)
out = X_test.copy()
out['gender'] = test.gender
out['good_credit'] = test.good_credit
out.to_csv(os.path.join(HERE, 'xgb_softprob2.csv'), index=False)
dm = xgb.DMatrix(X_test)
p = booster.predict(dm)
contrib = booster.predict(dm, pred_contribs=True)  # rows × classes × (features + bias)
with open(os.path.join(HERE, 'xgb_softprob2.expected.json'), 'w') as f:
    json.dump({
        'xgboost': xgb.__version__,
        'p': p.astype(float).tolist(),
        'contributions': [contrib[:, k, :-1].astype(float).tolist() for k in range(2)],
        'bias': [contrib[:, k, -1].astype(float).tolist() for k in range(2)],
    }, f)
print(p[:3], contrib.shape)
