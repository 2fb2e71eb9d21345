#!/usr/bin/python3
"""Builds tests/models/lgbm_pandas_cat.* with LightGBM itself (not on Debian: run it with a
throwaway venv, `/usr/bin/python3 -m venv --system-site-packages V` plus the lightgbm 4.7.0 and
narwhals wheels installed with `V/bin/pip install --no-index --no-deps ...`, then `V/bin/python
tests/models/build_lgbm_pandas_categorical.py`). Run by hand, never by tests; seeded (same bytes).

A binary LGBMClassifier trained on a DataFrame with two pandas `category` columns: `rating`, whose
categories are the numbers 1..5 (a star rating kept as a category), and `city`, whose categories
are texts. LightGBM saves the categories in the file's `pandas_categorical:` line and, at predict
time, feeds each cell as its position in that list (rating 1 is code 0; a city not in the list is
NaN). The CSV is a later batch: ratings 1..4 only (no 5s this month), a city the model never saw
("Nantes"), and blanks. Expected: predict_proba (p of class 1) and pred_contrib (path-dependent
TreeSHAP) on the CSV's rows, read by pandas and given the training categories, as a user would.
"""
import json
import os

import lightgbm as lgb
import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(61)
n = 3000
cities = ['Brest', 'Lille', 'Lyon', 'Nice', 'Paris']
rating = rng.integers(1, 6, n)
city = rng.choice(cities, n)
age = rng.integers(18, 80, n).astype(float)
logit = 0.02 * (age - 45) + np.array([0, -1.5, -0.5, 0.3, 1.0, 1.8])[rating] + np.array([0.8, -0.6, 0.2, -1.0, 0.5])[[cities.index(c) for c in city]]
y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
X = pd.DataFrame({'age': age, 'rating': pd.Categorical(rating), 'city': pd.Categorical(city)})
model = lgb.LGBMClassifier(n_estimators=40, num_leaves=15, random_state=1, n_jobs=1, verbose=-1, deterministic=True, force_row_wise=True).fit(X, y)
model.booster_.save_model(os.path.join(HERE, 'lgbm_pandas_cat.txt'))

m = 1000
batch = pd.DataFrame({
    'age': rng.integers(18, 80, m).astype(float),
    'rating': rng.integers(1, 5, m).astype(float),
    'city': rng.choice(cities + ['Nantes'], m),
    'sex': rng.choice(['F', 'M'], m),
})
batch.loc[rng.random(m) < 0.05, 'rating'] = np.nan
batch.loc[rng.random(m) < 0.05, 'city'] = None
batch_logit = 0.02 * (batch.age - 45) + 0.3
batch['y'] = (rng.random(m) < 1 / (1 + np.exp(-batch_logit))).astype(int)
batch['rating'] = batch['rating'].astype('Int64')
batch.to_csv(os.path.join(HERE, 'lgbm_pandas_cat.csv'), index=False)

back = pd.read_csv(os.path.join(HERE, 'lgbm_pandas_cat.csv'))
features = pd.DataFrame({
    'age': back.age,
    'rating': pd.Categorical(back.rating, categories=X.rating.cat.categories),
    'city': pd.Categorical(back.city, categories=X.city.cat.categories),
})
booster = lgb.Booster(model_file=os.path.join(HERE, 'lgbm_pandas_cat.txt'))
p = booster.predict(features)
contributions = booster.predict(features, pred_contrib=True)
with open(os.path.join(HERE, 'lgbm_pandas_cat.expected.json'), 'w') as f:
    json.dump({
        'library': 'lightgbm %s' % lgb.__version__,
        'how': 'Booster(model_file=lgbm_pandas_cat.txt).predict(X) and predict(X, pred_contrib=True), X = the CSV read by '
               'pandas with rating and city as pd.Categorical of the training categories (the file\'s pandas_categorical)',
        'p_positive': [float(v) for v in p],
        'contributions': [[float(v) for v in row[:3]] for row in contributions],
        'bias': float(contributions[0, 3]),
    }, f)
    f.write('\n')
print('rows', m, 'p[:3]', p[:3])
