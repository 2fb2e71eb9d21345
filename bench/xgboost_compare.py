"""xgboost's pred_contribs on the treeshap-path bench model (see bench/xgboost-compare.ts):
one thread, timed, and compared with Plumbline's values. Optional; needs xgboost."""
import json
import pathlib
import time

import numpy as np
import xgboost as xgb

out = pathlib.Path(__file__).parent / "out"
booster = xgb.Booster()
booster.load_model(str(out / "treeshap-model.json"))
booster.set_param({"nthread": 1})
rows = np.loadtxt(out / "treeshap-rows.csv", delimiter=",")
matrix = xgb.DMatrix(rows, missing=np.nan, feature_names=booster.feature_names)
times = []
for _ in range(4):
    start = time.perf_counter()
    contribs = booster.predict(matrix, pred_contribs=True)
    times.append(time.perf_counter() - start)
best = min(times)
ours = np.array(json.loads((out / "treeshap-values.json").read_text())["values"])
print(f"xgboost {xgb.__version__} pred_contribs, 1 thread: {len(rows)} rows in {best * 1000:.0f} ms best of 4 ({len(rows) / best:.0f} rows/s)")
print(f"max |plumbline - xgboost| SHAP value: {np.abs(ours - contribs[:, :-1]).max():.2e} (xgboost sums in float32)")
