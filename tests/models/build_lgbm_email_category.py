#!/usr/bin/python3
"""Builds tests/models/lgbm_email_category.* with LightGBM itself (not on Debian: run it with a
throwaway venv, as build_lgbm_categorical_nan.py says). Run by hand, never by tests; seeded.

A LightGBM model trained on a pandas category column of e-mail addresses (a column of personal
data used as a model input) and one number; the CSV to audit holds addresses the model never
saw. The audit must count them without listing them.
"""
import os

import lightgbm as lgb
import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.RandomState(3)
n = 400
emails = [f"client{i % 120}@bank.example" for i in range(n)]
x = rng.normal(0, 1, n)
y = ((x + rng.normal(0, 1, n)) > 0).astype(int)
train = pd.DataFrame({"email": pd.Categorical(emails), "x": x})
model = lgb.LGBMClassifier(n_estimators=10, num_leaves=4, min_child_samples=5, verbose=-1).fit(train, y)
model.booster_.save_model(os.path.join(HERE, "lgbm_email_category.txt"))
m = 200
test = pd.DataFrame({
    "email": [f"client{i % 150}@bank.example" for i in range(m)],
    "x": np.round(rng.normal(0, 1, m), 4),
    "y": rng.randint(0, 2, m),
    "g": np.where(rng.rand(m) < 0.5, "a", "b"),
})
test.to_csv(os.path.join(HERE, "lgbm_email_category.csv"), index=False)
