#!/usr/bin/python3
"""Builds the tree-model part of Plumbline's reference corpus (tests/models/).

Run by hand, never by tests:   /usr/bin/python3 tests/models/build_trees.py
Needs Debian's python3-xgboost (1.7), python3-sklearn (1.2), python3-pandas, numpy.
Everything is seeded: two runs write the same bytes.

Optional cross-check: run it with a Python that can also import lightgbm (for the committed files:
a throwaway venv made with `/usr/bin/python3 -m venv --system-site-packages V` plus the lightgbm 4.7.0
and narwhals wheels installed with `V/bin/pip install --no-index --no-deps ...`). Then every LightGBM
file is also loaded by LightGBM itself: its predictions must equal the evaluator's (they do, to 0.0)
and Booster.model_to_string() must give the file back byte for byte (it does); the LightGBM expected
files then carry a "cross_check" line. Without lightgbm the same files are written minus that line.

Writes (all names start with xgb_ or lgbm_, plus manifest.trees.json):
  * XGBoost 1.7 JSON models trained here, their data CSVs and what xgboost itself predicts;
  * hand-written LightGBM v4 text models (structure chosen here, leaf values fitted on a
    synthetic training sample the way LightGBM's GBDT/RF/linear-tree learners fit them),
    one shared data CSV and what an independent evaluator of LightGBM's text format
    (below, written from LightGBM's C++ source, not from Plumbline) predicts.

LightGBM semantics used here were read in microsoft/LightGBM at commit
bae0b7ba953341a32b2a9c5c5c437a1b976f576f (2026-03-06); the C++ lines relied on are quoted
next to the code that follows them.
"""
import json
import math
import os
import struct

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, '..', '..', '..', 'shared', 'fixtures'))
if not os.path.isdir(FIXTURES):
    FIXTURES = '/work/shared/fixtures'

assert xgb.__version__.startswith('1.7'), xgb.__version__


def out(name):
    return os.path.join(HERE, name)


def write_text(name, text):
    with open(out(name), 'w', newline='\n') as f:
        f.write(text)


def write_json(name, obj, indent=None):
    write_text(name, json.dumps(obj, indent=indent, allow_nan=False) + '\n')


def fnum(x):
    """A float for the expected files: shortest repr that round-trips the double."""
    return float(repr(float(x)))


def auc(target, positive_label, p):
    y = (np.asarray(target) == positive_label).astype(int)
    return float(roc_auc_score(y, p))


def expected_file(name, library, how, classes, positive_label, p, target, extra=None):
    p = np.asarray(p, dtype=float)
    assert np.all(np.isfinite(p)) and np.all(p >= 0) and np.all(p <= 1)
    doc = {
        'library': library,
        'how': how,
        'classes': classes,
        'positive_label': positive_label,
        'p_positive': [fnum(v) for v in p],
        'metrics': {'roc_auc': auc(target, positive_label, p), 'n': int(len(p))},
    }
    if extra:
        doc.update(extra)
    write_json(name, doc)
    return doc


def csv_cell(v):
    if v is None:
        return ''
    if isinstance(v, (float, np.floating)):
        if math.isnan(v):
            return ''
        if float(v).is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(float(v))
    return str(v)


def write_csv(name, df):
    lines = [','.join(df.columns)]
    cols = [df[c].tolist() for c in df.columns]
    for i in range(len(df)):
        lines.append(','.join(csv_cell(col[i]) for col in cols))
    write_text(name, '\n'.join(lines) + '\n')


# ======================================================================================
# XGBoost 1.7
# ======================================================================================
# An independent float64 reader of xgboost's JSON, used only to confirm the semantics
# (and to measure how far float32 xgboost is from a float64 evaluation). What goes into the
# expected files is always xgboost's own predict_proba.
#   numeric node:     go left when x < split_condition; missing -> default_left
#   categorical node: split_type 1; the categories listed for the node (categories,
#                     categories_nodes/segments/sizes) go RIGHT, all others LEFT;
#                     missing -> default_left. split_condition holds NaN there (the bare
#                     NaN literals in the file).
# Checked below against xgboost's predictions: with "listed go left" the probabilities are
# off by up to ~0.99, with "listed go right" they agree to ~1e-7 (float32).
def xgb_tree_eval(tree, x, listed_go_right=True):
    cat_sets = {}
    for n, s, z in zip(tree['categories_nodes'], tree['categories_segments'], tree['categories_sizes']):
        cat_sets[n] = set(tree['categories'][s:s + z])
    i = 0
    left, right = tree['left_children'], tree['right_children']
    while left[i] != -1:
        v = x[tree['split_indices'][i]]
        if math.isnan(v):
            i = left[i] if tree['default_left'][i] else right[i]
        elif tree['split_type'][i] == 1:
            i = right[i] if (int(v) in cat_sets[i]) == listed_go_right else left[i]
        else:
            i = left[i] if v < tree['split_conditions'][i] else right[i]
    return tree['split_conditions'][i]  # a leaf's value is stored in split_conditions


def xgb_margins_f64(model_json, X, listed_go_right=True):
    learner = model_json['learner']
    trees = learner['gradient_booster']['model']['trees']
    tree_info = learner['gradient_booster']['model']['tree_info']
    n_class = max(1, int(learner['learner_model_param']['num_class']))
    base_score = float(learner['learner_model_param']['base_score'])
    obj = learner['objective']['name']
    base_margin = math.log(base_score / (1 - base_score)) if obj == 'binary:logistic' else base_score
    m = np.full((len(X), n_class), base_margin)
    for t, k in zip(trees, tree_info):
        for r in range(len(X)):
            m[r, k] += xgb_tree_eval(t, X[r], listed_go_right)
    return m


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softmax(m):
    e = np.exp(m - m.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def bare_nan_literals(text):
    """Count NaN tokens outside JSON strings (the ones JSON.parse rejects)."""
    count, in_str, esc, i = 0, False, False, 0
    while i < len(text):
        c = text[i]
        if in_str:
            if esc:
                esc = False
            elif c == '\\':
                esc = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif text.startswith('NaN', i):
            count += 1
            i += 3
            continue
        i += 1
    return count


XGB_LIB = 'xgboost ' + xgb.__version__
manifest = []


def build_xgb_categorical():
    rng = np.random.default_rng(20)
    train = pd.read_csv(os.path.join(FIXTURES, 'adult', 'train.csv'))
    test = pd.read_csv(os.path.join(FIXTURES, 'adult', 'test.csv'))
    test = test.iloc[np.sort(rng.choice(len(test), 2000, replace=False))].reset_index(drop=True)
    numeric = ['age', 'capital_gain', 'capital_loss', 'hours_per_week']
    cats = ['workclass', 'education', 'marital_status', 'occupation', 'relationship']
    features = numeric + cats
    labels = {c: sorted(train[c].unique().tolist()) for c in cats}

    def frame(d, blank_rng):
        X = pd.DataFrame(index=d.index)
        for c in numeric:
            v = d[c].astype(float)
            v[blank_rng.random(len(v)) < 0.10] = np.nan
            X[c] = v
        for c in cats:
            codes = d[c].map({s: k for k, s in enumerate(labels[c])}).astype(float)
            codes[blank_rng.random(len(codes)) < 0.03] = np.nan
            # categories are the integer codes themselves: what xgboost sees (pandas cat
            # codes) is exactly what the CSV holds.
            X[c] = pd.Categorical(codes, categories=list(range(len(labels[c]))))
        return X

    Xtr = frame(train, np.random.default_rng(21))
    Xte = frame(test, np.random.default_rng(22))
    assert not any(Xte[c].isna().all() for c in features)
    model = xgb.XGBClassifier(tree_method='hist', enable_categorical=True, max_cat_to_onehot=1,
                              objective='binary:logistic', n_estimators=50, max_depth=4,
                              learning_rate=0.3, random_state=0, n_jobs=1)
    model.fit(Xtr, train['high_income'])
    model.save_model(out('xgb_categorical.json'))
    text = open(out('xgb_categorical.json')).read()
    n_nan = bare_nan_literals(text)
    assert n_nan > 0, 'expected bare NaN literals in the categorical model'
    mj = json.loads(text)
    trees = mj['learner']['gradient_booster']['model']['trees']
    n_cat_nodes = sum(len(t['categories_nodes']) for t in trees)
    n_nan_cond = sum(sum(1 for v in t['split_conditions'] if isinstance(v, float) and math.isnan(v)) for t in trees)
    assert n_nan_cond == n_cat_nodes, (n_nan_cond, n_cat_nodes)
    assert mj['learner']['feature_names'] == features

    p1 = model.predict_proba(Xte)[:, 1]
    # the CSV must be what the model is fed: read it back and predict from it
    data = pd.DataFrame({'sex': test['sex'], 'race': test['race']})
    for c in features:
        data[c] = Xte[c].astype(float) if c in cats else Xte[c]
    data['high_income'] = test['high_income']
    write_csv('xgb_categorical.csv', data)
    back = pd.read_csv(out('xgb_categorical.csv'), float_precision='round_trip')
    Xb = back[features].copy()
    for c in cats:
        Xb[c] = pd.Categorical(Xb[c], categories=list(range(len(labels[c]))))
    assert np.array_equal(model.predict_proba(Xb)[:, 1], p1)
    # independent float64 evaluation (listed categories -> right)
    A = back[features].to_numpy(float)
    p64 = sigmoid(xgb_margins_f64(mj, A)[:, 0])
    diff = float(np.abs(p64 - p1.astype(float)).max())
    assert diff < 1e-6, diff
    # the other reading (listed categories go left) is far off
    p_wrong = sigmoid(xgb_margins_f64(mj, A, listed_go_right=False)[:, 0])
    d_wrong = np.abs(p_wrong - p1.astype(float))
    assert d_wrong.max() > 0.1
    n_blank_num = int(np.isnan(back[numeric].to_numpy(float)).sum())
    n_blank_cat = int(np.isnan(back[cats].to_numpy(float)).sum())
    expected_file(
        'xgb_categorical.expected.json', XGB_LIB,
        'XGBClassifier.predict_proba(X)[:, 1] in xgboost %s, X = the pandas DataFrame built from '
        'xgb_categorical.csv (category columns as pandas Categorical whose categories are the integer '
        'codes 0..k-1, blanks as NaN); re-reading the CSV and predicting gives identical values. A float64 '
        'walk of the JSON (listed categories go right, numeric x < split_condition goes left, NaN follows '
        'default_left) agrees to %.1e.' % (xgb.__version__, diff),
        [0, 1], 1, p1, back['high_income'],
        extra={'category_codes': {c: labels[c] for c in cats}})
    manifest.append({
        'id': 'xgb-categorical-nan',
        'regression': 'issue20-case7',
        'description': (
            'XGBClassifier(tree_method="hist", enable_categorical=True, max_cat_to_onehot=1, '
            'objective="binary:logistic", n_estimators=50, max_depth=4) in xgboost %s, trained on the adult '
            'fixture train.csv with five pandas "category" columns (workclass, education, marital_status, '
            'occupation, relationship) and four numeric ones, ~10%% of numeric and ~3%% of category cells blanked '
            '(seeded), saved with save_model("xgb_categorical.json"). The file has %d bare NaN literals outside '
            'strings: every categorical split node (%d of them, split_type 1) stores NaN as its split_condition, '
            'so JSON.parse throws on the file (the reported bug); the sklearn "attributes" string also contains '
            '"missing": NaN but inside a JSON string. Categorical nodes use partition splits: the categories '
            'listed for a node (categories / categories_nodes / categories_segments / categories_sizes) go to the '
            'RIGHT child, all other categories go left, missing goes to default_left (reading the list as the left '
            'set moves p by up to %.3f, mean %.3f). Data: 2,000 rows of the '
            'adult fixture test.csv (seeded sample) with the same blanking; category columns hold the pandas '
            'category codes xgboost saw (code k = k-th label in sorted order, mapping in the expected file under '
            'category_codes), blanks are empty cells (%d numeric, %d categorical). sex and race are not model '
            'features; race has groups under 30 rows, so only sex is the protected attribute.'
            % (xgb.__version__, n_nan, n_cat_nodes, d_wrong.max(), d_wrong.mean(), n_blank_num, n_blank_cat)),
        'model': 'xgb_categorical.json',
        'data': 'xgb_categorical.csv',
        'settings': {'target': 'high_income', 'positive_label': 1, 'protected': ['sex'],
                     'features': None, 'missing_values': None},
        'expected': {'predictions': 'xgb_categorical.expected.json', 'tolerance': 1e-6,
                     'tolerance_reason': 'xgboost sums leaf values and applies the sigmoid in float32; a float64 '
                                         'evaluation of the same trees differs by up to %.1e here' % diff},
    })
    return diff


def build_xgb_binary_positive_0():
    train = pd.read_csv(os.path.join(FIXTURES, 'compas', 'train.csv'))
    test = pd.read_csv(os.path.join(FIXTURES, 'compas', 'test.csv'))
    features = ['age', 'priors_count', 'juv_fel_count', 'juv_misd_count', 'juv_other_count']
    model = xgb.XGBClassifier(objective='binary:logistic', n_estimators=100, max_depth=4,
                              learning_rate=0.1, tree_method='hist', random_state=0, n_jobs=1)
    model.fit(train[features], train['two_year_recid'])
    model.save_model(out('xgb_binary.json'))
    text = open(out('xgb_binary.json')).read()
    assert bare_nan_literals(text) == 0
    mj = json.loads(text)
    assert mj['learner']['feature_names'] == features
    p1 = model.predict_proba(test[features])[:, 1].astype(float)
    p64 = sigmoid(xgb_margins_f64(mj, test[features].to_numpy(float))[:, 0])
    diff = float(np.abs(p64 - p1).max())
    assert diff < 1e-6, diff
    p0 = 1.0 - p1
    expected_file(
        'xgb_binary.positive0.expected.json', XGB_LIB,
        'p_positive = 1 - XGBClassifier.predict_proba(X)[:, 1] (computed in float64 from xgboost %s\'s '
        'float32 p(1)); X = the five feature columns of fixtures compas/test.csv' % xgb.__version__,
        [0, 1], 0, p0, test['two_year_recid'])
    manifest.append({
        'id': 'xgb-binary-positive-0',
        'description': (
            'Plain binary XGBClassifier (binary:logistic, 100 trees of depth 4, hist) in xgboost %s trained on '
            'compas train.csv (age, priors_count, juv_fel_count, juv_misd_count, juv_other_count; target '
            'two_year_recid), saved as xgboost JSON (no NaN literals). Audited with positive_label 0 (no '
            'recidivism): p_positive = 1 - p(1). A reader that always reports the sigmoid output as p_positive '
            'gets the complement, and AUC on target == 0 comes out as 1 - AUC.' % xgb.__version__),
        'model': 'xgb_binary.json',
        'data': 'fixtures:compas/test.csv',
        'settings': {'target': 'two_year_recid', 'positive_label': 0, 'protected': ['sex'],
                     'features': None, 'missing_values': None},
        'expected': {'predictions': 'xgb_binary.positive0.expected.json', 'tolerance': 1e-6,
                     'tolerance_reason': 'xgboost computes in float32; a float64 evaluation of the same trees '
                                         'differs by up to %.1e here' % diff},
    })


def build_xgb_multiclass():
    train = pd.read_csv(os.path.join(FIXTURES, 'compas', 'train.csv'))
    test = pd.read_csv(os.path.join(FIXTURES, 'compas', 'test.csv'))
    features = ['age', 'priors_count', 'juv_fel_count', 'juv_misd_count', 'juv_other_count']
    level = {'Low': 0, 'Medium': 1, 'High': 2}
    ytr = train['score_text'].map(level)
    model = xgb.XGBClassifier(objective='multi:softprob', n_estimators=40, max_depth=3,
                              learning_rate=0.2, tree_method='hist', random_state=0, n_jobs=1)
    model.fit(train[features], ytr)
    model.save_model(out('xgb_multiclass.json'))
    mj = json.loads(open(out('xgb_multiclass.json')).read())
    assert mj['learner']['learner_model_param']['num_class'] == '3'
    data = test[['sex', 'race'] + features].copy()
    data['score_level'] = test['score_text'].map(level)
    write_csv('xgb_multiclass.csv', data)
    back = pd.read_csv(out('xgb_multiclass.csv'), float_precision='round_trip')
    P = model.predict_proba(back[features]).astype(float)
    P64 = softmax(xgb_margins_f64(mj, back[features].to_numpy(float)))
    diff = float(np.abs(P64 - P).max())
    assert diff < 1e-6, diff
    expected_file(
        'xgb_multiclass.positive2.expected.json', XGB_LIB,
        'XGBClassifier.predict_proba(X)[:, 2] in xgboost %s (multi:softprob, softmax over the 3 class '
        'margins), X = the five feature columns of xgb_multiclass.csv' % xgb.__version__,
        [0, 1, 2], 2, P[:, 2], back['score_level'])
    desc = ('XGBClassifier(objective="multi:softprob", 40 rounds x 3 classes, depth 3) in xgboost %s, trained on '
            'compas train.csv to predict the COMPAS score_text level (0 = Low, 1 = Medium, 2 = High) from age, '
            'priors_count and the three juvenile counts. xgb_multiclass.csv is compas test.csv with that level '
            'as score_level. The JSON has num_class 3 and tree_info giving each tree\'s class; the class '
            'probabilities are the softmax of the three margins (base_score 0.5 is added to every margin and '
            'cancels). ' % xgb.__version__)
    common = {'model': 'xgb_multiclass.json', 'data': 'xgb_multiclass.csv'}
    manifest.append(dict({
        'id': 'xgb-multiclass-positive-2',
        'description': desc + 'Audited one-vs-rest with positive_label 2: p_positive = predict_proba[:, 2]; '
                              'a reader that takes the first column or a sigmoid of one margin is wrong.',
        'settings': {'target': 'score_level', 'positive_label': 2, 'protected': ['sex'],
                     'features': None, 'missing_values': None},
        'expected': {'predictions': 'xgb_multiclass.positive2.expected.json', 'tolerance': 1e-6,
                     'tolerance_reason': 'xgboost computes margins and softmax in float32; a float64 evaluation '
                                         'differs by up to %.1e here' % diff},
    }, **common))
    manifest.append(dict({
        'id': 'xgb-multiclass-no-positive-label',
        'description': desc + 'Audited without a positive label: a binary audit of a 3-class model is undefined.',
        'settings': {'target': 'score_level', 'positive_label': None, 'protected': ['sex'],
                     'features': None, 'missing_values': None},
        'expected': {'refuse': 'the model has 3 classes (multi:softprob, num_class 3) and no positive_label was '
                               'given: the tool cannot choose which class is "positive" for a binary audit and '
                               'must ask for positive_label (0, 1 or 2) instead of guessing'},
    }, **common))


# ======================================================================================
# LightGBM: an independent evaluator of the v4 text format
# ======================================================================================
# Semantics, from include/LightGBM/tree.h, include/LightGBM/meta.h, include/LightGBM/bin.h,
# include/LightGBM/utils/common.h, src/io/tree.cpp, src/boosting/gbdt_prediction.cpp,
# src/boosting/gbdt_model_text.cpp, src/boosting/rf.hpp:
#
#   meta.h:     const double kZeroThreshold = 1e-35f;
#   bin.h:      enum MissingType { None, Zero, NaN };
#   tree.h:     #define kCategoricalMask (1)
#               #define kDefaultLeftMask (2)
#               inline static int8_t GetMissingType(int8_t decision_type) {
#                 return (decision_type >> 2) & 3;
#               inline static bool IsZero(double fval) {
#                 return (fval >= -kZeroThreshold && fval <= kZeroThreshold);
#   tree.h NumericalDecision:
#       if (std::isnan(fval) && missing_type != MissingType::NaN) {
#         fval = 0.0f;
#       }
#       if ((missing_type == MissingType::Zero && IsZero(fval))
#           || (missing_type == MissingType::NaN && std::isnan(fval))) {
#         if (GetDecisionType(decision_type_[node], kDefaultLeftMask)) {
#           return left_child_[node];
#         } else {
#           return right_child_[node];
#       ...
#       if (fval <= threshold_[node]) {
#         return left_child_[node];
#   tree.h CategoricalDecision:
#       if (std::isnan(fval)) {
#         return right_child_[node];
#       } else {
#         int_fval = static_cast<int>(fval);
#         if (int_fval < 0) {
#           return right_child_[node];
#       ...
#       int cat_idx = static_cast<int>(threshold_[node]);
#       if (Common::FindInBitset(cat_threshold_.data() + cat_boundaries_[cat_idx],
#                                cat_boundaries_[cat_idx + 1] - cat_boundaries_[cat_idx], int_fval)) {
#         return left_child_[node];
#       }
#       return right_child_[node];
#   common.h FindInBitset(bits, n, pos):
#       int i1 = pos / 32;
#       if (i1 >= n) {
#         return false;
#       }
#       int i2 = pos % 32;
#       return (bits[i1] >> i2) & 1;
#   tree.h Tree::Predict (linear trees):
#       int leaf = (num_leaves_ > 1) ? GetLeaf(feature_values) : 0;
#       double output = leaf_const_[leaf];
#       bool nan_found = false;
#       for (size_t i = 0; i < leaf_features_[leaf].size(); ++i) {
#         int feat_raw = leaf_features_[leaf][i];
#         double feat_val = feature_values[feat_raw];
#         if (std::isnan(feat_val)) {
#           nan_found = true;
#           break;
#         } else {
#           output += leaf_coeff_[leaf][i] * feat_val;
#       ...
#       if (nan_found) {
#         return LeafOutput(leaf);          // = leaf_value_[leaf], the plain constant leaf
#       } else {
#         return output;
#     (non-linear trees: num_leaves_ > 1 ? LeafOutput(GetLeaf(...)) : leaf_value_[0])
#   tree.h GetLeaf: while (node >= 0) node = Decision(...);  return ~node;
#       (children < 0 are leaves: leaf index = ~child)
#   gbdt_prediction.cpp GBDT::Predict:
#       PredictRaw(features, output, early_stop);     // output[k] += models_[i * num_tree_per_iteration_ + k]->Predict(features)
#       if (average_output_) {
#         for (int k = 0; k < num_tree_per_iteration_; ++k) {
#           output[k] /= num_iteration_for_pred_;
#       ...
#       objective_function_->ConvertOutput(output, output);
#   gbdt_model_text.cpp LoadModelFromString:
#       if (key_vals.count("average_output")) { average_output_ = true; }
#       num_iteration_for_pred_ = static_cast<int>(models_.size()) / num_tree_per_iteration_;
#       tree blocks are located by tree_sizes (byte lengths) when that line exists.
#   rf.hpp:  RF() : GBDT() { average_output_ = true; }
#   binary_objective.hpp ConvertOutput: output[0] = 1.0f / (1.0f + std::exp(-sigmoid_ * input[0]));
#   multiclass_objective.hpp ConvertOutput: Common::Softmax(input, output, num_class_);
KZERO = struct.unpack('f', struct.pack('f', 1e-35))[0]  # 1e-35f widened to double
assert repr(KZERO) == '1.0000000180025095e-35'
MT_NONE, MT_ZERO, MT_NAN = 0, 1, 2


class LgbTree:
    def __init__(self, kv):
        self.num_leaves = int(kv['num_leaves'])
        self.num_cat = int(kv['num_cat'])
        ints = lambda k, n: [int(v) for v in kv.get(k, '').split()][:n]
        dbls = lambda k, n: [float(v) for v in kv.get(k, '').split()][:n]
        self.leaf_value = dbls('leaf_value', self.num_leaves)
        self.is_linear = int(kv.get('is_linear', '0')) != 0
        n = self.num_leaves - 1
        self.split_feature = ints('split_feature', n)
        self.threshold = dbls('threshold', n)
        self.decision_type = ints('decision_type', n)
        self.left_child = ints('left_child', n)
        self.right_child = ints('right_child', n)
        if self.num_cat > 0:
            self.cat_boundaries = ints('cat_boundaries', self.num_cat + 1)
            self.cat_threshold = ints('cat_threshold', self.cat_boundaries[-1])
        if self.is_linear:
            self.leaf_const = dbls('leaf_const', self.num_leaves)
            num_feat = ints('num_features', self.num_leaves)
            feats = ints('leaf_features', sum(num_feat))
            coeffs = dbls('leaf_coeff', sum(num_feat))
            self.leaf_features, self.leaf_coeff, s = [], [], 0
            for k in num_feat:
                self.leaf_features.append(feats[s:s + k])
                self.leaf_coeff.append(coeffs[s:s + k])
                s += k

    def decision(self, fval, node, naive):
        dt = self.decision_type[node]
        if dt & 1:  # categorical
            if math.isnan(fval):
                return self.right_child[node]
            iv = int(fval)  # static_cast<int> truncates toward zero
            if iv < 0:
                return self.right_child[node]
            cat_idx = int(self.threshold[node])
            lo, hi = self.cat_boundaries[cat_idx], self.cat_boundaries[cat_idx + 1]
            words = self.cat_threshold[lo:hi]
            if naive == 'bitset_first_word_only':
                words = words[:1]
            i1 = iv // 32
            if i1 < len(words) and (words[i1] >> (iv % 32)) & 1:
                return self.left_child[node]
            return self.right_child[node]
        mt = (dt >> 2) & 3
        default_left = (dt & 2) != 0
        if naive == 'nan_default_always':  # NaN -> default direction whatever the missing type
            if math.isnan(fval):
                return self.left_child[node] if default_left else self.right_child[node]
            if mt == MT_ZERO and -KZERO <= fval <= KZERO:
                return self.left_child[node] if default_left else self.right_child[node]
            return self.left_child[node] if fval <= self.threshold[node] else self.right_child[node]
        if naive == 'zero_type_ignored':
            mt = MT_NAN if mt == MT_ZERO else mt
        if math.isnan(fval) and mt != MT_NAN:
            fval = 0.0
        if (mt == MT_ZERO and -KZERO <= fval <= KZERO) or (mt == MT_NAN and math.isnan(fval)):
            return self.left_child[node] if default_left else self.right_child[node]
        if naive == 'lt_instead_of_le':
            return self.left_child[node] if fval < self.threshold[node] else self.right_child[node]
        return self.left_child[node] if fval <= self.threshold[node] else self.right_child[node]

    def leaf(self, x, naive=None):
        if self.num_leaves <= 1:
            return 0
        node = 0
        while node >= 0:
            node = self.decision(x[self.split_feature[node]], node, naive)
        return ~node

    def predict(self, x, naive=None):
        leaf = self.leaf(x, naive)
        if not self.is_linear:
            return self.leaf_value[leaf]
        out = self.leaf_const[leaf]
        for f, c in zip(self.leaf_features[leaf], self.leaf_coeff[leaf]):
            v = x[f]
            if math.isnan(v):
                if naive == 'linear_nan_as_zero':
                    continue
                if naive == 'linear_nan_leaf_const':
                    return self.leaf_const[leaf]
                return self.leaf_value[leaf]
            out += c * v
        return out


class LgbModel:
    """Parses a LightGBM v4 text model the way GBDT::LoadModelFromString does."""

    def __init__(self, text):
        b = text.encode('utf-8')
        head_end = b.index(b'\nTree=') + 1
        self.header = {}
        for line in b[:head_end].decode().split('\n'):
            if not line:
                continue
            parts = line.split('=')
            if len(parts) == 1:
                self.header[parts[0]] = ''
            elif len(parts) == 2 or parts[0] == 'feature_names':
                self.header[parts[0]] = line[len(parts[0]) + 1:]
            else:
                raise ValueError('Wrong line at model file: ' + line)
        h = self.header
        assert h.get('version') == 'v4'
        self.num_class = int(h['num_class'])
        self.k = int(h.get('num_tree_per_iteration', self.num_class))
        self.max_feature_idx = int(h['max_feature_idx'])
        self.average_output = 'average_output' in h
        self.objective = h.get('objective', '')
        self.feature_names = h['feature_names'].split(' ')
        assert len(self.feature_names) == self.max_feature_idx + 1
        assert len(h['feature_infos'].split(' ')) == self.max_feature_idx + 1
        sizes = [int(s) for s in h['tree_sizes'].split(' ')]
        p = head_end
        self.trees = []
        for i, size in enumerate(sizes):
            block = b[p:p + size].decode()
            first, rest = block.split('\n', 1)
            assert first == 'Tree=%d' % i, first
            kv = {}
            lines = rest.split('\n')
            for line in lines[:22]:  # tree.cpp: const int max_num_line = 22; stops at an empty line
                if line == '':
                    break
                key, val = line.split('=', 1)
                kv[key] = val
            self.trees.append(LgbTree(kv))
            p += size
        assert b[p:].startswith(b'end of trees\n'), b[p:p + 40]
        assert len(self.trees) % self.k == 0
        self.num_iteration = len(self.trees) // self.k

    def raw(self, x, naive=None):
        out = [0.0] * self.k
        for i in range(self.num_iteration):
            for j in range(self.k):
                out[j] += self.trees[i * self.k + j].predict(x, naive)
        if self.average_output and naive != 'sum_not_mean':
            out = [v / self.num_iteration for v in out]
        return out

    def proba(self, X, naive=None):
        """Per row: [p] for binary (p of class 1), the softmax vector for multiclass."""
        obj = self.objective.split(' ')
        res = []
        for x in X:
            r = self.raw(x, naive)
            if obj[0] == 'binary':
                sig = float(obj[1].split(':')[1]) if len(obj) > 1 else 1.0
                res.append([1.0 / (1.0 + math.exp(-sig * r[0]))])
            elif obj[0] == 'multiclass':
                m = max(r)
                e = [math.exp(v - m) for v in r]
                s = sum(e)
                res.append([v / s for v in e])
            else:
                raise ValueError(self.objective)
        return np.array(res)


def lgb_self_test():
    """Tiny hand-written models, predictions worked out by hand from the C++ rules above."""
    tree0 = '\n'.join([
        'Tree=0',
        'num_leaves=4',
        'num_cat=1',
        'split_feature=0 1 0',
        'split_gain=10 5 1',
        'threshold=1.5 0 -2',
        # node0: f0 <= 1.5, missing NaN, default right (8); node1: categorical (1) on f1;
        # node2: f0 <= -2, missing None with default_left (2)
        'decision_type=8 1 2',
        'left_child=1 -1 -3',
        'right_child=2 -2 -4',
        'leaf_value=0.5 -0.25 1 2',
        'leaf_weight=1 1 1 1',
        'leaf_count=1 1 1 1',
        'internal_value=0 0 0',
        'internal_weight=0 0 0',
        'internal_count=4 2 2',
        'cat_boundaries=0 2',
        # categories {1, 33}: word0 bit1 = 2, word1 bit1 = 2
        'cat_threshold=2 2',
        'is_linear=0',
        'shrinkage=1',
        '', '', ''])
    # tree structure: node0 left -> node1 (cat), right -> node2
    #   node1: in {1,33} -> leaf0 (0.5), else leaf1 (-0.25)
    #   node2: f0 <= -2 -> leaf2 (1), else leaf3 (2)
    tree1 = '\n'.join([
        'Tree=1',
        'num_leaves=2',
        'num_cat=0',
        'split_feature=2',
        'split_gain=1',
        'threshold=0.5',
        'decision_type=4',  # Zero missing type, default right
        'left_child=-1',
        'right_child=-2',
        'leaf_value=-1 1',
        'leaf_weight=1 1',
        'leaf_count=1 1',
        'internal_value=0',
        'internal_weight=0',
        'internal_count=2',
        'is_linear=1',
        'leaf_const=-0.5 3',
        'num_features=1 0',
        'leaf_features=0  ',
        'leaf_coeff=0.25  ',
        'shrinkage=1',
        '', '', ''])

    def model(avg):
        trees = [tree0, tree1]
        return '\n'.join(['tree', 'version=v4', 'num_class=1', 'num_tree_per_iteration=1', 'label_index=0',
                          'max_feature_idx=2', 'objective=binary sigmoid:1'] +
                         (['average_output'] if avg else []) +
                         ['feature_names=a b c', 'feature_infos=[-5:5] 0:1:33 [0:1]',
                          'tree_sizes=' + ' '.join(str(len(t.encode())) for t in trees), '']) + '\n' + \
            ''.join(trees) + 'end of trees\n'

    nan = float('nan')
    rows = [
        # (a, b, c) -> (tree0 output, tree1 output)
        ((1.5, 33, 0.2), (0.5, -1 + 0.25 * 1.5)),      # a == threshold goes left (<=); 33 is in word 1; c=0.2 <= 0.5 left, linear
        ((1.0, 32, 0.9), (-0.25, 3.0)),                # 32 not in set; c=0.9 right leaf: linear with 0 features -> leaf_const 3
        ((nan, 1, 0.0), (1.0, 1.0)),                   # a NaN, NaN-type node0 default right -> node2: f0 NaN with None type -> 0.0 > -2 -> leaf3 (2)?? see below
        ((1.0, -1, nan), (-0.25, 1.0)),                # negative category -> right; c NaN in Zero-type node -> 0 -> default right -> leaf1 const 3?
        ((-3.0, 65, 1e-40), (1.0, 1.0)),               # a=-3 right at node0 (> 1.5? no) ...
        ((2.0, 1, 0.3), (2.0, -1 + 0.25 * 2.0)),
        ((1.0, 1.9, 0.4), (0.5, -1 + 0.25 * 1.0)),     # category 1.9 truncates to 1 -> in set
        ((nan, nan, 0.1), (2.0, nan)),                 # linear leaf with NaN feature a -> leaf_value (-1)
    ]
    # Worked by hand, row by row (node0: a <= 1.5 left; NaN -> right because default_left is off):
    #  r0 a=1.5 -> left node1, b=33 in {1,33} -> leaf0 0.5 ; c=0.2 <= 0.5 -> leaf0 linear: -0.5 + 0.25*1.5 = -0.125
    #  r1 a=1.0 -> node1, b=32 not in set -> leaf1 -0.25 ; c=0.9 -> leaf1: const 3 (no features)
    #  r2 a=NaN -> right node2; node2 is None-type so NaN -> 0.0; 0 <= -2 false -> leaf3 2 ;
    #     c=0.0 IsZero in Zero-type node -> default right -> leaf1 const 3
    #  r3 a=1.0 -> node1, b=-1 -> right leaf1 -0.25 ; c=NaN -> 0.0 in Zero node -> default right -> 3
    #  r4 a=-3 -> node1 (<= 1.5), b=65 -> word 2 beyond 2 words -> not found -> leaf1 -0.25 ;
    #     c=1e-40 IsZero -> right -> 3
    #  r5 a=2.0 -> node2, 2 <= -2 false -> leaf3 2 ; c=0.3 -> leaf0: -0.5 + 0.25*2 = 0
    #  r6 a=1.0 -> node1, b=1.9 -> int 1 -> in set -> leaf0 0.5 ; c=0.4 -> leaf0: -0.5 + 0.25 = -0.25
    #  r7 a=NaN -> node2 -> 0.0 > -2 -> leaf3 2 ; c=0.1 -> leaf0 linear but a is NaN -> leaf_value -1
    hand = [(0.5, -0.125), (-0.25, 3.0), (2.0, 3.0), (-0.25, 3.0), (-0.25, 3.0), (2.0, 0.0), (0.5, -0.25),
            (2.0, -1.0)]
    X = [r[0] for r in rows]
    m = LgbModel(model(False))
    assert m.num_iteration == 2 and not m.average_output
    for x, (t0, t1) in zip(X, hand):
        got0, got1 = m.trees[0].predict(x), m.trees[1].predict(x)
        assert got0 == t0 and abs(got1 - t1) < 1e-15, (x, got0, got1, t0, t1)
    p = m.proba(X)[:, 0]
    p_hand = [1 / (1 + math.exp(-(a + b))) for a, b in hand]
    assert np.allclose(p, p_hand, rtol=0, atol=1e-15)
    ma = LgbModel(model(True))
    assert ma.average_output
    pa = ma.proba(X)[:, 0]
    pa_hand = [1 / (1 + math.exp(-(a + b) / 2)) for a, b in hand]
    assert np.allclose(pa, pa_hand, rtol=0, atol=1e-15)
    # multiclass: 1 iteration x 3 trees, constant trees (num_leaves=1)
    const = lambda i, v: '\n'.join(['Tree=%d' % i, 'num_leaves=1', 'num_cat=0', 'split_feature=', 'split_gain=',
                                    'threshold=', 'decision_type=', 'left_child=', 'right_child=',
                                    'leaf_value=%r' % v, 'leaf_weight=', 'leaf_count=0', 'internal_value=',
                                    'internal_weight=', 'internal_count=', 'is_linear=0', 'shrinkage=1', '', '', ''])
    ts = [const(0, 0.0), const(1, math.log(2)), const(2, math.log(3))]
    mc = LgbModel('\n'.join(['tree', 'version=v4', 'num_class=3', 'num_tree_per_iteration=3', 'label_index=0',
                             'max_feature_idx=0', 'objective=multiclass num_class:3', 'feature_names=a',
                             'feature_infos=none', 'tree_sizes=' + ' '.join(str(len(t)) for t in ts), '']) + '\n' +
                  ''.join(ts) + 'end of trees\n')
    pm = mc.proba([(0.0,)])[0]
    assert np.allclose(pm, [1 / 6, 2 / 6, 3 / 6], rtol=0, atol=1e-15), pm


# ======================================================================================
# LightGBM: writing models the way LightGBM 4 writes them
# ======================================================================================
def g17(v):
    """ArrayToString<true>: fmt "{:.17g}" (printf %.17g)."""
    return '%.17g' % v


def g6(v):
    """ArrayToString<false> on floating point: fmt "{:g}"; also operator<< with default precision."""
    return '%g' % v


def f32(v):
    return struct.unpack('f', struct.pack('f', v))[0]


def upper_bound(a, b):
    """bin.cpp: Common::GetDoubleUpperBound((distinct_values[i] + distinct_values[i + 1]) / 2.0)."""
    return float(np.nextafter((a + b) / 2.0, np.inf))


def lgb_threshold(values, cut):
    """A LightGBM-style bin boundary between the training values at or below `cut` and above it."""
    v = np.unique(values[~np.isnan(values)])
    a, b = v[v <= cut].max(), v[v > cut].min()
    # zero is a bin of its own (FindBinWithZeroAsOneBin): its bounds are -kZeroThreshold / +kZeroThreshold
    if a == 0.0 and b > KZERO:
        return KZERO
    if b == 0.0 and a < -KZERO:
        return -KZERO
    return upper_bound(a, b)


class Num:
    def __init__(self, feat, cut, mt, default_left, left=None, right=None):
        self.feat, self.cut, self.mt, self.default_left = feat, cut, mt, default_left
        self.left, self.right = left, right


class Cat:
    """cats: an explicit list, or 'pos' / 'neg': chosen from the node's rows like LightGBM's categorical
    search would favour them: categories (>= 10 rows) whose smoothed Newton output
    -sum_g / (sum_h + cat_smooth) is positive / negative, at most max_cat_threshold (32) of them, largest first."""

    def __init__(self, feat, cats, left=None, right=None, mt=MT_NAN):
        self.feat, self.mt = feat, mt
        self.cats = sorted(cats) if isinstance(cats, list) else cats
        self.left, self.right = left, right

    def choose(self, col, g, h, mask):
        if isinstance(self.cats, list):
            return
        v = col[mask]
        ok = ~np.isnan(v) & (v >= 0)
        iv, gg, hh = v[ok].astype(int), g[mask][ok], h[mask][ok]
        scored = []
        for c in np.unique(iv):
            sel = iv == c
            if sel.sum() >= 10:
                o = -gg[sel].sum() / (hh[sel].sum() + 10.0)
                if (o > 0) == (self.cats == 'pos'):
                    scored.append((-abs(o), int(c)))
        self.cats = sorted(c for _, c in sorted(scored)[:32])


def goes_left(node, col, thr):
    """Vectorised routing used while fitting (written separately from LgbTree.decision)."""
    if isinstance(node, Cat):
        ok = ~np.isnan(col)
        iv = np.where(ok, np.trunc(np.nan_to_num(col)), -1).astype(np.int64)
        return ok & (iv >= 0) & np.isin(iv, node.cats)
    x = col.copy()
    isnan = np.isnan(x)
    if node.mt != MT_NAN:
        x[isnan] = 0.0
        missing = (np.abs(x) <= KZERO) if node.mt == MT_ZERO else np.zeros(len(x), bool)
    else:
        missing = isnan
    with np.errstate(invalid='ignore'):
        left = x <= thr
    return np.where(missing, node.default_left, left)


def bitset(cats):
    words = [0] * (max(cats) // 32 + 1)
    for c in cats:
        words[c // 32] |= 1 << (c % 32)
    return words


class Grown:
    """One fitted tree in LightGBM's array layout."""

    def to_string(self):
        L = self.num_leaves
        s = ['num_leaves=%d' % L, 'num_cat=%d' % len(self.cat_words)]
        s.append('split_feature=' + ' '.join(str(v) for v in self.split_feature))
        s.append('split_gain=' + ' '.join(g6(f32(v)) for v in self.split_gain))
        s.append('threshold=' + ' '.join(g17(v) for v in self.threshold))
        s.append('decision_type=' + ' '.join(str(v) for v in self.decision_type))
        s.append('left_child=' + ' '.join(str(v) for v in self.left_child))
        s.append('right_child=' + ' '.join(str(v) for v in self.right_child))
        s.append('leaf_value=' + ' '.join(g17(v) for v in self.leaf_value))
        s.append('leaf_weight=' + ' '.join(g17(v) for v in self.leaf_weight))
        s.append('leaf_count=' + ' '.join(str(v) for v in self.leaf_count))
        s.append('internal_value=' + ' '.join(g6(v) for v in self.internal_value))
        s.append('internal_weight=' + ' '.join(g6(v) for v in self.internal_weight))
        s.append('internal_count=' + ' '.join(str(v) for v in self.internal_count))
        if self.cat_words:
            bounds = [0]
            for w in self.cat_words:
                bounds.append(bounds[-1] + len(w))
            s.append('cat_boundaries=' + ' '.join(str(v) for v in bounds))
            s.append('cat_threshold=' + ' '.join(str(v) for w in self.cat_words for v in w))
        s.append('is_linear=%d' % int(self.is_linear))
        if self.is_linear:
            s.append('leaf_const=' + ' '.join(g17(v) for v in self.leaf_const))
            s.append('num_features=' + ' '.join(str(len(f)) for f in self.leaf_features))
            # tree.cpp: for each leaf, "f1 f2 ... " when it has features, then always one ' '
            s.append('leaf_features=' + ''.join(
                (' '.join(str(v) for v in f) + ' ' if f else '') + ' ' for f in self.leaf_features))
            s.append('leaf_coeff=' + ''.join(
                (' '.join(g17(v) for v in c) + ' ' if c else '') + ' ' for c in self.leaf_coeff))
        s.append('shrinkage=' + g6(self.shrinkage))
        return '\n'.join(s) + '\n\n'


def grow(spec, X, feats, g, h, rows, shrinkage, bias, linear=False, first_tree=False, lambda_l2=0.0):
    """Fit leaf values for a fixed structure, as LightGBM's leaf-wise learner would:
    leaf output -G/(H + lambda_l2), splits applied in order of gain (best leaf first), node and leaf
    numbering as Tree::Split does it, then Shrinkage(rate) and AddBias(init score).
    Returns (Grown, per-row output on X for all rows)."""
    n = X.shape[0]
    gain_of = lambda G, H: G * G / (H + lambda_l2)
    t = Grown()
    t.split_feature, t.split_gain, t.threshold, t.decision_type = [], [], [], []
    t.left_child, t.right_child = [], []
    t.internal_value, t.internal_weight, t.internal_count = [], [], []
    t.cat_words = []
    t.branch = [[]]
    leaves = [dict(spec=spec, mask=rows.copy(), parent=-1, is_left=False)]
    while True:
        best, best_gain = None, -1.0
        for li, lf in enumerate(leaves):
            sp = lf['spec']
            if sp is None:
                continue
            col = X[:, feats.index(sp.feat)]
            if isinstance(sp, Cat):
                sp.choose(col, g, h, lf['mask'])
            thr = None if isinstance(sp, Cat) else lgb_threshold(col[rows], sp.cut) if sp.cut != 'zero' else KZERO
            gl = goes_left(sp, col, thr)
            ml, mr = lf['mask'] & gl, lf['mask'] & ~gl
            assert ml.sum() >= 20 and mr.sum() >= 20, ('leaf too small', sp.feat, ml.sum(), mr.sum())
            G, H = g[lf['mask']].sum(), h[lf['mask']].sum()
            gain = gain_of(g[ml].sum(), h[ml].sum()) + gain_of(g[mr].sum(), h[mr].sum()) - gain_of(G, H)
            if gain > best_gain:
                best, best_gain, best_parts = li, gain, (thr, ml, mr, G, H)
        if best is None:
            break
        lf = leaves[best]
        sp = lf['spec']
        thr, ml, mr, G, H = best_parts
        node = len(t.split_feature)
        new_leaf = len(leaves)
        if lf['parent'] >= 0:
            if lf['is_left']:
                t.left_child[lf['parent']] = node
            else:
                t.right_child[lf['parent']] = node
        t.split_feature.append(feats.index(sp.feat))
        t.split_gain.append(best_gain)
        if isinstance(sp, Cat):
            t.threshold.append(float(len(t.cat_words)))
            t.cat_words.append(bitset(sp.cats))
            t.decision_type.append(1 | (sp.mt << 2))
        else:
            t.threshold.append(thr)
            t.decision_type.append((2 if sp.default_left else 0) | (sp.mt << 2))
        t.left_child.append(~best)
        t.right_child.append(~new_leaf)
        t.internal_value.append(-G / (H + lambda_l2))
        t.internal_weight.append(H)
        t.internal_count.append(int(lf['mask'].sum()))
        path = t.branch[best] + [feats.index(sp.feat)]
        t.branch[best] = path
        t.branch.append(list(path))
        leaves.append(dict(spec=sp.right, mask=mr, parent=node, is_left=False))
        leaves[best] = dict(spec=sp.left, mask=ml, parent=node, is_left=True)
    t.num_leaves = len(leaves)
    t.leaf_value = [-g[lf['mask']].sum() / (h[lf['mask']].sum() + lambda_l2) for lf in leaves]
    t.leaf_weight = [float(h[lf['mask']].sum()) for lf in leaves]
    t.leaf_count = [int(lf['mask'].sum()) for lf in leaves]
    t.is_linear = linear
    # which leaf every row of X falls in (all rows, in bag or not)
    # re-route every row of X through the node arrays (vectorised, same goes_left)
    cur = np.zeros(n, dtype=int)  # node index, >=0 internal, <0 leaf
    if t.num_leaves == 1:
        cur[:] = ~0
    while True:
        active = cur >= 0
        if not active.any():
            break
        for nd in np.unique(cur[active]):
            sel = cur == nd
            dt = t.decision_type[nd]
            col = X[sel, t.split_feature[nd]]
            if dt & 1:
                words = t.cat_words[int(t.threshold[nd])]
                cats = [32 * wi + b for wi, w in enumerate(words) for b in range(32) if (w >> b) & 1]
                gl = goes_left(Cat(None, cats), col, None)
            else:
                gl = goes_left(Num(None, None, (dt >> 2) & 3, bool(dt & 2)), col, t.threshold[nd])
            idx = np.where(sel)[0]
            cur[idx[gl]] = t.left_child[nd]
            cur[idx[~gl]] = t.right_child[nd]
    leaf_of = ~cur
    # training rows must land where the fitting put them
    for li, lf in enumerate(leaves):
        assert np.array_equal(lf['mask'], rows & (leaf_of == li))
    out = np.array([t.leaf_value[l] for l in leaf_of])
    if linear:
        t.leaf_const, t.leaf_features, t.leaf_coeff = [], [], []
        for li in range(t.num_leaves):
            if first_tree:
                # linear_tree_learner.cpp: if (is_first_tree) { ... SetLeafConst(leaf_num, tree->LeafOutput(leaf_num));
                t.leaf_const.append(t.leaf_value[li])
                t.leaf_features.append([])
                t.leaf_coeff.append([])
                continue
            # numerical branch features of the leaf, sorted, unique (categorical ones dropped)
            fs = sorted(set(f for f in t.branch[li] if feats[f] not in CATEGORICAL))
            m = rows & (leaf_of == li)
            A = X[m][:, fs]
            ok = ~np.isnan(A).any(axis=1)  # rows with a NaN in any leaf feature are left out of the fit
            if ok.sum() < len(fs) + 1:
                t.leaf_const.append(t.leaf_value[li])
                t.leaf_features.append([])
                t.leaf_coeff.append([])
                continue
            Z = np.hstack([A[ok], np.ones((ok.sum(), 1))])
            hh, gg = h[m][ok], g[m][ok]
            XTHX = Z.T @ (Z * hh[:, None]) + np.diag([LINEAR_LAMBDA] * len(fs) + [0.0])
            coef = -np.linalg.solve(XTHX, Z.T @ gg)
            keep = [k for k in range(len(fs)) if abs(coef[k]) > KZERO]
            t.leaf_features.append([fs[k] for k in keep])
            t.leaf_coeff.append([float(coef[k]) for k in keep])
            t.leaf_const.append(float(coef[-1]))
    # Shrinkage(rate)
    t.leaf_value = [v * shrinkage for v in t.leaf_value]
    t.internal_value = [v * shrinkage for v in t.internal_value]
    t.shrinkage = shrinkage
    if linear:
        t.leaf_const = [v * shrinkage for v in t.leaf_const]
        t.leaf_coeff = [[c * shrinkage for c in cs] for cs in t.leaf_coeff]
    # outputs per row (the score update happens before AddBias in GBDT::TrainOneIter)
    if linear:
        out = np.empty(n)
        for r in range(n):
            li = leaf_of[r]
            v = t.leaf_const[li]
            for f, c in zip(t.leaf_features[li], t.leaf_coeff[li]):
                if np.isnan(X[r, f]):
                    v = t.leaf_value[li]
                    break
                v += c * X[r, f]
            out[r] = v
    else:
        out = np.array([t.leaf_value[l] for l in leaf_of])
    if bias != 0.0:
        # Tree::AddBias: leaf values, internal values and leaf_const get +bias; shrinkage_ = 1.0f
        t.leaf_value = [v + bias for v in t.leaf_value]
        t.internal_value = [v + bias for v in t.internal_value]
        if linear:
            t.leaf_const = [v + bias for v in t.leaf_const]
        t.shrinkage = 1.0
    return t, out, leaf_of


CATEGORICAL = {'region'}
LINEAR_LAMBDA = 0.0

PARAM_DEFAULTS = [
    ('boosting', 'gbdt'), ('objective', 'binary'), ('metric', 'binary_logloss'), ('tree_learner', 'serial'),
    ('device_type', 'cpu'), ('data_sample_strategy', 'bagging'), ('data', ''), ('valid', ''),
    ('num_iterations', '100'), ('learning_rate', '0.1'), ('num_leaves', '31'), ('num_threads', '0'),
    ('seed', '0'), ('deterministic', '0'), ('force_col_wise', '0'), ('force_row_wise', '0'),
    ('histogram_pool_size', '-1'), ('max_depth', '-1'), ('min_data_in_leaf', '20'),
    ('min_sum_hessian_in_leaf', '0.001'), ('bagging_fraction', '1'), ('pos_bagging_fraction', '1'),
    ('neg_bagging_fraction', '1'), ('bagging_freq', '0'), ('bagging_seed', '3'), ('bagging_by_query', '0'),
    ('feature_fraction', '1'), ('feature_fraction_bynode', '1'), ('feature_fraction_seed', '2'),
    ('extra_trees', '0'), ('extra_seed', '6'), ('early_stopping_round', '0'), ('early_stopping_min_delta', '0'),
    ('first_metric_only', '0'), ('max_delta_step', '0'), ('lambda_l1', '0'), ('lambda_l2', '0'),
    ('linear_lambda', '0'), ('min_gain_to_split', '0'), ('drop_rate', '0.1'), ('max_drop', '50'),
    ('skip_drop', '0.5'), ('xgboost_dart_mode', '0'), ('uniform_drop', '0'), ('drop_seed', '4'),
    ('top_rate', '0.2'), ('other_rate', '0.1'), ('min_data_per_group', '100'), ('max_cat_threshold', '32'),
    ('cat_l2', '10'), ('cat_smooth', '10'), ('max_cat_to_onehot', '4'), ('top_k', '20'),
    ('monotone_constraints', ''), ('monotone_constraints_method', 'basic'), ('monotone_penalty', '0'),
    ('feature_contri', ''), ('forcedsplits_filename', ''), ('refit_decay_rate', '0.9'), ('cegb_tradeoff', '1'),
    ('cegb_penalty_split', '0'), ('cegb_penalty_feature_lazy', ''), ('cegb_penalty_feature_coupled', ''),
    ('path_smooth', '0'), ('interaction_constraints', ''), ('verbosity', '-1'),
    ('saved_feature_importance_type', '0'), ('use_quantized_grad', '0'), ('num_grad_quant_bins', '4'),
    ('quant_train_renew_leaf', '0'), ('stochastic_rounding', '1'), ('linear_tree', '0'), ('max_bin', '255'),
    ('max_bin_by_feature', ''), ('min_data_in_bin', '3'), ('bin_construct_sample_cnt', '200000'),
    ('data_random_seed', '1'), ('is_enable_sparse', '1'), ('enable_bundle', '1'), ('use_missing', '1'),
    ('zero_as_missing', '0'), ('feature_pre_filter', '1'), ('pre_partition', '0'), ('two_round', '0'),
    ('header', '0'), ('label_column', ''), ('weight_column', ''), ('group_column', ''), ('ignore_column', ''),
    ('categorical_feature', ''), ('forcedbins_filename', ''), ('precise_float_parser', '0'),
    ('parser_config_file', ''), ('objective_seed', '5'), ('num_class', '1'), ('is_unbalance', '0'),
    ('scale_pos_weight', '1'), ('sigmoid', '1'), ('boost_from_average', '1'), ('reg_sqrt', '0'),
    ('alpha', '0.9'), ('fair_c', '1'), ('poisson_max_delta_step', '0.7'), ('tweedie_variance_power', '1.5'),
    ('lambdarank_truncation_level', '30'), ('lambdarank_norm', '1'), ('label_gain', ''),
    ('lambdarank_position_bias_regularization', '0'), ('eval_at', ''), ('multi_error_top_k', '1'),
    ('auc_mu_weights', ''), ('num_machines', '1'), ('local_listen_port', '12400'), ('time_out', '120'),
    ('machine_list_filename', ''), ('machines', ''), ('gpu_platform_id', '-1'), ('gpu_device_id', '-1'),
    ('gpu_device_id_list', ''), ('gpu_use_dp', '0'), ('num_gpu', '1'),
]


def feature_info(col, is_cat, zero_as_missing=False):
    v = col[~np.isnan(col)]
    if is_cat:
        # bin.cpp: categories in bin order (most frequent first); negative values are NaN
        iv = v[v >= 0].astype(int)
        vals, counts = np.unique(iv, return_counts=True)
        order = sorted(range(len(vals)), key=lambda i: (-counts[i], vals[i]))
        return ':'.join(str(vals[i]) for i in order)
    lo, hi = v.min(), v.max()
    if zero_as_missing and np.isnan(col).any():  # NaN counts as zero there
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    return '[%s:%s]' % (g17(lo), g17(hi))


def lgb_model_text(trees, feats, Xtrain, objective, num_class, k, params, average_output=False):
    zam = params.get('zero_as_missing') == '1'
    tree_strs = ['Tree=%d\n' % i + t.to_string() + '\n' for i, t in enumerate(trees)]
    sizes = [len(s.encode()) for s in tree_strs]
    head = ['tree', 'version=v4', 'num_class=%d' % num_class, 'num_tree_per_iteration=%d' % k, 'label_index=0',
            'max_feature_idx=%d' % (len(feats) - 1), 'objective=' + objective]
    if average_output:
        head.append('average_output')
    head.append('feature_names=' + ' '.join(feats))
    head.append('feature_infos=' + ' '.join(feature_info(Xtrain[:, i], f in CATEGORICAL, zam) for i, f in enumerate(feats)))
    head.append('tree_sizes=' + ' '.join(str(s) for s in sizes))
    text = '\n'.join(head) + '\n\n' + ''.join(tree_strs) + 'end of trees\n'
    imp = [0] * len(feats)
    for t in trees:
        for f in t.split_feature:
            imp[f] += 1
    pairs = sorted([(imp[i], feats[i]) for i in range(len(feats)) if imp[i] > 0], key=lambda p: -p[0])
    text += '\nfeature_importances:\n' + ''.join('%s=%d\n' % (f, c) for c, f in pairs)
    p = dict(PARAM_DEFAULTS)
    p.update(params)
    text += '\nparameters:\n' + ''.join('[%s: %s]\n' % (key, p[key]) for key, _ in PARAM_DEFAULTS) + '\n'
    text += 'end of parameters\n'
    text += '\npandas_categorical:null\n'
    return text


# ======================================================================================
# LightGBM data: a synthetic loan-applicant sample (seeded)
# ======================================================================================
LGB_COLUMNS = ['age', 'income', 'net_change', 'debt_ratio', 'balance', 'region']


def applicants(rng, n, scoring):
    age = rng.integers(18, 80, n).astype(float)
    income = np.round(np.exp(rng.normal(3.7, 0.5, n)), 1)
    net_change = np.round(rng.normal(0.0, 2.5, n), 2)
    debt_ratio = np.round(rng.beta(2, 5, n) * 1.5, 3)
    balance = np.where(rng.random(n) < 0.4, 0.0, np.round(np.exp(rng.normal(7, 1, n))))
    w = 1.0 / np.arange(1, 46) ** 0.8
    region = rng.choice(45, n, p=w / w.sum()).astype(float)
    group = rng.choice(['north', 'south', 'east'], n, p=[0.45, 0.35, 0.2])
    reg_eff = np.sin(region * 1.7)
    logit = (-0.6 + 0.03 * (age - 45) + 0.025 * (income - 45) - 1.6 * (debt_ratio - 0.4) + 0.12 * net_change
             + 0.00008 * balance - 0.5 * (balance == 0) + 0.6 * reg_eff)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    s1 = 0.04 * (income - 45) - 2.0 * debt_ratio + 0.5 * reg_eff
    s2 = 0.06 * (income - 45) - 3.0 * debt_ratio + 0.02 * (age - 45) - 0.4 * reg_eff
    P = np.exp(np.stack([np.zeros(n), s1 + 0.3, s2 - 0.2], 1))
    P /= P.sum(1, keepdims=True)
    u = rng.random(n)
    tier = (u > P[:, 0]).astype(int) + (u > P[:, 0] + P[:, 1]).astype(int)
    income[rng.random(n) < 0.08] = np.nan
    debt_ratio[rng.random(n) < 0.06] = np.nan
    balance[rng.random(n) < 0.05] = np.nan
    region[rng.random(n) < 0.03] = np.nan
    if scoring:  # never missing in training (so missing type None there), sometimes missing when scored
        age[rng.random(n) < 0.03] = np.nan
        net_change[rng.random(n) < 0.03] = np.nan
    X = np.stack([age, income, net_change, debt_ratio, balance, region], 1)
    return X, y, tier, group


# ======================================================================================
# LightGBM models
# ======================================================================================
def gbdt(specs, feats, Xfull, y, lr, linear=False):
    """Binary GBDT with fixed tree structures (boost_from_average, Shrinkage, AddBias on tree 0)."""
    X = Xfull[:, [LGB_COLUMNS.index(f) for f in feats]]
    n = len(y)
    pbar = y.mean()
    init = math.log(pbar / (1 - pbar))
    score = np.full(n, init)
    rows = np.ones(n, bool)
    trees = []
    for i, spec in enumerate(specs):
        p = 1 / (1 + np.exp(-score))
        g = (p - y).astype(np.float32).astype(float)
        h = (p * (1 - p)).astype(np.float32).astype(float)
        t, o, _ = grow(spec, X, feats, g, h, rows, lr, init if i == 0 else 0.0, linear=linear, first_tree=(i == 0))
        score = score + o
        trees.append(t)
    return trees, X, score


def rf(specs, feats, Xfull, y, bag_frac, seed):
    X = Xfull[:, [LGB_COLUMNS.index(f) for f in feats]]
    n = len(y)
    pbar = y.mean()
    init = math.log(pbar / (1 - pbar))
    p = np.full(n, pbar)
    g = (p - y).astype(np.float32).astype(float)
    h = (p * (1 - p)).astype(np.float32).astype(float)
    rng = np.random.default_rng(seed)
    trees, outs = [], []
    for spec in specs:
        rows = np.zeros(n, bool)
        rows[rng.choice(n, int(bag_frac * n), replace=False)] = True
        # rf.hpp: shrinkage_rate_ = 1.0f; new_tree->AddBias(init_scores_[cur_tree_id]);
        t, o, _ = grow(spec, X, feats, g, h, rows, 1.0, init)
        trees.append(t)
        outs.append(o + init)
    return trees, X, np.mean(outs, axis=0)


def multiclass(specs_by_iter, feats, Xfull, tier, lr):
    X = Xfull[:, [LGB_COLUMNS.index(f) for f in feats]]
    n = len(tier)
    K = 3
    prior = np.array([(tier == k).mean() for k in range(K)])
    init = np.log(prior)  # MulticlassSoftmax::BoostFromScore: std::log(class_init_probs_[class_id])
    score = np.tile(init, (n, 1))
    Y = np.eye(K)[tier]
    rows = np.ones(n, bool)
    trees = []
    for it, specs in enumerate(specs_by_iter):
        P = softmax(score)
        new = np.zeros_like(score)
        for k in range(K):
            g = (P[:, k] - Y[:, k]).astype(np.float32).astype(float)
            h = (1.5 * P[:, k] * (1 - P[:, k])).astype(np.float32).astype(float)  # factor_ = K / (K - 1)
            t, o, _ = grow(specs[k], X, feats, g, h, rows, lr, init[k] if it == 0 else 0.0)
            new[:, k] = o
            trees.append(t)
        score = score + new
    return trees, X, score


def describe_naive(model, X, p_true, variants):
    res = {}
    for v in variants:
        pv = model.proba(X, v)[:, 0] if model.num_class == 1 else model.proba(X, v)[:, 1]
        d = np.abs(pv - p_true)
        res[v] = (int((d > 1e-9).sum()), float(d.max()))
    return res


def lgb_crosscheck(name, feats, X, p_eval, column=None):
    """Optional: when the lightgbm package is importable (not on Debian; a local wheel in a throwaway
    venv was used for the committed files), load the written file with LightGBM itself, predict the same rows
    and re-serialise the model. Returns a sentence for the expected file, or None."""
    try:
        import lightgbm
    except ImportError:
        return None
    b = lightgbm.Booster(model_file=out(name))
    assert b.feature_name() == feats
    p = b.predict(np.asarray(X, dtype=np.float64))
    p = p[:, column] if column is not None else p
    d = float(np.abs(p - p_eval).max())
    assert d <= 1e-12, (name, d)
    same = b.model_to_string() == open(out(name)).read()
    assert same, name + ': LightGBM re-serialises the file differently'
    return ('lightgbm %s Booster(model_file=...).predict on the same rows (float64 numpy) agrees with the '
            'evaluator to %.1e (max |diff|); Booster.model_to_string() reproduces the file byte for byte'
            % (lightgbm.__version__, d))


def build_lightgbm():
    lgb_self_test()
    Xtr, ytr, tiertr, _ = applicants(np.random.default_rng(4001), 4000, scoring=False)

    # ---------------- model A: every decision type of a zero_as_missing=false model ------------
    fa = ['age', 'income', 'net_change', 'debt_ratio', 'region']
    N = lambda *a, **k: Num(*a, **k)
    specs_a = [
        N('income', 45, MT_NAN, True,
          N('debt_ratio', 0.45, MT_NAN, False,
            Cat('region', 'pos'),
            N('age', 35, MT_NONE, True)),
          N('net_change', -1.5, MT_NONE, True,
            None,
            Cat('region', [1, 3, 31, 32, 38, 44], None, N('debt_ratio', 0.3, MT_NAN, True)))),
        N('age', 50, MT_NONE, True,
          N('net_change', 0.0, MT_NONE, True, None, N('income', 30, MT_NAN, False)),
          Cat('region', 'neg')),
        Cat('region', 'pos',
            N('income', 60, MT_NAN, False),
            N('debt_ratio', 0.6, MT_NAN, True, N('net_change', 2.0, MT_NONE, True), None)),
        N('debt_ratio', 0.25, MT_NAN, False,
          N('age', 28, MT_NONE, True),
          N('income', 38, MT_NAN, True, Cat('region', 'neg'), None)),
        N('net_change', -3.0, MT_NONE, True, None,
          N('income', 52, MT_NAN, False, N('age', 62, MT_NONE, True), Cat('region', 'pos'))),
        N('age', 41, MT_NONE, True, Cat('region', 'neg'), N('debt_ratio', 0.5, MT_NAN, False)),
    ]
    trees_a, Xa, score_a = gbdt(specs_a, fa, Xtr, ytr, 0.1)
    params_a = {'num_iterations': '6', 'num_leaves': '8', 'categorical_feature': '4', 'min_data_in_leaf': '20'}
    text_a = lgb_model_text(trees_a, fa, Xa, 'binary sigmoid:1', 1, 1, params_a)

    # ---------------- model B: zero_as_missing=true (missing type Zero everywhere) -------------
    fb = ['age', 'income', 'balance']
    specs_b = [
        N('balance', 500, MT_ZERO, True, N('income', 40, MT_ZERO, False), N('age', 45, MT_ZERO, True)),
        N('income', 55, MT_ZERO, False, N('balance', 2000, MT_ZERO, False), N('age', 30, MT_ZERO, False)),
        N('age', 38, MT_ZERO, True, N('balance', 900, MT_ZERO, True), N('income', 35, MT_ZERO, True)),
        N('balance', 3000, MT_ZERO, False, N('age', 60, MT_ZERO, True), None),
    ]
    trees_b, Xb, score_b = gbdt(specs_b, fb, Xtr, ytr, 0.1)
    params_b = {'num_iterations': '4', 'num_leaves': '4', 'zero_as_missing': '1'}
    text_b = lgb_model_text(trees_b, fb, Xb, 'binary sigmoid:1', 1, 1, params_b)

    # ---------------- model C: random forest (average_output) -----------------------------------
    fc = ['age', 'income', 'debt_ratio', 'region']
    specs_c = [
        N('income', 45, MT_NAN, True, N('debt_ratio', 0.4, MT_NAN, False), N('age', 40, MT_NONE, True)),
        N('debt_ratio', 0.35, MT_NAN, True, Cat('region', 'pos'), N('income', 50, MT_NAN, False)),
        N('age', 45, MT_NONE, True, N('income', 38, MT_NAN, False), N('debt_ratio', 0.5, MT_NAN, True)),
        Cat('region', 'neg', N('income', 40, MT_NAN, True), N('age', 55, MT_NONE, True)),
        N('income', 60, MT_NAN, False, N('age', 30, MT_NONE, True), None),
        N('debt_ratio', 0.2, MT_NAN, False, None, N('income', 42, MT_NAN, True)),
        N('age', 35, MT_NONE, True, None, Cat('region', 'pos')),
        N('income', 33, MT_NAN, True, None, N('debt_ratio', 0.55, MT_NAN, False)),
        N('debt_ratio', 0.45, MT_NAN, False, N('age', 50, MT_NONE, True), N('income', 55, MT_NAN, True)),
        N('income', 48, MT_NAN, True, Cat('region', 'neg'), N('age', 48, MT_NONE, True)),
    ]
    trees_c, Xc, score_c = rf(specs_c, fc, Xtr, ytr, 0.632, seed=7)
    params_c = {'boosting': 'rf', 'num_iterations': '10', 'num_leaves': '4', 'bagging_fraction': '0.632',
                'bagging_freq': '1', 'feature_fraction': '0.8', 'categorical_feature': '3'}
    text_c = lgb_model_text(trees_c, fc, Xc, 'binary sigmoid:1', 1, 1, params_c, average_output=True)

    # ---------------- model D: linear trees ------------------------------------------------------
    fd = ['age', 'income', 'debt_ratio', 'net_change', 'region']
    specs_d = [
        N('income', 45, MT_NAN, True, N('debt_ratio', 0.4, MT_NAN, False), N('age', 45, MT_NONE, True)),
        N('debt_ratio', 0.35, MT_NAN, True, N('income', 35, MT_NAN, False), N('net_change', 0.0, MT_NONE, True)),
        N('age', 40, MT_NONE, True, Cat('region', 'pos'), N('income', 55, MT_NAN, False)),
        N('net_change', -1.0, MT_NONE, True, N('debt_ratio', 0.5, MT_NAN, True), N('income', 40, MT_NAN, True)),
        N('income', 60, MT_NAN, False, N('age', 55, MT_NONE, True), None),
    ]
    trees_d, Xd, score_d = gbdt(specs_d, fd, Xtr, ytr, 0.1, linear=True)
    params_d = {'num_iterations': '5', 'num_leaves': '4', 'linear_tree': '1', 'categorical_feature': '4'}
    text_d = lgb_model_text(trees_d, fd, Xd, 'binary sigmoid:1', 1, 1, params_d)

    # ---------------- model E: multiclass softmax ----------------------------------------------
    fe = ['age', 'income', 'debt_ratio', 'region']
    specs_e = [
        [N('income', 45, MT_NAN, True, N('debt_ratio', 0.4, MT_NAN, False), None),
         N('debt_ratio', 0.5, MT_NAN, True, Cat('region', 'neg'), None),
         N('income', 55, MT_NAN, False, None, N('age', 45, MT_NONE, True))],
        [N('debt_ratio', 0.3, MT_NAN, False, None, N('income', 40, MT_NAN, True)),
         Cat('region', 'pos', N('income', 50, MT_NAN, True), None),
         N('debt_ratio', 0.35, MT_NAN, True, N('income', 50, MT_NAN, True), None)],
        [N('income', 40, MT_NAN, True, None, N('age', 35, MT_NONE, True)),
         N('income', 48, MT_NAN, False, N('debt_ratio', 0.45, MT_NAN, True), None),
         Cat('region', 'neg', None, N('income', 60, MT_NAN, False))],
        [N('age', 50, MT_NONE, True, N('debt_ratio', 0.25, MT_NAN, True), None),
         N('income', 42, MT_NAN, True, None, N('debt_ratio', 0.6, MT_NAN, False)),
         N('debt_ratio', 0.2, MT_NAN, False, None, N('income', 65, MT_NAN, True))],
    ]
    trees_e, Xe, score_e = multiclass(specs_e, fe, Xtr, tiertr, 0.1)
    params_e = {'objective': 'multiclass', 'metric': 'multi_logloss', 'num_class': '3', 'num_iterations': '4',
                'num_leaves': '3', 'categorical_feature': '3'}
    text_e = lgb_model_text(trees_e, fe, Xe, 'multiclass num_class:3', 3, 3, params_e)

    texts = {'lgbm_decision_types.txt': (text_a, fa), 'lgbm_zero_as_missing.txt': (text_b, fb),
             'lgbm_random_forest.txt': (text_c, fc), 'lgbm_linear_trees.txt': (text_d, fd),
             'lgbm_multiclass.txt': (text_e, fe)}
    for name, (text, _) in texts.items():
        write_text(name, text)
    models = {name: LgbModel(open(out(name)).read()) for name in texts}

    # cross-check: the evaluator (reading the written text) reproduces the fitting's own training scores
    for name, score, Xm in [('lgbm_decision_types.txt', score_a, Xa), ('lgbm_zero_as_missing.txt', score_b, Xb),
                            ('lgbm_random_forest.txt', score_c, Xc), ('lgbm_linear_trees.txt', score_d, Xd)]:
        raw = np.array([models[name].raw(x)[0] for x in Xm])
        assert np.abs(raw - score).max() < 1e-12, (name, np.abs(raw - score).max())
    raw_e = np.array([models['lgbm_multiclass.txt'].raw(x) for x in Xe])
    assert np.abs(raw_e - score_e).max() < 1e-12

    # ---------------- scoring data: 1,500 fresh rows + hand-made edge rows ------------------------
    Xs, ys, tiers, groups = applicants(np.random.default_rng(4002), 1500, scoring=True)
    edge = []
    erng = np.random.default_rng(4003)

    def base_row():
        r = Xs[erng.integers(0, 1500)].copy()
        return r

    # every numeric threshold value exactly (<= goes left), once per (feature, threshold)
    seen = set()
    for name, (text, feats) in texts.items():
        for t in models[name].trees:
            for f, thr, dt in zip(t.split_feature, t.threshold, t.decision_type):
                if dt & 1 or (feats[f], thr) in seen:
                    continue
                seen.add((feats[f], thr))
                r = base_row()
                r[LGB_COLUMNS.index(feats[f])] = thr
                edge.append(r)
    # zeros, values inside kZeroThreshold, NaN everywhere, negative / unseen / fractional category codes
    specials = [
        {'balance': 0.0}, {'balance': 1e-40}, {'balance': -1e-36}, {'balance': np.nan},
        {'income': 0.0}, {'income': np.nan}, {'income': 1e-40},
        {'age': np.nan, 'net_change': np.nan}, {'net_change': 0.0}, {'net_change': np.nan},
        {'debt_ratio': 0.0}, {'debt_ratio': np.nan, 'income': np.nan},
        {'region': -1.0}, {'region': -7.0}, {'region': 31.0}, {'region': 32.0}, {'region': 33.0},
        {'region': 40.0}, {'region': 45.0}, {'region': 50.0}, {'region': 63.0}, {'region': 64.0},
        {'region': 96.0}, {'region': 1000.0}, {'region': np.nan}, {'region': 2.0}, {'region': 0.0},
        {'region': 33.7}, {'region': 2.5},
        {'age': np.nan, 'income': np.nan, 'net_change': np.nan, 'debt_ratio': np.nan, 'balance': np.nan,
         'region': np.nan},
        {'age': 0.0, 'income': 0.0, 'net_change': 0.0, 'debt_ratio': 0.0, 'balance': 0.0, 'region': 0.0},
    ]
    for sp in specials:
        r = base_row()
        for k, v in sp.items():
            r[LGB_COLUMNS.index(k)] = v
        edge.append(r)
    E = np.array(edge)
    ne = len(E)
    X = np.vstack([Xs, E])
    y = np.concatenate([ys, erng.integers(0, 2, ne)])
    tier = np.concatenate([tiers, erng.integers(0, 3, ne)])
    group = np.concatenate([groups, erng.choice(['north', 'south', 'east'], ne)])
    df = pd.DataFrame({'group': group})
    for i, c in enumerate(LGB_COLUMNS):
        df[c] = X[:, i]
    df['y'] = y
    df['tier'] = tier
    write_csv('lgbm_applicants.csv', df)
    back = pd.read_csv(out('lgbm_applicants.csv'), dtype={c: float for c in LGB_COLUMNS}, float_precision='round_trip')
    for c in LGB_COLUMNS:
        a, b = back[c].to_numpy(float), df[c].to_numpy(float)
        assert np.array_equal(np.isnan(a), np.isnan(b)) and np.array_equal(a[~np.isnan(a)], b[~np.isnan(b)]), c
    n_rows = len(back)
    for gname, cnt in back['group'].value_counts().items():
        assert cnt >= 30, (gname, cnt)

    def rowsfor(feats):
        return [tuple(r) for r in back[feats].to_numpy(float)]

    def xcheck(name, feats, p_eval, column=None):
        c = lgb_crosscheck(name, feats, back[feats].to_numpy(float), p_eval, column)
        return {'cross_check': c} if c else {}

    LIB = 'independent LightGBM text evaluator (build_trees.py)'
    HOW = ('build_trees.py parses the text file as GBDT::LoadModelFromString does (trees located by tree_sizes), '
           'walks each tree with Tree::NumericalDecision / CategoricalDecision semantics in float64, sums %s, '
           'then %s; data = the %s columns of lgbm_applicants.csv, empty cells as NaN')
    common_settings = {'features': None, 'missing_values': None}
    data_note = ('lgbm_applicants.csv: %d rows of a seeded synthetic loan-applicant sample (%d random rows, then %d '
                 'edge rows: every numeric threshold value exactly, zeros, 1e-40 and -1e-36 (inside '
                 'kZeroThreshold), NaN in each column, category codes -1, -7, 31, 32, 33, 40, 45, 50, 63, 64, 96, '
                 '1000, fractional 33.7 and 2.5, and blank). group (north/south/east) is not a model feature. The trees\' structure was '
                 'chosen by hand and their leaf values fitted on a separate seeded training sample of 4,000 rows '
                 'the way LightGBM does (Newton step -G/H, shrinkage, first tree carrying the boost_from_average '
                 'bias with shrinkage=1)' % (n_rows, 1500, ne))

    # ---- entry: lgbm-every-decision-type (model A) ----
    ma = models['lgbm_decision_types.txt']
    pa = ma.proba(rowsfor(fa))[:, 0]
    expected_file('lgbm_decision_types.expected.json', LIB,
                  HOW % ('the 6 trees', 'sigmoid(raw) (objective=binary sigmoid:1)', ', '.join(fa)),
                  [0, 1], 1, pa, back['y'],
                  extra=xcheck('lgbm_decision_types.txt', fa, pa))
    na = describe_naive(ma, rowsfor(fa), pa, ['nan_default_always', 'bitset_first_word_only', 'lt_instead_of_le'])
    dts = sorted(set(d for t in ma.trees for d in t.decision_type))
    manifest.append({
        'id': 'lgbm-every-decision-type',
        'description': (
            'Hand-written LightGBM v4 text model (binary sigmoid:1, 6 trees, shrinkage 0.1, zero_as_missing=false) '
            'on age, income, net_change, debt_ratio and the categorical region (integer codes 0..44, '
            'categorical_feature=4). decision_type values used: %s: 2 = numeric, missing None, default_left '
            '(age and net_change: no NaN in training); 8 / 10 = numeric, missing NaN, default right / left '
            '(income, debt_ratio); 9 = categorical (bit 0) with missing type NaN. Categorical splits keep the '
            'categories going LEFT as a bitset of uint32 words (cat_boundaries / cat_threshold, threshold = '
            'index of the bitset), several with categories above 31 (second word). Rules (tree.h): a NaN with '
            'missing type None becomes 0.0 and is compared to the threshold (net_change splits at -1.5 and -3: '
            '0 goes right although default_left is set); NaN-type nodes send NaN to the default side and compare '
            'zeros normally; x <= threshold goes left; a categorical value that is NaN, negative, or outside the '
            'bitset goes right; fractional codes truncate. What naive readers get wrong on this data: NaN always '
            'to the default side changes %d rows (max |dp| %.3f); reading only the first bitset word changes '
            '%d rows (max %.3f); < instead of <= changes %d rows (max %.3f). '
            % (' '.join(map(str, dts)), na['nan_default_always'][0], na['nan_default_always'][1],
               na['bitset_first_word_only'][0], na['bitset_first_word_only'][1], na['lt_instead_of_le'][0],
               na['lt_instead_of_le'][1]) + data_note + '.'),
        'model': 'lgbm_decision_types.txt',
        'data': 'lgbm_applicants.csv',
        'settings': dict({'target': 'y', 'positive_label': 1, 'protected': ['group']}, **common_settings),
        'expected': {'predictions': 'lgbm_decision_types.expected.json', 'tolerance': 1e-9,
                     'tolerance_reason': 'LightGBM predicts in float64 and the file holds thresholds and leaf '
                                         'values with 17 significant digits (exact round trip); only summation '
                                         'order and exp() rounding remain (~1e-16). Looser than that means '
                                         'float32 thresholds or leaves, which misroute rows at a threshold.'},
    })

    # ---- entry: zero_as_missing (model B) ----
    mb = models['lgbm_zero_as_missing.txt']
    pb = mb.proba(rowsfor(fb))[:, 0]
    expected_file('lgbm_zero_as_missing.expected.json', LIB,
                  HOW % ('the 4 trees', 'sigmoid(raw)', ', '.join(fb)), [0, 1], 1, pb, back['y'],
                  extra=xcheck('lgbm_zero_as_missing.txt', fb, pb))
    nb = describe_naive(mb, rowsfor(fb), pb, ['zero_type_ignored'])
    dtb = sorted(set(d for t in mb.trees for d in t.decision_type))
    n_zero_balance = int(((back['balance'].abs() <= KZERO) | back['balance'].isna()).sum())
    manifest.append({
        'id': 'lgbm-every-decision-type-zero-as-missing',
        'description': (
            'Companion of lgbm-every-decision-type: a model trained with zero_as_missing=true, where LightGBM '
            'gives every numeric feature missing type Zero (bin.cpp: "else if (zero_as_missing) { missing_type_ = '
            'MissingType::Zero;"), so Zero and NaN missing types never share one real model. 4 trees on age, '
            'income, balance (40%% exact zeros); decision_type values %s: 6 = Zero, default left, 4 = Zero, '
            'default right. A value with |x| <= kZeroThreshold (1e-35f = 1.0000000180025095e-35) and NaN (turned '
            'into 0.0 first) both go to the default side; %d data rows have balance zero, tiny or blank. Treating '
            'the Zero type like NaN (zeros compared to the threshold) changes %d rows (max |dp| %.3f). '
            % (' '.join(map(str, dtb)), n_zero_balance, nb['zero_type_ignored'][0], nb['zero_type_ignored'][1])
            + data_note + '.'),
        'model': 'lgbm_zero_as_missing.txt',
        'data': 'lgbm_applicants.csv',
        'settings': dict({'target': 'y', 'positive_label': 1, 'protected': ['group']}, **common_settings),
        'expected': {'predictions': 'lgbm_zero_as_missing.expected.json', 'tolerance': 1e-9,
                     'tolerance_reason': 'float64 evaluation of values stored with 17 significant digits, as '
                                         'LightGBM itself predicts'},
    })

    # ---- entry: lgbm-average-output (model C) ----
    mc = models['lgbm_random_forest.txt']
    rc = rowsfor(fc)
    pc = mc.proba(rc)[:, 0]
    pc_sum = mc.proba(rc, 'sum_not_mean')[:, 0]
    dsum = np.abs(pc_sum - pc)
    auc_sum = auc(back['y'], 1, pc_sum)
    expected_file('lgbm_random_forest.expected.json', LIB,
                  HOW % ('the 10 trees and divides by the number of iterations (average_output: GBDT::Predict '
                         'output[k] /= num_iteration_for_pred_)', 'sigmoid', ', '.join(fc)),
                  [0, 1], 1, pc, back['y'],
                  extra=dict(xcheck('lgbm_random_forest.txt', fc, pc),
                             p_if_trees_were_summed=[fnum(v) for v in pc_sum]))
    manifest.append({
        'id': 'lgbm-average-output',
        'regression': 'issue20-case5',
        'description': (
            'Hand-written LightGBM random forest (boosting=rf in parameters, bagging_fraction 0.632, '
            'bagging_freq 1): 10 trees, shrinkage=1, each tree\'s leaves already carry the init score '
            '(rf.hpp: new_tree->AddBias(init_scores_[cur_tree_id])), and the header has the bare line '
            '"average_output". LightGBM predicts sigmoid(mean of the tree outputs) (gbdt_prediction.cpp: '
            'if (average_output_) output[k] /= num_iteration_for_pred_; then ConvertOutput). Summing the trees '
            'as for boosting gives sigmoid(10 x mean): p differs by up to %.3f (mean |dp| %.3f), %d of %d rows move '
            'by more than 0.1: the mean tree output is negative (base rate %.2f), so the sum pushes p toward 0 '
            '(%d rows under 0.05 summed, %d averaged); the ranking and so AUC are unchanged (%.4f both ways), '
            'calibration and every thresholded metric break. Those values are in the expected file as '
            'p_if_trees_were_summed. '
            % (dsum.max(), dsum.mean(), int((dsum > 0.1).sum()), n_rows, float(ytr.mean()),
               int((pc_sum < 0.05).sum()), int((pc < 0.05).sum()), auc_sum) + data_note + '.'),
        'model': 'lgbm_random_forest.txt',
        'data': 'lgbm_applicants.csv',
        'settings': dict({'target': 'y', 'positive_label': 1, 'protected': ['group']}, **common_settings),
        'expected': {'predictions': 'lgbm_random_forest.expected.json', 'tolerance': 1e-9,
                     'tolerance_reason': 'float64 evaluation of values stored with 17 significant digits, as '
                                         'LightGBM itself predicts'},
    })

    # ---- entry: lgbm-linear-leaves (model D) ----
    md = models['lgbm_linear_trees.txt']
    rd = rowsfor(fd)
    pd_ = md.proba(rd)[:, 0]
    fallback_rows = []
    for i, x in enumerate(rd):
        for t in md.trees:
            lf = t.leaf(x)
            if any(math.isnan(x[f]) for f in t.leaf_features[lf]):
                fallback_rows.append(i)
                break
    nd_zero = describe_naive(md, rd, pd_, ['linear_nan_as_zero', 'linear_nan_leaf_const'])
    p_const = LgbModel(open(out('lgbm_linear_trees.txt')).read().replace('is_linear=1', 'is_linear=0')).proba(rd)[:, 0]
    d_const = np.abs(p_const - pd_)
    n_lin_leaves = sum(1 for t in md.trees for f in t.leaf_features if f)
    expected_file('lgbm_linear_trees.expected.json', LIB,
                  HOW % ('the 5 linear trees (leaf_const + sum leaf_coeff * x over leaf_features; the plain '
                         'leaf_value when any of those x is NaN)', 'sigmoid', ', '.join(fd)),
                  [0, 1], 1, pd_, back['y'],
                  extra=dict(xcheck('lgbm_linear_trees.txt', fd, pd_),
                             rows_using_leaf_value_fallback=fallback_rows))
    manifest.append({
        'id': 'lgbm-linear-leaves',
        'regression': 'issue20-case5',
        'description': (
            'Hand-written LightGBM model trained with linear_tree=1 (parameters: [linear_tree: 1]): 5 trees with '
            'is_linear=1 and the fields leaf_const, num_features, leaf_features (raw feature indices), leaf_coeff '
            '(written per leaf, each leaf\'s list followed by an extra space, so empty leaves show as blanks). '
            'As LightGBM writes them, tree 0 has no coefficients (linear_tree_learner.cpp: if (is_first_tree) '
            'SetLeafConst(leaf_num, tree->LeafOutput(leaf_num))) and later leaves regress on the numerical '
            'features split on along their path (region, categorical, is never one); %d leaves carry '
            'coefficients, fitted on rows without NaN. Prediction (tree.h Tree::Predict): output = leaf_const + '
            'sum(leaf_coeff[i] * x[leaf_features[i]]), but if any of those x is NaN the tree returns '
            'LeafOutput(leaf) = leaf_value (the ordinary constant leaf), not leaf_const. %d data rows hit that '
            'fallback in some tree (listed in the expected file as rows_using_leaf_value_fallback); treating NaN '
            'as 0 there changes %d rows (max |dp| %.3f), using leaf_const instead changes %d rows (max %.3f); '
            'ignoring is_linear altogether (leaf_value everywhere) is off by up to %.3f. '
            % (n_lin_leaves, len(fallback_rows), nd_zero['linear_nan_as_zero'][0],
               nd_zero['linear_nan_as_zero'][1], nd_zero['linear_nan_leaf_const'][0],
               nd_zero['linear_nan_leaf_const'][1], d_const.max()) + data_note + '.'),
        'model': 'lgbm_linear_trees.txt',
        'data': 'lgbm_applicants.csv',
        'settings': dict({'target': 'y', 'positive_label': 1, 'protected': ['group']}, **common_settings),
        'expected': {'predictions': 'lgbm_linear_trees.expected.json', 'tolerance': 1e-9,
                     'tolerance_reason': 'float64 evaluation of values stored with 17 significant digits, as '
                                         'LightGBM itself predicts'},
    })

    # ---- entries: lgbm-multiclass (model E) ----
    me = models['lgbm_multiclass.txt']
    Pe = me.proba(rowsfor(fe))
    expected_file('lgbm_multiclass.positive1.expected.json', LIB,
                  HOW % ('per class (tree i*3 + k belongs to class k)', 'softmax over the 3 raw scores; '
                         'p_positive = softmax column 1', ', '.join(fe)),
                  [0, 1, 2], 1, Pe[:, 1], back['tier'], extra=xcheck('lgbm_multiclass.txt', fe, Pe[:, 1], 1))
    desc_e = ('Hand-written LightGBM multiclass model: objective=multiclass num_class:3, num_class=3, '
              'num_tree_per_iteration=3, 4 iterations = 12 trees (tree i*3 + k scores class k; the first three '
              'carry log class priors from boost_from_average and shrinkage=1), on age, income, debt_ratio, region '
              '(categorical). Class probabilities are the softmax of the three summed raw scores; target tier '
              '(0/1/2) of lgbm_applicants.csv. ')
    manifest.append({
        'id': 'lgbm-multiclass-positive-1',
        'description': desc_e + 'Audited one-vs-rest with positive_label 1: p_positive = softmax column 1 '
                                '(a sigmoid of tree outputs, or summing all 12 trees into one score, is wrong). '
                       + data_note + '.',
        'model': 'lgbm_multiclass.txt',
        'data': 'lgbm_applicants.csv',
        'settings': dict({'target': 'tier', 'positive_label': 1, 'protected': ['group']}, **common_settings),
        'expected': {'predictions': 'lgbm_multiclass.positive1.expected.json', 'tolerance': 1e-9,
                     'tolerance_reason': 'float64 evaluation and softmax of values stored with 17 significant '
                                         'digits, as LightGBM itself predicts'},
    })
    manifest.append({
        'id': 'lgbm-multiclass-no-positive-label',
        'description': desc_e + 'Audited without a positive label: a binary audit of a 3-class model is undefined.',
        'model': 'lgbm_multiclass.txt',
        'data': 'lgbm_applicants.csv',
        'settings': dict({'target': 'tier', 'positive_label': None, 'protected': ['group']}, **common_settings),
        'expected': {'refuse': 'the model is a 3-class LightGBM model (num_class=3, objective multiclass) and no '
                               'positive_label was given: the tool cannot pick the positive class for a binary '
                               'audit and must ask for positive_label (0, 1 or 2) instead of guessing'},
    })


def f32_margins(model_json, X, split_width=np.float32):
    """xgboost's own arithmetic: features, split values and leaf weights as float32, compared in float32
    (split_width=np.float64: the split values read as doubles, the features still float32)."""
    learner = model_json['learner']
    trees = learner['gradient_booster']['model']['trees']
    X32 = np.asarray(X, dtype=np.float32).astype(np.float64)
    m = np.zeros(len(X), dtype=np.float64)
    for t in trees:
        cond = np.asarray(t['split_conditions'], dtype=split_width).astype(np.float64)
        for r in range(len(X)):
            i = 0
            while t['left_children'][i] != -1:
                v = X32[r, t['split_indices'][i]]
                if np.isnan(v):
                    i = t['left_children'][i] if t['default_left'][i] else t['right_children'][i]
                else:
                    i = t['left_children'][i] if v < cond[i] else t['right_children'][i]
            m[r] += float(cond[i])
    return m


def build_xgb_hist_ties():
    """Split values that are data values with no exact float32 (32.6, 0.35): the case a float64 reading gets wrong."""
    rng = np.random.default_rng(27)
    n = 1500
    df = pd.DataFrame({
        'age': np.round(rng.normal(40, 12, n), 1),
        'ratio': np.round(rng.uniform(0, 1, n), 2),
        'visits': rng.integers(0, 40, n).astype(float),
        'balance': np.round(rng.lognormal(7, 1, n), 2),
        'sex': rng.choice(['F', 'M'], n),
    })
    z = 0.06 * (df['age'] - 40) + 2.5 * (df['ratio'] - 0.5) + 0.04 * (df['visits'] - 20) + 0.3 * (np.log(df['balance']) - 7)
    df['y'] = (rng.uniform(0, 1, n) < 1 / (1 + np.exp(-z))).astype(int)
    features = ['age', 'ratio', 'visits', 'balance']
    model = xgb.XGBClassifier(objective='binary:logistic', n_estimators=60, max_depth=5, learning_rate=0.2,
                              tree_method='hist', random_state=0, n_jobs=1)
    model.fit(df[features], df['y'])
    model.save_model(out('xgb_hist_ties.json'))
    write_csv('xgb_hist_ties.csv', df)
    mj = json.loads(open(out('xgb_hist_ties.json')).read())
    X = df[features].to_numpy(float)
    p1 = model.predict_proba(df[features])[:, 1].astype(float)
    margin = model.get_booster().predict(xgb.DMatrix(df[features]), output_margin=True).astype(float)
    # The float32 reading gives xgboost's margins; the float64 one does not (rows on a split go the other way).
    base = float(margin[0] - f32_margins(mj, X[:1])[0])
    assert float(np.abs(f32_margins(mj, X) + base - margin).max()) < 1e-5
    naive = f32_margins(mj, X, np.float64) + base
    off = np.abs(sigmoid(naive) - p1)
    assert float(off.max()) > 0.05, float(off.max())
    contribs = model.get_booster().predict(xgb.DMatrix(df[features].iloc[:40]), pred_contribs=True).astype(float)
    expected_file(
        'xgb_hist_ties.expected.json', XGB_LIB,
        'p_positive = XGBClassifier.predict_proba(X)[:, 1] (xgboost %s, float32); shap = '
        'Booster.predict(DMatrix(X[:40]), pred_contribs=True): one row per explained row, the four features then '
        'the bias; X = age, ratio, visits, balance of xgb_hist_ties.csv' % xgb.__version__,
        [0, 1], 1, p1, df['y'],
        extra={'shap': [[fnum(v) for v in row] for row in contribs], 'float64_reading_off_by': fnum(off.max()),
               'rows_off_by_more_than_1e-3_in_float64': int((off > 1e-3).sum())})
    manifest.append({
        'id': 'xgb-hist-split-values-float32',
        'description': (
            'XGBClassifier(tree_method="hist", 60 trees of depth 5) in xgboost %s on 1,500 seeded rows whose '
            'values have one or two decimals (age 32.6, ratio 0.35): hist puts its splits on data values, and '
            'XGBoost keeps a split value as float32 and compares the float32 feature with it. The JSON writes '
            'each as its shortest text ("3.26E1"); read as a double that text is not the split value, and a row '
            'equal to the split goes left where xgboost sends it right: float32 features against split values read as '
            'doubles are off by up to '
            '%.2f in p (%d rows by more than 1e-3).' % (xgb.__version__, float(off.max()), int((off > 1e-3).sum()))),
        'model': 'xgb_hist_ties.json',
        'data': 'xgb_hist_ties.csv',
        'settings': {'target': 'y', 'positive_label': 1, 'protected': ['sex'], 'features': None, 'missing_values': None},
        'expected': {'predictions': 'xgb_hist_ties.expected.json', 'tolerance': 1e-6,
                     'tolerance_reason': 'xgboost computes in float32, the audit sums in float64 the same float32 leaves'},
    })


def main():
    build_xgb_categorical()
    build_xgb_binary_positive_0()
    build_xgb_multiclass()
    build_xgb_hist_ties()
    build_lightgbm()
    ids = [m['id'] for m in manifest]
    assert len(ids) == len(set(ids))
    for m in manifest:
        for key in ('model', 'data'):
            if not m[key].startswith('fixtures:'):
                assert os.path.exists(out(m[key])), m[key]
        if 'predictions' in m['expected']:
            assert os.path.exists(out(m['expected']['predictions']))
    write_json('manifest.trees.json', manifest, indent=2)
    print('wrote %d manifest entries' % len(manifest))


if __name__ == '__main__':
    main()
