"""Builds tests/data/mixed-reference.csv, mixed-current.csv and mixed.expected.json.

A reference of numbers, and a current file of a similar distribution whose `income` holds one
text ("unknown", a marker the config does not list as missing) and whose `score` is empty.
The expected PSI follows the README's convention, computed with numpy (deciles by
np.quantile, linear), the KS statistic with scipy. Run with Debian's /usr/bin/python3.
"""
import json
import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

here = __file__.rsplit('/', 1)[0]
r = np.random.RandomState(11)
ref = np.round(r.normal(50, 10, 600), 2)
cur = np.round(r.normal(51, 10, 400), 2)
cur_text = cur.astype(object)
cur_text[7] = 'unknown'
other_ref = np.round(r.normal(0, 1, 600), 3)
pd.DataFrame({'income': ref, 'score': other_ref}).to_csv(f'{here}/mixed-reference.csv', index=False)
pd.DataFrame({'income': cur_text, 'score': [''] * 400}).to_csv(f'{here}/mixed-current.csv', index=False)
cur_num = pd.to_numeric(pd.Series(cur_text), errors='coerce').to_numpy(dtype=float)


def decile_edges(present):
    """The reference's deciles by np.quantile (linear), duplicate edges merged."""
    edges = []
    for k in range(1, 10):
        e = np.quantile(present, k / 10)
        if not edges or e > edges[-1]:
            edges.append(e)
    return edges


def psi(ref_vals, cur_vals):
    present = ref_vals[~np.isnan(ref_vals)]
    edges = decile_edges(present)

    def shares(v):
        n = len(v)
        p = v[~np.isnan(v)]
        counts = np.bincount(np.searchsorted(edges, p, side='right'), minlength=len(edges) + 1) / n
        return list(counts), (n - len(p)) / n

    rs, rm = shares(ref_vals)
    cs, cm = shares(cur_vals)
    if rm > 0 or cm > 0:
        rs.append(rm)
        cs.append(cm)
    rs = np.maximum(rs, 1e-4)
    cs = np.maximum(cs, 1e-4)
    return float(np.sum((cs - rs) * np.log(cs / rs)))


out = {
    'how': 'build_mixed.py: numpy quantile (linear) deciles of the reference, bins [e_i, e_i+1) by searchsorted(side=right), missing as its own bin, shares floored at 1e-4; "unknown" read as missing (pandas to_numeric errors=coerce); KS statistic scipy.stats.ks_2samp',
    'income_psi': psi(ref, cur_num),
    'income_ks': float(ks_2samp(ref, cur_num[~np.isnan(cur_num)]).statistic),
    'score_psi': psi(other_ref, np.full(400, np.nan)),
}
with open(f'{here}/mixed.expected.json', 'w') as f:
    json.dump(out, f, indent=1)

# The data profile of a file whose `income` holds a few "unknown" cells among numbers: its
# proxy (correlation ratio η with `g`) and leakage AUC against `y`, read as numbers with the
# texts missing (pandas; sklearn's roc_auc_score with missing scored lowest, as the profile does).
from sklearn.metrics import roc_auc_score

r = np.random.RandomState(12)
n = 1000
income = np.round(r.normal(50, 10, n), 2).astype(object)
g = np.where(r.rand(n) < 0.4, 'a', 'b')
y = (r.rand(n) < 0.3).astype(int)
for row in (8, 120, 555):
    income[row] = 'unknown'
pd.DataFrame({'income': income, 'g': g, 'y': y}).to_csv(f'{here}/mixed-profile.csv', index=False)
x = pd.to_numeric(pd.Series(income), errors='coerce')
present = x.notna()
groups = pd.DataFrame({'x': x[present], 'g': g[present.to_numpy()]})
mean = groups.x.mean()
between = sum(len(v) * (v.mean() - mean) ** 2 for _, v in groups.groupby('g').x)
eta = float(np.sqrt(between / ((groups.x - mean) ** 2).sum()))
auc = roc_auc_score(y, x.fillna(-np.inf).replace(-np.inf, -1e300))
# The proxy check's bias-corrected η: sqrt(ε²), ε² = 1 − (SS_within / (n − k)) / (SS_total / (n − 1)), floored at 0.
within = sum(((v - v.mean()) ** 2).sum() for _, v in groups.groupby('g').x)
total = ((groups.x - mean) ** 2).sum()
eta_corrected = float(np.sqrt(max(0.0, 1 - (within / (len(groups) - groups.g.nunique())) / (total / (len(groups) - 1)))))
out['profile'] = {'how': 'mixed-profile.csv: η = sqrt(Σ n_g (mean_g − mean)² / Σ (x − mean)²) over present numbers (pandas), and its bias-corrected sqrt(ε²); AUC sklearn roc_auc_score with missing scored lowest; strength max(AUC, 1 − AUC)', 'income_eta': eta, 'income_eta_corrected': eta_corrected, 'income_leakage_strength': float(max(auc, 1 - auc))}
with open(f'{here}/mixed.expected.json', 'w') as f:
    json.dump(out, f, indent=1)

# The leakage check on categories, out of fold: `zip` (almost one row per value, drawn
# independently of y) and `status` (a few values that nearly give y away). A category's score
# is its positive rate among the rows of the other folds (row i in fold i mod 5), or the other
# folds' overall rate when they do not hold it; AUC by scikit-learn.
r = np.random.RandomState(13)
n = 1000
y = (r.rand(n) < 0.3).astype(int)
zipcode = np.array([f'{v:05d}' for v in r.randint(0, 20000, n)])
status = np.where(y == 1, np.where(r.rand(n) < 0.995, 'closed', 'open'), np.where(r.rand(n) < 0.995, 'open', 'closed'))
sex = np.where(r.rand(n) < 0.5, 'f', 'm')
frame = pd.DataFrame({'zip': zipcode, 'status': status, 'sex': sex, 'y': y})
frame.to_csv(f'{here}/leak-categories.csv', index=False)
fold = np.arange(n) % 5


def out_of_fold_auc(column):
    scores = np.empty(n)
    for f in range(5):
        train = frame[fold != f]
        rates = train.groupby(column).y.mean()
        overall = train.y.mean()
        scores[fold == f] = frame.loc[fold == f, column].map(rates).fillna(overall).to_numpy()
    auc = roc_auc_score(y, scores)
    return float(max(auc, 1 - auc))


out['leakage'] = {'how': 'leak-categories.csv: out-of-fold positive rate per category (folds i mod 5, pandas groupby; the other folds\' rate for a category they lack), scikit-learn roc_auc_score, strength max(AUC, 1 − AUC)', 'zip': out_of_fold_auc('zip'), 'status': out_of_fold_auc('status')}
with open(f'{here}/mixed.expected.json', 'w') as f:
    json.dump(out, f, indent=1)

# Cramér's V, bias-corrected (Bergsma 2013), of `zip` and `status` with `sex` in
# leak-categories.csv: χ² by scipy.stats.chi2_contingency (no continuity correction), then
# φ²₊ = max(0, χ²/n − (r−1)(c−1)/(n−1)), r̃ = r − (r−1)²/(n−1), V = √(φ²₊ / (min(r̃, c̃) − 1)).
from scipy.stats import chi2_contingency


def corrected_v(a, b):
    table = pd.crosstab(frame[a], frame[b]).to_numpy()
    chi2 = chi2_contingency(table, correction=False)[0]
    r, c = table.shape
    phi2 = max(0.0, chi2 / n - (r - 1) * (c - 1) / (n - 1))
    rr = r - (r - 1) ** 2 / (n - 1)
    cc = c - (c - 1) ** 2 / (n - 1)
    return float(np.sqrt(phi2 / (min(rr, cc) - 1)))


out['cramers_v'] = {'how': 'leak-categories.csv against sex: scipy chi2_contingency(correction=False) and Bergsma 2013\'s correction', 'zip': corrected_v('zip', 'sex'), 'status': corrected_v('status', 'sex')}
with open(f'{here}/mixed.expected.json', 'w') as f:
    json.dump(out, f, indent=1)

# A production batch whose `income` is written as codes for a third of its rows ("band3": a
# schema change, more texts than a marker) and whose `score` was renamed `score_v2`. Against
# the reference's stored deciles, its numbers fall in the deciles and its texts in a bin of
# their own that the reference never had (share 0, floored); `score` is missing: listed, not compared.
r = np.random.RandomState(14)
m = 300
batch = np.round(r.normal(50, 10, m), 2).astype(object)
for row in range(0, m, 3):
    batch[row] = f'band{row % 7}'
pd.DataFrame({'income': batch, 'score_v2': np.round(r.normal(0, 1, m), 3)}).to_csv(f'{here}/mixed-batch-text.csv', index=False)
numbers = pd.to_numeric(pd.Series(batch), errors='coerce').to_numpy(dtype=float)
texts = int(np.isnan(numbers).sum())
present_ref = ref[~np.isnan(ref)]
edges = decile_edges(present_ref)
ref_shares = list(np.bincount(np.searchsorted(edges, present_ref, side='right'), minlength=len(edges) + 1) / len(ref)) + [0.0]
present_cur = numbers[~np.isnan(numbers)]
cur_shares = list(np.bincount(np.searchsorted(edges, present_cur, side='right'), minlength=len(edges) + 1) / m) + [texts / m]
rs = np.maximum(ref_shares, 1e-4)
cs = np.maximum(cur_shares, 1e-4)
text_psi = float(np.sum((cs - rs) * np.log(cs / rs)))
# Against the raw reference, the same bins' counts, tested by scipy's chi2_contingency (no
# continuity correction: df > 1); and the other way round (the batch as the reference: its
# numbers' deciles, its texts in the text bin, which the reference file never has).
from scipy.stats import chi2_contingency

ref_counts = np.bincount(np.searchsorted(edges, present_ref, side='right'), minlength=len(edges) + 1).tolist() + [0]
cur_counts = np.bincount(np.searchsorted(edges, present_cur, side='right'), minlength=len(edges) + 1).tolist() + [texts]
chi = chi2_contingency(np.array([ref_counts, cur_counts]), correction=False)
back_edges = decile_edges(present_cur)
back_ref = list(np.bincount(np.searchsorted(back_edges, present_cur, side='right'), minlength=len(back_edges) + 1) / m) + [texts / m]
back_cur = list(np.bincount(np.searchsorted(back_edges, present_ref, side='right'), minlength=len(back_edges) + 1) / len(ref)) + [0.0]
br = np.maximum(back_ref, 1e-4)
bc = np.maximum(back_cur, 1e-4)
out['batch_text'] = {
    'how': 'mixed-batch-text.csv against the stored deciles of mixed-reference.csv income: numbers binned as above, the text cells (pandas to_numeric errors=coerce → NaN) in one more bin with reference share 0; shares floored at 1e-4; score missing from the batch. chi2: scipy.stats.chi2_contingency(correction=False) of the same bins\' counts. reverse_psi: mixed-batch-text.csv as the reference (deciles of its numbers, its texts a bin) and mixed-reference.csv as the batch',
    'income_psi': text_psi,
    'text_cells': texts,
    'income_chi2': float(chi[0]),
    'income_chi2_p': float(chi[1]),
    'income_chi2_df': int(chi[2]),
    'reverse_psi': float(np.sum((bc - br) * np.log(bc / br))),
}
with open(f'{here}/mixed.expected.json', 'w') as f:
    json.dump(out, f, indent=1)
