#!/usr/bin/python3
"""Reference fixtures for multiclass and regression audits (issue 25), with scikit-learn's metrics.

Run by hand, never by tests:   /usr/bin/python3 tests/models/build_multiclass_regression.py
Needs Debian's python3-sklearn (1.2), python3-xgboost (1.7), python3-onnx, python3-pandas,
python3-scipy, numpy. The shared fixtures are read from PLUMBLINE_FIXTURES, else from
../shared/fixtures beside the project. Everything is seeded: two runs write the same bytes.

Writes into tests/models/:
  mc3_xgb_trees.onnx
      the mc3_xgb.json trees as an ONNX TreeEnsembleClassifier (SOFTMAX, string labels), described
      under "onnx_model" in mc3_xgb.expected.json, whose probabilities and pred_contribs it shares.
  mc3_xgb.json + mc3_xgb.csv + mc3_xgb.expected.json
      XGBoost multi:softprob, 3 classes with string labels low/medium/high (the JSON holds class
      indices 0, 1, 2 in that order), trained on compas train.csv to predict the COMPAS tool's own
      risk grade (score_text) from age, priors and juvenile counts. The CSV is 500 rows drawn
      (seeded) from compas test.csv, with about 3% of priors_count blanked (xgboost follows each
      split's default direction). Protected attributes: race, sex.
  mc5_linear.onnx + mc5_linear.csv + mc5_linear.expected.json
      scikit-learn Pipeline(SimpleImputer(mean), StandardScaler, LogisticRegression multinomial),
      5 classes "A".."E", written as ONNX by hand with the onnx helper API (Imputer -> Scaler ->
      LinearClassifier post_transform SOFTMAX; outputs label [N] and probabilities [N,5]; one input
      float_input [N,6] in the expected file's feature order). The target is SYNTHETIC: a grade cut
      at the training quintiles of a linear score of german_credit's columns plus seeded normal noise
      (formula below). The CSV is german_credit test.csv (300 rows) with ~3% of duration_months
      blanked. Protected attributes: gender, age_group (60+ is a real small group).
  reg_xgb.json, reg_linear.onnx + reg.csv + reg_xgb.expected.json, reg_linear.expected.json
      credit_amount (always > 0, so MAPE is defined) of german_credit, from six numeric columns:
      XGBRegressor reg:squarederror, and Pipeline(SimpleImputer(mean), LinearRegression) as ONNX
      (Imputer -> LinearRegressor, output variable [N,1]). reg.csv is german_credit test.csv's
      columns with ~3% of duration_months blanked. Protected attributes: gender, age_group.

Predictions in the expected files are the training library's (xgboost's float32 outputs widened
to float64 exactly; scikit-learn's float64). Every metric is computed from those predictions by
scikit-learn / scipy / numpy, with the conventions written next to each computation below and in
the expected file's "conventions". The ONNX files are read back and evaluated here in numpy from
their own float32 parameters, to check they give the library's predictions (to ~1e-6).
"""
import itertools
import json
import math
import os

import numpy as np
import onnx
import pandas as pd
import scipy
import scipy.stats
import sklearn
import xgboost as xgb
from onnx import TensorProto, helper
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score, log_loss,
                             mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                             median_absolute_error, multilabel_confusion_matrix, precision_recall_fscore_support,
                             precision_score, r2_score, recall_score, roc_auc_score)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.environ.get('PLUMBLINE_FIXTURES', os.path.join(HERE, '..', '..', '..', 'shared', 'fixtures'))
if not os.path.isdir(FIXTURES):
    FIXTURES = '/work/shared/fixtures'

assert xgb.__version__.startswith('1.7'), xgb.__version__
assert sklearn.__version__.startswith('1.2'), sklearn.__version__

VERSIONS = 'scikit-learn %s, xgboost %s, scipy %s, numpy %s, onnx %s' % (
    sklearn.__version__, xgb.__version__, scipy.__version__, np.__version__, onnx.__version__)
BINS = 10


def out(name):
    return os.path.join(HERE, name)


def write_text(name, text):
    with open(out(name), 'w', newline='\n') as f:
        f.write(text)


def clean(x):
    """Plain JSON: numpy scalars and arrays to floats/ints/lists, NaN refused."""
    if isinstance(x, dict):
        return {str(k): clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return clean(x.tolist())
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        assert math.isfinite(float(x)), x
        return float(x)
    return x


def write_json(name, obj):
    write_text(name, json.dumps(clean(obj), allow_nan=False) + '\n')


def csv_cell(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ''
    if isinstance(v, (float, np.floating)):
        return str(int(v)) if float(v).is_integer() else repr(float(v))
    return str(v)


def write_csv(name, df):
    lines = [','.join(df.columns)]
    cols = [df[c].tolist() for c in df.columns]
    for i in range(len(df)):
        lines.append(','.join(csv_cell(col[i]) for col in cols))
    write_text(name, '\n'.join(lines) + '\n')


def blank(df, column, share, seed):
    """Blanks about `share` of a column's cells (seeded), returns the blanked row count."""
    rng = np.random.default_rng(seed)
    mask = rng.random(len(df)) < share
    df[column] = df[column].astype(float)
    df.loc[mask, column] = np.nan
    return int(mask.sum())


# ======================================================================================
# Multiclass metrics (scikit-learn; numpy where scikit-learn 1.2 has no multiclass version)
# ======================================================================================
def ece(confidence, correct):
    """ECE with 10 equal-width bins on the confidence: bin b = min(floor(10*c), 9), i.e. [b/10,
    (b+1)/10) with the last bin closed at 1; ECE = sum_b (n_b/n) |mean(correct) - mean(confidence)|
    over non-empty bins."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    b = np.minimum(np.floor(confidence * BINS).astype(int), BINS - 1)
    total = 0.0
    for k in range(BINS):
        m = b == k
        if m.any():
            total += m.sum() / len(confidence) * abs(correct[m].mean() - confidence[m].mean())
    return total


def reliability(confidence, hit):
    """The reliability table behind ece(): per bin (same bins) its row count, mean confidence and share of
    hits (None in an empty bin)."""
    confidence = np.asarray(confidence, dtype=float)
    hit = np.asarray(hit, dtype=float)
    b = np.minimum(np.floor(confidence * BINS).astype(int), BINS - 1)
    return [{'bin': k, 'n': int((b == k).sum()),
             'mean_predicted': float(confidence[b == k].mean()) if (b == k).any() else None,
             'fraction_positive': float(hit[b == k].mean()) if (b == k).any() else None} for k in range(BINS)]


def rate(num, den):
    return None if den == 0 else num / den


def spread(values):
    """max - min over the defined values; None with fewer than two."""
    v = [x for x in values if x is not None]
    return None if len(v) < 2 else max(v) - min(v)


def auc_or_none(*args, **kwargs):
    """roc_auc_score, None where scikit-learn refuses it (a class absent from the rows, or every row of it)."""
    try:
        return roc_auc_score(*args, **kwargs)
    except ValueError:
        return None


def multiclass_performance(y, P, labels):
    """scikit-learn's performance metrics of P against y (class indices), for all rows or one group's.
    Per class, a value scikit-learn sets by zero_division (precision of a class never predicted, recall
    of a class without rows, F1 of a class in neither) or cannot compute (AUC of a class absent or
    holding every row) is None: the audit shows it as undefined; the averages keep scikit-learn's 0."""
    C = len(labels)
    idx = list(range(C))
    yhat = np.argmax(P, axis=1)  # ties: the lowest class index (numpy's argmax)
    m = {'n': len(y)}
    m['accuracy'] = accuracy_score(y, yhat)
    m['balanced_accuracy'] = balanced_accuracy_score(y, yhat)
    for avg in ['macro', 'weighted', 'micro']:
        # labels=None: the classes in y_true or y_pred (scikit-learn's default); zero_division=0.
        m['precision_' + avg] = precision_score(y, yhat, average=avg, zero_division=0)
        m['recall_' + avg] = recall_score(y, yhat, average=avg, zero_division=0)
        m['f1_' + avg] = f1_score(y, yhat, average=avg, zero_division=0)
    m['roc_auc_ovr'] = auc_or_none(y, P, multi_class='ovr', average='macro', labels=idx)
    m['roc_auc_ovr_weighted'] = auc_or_none(y, P, multi_class='ovr', average='weighted', labels=idx)
    m['log_loss'] = log_loss(y, P, labels=idx)
    Y = np.eye(C)[y]
    m['brier_score'] = float(np.mean(np.sum((P - Y) ** 2, axis=1)))
    m['confusion_matrix'] = confusion_matrix(y, yhat, labels=idx)
    prec, rec, f1, sup = precision_recall_fscore_support(y, yhat, labels=idx, zero_division=0)
    predicted = np.bincount(yhat, minlength=C)
    m['per_class'] = {labels[k]: {'roc_auc': auc_or_none((y == k).astype(int), P[:, k]),
                                  'precision': prec[k] if predicted[k] > 0 else None,
                                  'recall': rec[k] if sup[k] > 0 else None,
                                  'f1': f1[k] if predicted[k] + sup[k] > 0 else None, 'support': sup[k]}
                      for k in idx}
    return m


def multiclass_metrics(y, P, labels, frame):
    """y: class indices; P: n x C probabilities (the library's); labels: class names in output order."""
    C = len(labels)
    idx = list(range(C))
    yhat = np.argmax(P, axis=1)
    m = multiclass_performance(y, P, labels)
    m['top_label_ece'] = ece(P.max(axis=1), (yhat == y))
    classwise = [ece(P[:, k], (y == k)) for k in idx]
    m['classwise_ece'] = float(np.mean(classwise))
    m['max_classwise_ece'] = float(np.max(classwise))
    m['classwise_ece_per_class'] = dict(zip(labels, classwise))
    m['reliability'] = {'top_label': reliability(P.max(axis=1), (yhat == y)),
                        'classwise': {labels[k]: reliability(P[:, k], (y == k)) for k in idx}}
    fairness = {}
    for attribute in frame['protected']:
        col = frame['data'][attribute].fillna('(missing)').astype(str).to_numpy()
        groups = {}
        for g in sorted(set(col)):
            rows = col == g
            yg, pg = y[rows], yhat[rows]
            mcm = multilabel_confusion_matrix(yg, pg, labels=idx)  # per class [[tn, fp], [fn, tp]]
            groups[g] = {
                'n': int(rows.sum()),
                'performance': multiclass_performance(yg, P[rows], labels),
                'accuracy': accuracy_score(yg, pg),
                'f1_macro': f1_score(yg, pg, average='macro', zero_division=0),
                'selection_rate': {labels[k]: float(np.mean(pg == k)) for k in idx},
                'tpr': {labels[k]: rate(mcm[k][1][1], mcm[k][1][1] + mcm[k][1][0]) for k in idx},
                'fpr': {labels[k]: rate(mcm[k][0][1], mcm[k][0][1] + mcm[k][0][0]) for k in idx},
            }
        by_class = {}
        for k in labels:
            by_class[k] = {
                'selection_rate_difference': spread([gm['selection_rate'][k] for gm in groups.values()]),
                'tpr_difference': spread([gm['tpr'][k] for gm in groups.values()]),
                'fpr_difference': spread([gm['fpr'][k] for gm in groups.values()]),
            }
            parts = [by_class[k]['tpr_difference'], by_class[k]['fpr_difference']]
            by_class[k]['equalized_odds_difference'] = None if all(p is None for p in parts) else max(p for p in parts if p is not None)
        worst = lambda key: max([c[key] for c in by_class.values() if c[key] is not None], default=None)
        fairness[attribute] = {
            'groups': groups, 'by_class': by_class,
            'max_class_selection_rate_difference': worst('selection_rate_difference'),
            'equalized_odds_difference': worst('equalized_odds_difference'),
            'accuracy_difference': spread([gm['accuracy'] for gm in groups.values()]),
            'f1_macro_difference': spread([gm['f1_macro'] for gm in groups.values()]),
        }
    m['fairness'] = fairness
    return m


MULTICLASS_CONVENTIONS = {
    'predicted_class': 'argmax of the probabilities; ties go to the lowest class index (numpy argmax)',
    'averages': 'scikit-learn 1.2, labels=None (the classes present in y_true or y_pred), zero_division=0: a '
                'class never predicted counts precision 0 in precision_macro/weighted, a class without '
                'support counts recall 0; micro = accuracy for single-label multiclass',
    'balanced_accuracy': 'mean recall over the classes present in y_true (scikit-learn)',
    'roc_auc_ovr': 'roc_auc_score(multi_class="ovr", labels=all classes): mean of the one-vs-rest AUCs; '
                   '_weighted weights each by its support',
    'log_loss': 'scikit-learn 1.2 log_loss(labels=all classes) on float64: p clipped to [eps, 1-eps] with '
                'eps = np.finfo(float64).eps = 2^-52, each row renormalised to sum 1, mean of -ln p[true]',
    'brier_score': 'multiclass Brier: mean over rows of sum_k (p_k - [y = k])^2 (range 0..2), numpy',
    'ece': '10 equal-width bins [b/10, (b+1)/10), last closed at 1; ECE = sum_b n_b/n |mean(hit) - '
           'mean(conf)|. top_label_ece: conf = max_k p_k, hit = argmax == y. classwise: per class k, conf = '
           'p_k, hit = [y = k]; classwise_ece = mean over classes (Kull et al. 2019), max_classwise_ece = max',
    'per_class': 'precision of a class never predicted, recall of a class without rows, F1 of a class in '
                 'neither, and the AUC of a class absent from the rows or holding all of them are null (the '
                 'averages keep scikit-learn\'s zero_division=0 and roc_auc_ovr is null when any class AUC is)',
    'groups': 'rows of each value of the attribute (blank = "(missing)"); "performance" = every metric above on '
              'the group\'s rows; per class k one-vs-rest: TPR_k = '
              'share of the group\'s class-k rows predicted k, FPR_k = share of its other rows predicted k '
              '(null when the denominator is empty); selection_rate_k = share of the group predicted k. '
              'Differences are max - min over groups where defined (null with fewer than two); '
              'equalized_odds_difference of a class = max(TPR diff, FPR diff); the attribute\'s = worst class',
}


# ======================================================================================
# Regression metrics
# ======================================================================================
def decile_edges(pred):
    """Interior decile edges of the predictions: numpy quantile (linear interpolation) at 10%..90%."""
    return np.quantile(pred, np.arange(1, BINS) / BINS)


def regression_metrics(y, yhat, frame, rng_seed):
    m = {'n': len(y)}
    m['mae'] = mean_absolute_error(y, yhat)
    m['rmse'] = mean_squared_error(y, yhat, squared=False)
    m['r2'] = r2_score(y, yhat)
    m['median_absolute_error'] = median_absolute_error(y, yhat)
    assert np.all(y > 0)
    m['mape'] = mean_absolute_percentage_error(y, yhat)
    edges = decile_edges(yhat)
    # bin = number of interior edges <= prediction: [e_b, e_b+1), a value on an edge goes above.
    bins = np.searchsorted(edges, yhat, side='right')
    m['decile_edges'] = edges
    fairness = {}
    for attribute in frame['protected']:
        col = frame['data'][attribute].fillna('(missing)').astype(str).to_numpy()
        names = sorted(set(col))
        groups = {}
        for g in names:
            r = col == g
            cal = []
            for b in range(BINS):
                s = r & (bins == b)
                cal.append({'bin': b, 'n': int(s.sum()),
                            'mean_prediction': float(yhat[s].mean()) if s.any() else None,
                            'mean_outcome': float(y[s].mean()) if s.any() else None})
            groups[g] = {
                'n': int(r.sum()),
                'mean_prediction': float(np.mean(yhat[r])), 'mean_outcome': float(np.mean(y[r])),
                'mae': mean_absolute_error(y[r], yhat[r]),
                'rmse': mean_squared_error(y[r], yhat[r], squared=False),
                'mse': mean_squared_error(y[r], yhat[r]),
                'r2': r2_score(y[r], yhat[r]),
                'median_absolute_error': median_absolute_error(y[r], yhat[r]),
                'mape': mean_absolute_percentage_error(y[r], yhat[r]),
                'calibration': cal,
            }
        pairs = []
        for a, b in itertools.combinations(names, 2):
            pa, pb = yhat[col == a], yhat[col == b]
            ks = scipy.stats.ks_2samp(pa, pb)
            pairs.append({'groups': [a, b], 'ks_statistic': ks.statistic, 'ks_pvalue_scipy': ks.pvalue,
                          'wasserstein_distance': scipy.stats.wasserstein_distance(pa, pb)})
        means_p = [gm['mean_prediction'] for gm in groups.values()]
        means_y = [gm['mean_outcome'] for gm in groups.values()]
        fairness[attribute] = {
            'groups': groups, 'pairs': pairs,
            'mean_prediction_difference': max(means_p) - min(means_p),
            'mean_prediction_ratio': min(means_p) / max(means_p) if min(means_p) > 0 else None,
            'mean_outcome_difference': max(means_y) - min(means_y),
            'mean_outcome_ratio': min(means_y) / max(means_y) if min(means_y) > 0 else None,
            'mae_difference': spread([gm['mae'] for gm in groups.values()]),
            'rmse_difference': spread([gm['rmse'] for gm in groups.values()]),
            'bounded_group_loss': max(gm['mse'] for gm in groups.values()),
            'ks_statistic': max(p['ks_statistic'] for p in pairs),
            'wasserstein_distance': max(p['wasserstein_distance'] for p in pairs),
        }
    m['fairness'] = fairness
    return m


REGRESSION_CONVENTIONS = {
    'metrics': 'scikit-learn 1.2: mean_absolute_error, mean_squared_error(squared=False), r2_score, '
               'median_absolute_error, mean_absolute_percentage_error (|y - yhat| / max(|y|, eps) averaged; '
               'every y here is > 0)',
    'groups': 'per group mean prediction, mean outcome, MAE, RMSE, MSE, R2, median absolute error, MAPE; differences max - min; ratios min/max '
              '(null unless every group mean is > 0); bounded_group_loss = the largest group MSE',
    'distribution': 'for every pair of groups scipy.stats.ks_2samp (statistic; its p-value, exact or '
                    'asymptotic as scipy chooses, is given for reference only) and '
                    'scipy.stats.wasserstein_distance of their predictions; the attribute\'s = worst pair',
    'calibration': 'deciles of the predictions of all rows: interior edges np.quantile(yhat, 0.1..0.9) '
                   '(linear interpolation), bin = number of edges <= yhat (a value on an edge goes to the '
                   'bin above; tied edges leave a bin empty); per group and bin: n, mean prediction, mean '
                   'outcome (null when empty)',
}


# ======================================================================================
# ONNX writers (onnx helper API, as build_onnx.py does)
# ======================================================================================
OPSET = 15


def onnx_model(nodes, inputs, outputs, name):
    graph = helper.make_graph(nodes, name, inputs, outputs)
    model = helper.make_model(graph, producer_name='build_multiclass_regression.py', producer_version='1',
                              opset_imports=[helper.make_opsetid('', OPSET), helper.make_opsetid('ai.onnx.ml', 1)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def f32(values):
    return np.asarray(values, dtype=np.float64).astype(np.float32).tolist()


def imputer_node(means, out_name):
    return helper.make_node('Imputer', ['float_input'], [out_name], name='Imputer', domain='ai.onnx.ml',
                            imputed_value_floats=f32(means), replaced_value_float=float('nan'))


def attr(node, name):
    return helper.get_attribute_value(next(a for a in node.attribute if a.name == name))


def eval_linear_onnx(path, X):
    """Evaluates our Imputer -> [Scaler] -> Linear* graph in numpy from the file's float32 parameters."""
    model = onnx.load(path)
    x = np.array(X, dtype=np.float32).astype(np.float64)
    for node in model.graph.node:
        if node.op_type == 'Imputer':
            fill = np.array(attr(node, 'imputed_value_floats'), dtype=np.float64)
            x = np.where(np.isnan(x), fill, x)
        elif node.op_type == 'Scaler':
            x = (x - np.array(attr(node, 'offset'))) * np.array(attr(node, 'scale'))
        elif node.op_type in ('LinearClassifier', 'LinearRegressor'):
            coef = np.array(attr(node, 'coefficients'))
            inter = np.array(attr(node, 'intercepts'))
            z = x @ coef.reshape(len(inter), -1).T + inter
            if node.op_type == 'LinearRegressor':
                return z[:, 0]
            assert attr(node, 'post_transform') == b'SOFTMAX'
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
    raise AssertionError('no linear node')


def write_xgb_as_onnx(json_name, onnx_name, labels, n_features):
    """The XGBoost multi:softprob JSON model as a legacy ONNX TreeEnsembleClassifier (as onnxmltools
    writes one): every split BRANCH_LT on its float32 threshold (x < t goes to the true branch, as
    xgboost's left), missing values to the true branch where xgboost's default is left, each leaf's
    value as a weight of its tree's class (tree_info), base_values = base_score for every class,
    post_transform SOFTMAX; classlabels_strings = labels. Outputs label [N] and probabilities [N, C]."""
    learner = json.load(open(out(json_name)))['learner']
    base = float(learner['learner_model_param']['base_score'])
    model = learner['gradient_booster']['model']
    A = {k: [] for k in ('nodes_treeids', 'nodes_nodeids', 'nodes_featureids', 'nodes_modes', 'nodes_values',
                         'nodes_truenodeids', 'nodes_falsenodeids', 'nodes_missing_value_tracks_true',
                         'class_treeids', 'class_nodeids', 'class_ids', 'class_weights')}
    for t, tree in enumerate(model['trees']):
        for i, left in enumerate(tree['left_children']):
            leaf = left == -1
            A['nodes_treeids'].append(t)
            A['nodes_nodeids'].append(i)
            A['nodes_featureids'].append(0 if leaf else tree['split_indices'][i])
            A['nodes_modes'].append('LEAF' if leaf else 'BRANCH_LT')
            A['nodes_values'].append(0.0 if leaf else tree['split_conditions'][i])
            A['nodes_truenodeids'].append(0 if leaf else left)
            A['nodes_falsenodeids'].append(0 if leaf else tree['right_children'][i])
            A['nodes_missing_value_tracks_true'].append(0 if leaf else int(tree['default_left'][i]))
            if leaf:
                A['class_treeids'].append(t)
                A['class_nodeids'].append(i)
                A['class_ids'].append(model['tree_info'][t])
                A['class_weights'].append(tree['split_conditions'][i])
    # xgboost's thresholds and leaves are float32 values already: f32 keeps them exactly.
    A['nodes_values'] = f32(A['nodes_values'])
    A['class_weights'] = f32(A['class_weights'])
    nodes = [helper.make_node('TreeEnsembleClassifier', ['float_input'], ['label', 'probabilities'],
                              name='TreeEnsembleClassifier', domain='ai.onnx.ml', post_transform='SOFTMAX',
                              base_values=f32([base] * len(labels)), classlabels_strings=labels, **A)]
    inputs = [helper.make_tensor_value_info('float_input', TensorProto.FLOAT, [None, n_features])]
    outputs = [helper.make_tensor_value_info('label', TensorProto.STRING, [None]),
               helper.make_tensor_value_info('probabilities', TensorProto.FLOAT, [None, len(labels)])]
    onnx.save(onnx_model(nodes, inputs, outputs, onnx_name.split('.')[0]), out(onnx_name))


def eval_tree_classifier_onnx(path, X):
    """Evaluates a legacy TreeEnsembleClassifier (BRANCH_LT splits, SOFTMAX) in numpy from the file."""
    node = onnx.load(path).graph.node[0]
    a = {name: attr(node, name) for name in ('nodes_treeids', 'nodes_nodeids', 'nodes_featureids', 'nodes_modes',
                                             'nodes_values', 'nodes_truenodeids', 'nodes_falsenodeids',
                                             'nodes_missing_value_tracks_true', 'class_treeids', 'class_nodeids',
                                             'class_ids', 'class_weights', 'base_values')}
    at = {(t, i): k for k, (t, i) in enumerate(zip(a['nodes_treeids'], a['nodes_nodeids']))}
    leaf_weight = {(t, i): (c, w) for t, i, c, w in zip(a['class_treeids'], a['class_nodeids'], a['class_ids'], a['class_weights'])}
    x32 = np.array(X, dtype=np.float32)
    C = len(a['base_values'])
    z = np.tile(np.array(a['base_values'], dtype=np.float64), (len(x32), 1))
    for r in range(len(x32)):
        for t in sorted(set(a['nodes_treeids'])):
            i = 0
            while a['nodes_modes'][at[(t, i)]] != b'LEAF':
                k = at[(t, i)]
                v = x32[r, a['nodes_featureids'][k]]
                go = bool(a['nodes_missing_value_tracks_true'][k]) if np.isnan(v) else v < np.float32(a['nodes_values'][k])
                i = a['nodes_truenodeids'][k] if go else a['nodes_falsenodeids'][k]
            c, w = leaf_weight[(t, i)]
            z[r, c] += w
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ======================================================================================
# 1. mc3_xgb: XGBoost multi:softprob, string labels low/medium/high
# ======================================================================================
def build_mc3():
    train = pd.read_csv(os.path.join(FIXTURES, 'compas', 'train.csv'))
    test = pd.read_csv(os.path.join(FIXTURES, 'compas', 'test.csv'))
    features = ['age', 'priors_count', 'juv_fel_count', 'juv_misd_count', 'juv_other_count']
    labels = ['low', 'medium', 'high']
    code = {'Low': 0, 'Medium': 1, 'High': 2}
    model = xgb.XGBClassifier(objective='multi:softprob', n_estimators=30, max_depth=3, learning_rate=0.2,
                              tree_method='hist', random_state=0, n_jobs=1)
    model.fit(train[features], train['score_text'].map(code))
    model.save_model(out('mc3_xgb.json'))
    rows = np.sort(np.random.default_rng(25).choice(len(test), 500, replace=False))
    data = test.iloc[rows].reset_index(drop=True)
    data = data[['sex', 'race'] + features].assign(risk_grade=[labels[code[s]] for s in test['score_text'].iloc[rows]])
    blanked = blank(data, 'priors_count', 0.03, 2501)
    write_csv('mc3_xgb.csv', data)
    back = pd.read_csv(out('mc3_xgb.csv'), float_precision='round_trip', keep_default_na=False, na_values={'priors_count': ['']})
    X = back[features].astype(float)
    P = model.predict_proba(X).astype(np.float64)
    y = back['risk_grade'].map({l: k for k, l in enumerate(labels)}).to_numpy()
    contribs = model.get_booster().predict(xgb.DMatrix(X, missing=np.nan), pred_contribs=True)
    # Local accuracy: each class's contributions (bias last) sum to that class's margin.
    margins = model.get_booster().predict(xgb.DMatrix(X, missing=np.nan), output_margin=True)
    assert contribs.shape == (len(X), 3, len(features) + 1), contribs.shape
    assert np.abs(contribs.sum(axis=2) - margins).max() < 1e-4
    write_xgb_as_onnx('mc3_xgb.json', 'mc3_xgb_trees.onnx', labels, len(features))
    onnx_diff = float(np.abs(eval_tree_classifier_onnx(out('mc3_xgb_trees.onnx'), X.to_numpy()) - P).max())
    assert onnx_diff < 1e-6, onnx_diff
    frame = {'data': back, 'protected': ['race', 'sex']}
    doc = {
        'onnx_model': {
            'model': 'mc3_xgb_trees.onnx',
            'how': write_xgb_as_onnx.__doc__.replace('\n', ' ') + ' Input float_input [N, 5] in the order of '
                   '"features". A numpy evaluation of the file differs from xgboost\'s predict_proba by %.1e; its '
                   'expected probabilities and pred_contribs are the XGBoost model\'s (the same trees)' % onnx_diff,
        },
        'model': 'mc3_xgb.json', 'data': 'mc3_xgb.csv', 'library': VERSIONS, 'task': 'multiclass',
        'target': 'risk_grade', 'features': features, 'labels': labels,
        'label_order': 'output (class index) order: the JSON model holds classes 0, 1, 2 = low, medium, high',
        'protected': frame['protected'], 'blanked': {'priors_count': blanked},
        'how': 'XGBClassifier(objective="multi:softprob", 30 rounds x 3 classes, depth 3, eta 0.2, hist) '
               'trained on compas train.csv (score_text Low/Medium/High as 0/1/2); probabilities = '
               'predict_proba(X) (float32, widened to float64 exactly), X = the feature columns of mc3_xgb.csv '
               'with blanks as NaN',
        'probabilities': P,
        'metrics': multiclass_metrics(y, P, labels, frame),
        'conventions': MULTICLASS_CONVENTIONS,
        'pred_contribs': {
            'how': 'Booster.predict(DMatrix(X), pred_contribs=True): shape [n, classes, features + 1], the last '
                   'column of each class is its bias (expected margin); each class\'s row sums to its margin '
                   '(output_margin=True) to within float32 rounding',
            'shape': list(contribs.shape), 'values': contribs.astype(np.float64), 'margins': margins.astype(np.float64),
        },
    }
    write_json('mc3_xgb.expected.json', doc)
    return doc


# ======================================================================================
# 2. mc5_linear: multinomial logistic regression as ONNX, labels A..E
# ======================================================================================
MC5_FEATURES = ['duration_months', 'credit_amount', 'age', 'installment_rate', 'residence_years', 'existing_credits']


def mc5_grade(df, noise, cuts=None):
    """Synthetic grade: score = 0.9 z(duration) + 0.6 z(log amount) - 0.5 z(age) + 0.4 z(installment_rate)
    + 0.5 [checking_status = lt_0] + N(0, 0.6²) noise; z with german_credit.csv's mean and std; A..E cut at
    the training scores' 20/40/60/80% quantiles (A = lowest score)."""
    full = pd.read_csv(os.path.join(FIXTURES, 'german_credit', 'german_credit.csv'))
    z = lambda s, ref: (s - ref.mean()) / ref.std()
    score = (0.9 * z(df['duration_months'], full['duration_months'])
             + 0.6 * z(np.log(df['credit_amount']), np.log(full['credit_amount']))
             - 0.5 * z(df['age'], full['age']) + 0.4 * z(df['installment_rate'], full['installment_rate'])
             + 0.5 * (df['checking_status'] == 'lt_0') + noise).to_numpy()
    if cuts is None:
        cuts = np.quantile(score, [0.2, 0.4, 0.6, 0.8])
    return np.searchsorted(cuts, score, side='right'), cuts


def build_mc5():
    train = pd.read_csv(os.path.join(FIXTURES, 'german_credit', 'train.csv'))
    test = pd.read_csv(os.path.join(FIXTURES, 'german_credit', 'test.csv'))
    labels = ['A', 'B', 'C', 'D', 'E']
    rng = np.random.default_rng(2505)
    ytr, cuts = mc5_grade(train, rng.normal(0, 0.6, len(train)))
    yte, _ = mc5_grade(test, rng.normal(0, 0.6, len(test)), cuts)
    pipe = make_pipeline(SimpleImputer(strategy='mean'), StandardScaler(),
                         LogisticRegression(multi_class='multinomial', C=1.0, max_iter=5000))
    pipe.fit(train[MC5_FEATURES].astype(float), np.array(labels)[ytr])
    imp, sc, lr = pipe.steps[0][1], pipe.steps[1][1], pipe.steps[2][1]
    assert lr.classes_.tolist() == labels
    nodes = [imputer_node(imp.statistics_, 'imputed'),
             helper.make_node('Scaler', ['imputed'], ['scaled'], name='Scaler', domain='ai.onnx.ml',
                              offset=f32(sc.mean_), scale=f32(1.0 / sc.scale_)),
             helper.make_node('LinearClassifier', ['scaled'], ['label', 'probabilities'], name='LinearClassifier',
                              domain='ai.onnx.ml', coefficients=f32(lr.coef_.flatten()), intercepts=f32(lr.intercept_),
                              multi_class=1, post_transform='SOFTMAX', classlabels_strings=labels)]
    inputs = [helper.make_tensor_value_info('float_input', TensorProto.FLOAT, [None, len(MC5_FEATURES)])]
    outputs = [helper.make_tensor_value_info('label', TensorProto.STRING, [None]),
               helper.make_tensor_value_info('probabilities', TensorProto.FLOAT, [None, len(labels)])]
    onnx.save(onnx_model(nodes, inputs, outputs, 'mc5_linear'), out('mc5_linear.onnx'))
    data = test[['gender', 'age_group', 'checking_status'] + MC5_FEATURES].copy()
    data['grade'] = np.array(labels)[yte]
    blanked = blank(data, 'duration_months', 0.03, 2502)
    write_csv('mc5_linear.csv', data)
    back = pd.read_csv(out('mc5_linear.csv'), float_precision='round_trip')
    X = back[MC5_FEATURES].astype(float)
    P = pipe.predict_proba(X)
    onnx_diff = float(np.abs(eval_linear_onnx(out('mc5_linear.onnx'), X.to_numpy()) - P).max())
    assert onnx_diff < 1e-5, onnx_diff
    y = back['grade'].map({l: k for k, l in enumerate(labels)}).to_numpy()
    assert len(set(np.argmax(P, axis=1))) == 5, 'every class should be predicted at least once'
    frame = {'data': back, 'protected': ['gender', 'age_group']}
    doc = {
        'model': 'mc5_linear.onnx', 'data': 'mc5_linear.csv', 'library': VERSIONS, 'task': 'multiclass',
        'target': 'grade', 'features': MC5_FEATURES, 'labels': labels,
        'label_order': 'output order of the ONNX probabilities tensor (classlabels_strings A..E)',
        'protected': frame['protected'], 'blanked': {'duration_months': blanked},
        'how': 'Pipeline(SimpleImputer(mean), StandardScaler, LogisticRegression(multinomial, C=1)) trained on '
               'german_credit train.csv with a synthetic grade (' + mc5_grade.__doc__.replace('\n', ' ') + '); '
               'probabilities = pipe.predict_proba(X) in float64, X = the feature columns of mc5_linear.csv '
               'in the order of "features", blanks as NaN (imputed with the training means)',
        'onnx': 'input float_input [N, 6] float32 in feature order; Imputer (NaN -> training means) -> Scaler -> '
                'LinearClassifier(SOFTMAX); outputs label [N] (string) and probabilities [N, 5]. A numpy '
                'evaluation of the file\'s float32 parameters differs from scikit-learn by %.1e' % onnx_diff,
        'probabilities': P,
        'metrics': multiclass_metrics(y, P, labels, frame),
        'conventions': MULTICLASS_CONVENTIONS,
    }
    write_json('mc5_linear.expected.json', doc)
    return doc


# ======================================================================================
# 3. Regressions of credit_amount: reg_xgb.json and reg_linear.onnx on reg.csv
# ======================================================================================
REG_FEATURES = ['duration_months', 'installment_rate', 'age', 'residence_years', 'existing_credits', 'people_liable']


def build_regressions():
    train = pd.read_csv(os.path.join(FIXTURES, 'german_credit', 'train.csv'))
    test = pd.read_csv(os.path.join(FIXTURES, 'german_credit', 'test.csv'))
    data = test[['gender', 'age_group'] + REG_FEATURES + ['credit_amount']].copy()
    blanked = blank(data, 'duration_months', 0.03, 2503)
    write_csv('reg.csv', data)
    back = pd.read_csv(out('reg.csv'), float_precision='round_trip')
    X = back[REG_FEATURES].astype(float)
    y = back['credit_amount'].to_numpy(dtype=float)
    frame = {'data': back, 'protected': ['gender', 'age_group']}
    common = {'data': 'reg.csv', 'library': VERSIONS, 'task': 'regression', 'target': 'credit_amount',
              'features': REG_FEATURES, 'protected': frame['protected'], 'blanked': {'duration_months': blanked},
              'conventions': REGRESSION_CONVENTIONS}

    model = xgb.XGBRegressor(objective='reg:squarederror', n_estimators=60, max_depth=3, learning_rate=0.1,
                             tree_method='hist', random_state=0, n_jobs=1)
    model.fit(train[REG_FEATURES].astype(float), train['credit_amount'].astype(float))
    model.save_model(out('reg_xgb.json'))
    pred = model.predict(X).astype(np.float64)
    contribs = model.get_booster().predict(xgb.DMatrix(X, missing=np.nan), pred_contribs=True)
    assert contribs.shape == (len(X), len(REG_FEATURES) + 1), contribs.shape
    assert np.abs(contribs.sum(axis=1) - pred).max() < 1e-2  # float32 sums of values in the thousands
    write_json('reg_xgb.expected.json', dict(common, **{
        'pred_contribs': {
            'how': 'Booster.predict(DMatrix(X), pred_contribs=True): shape [n, features + 1], the last column is '
                   'the bias (expected prediction under the covers); each row sums to the prediction to within '
                   'float32 rounding',
            'shape': list(contribs.shape), 'values': contribs.astype(np.float64)},
        'model': 'reg_xgb.json',
        'how': 'XGBRegressor(objective="reg:squarederror", 60 rounds, depth 3, eta 0.1, hist) trained on '
               'german_credit train.csv; predictions = predict(X) (float32 widened to float64 exactly), X = '
               'the feature columns of reg.csv with blanks as NaN',
        'predictions': pred, 'metrics': regression_metrics(y, pred, frame, 1)}))

    pipe = make_pipeline(SimpleImputer(strategy='mean'), LinearRegression())
    pipe.fit(train[REG_FEATURES].astype(float), train['credit_amount'].astype(float))
    imp, lr = pipe.steps[0][1], pipe.steps[1][1]
    nodes = [imputer_node(imp.statistics_, 'imputed'),
             helper.make_node('LinearRegressor', ['imputed'], ['variable'], name='LinearRegressor',
                              domain='ai.onnx.ml', coefficients=f32(lr.coef_), intercepts=f32([lr.intercept_]),
                              targets=1)]
    inputs = [helper.make_tensor_value_info('float_input', TensorProto.FLOAT, [None, len(REG_FEATURES)])]
    outputs = [helper.make_tensor_value_info('variable', TensorProto.FLOAT, [None, 1])]
    onnx.save(onnx_model(nodes, inputs, outputs, 'reg_linear'), out('reg_linear.onnx'))
    pred = pipe.predict(X)
    onnx_diff = float(np.max(np.abs(eval_linear_onnx(out('reg_linear.onnx'), X.to_numpy()) - pred) / np.abs(pred)))
    assert onnx_diff < 1e-5, onnx_diff
    write_json('reg_linear.expected.json', dict(common, **{
        'model': 'reg_linear.onnx',
        'how': 'Pipeline(SimpleImputer(mean), LinearRegression) trained on german_credit train.csv; predictions '
               '= pipe.predict(X) in float64, X = the feature columns of reg.csv, blanks as NaN',
        'onnx': 'input float_input [N, 6] float32 in feature order; Imputer (NaN -> training means) -> '
                'LinearRegressor; output variable [N, 1]. A numpy evaluation of the file\'s float32 '
                'parameters differs from scikit-learn by %.1e relative' % onnx_diff,
        'predictions': pred, 'metrics': regression_metrics(y, pred, frame, 2)}))


if __name__ == '__main__':
    for doc in [build_mc3(), build_mc5()]:
        m = doc['metrics']
        print(doc['model'], 'accuracy %.3f' % m['accuracy'], 'roc_auc_ovr %.3f' % m['roc_auc_ovr'])
    build_regressions()
    print('written to', HERE)
