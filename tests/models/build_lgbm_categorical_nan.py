#!/usr/bin/python3
"""Builds tests/models/lgbm_categorical_nan.* with LightGBM itself (not on Debian: run it with a
throwaway venv, `/usr/bin/python3 -m venv --system-site-packages V` plus the lightgbm 4.7.0 and
narwhals wheels installed with `V/bin/pip install --no-index --no-deps ...`, then `V/bin/python
tests/models/build_lgbm_categorical_nan.py`). Run by hand, never by tests; seeded (same bytes).

A binary model with a categorical feature (`region`, codes 0..5) trained on data without a blank
in it, so LightGBM writes its category splits with missing type None; the test rows then hold
blanks in `region` (a production batch). LightGBM sends NaN right at every category split
(Tree::CategoricalDecision since v3.3.0). Expected: Booster.predict (p) and
Booster.predict(pred_contrib=True) (path-dependent TreeSHAP) on the CSV's rows, blanks as NaN.
"""
import json
import os

import lightgbm as lgb
import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(11)
n = 600
X = pd.DataFrame({
    'age': rng.integers(18, 80, n).astype(float),
    'income': np.round(rng.gamma(2, 20, n), 1),
    'region': rng.integers(0, 6, n).astype(float),
})
effect = np.array([0.8, -0.6, 0.2, -0.9, 1.0, 0.0])
logit = 0.04 * (X.age - 45) + 0.03 * (X.income - 40) + effect[X.region.astype(int)] - 0.3
y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
params = dict(objective='binary', num_leaves=8, learning_rate=0.2, verbose=-1, min_data_in_leaf=20, cat_smooth=1,
              min_data_per_group=10, max_cat_to_onehot=2, seed=1, deterministic=True, num_threads=1)
booster = lgb.train(params, lgb.Dataset(X, y, categorical_feature=['region']), 20)
booster.save_model(os.path.join(HERE, 'lgbm_categorical_nan.txt'))

test = X.copy()
test.loc[rng.random(n) < 0.2, 'region'] = np.nan
test['sex'] = rng.choice(['F', 'M'], n)
test['y'] = y
test.to_csv(os.path.join(HERE, 'lgbm_categorical_nan.csv'), index=False)
back = pd.read_csv(os.path.join(HERE, 'lgbm_categorical_nan.csv'), float_precision='round_trip')
rows = back[['age', 'income', 'region']].to_numpy(dtype=np.float64)
p = booster.predict(rows)
contributions = booster.predict(rows, pred_contrib=True)
with open(os.path.join(HERE, 'lgbm_categorical_nan.expected.json'), 'w') as f:
    json.dump({
        'library': 'lightgbm %s' % lgb.__version__,
        'how': 'Booster(model trained here).predict and predict(pred_contrib=True) on the age, income, region columns of '
               'lgbm_categorical_nan.csv read back with pandas (empty cells as NaN); %d of %d rows have a blank region'
               % (int(np.isnan(rows[:, 2]).sum()), n),
        'features': ['age', 'income', 'region'],
        'p_positive': p.tolist(),
        'contributions': contributions[:, :3].tolist(),
        'expected_value': float(contributions[0, 3]),
    }, f)
    f.write('\n')
