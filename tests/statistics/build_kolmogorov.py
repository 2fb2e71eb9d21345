"""The Kolmogorov distribution's survival function Q_KS(lambda) = P(K > lambda), by scipy.

Run with Debian's Python (python3-scipy):
    /usr/bin/python3 tests/statistics/build_kolmogorov.py
Writes tests/statistics/kolmogorov.json: scipy.stats.kstwobign.sf on a grid of lambda from
1e-4 to 4 (both sides of 1.18, where an alternating series alone stops converging), and two
two-sample KS tests of large, nearly identical columns with scipy.stats.ks_2samp (the
statistic) and kstwobign.sf of Stephens' lambda (the asymptotic p-value Plumbline states).
"""
import json
import math
import os

import numpy as np
from scipy.stats import ks_2samp, kstwobign

HERE = os.path.dirname(os.path.abspath(__file__))
grid = [1e-4, 1e-3, 0.003, 0.005, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0, 1.1, 1.17, 1.18, 1.19, 1.3, 1.5, 2.0, 2.5, 3.0, 4.0]
cases = []
for n in (300_000, 1_000_000):
    a = np.arange(n, dtype=float)
    b = a.copy()
    b[n // 2] = -1.0
    d = float(ks_2samp(a, b).statistic)
    ne = n * n / (2 * n)
    lam = (math.sqrt(ne) + 0.12 + 0.11 / math.sqrt(ne)) * d
    cases.append({"n": n, "statistic": d, "p_value": float(kstwobign.sf(lam))})
out = {"grid": [{"lambda": x, "q": float(kstwobign.sf(x))} for x in grid], "two_sample": cases}
with open(os.path.join(HERE, "kolmogorov.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(json.dumps(out["two_sample"]))
