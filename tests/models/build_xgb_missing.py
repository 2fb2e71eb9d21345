#!/usr/bin/python3
"""Builds tests/models/xgb_missing999.* with Debian's python3-xgboost (1.7): run by hand, never by
tests (`/usr/bin/python3 tests/models/build_xgb_missing.py`); seeded, two runs write the same bytes.

XGBClassifier(missing=-999) trained on rows whose blank `debt` was filled with -999 (a common way
to train these models): the scikit-learn wrapper stores missing=-999 in
learner.attributes.scikit_learn and its predict_proba reads a cell of -999 as missing. The CSV
holds -999 cells (and no blank). Expected: predict_proba (p of class 1) and, for path-dependent
TreeSHAP, Booster.predict(DMatrix(X, missing=-999), pred_contribs=True), both on the CSV's rows.
"""
import json
import os

import numpy as np
import pandas as pd
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(23)
n = 800
X = pd.DataFrame({
    'age': rng.integers(18, 80, n).astype(float),
    'income': np.round(rng.gamma(2, 20, n), 1),
    'debt': np.round(rng.normal(10, 5, n), 2),
})
blank = rng.random(n) < 0.2
logit = 0.04 * (X.age - 45) + 0.03 * (X.income - 40) - 0.1 * X.debt + np.where(blank, 1.2, 0) - 0.2
y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
X.loc[blank, 'debt'] = -999.0
model = xgb.XGBClassifier(n_estimators=25, max_depth=3, learning_rate=0.3, missing=-999, tree_method='hist', random_state=1, n_jobs=1)
model.fit(X, y)
model.save_model(os.path.join(HERE, 'xgb_missing999.json'))

data = X.copy()
data['sex'] = rng.choice(['F', 'M'], n)
data['y'] = y
data.to_csv(os.path.join(HERE, 'xgb_missing999.csv'), index=False)
back = pd.read_csv(os.path.join(HERE, 'xgb_missing999.csv'), float_precision='round_trip')[['age', 'income', 'debt']]
loaded = xgb.XGBClassifier()
loaded.load_model(os.path.join(HERE, 'xgb_missing999.json'))
p = loaded.predict_proba(back)[:, 1]
contributions = loaded.get_booster().predict(xgb.DMatrix(back, missing=-999), pred_contribs=True)
with open(os.path.join(HERE, 'xgb_missing999.expected.json'), 'w') as f:
    json.dump({
        'library': 'xgboost %s' % xgb.__version__,
        'how': 'XGBClassifier().load_model(xgb_missing999.json).predict_proba(...)[:, 1] and Booster.predict(DMatrix(X, '
               'missing=-999), pred_contribs=True) on the age, income, debt columns of xgb_missing999.csv (%d of %d rows '
               'hold debt -999)' % (int((back.debt == -999).sum()), n),
        'p_positive': [float(v) for v in p],
        'contributions': [[float(v) for v in row[:3]] for row in contributions],
        'bias': float(contributions[0, 3]),
    }, f)
    f.write('\n')
