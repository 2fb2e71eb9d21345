"""xgboost's pred_contribs on the treeshap-path bench model (bench/speed-entries.ts writes it
with its rows; bench/xgboost-compare.ts writes Plumbline's values beside them): one thread.
`--time N` prints the time of each of N calls (pred_contribs_ms=…), the bench entry
treeshap-path-xgboost; without it, the best of 4 and the largest difference from
Plumbline's values. Optional (needs Debian's python3-xgboost); the tests never run it."""
import json
import pathlib
import sys
import time

import numpy as np
import xgboost as xgb

out = pathlib.Path(__file__).parent / "out"
booster = xgb.Booster()
booster.load_model(str(out / "treeshap-model.json"))
booster.set_param({"nthread": 1})
rows = np.loadtxt(out / "treeshap-rows.csv", delimiter=",", ndmin=2)
matrix = xgb.DMatrix(rows, missing=np.nan, feature_names=booster.feature_names)
if len(sys.argv) == 3 and sys.argv[1] == "--time":
    for _ in range(int(sys.argv[2])):
        start = time.perf_counter()
        booster.predict(matrix, pred_contribs=True)
        print(f"pred_contribs_ms={(time.perf_counter() - start) * 1000:.3f}")
    sys.exit(0)
times = []
for _ in range(4):
    start = time.perf_counter()
    contribs = booster.predict(matrix, pred_contribs=True)
    times.append(time.perf_counter() - start)
best = min(times)
ours = np.array(json.loads((out / "treeshap-values.json").read_text())["values"])
print(f"xgboost {xgb.__version__} pred_contribs, 1 thread: {len(rows)} rows in {best * 1000:.0f} ms best of 4 ({len(rows) / best:.0f} rows/s)")
print(f"max |plumbline - xgboost| SHAP value: {np.abs(ours - contribs[:, :-1]).max():.2e} (xgboost sums in float32)")
