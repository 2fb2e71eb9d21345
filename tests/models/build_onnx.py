#!/usr/bin/python3
"""Build the ONNX part of the reference model corpus (tests/models/).

Run by hand, never by tests:  /usr/bin/python3 tests/models/build_onnx.py
Needs Debian's python3-sklearn (1.2), python3-onnx (1.12), python3-pandas.
Deterministic: every model and data set uses a fixed seed.

There is no skl2onnx here, so the graphs are written with onnx.helper in the
layout skl2onnx 1.14.1 (the release current with scikit-learn 1.2) produces:
  * per-column inputs named after the raw columns (string/int64/float [None,1]);
  * numeric columns of one transformer merged with Concat(axis=1) (after a Cast
    when their types differ from the first one's), then ai.onnx.ml Scaler
    (offset = mean_, scale = 1/scale_, float32);
  * one ai.onnx.ml OneHotEncoder (cats_strings, zeros=1 for
    handle_unknown='ignore') per text column, Concat(axis=2), Reshape [-1, K];
  * Concat(axis=1) of the transformers' outputs in ColumnTransformer order;
  * LogisticRegression -> LinearClassifier with multi_class=1; for two classes
    the coefficients and intercepts are written twice, [-w, w] and [-b, b]
    (class 0 row first), post_transform LOGISTIC; for >2 classes (multinomial)
    post_transform SOFTMAX; both followed by Normalizer(norm='L1');
  * RandomForestClassifier -> legacy TreeEnsembleClassifier, post_transform
    NONE, thresholds moved to the largest float32 <= sklearn's double threshold,
    leaf weight = p(class 1 in that leaf) / n_estimators as float32, written for
    class id 0 only (skl2onnx keeps only the second class's weight of a binary
    tree; onnxruntime then returns [1 - s, s]);
  * outputs output_label (Cast to int64 / Identity for strings) and
    output_probability = ZipMap(probabilities).
producer_name is set to 'skl2onnx' / '1.14.1' so the files look like real
exports; the model doc_string says they were written by this script.
Reference values are scikit-learn's own predict_proba (float64).
"""
import json
import os
import warnings

import numpy as np
import pandas as pd
import onnx
from onnx import TensorProto, helper
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

warnings.filterwarnings("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIX = os.path.normpath(os.path.join(ROOT, "..", "shared", "fixtures"))
LIB = "scikit-learn %s" % sklearn.__version__
DOC = ("Hand-written with onnx.helper by tests/models/build_onnx.py in the layout "
       "skl2onnx 1.14.1 produces (no skl2onnx was available).")
OPSET = 17
IR = 8


def fix(rel):
    return os.path.join(FIX, rel)


def out(rel):
    return os.path.join(HERE, rel)


def read_csv(path, str_cols=None):
    """How every CSV is read for sklearn here: no NA conversion at all ('NA',
    '' and '?' stay strings); str_cols are forced to text."""
    return pd.read_csv(path, keep_default_na=False, na_values=[],
                       dtype={c: str for c in (str_cols or [])})


# ---------------------------------------------------------------- ONNX pieces
def zipmap_type(label_is_string):
    tp = onnx.TypeProto()
    m = tp.sequence_type.elem_type.map_type
    m.key_type = TensorProto.STRING if label_is_string else TensorProto.INT64
    m.value_type.tensor_type.elem_type = TensorProto.FLOAT
    return tp


def f32(values):
    return np.asarray(values, dtype=np.float64).astype(np.float32).tolist()


def classifier_tail(nodes, classes, label_src, proba_src):
    """skl2onnx's ZipMap converter: label -> output_label, probabilities ->
    output_probability (seq(map))."""
    is_str = isinstance(classes[0], str)
    if is_str:
        nodes.append(helper.make_node("Identity", [label_src], ["output_label"],
                                      name="Identity"))
        zm = dict(classlabels_strings=[str(c) for c in classes])
    else:
        nodes.append(helper.make_node("Cast", [label_src], ["output_label"],
                                      name="Cast", to=TensorProto.INT64))
        zm = dict(classlabels_int64s=[int(c) for c in classes])
    nodes.append(helper.make_node("ZipMap", [proba_src], ["output_probability"],
                                  name="ZipMap", domain="ai.onnx.ml", **zm))
    outputs = [
        helper.make_tensor_value_info(
            "output_label", TensorProto.STRING if is_str else TensorProto.INT64, [None]),
        helper.make_value_info("output_probability", zipmap_type(is_str)),
    ]
    return outputs


def linear_classifier_nodes(lr, in_name, nodes):
    """skl2onnx 1.14.1 convert_sklearn_linear_classifier for LogisticRegression
    (multi_class='auto', lbfgs)."""
    classes = lr.classes_.tolist()
    coef = lr.coef_.flatten().astype(float).tolist()
    inter = lr.intercept_.astype(float).tolist()
    if len(classes) == 2:
        coef = [-1.0 * c for c in coef] + coef
        inter = [-1.0 * b for b in inter] + inter
        post = "LOGISTIC"
    else:
        post = "SOFTMAX"
    attrs = dict(coefficients=f32(coef), intercepts=f32(inter), multi_class=1,
                 post_transform=post)
    if isinstance(classes[0], str):
        attrs["classlabels_strings"] = [str(c) for c in classes]
    else:
        attrs["classlabels_ints"] = [int(c) for c in classes]
    nodes.append(helper.make_node("LinearClassifier", [in_name],
                                  ["label", "probability_tensor"],
                                  name="LinearClassifier", domain="ai.onnx.ml", **attrs))
    nodes.append(helper.make_node("Normalizer", ["probability_tensor"], ["probabilities"],
                                  name="Normalizer", domain="ai.onnx.ml", norm="L1"))
    return classes


def make_model(graph, producer="skl2onnx", version="1.14.1"):
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET),
                              helper.make_opsetid("ai.onnx.ml", 1)])
    model.ir_version = IR
    model.producer_name = producer
    model.producer_version = version
    model.domain = "ai.onnx"
    model.model_version = 0
    model.doc_string = DOC
    onnx.checker.check_model(model)
    return model


def onnx_type_of(series):
    if series.dtype == object:
        return TensorProto.STRING
    if np.issubdtype(series.dtype, np.integer):
        return TensorProto.INT64
    return TensorProto.FLOAT


def export_column_pipeline(pipe, X, graph_name):
    """Pipeline(ColumnTransformer(StandardScaler on numbers, OneHotEncoder on
    text) -> LogisticRegression), one graph input per column of X (X's order),
    as skl2onnx converts it with initial types taken from the DataFrame."""
    ct = pipe.named_steps["prep"]
    lr = pipe.named_steps["clf"]
    types = {c: onnx_type_of(X[c]) for c in X.columns}
    inputs = [helper.make_tensor_value_info(c, types[c], [None, 1]) for c in X.columns]
    nodes, inits, ct_outputs = [], [], []
    for name, tr, cols in ct.transformers_:
        if tr == "drop" or len(cols) == 0:
            continue
        var = "variable" if not ct_outputs else "variable%d" % len(ct_outputs)
        if isinstance(tr, StandardScaler):
            first = types[cols[0]]
            merged = []
            for c in cols:
                if types[c] != first:
                    nodes.append(helper.make_node("Cast", [c], [c + "_cast"],
                                                  name="Cast_" + c, to=first))
                    merged.append(c + "_cast")
                else:
                    merged.append(c)
            if len(merged) > 1:
                nodes.append(helper.make_node("Concat", merged, ["merged_columns"],
                                              name="Concat", axis=1))
                src = "merged_columns"
            else:
                src = merged[0]
            nodes.append(helper.make_node(
                "Scaler", [src], [var], name="Scaler", domain="ai.onnx.ml",
                offset=f32(tr.mean_), scale=f32(1.0 / tr.scale_)))
        elif isinstance(tr, OneHotEncoder):
            assert tr.handle_unknown == "ignore" and tr.drop_idx_ is None
            parts, total = [], 0
            for c, cats in zip(cols, tr.categories_):
                assert types[c] == TensorProto.STRING
                nodes.append(helper.make_node(
                    "OneHotEncoder", [c], [c + "out"], name="OneHotEncoder_" + c,
                    domain="ai.onnx.ml", zeros=1,
                    cats_strings=[str(s).encode("utf-8") for s in cats]))
                parts.append(c + "out")
                total += len(cats)
            nodes.append(helper.make_node("Concat", parts, ["concat_result"],
                                          name="Concat1", axis=2))
            inits.append(helper.make_tensor("shape_tensor", TensorProto.INT64, [2],
                                            [-1, total]))
            nodes.append(helper.make_node("Reshape", ["concat_result", "shape_tensor"],
                                          [var], name="Reshape"))
        else:
            raise TypeError(tr)
        ct_outputs.append(var)
    nodes.append(helper.make_node("Concat", ct_outputs, ["transformed_column"],
                                  name="Concat2", axis=1))
    classes = linear_classifier_nodes(lr, "transformed_column", nodes)
    outputs = classifier_tail(nodes, classes, "label", "probabilities")
    graph = helper.make_graph(nodes, graph_name, inputs, outputs, inits)
    return make_model(graph)


def column_pipeline(num_cols, cat_cols, **lr_kw):
    ct = ColumnTransformer([
        ("num", StandardScaler(), num_cols),
        ("cat", OneHotEncoder(handle_unknown="ignore"), cat_cols),
    ])
    return Pipeline([("prep", ct), ("clf", LogisticRegression(max_iter=5000, **lr_kw))])


def export_scaler_lr(pipe, n_features, graph_name):
    """Pipeline(StandardScaler, LogisticRegression) with one float_input [None,F]."""
    sc = pipe.named_steps["scaler"]
    lr = pipe.named_steps["clf"]
    nodes = [helper.make_node("Scaler", ["float_input"], ["variable"], name="Scaler",
                              domain="ai.onnx.ml", offset=f32(sc.mean_),
                              scale=f32(1.0 / sc.scale_))]
    classes = linear_classifier_nodes(lr, "variable", nodes)
    outputs = classifier_tail(nodes, classes, "label", "probabilities")
    inputs = [helper.make_tensor_value_info("float_input", TensorProto.FLOAT,
                                            [None, n_features])]
    return make_model(helper.make_graph(nodes, graph_name, inputs, outputs))


def float32_threshold(t):
    """Largest float32 w with (float)x <= t  <=>  (float)x <= w (what skl2onnx's
    sklearn_threshold does for float inputs)."""
    fy = np.float32(t)
    if np.float64(fy) <= t:
        return float(fy)
    return float(np.nextafter(fy, np.float32(-np.inf)))


def export_forest(rf, n_features, graph_name):
    n = len(rf.estimators_)
    A = {k: [] for k in ("nodes_treeids", "nodes_nodeids", "nodes_featureids",
                         "nodes_modes", "nodes_values", "nodes_truenodeids",
                         "nodes_falsenodeids", "nodes_missing_value_tracks_true",
                         "nodes_hitrates", "class_treeids", "class_nodeids",
                         "class_ids", "class_weights")}
    for tid, est in enumerate(rf.estimators_):
        t = est.tree_
        for i in range(t.node_count):
            A["nodes_treeids"].append(tid)
            A["nodes_nodeids"].append(i)
            A["nodes_missing_value_tracks_true"].append(0)
            A["nodes_hitrates"].append(1.0)
            if t.children_left[i] > i or t.children_right[i] > i:
                A["nodes_featureids"].append(int(t.feature[i]))
                A["nodes_modes"].append("BRANCH_LEQ")
                A["nodes_values"].append(float32_threshold(t.threshold[i]))
                A["nodes_truenodeids"].append(int(t.children_left[i]))
                A["nodes_falsenodeids"].append(int(t.children_right[i]))
            else:
                A["nodes_featureids"].append(0)
                A["nodes_modes"].append("LEAF")
                A["nodes_values"].append(0.0)
                A["nodes_truenodeids"].append(0)
                A["nodes_falsenodeids"].append(0)
                counts = t.value[i][0]
                factor = (1.0 / n) / float(counts.sum())
                A["class_treeids"].append(tid)
                A["class_nodeids"].append(i)
                A["class_ids"].append(0)
                A["class_weights"].append(float(counts[1] * factor))
    A["nodes_values"] = f32(A["nodes_values"])
    A["class_weights"] = f32(A["class_weights"])
    A["nodes_hitrates"] = f32(A["nodes_hitrates"])
    classes = rf.classes_.tolist()
    nodes = [helper.make_node("TreeEnsembleClassifier", ["float_input"],
                              ["label", "probabilities"], name="TreeEnsembleClassifier",
                              domain="ai.onnx.ml", post_transform="NONE",
                              classlabels_int64s=[int(c) for c in classes], **A)]
    outputs = classifier_tail(nodes, classes, "label", "probabilities")
    inputs = [helper.make_tensor_value_info("float_input", TensorProto.FLOAT,
                                            [None, n_features])]
    return make_model(helper.make_graph(nodes, graph_name, inputs, outputs))


def export_mlp_softmax(scaler, mlp, n_features):
    """A label-less softmax network: input [None,F] float, (x-mean)/std, dense
    ReLU layers, Softmax; output 'output' [None, None]. No ZipMap, no labels."""
    nodes, inits = [], []

    def const(name, arr):
        arr = np.asarray(arr, dtype=np.float32)
        inits.append(helper.make_tensor(name, TensorProto.FLOAT, arr.shape,
                                        arr.ravel().tolist()))
        return name

    nodes.append(helper.make_node("Sub", ["input", const("mean", scaler.mean_)],
                                  ["centered"], name="Sub"))
    nodes.append(helper.make_node("Div", ["centered", const("std", scaler.scale_)],
                                  ["h0"], name="Div"))
    h = "h0"
    last = len(mlp.coefs_) - 1
    for k, (W, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        nodes.append(helper.make_node("MatMul", [h, const("W%d" % k, W)], ["mm%d" % k],
                                      name="MatMul_%d" % k))
        z = "z%d" % k
        nodes.append(helper.make_node("Add", ["mm%d" % k, const("b%d" % k, b)], [z],
                                      name="Add_%d" % k))
        if k < last:
            assert mlp.activation == "relu"
            nodes.append(helper.make_node("Relu", [z], ["h%d" % (k + 1)],
                                          name="Relu_%d" % k))
            h = "h%d" % (k + 1)
        else:
            assert mlp.out_activation_ == "softmax"
            nodes.append(helper.make_node("Softmax", [z], ["output"], name="Softmax",
                                          axis=-1))
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, n_features])]
    outputs = [helper.make_tensor_value_info("output", TensorProto.FLOAT, [None, None])]
    graph = helper.make_graph(nodes, "main_graph", inputs, outputs, inits)
    return make_model(graph, producer="build_onnx.py", version="1")


# ----------------------------------------------------------- outputs on disk
def save_model(model, name):
    onnx.save(model, out(name))


def write_expected(name, how, classes, positive_label, p, y):
    p = np.asarray(p, dtype=np.float64)
    y_bin = (np.asarray(y) == positive_label).astype(int)
    doc = {
        "library": LIB,
        "how": how,
        "classes": [c if isinstance(c, str) else int(c) for c in classes],
        "positive_label": positive_label,
        "p_positive": [float(v) for v in p],
        "metrics": {"roc_auc": float(roc_auc_score(y_bin, p)), "n": int(len(p))},
    }
    with open(out(name), "w") as fh:
        json.dump(doc, fh, separators=(",", ":"))
        fh.write("\n")
    return doc["metrics"]["roc_auc"]


def write_csv(df, name):
    df.to_csv(out(name), index=False, lineterminator="\n")


MANIFEST = []


def entry(**kw):
    MANIFEST.append(kw)


# ====================================================================== cases
def case_adult():
    target = "high_income"
    train = read_csv(fix("adult/train.csv"))
    test = read_csv(fix("adult/test.csv"))
    X = train.drop(columns=[target])
    num = [c for c in X.columns if X[c].dtype != object]
    cat = [c for c in X.columns if X[c].dtype == object]
    assert "?" in set(train["workclass"]) and "?" in set(train["occupation"])
    assert "?" in set(train["native_country"])
    pipe = column_pipeline(num, cat).fit(X, train[target])
    save_model(export_column_pipeline(pipe, X, "adult_logreg"), "adult_logreg.onnx")
    classes = pipe.classes_.tolist()
    P = pipe.predict_proba(test[X.columns])
    how = ("Pipeline(ColumnTransformer(StandardScaler on %s, OneHotEncoder("
           "handle_unknown='ignore') on %s) -> LogisticRegression(max_iter=5000)) "
           "trained on fixtures:adult/train.csv; predict_proba on every row of "
           "fixtures:adult/test.csv read with pandas keep_default_na=False "
           "('?' is a category)" % (num, cat))
    auc1 = write_expected("adult_logreg.test.expected.json", how + "; column of class 1",
                          classes, 1, P[:, classes.index(1)], test[target])
    auc0 = write_expected("adult_logreg.test.p0.expected.json", how + "; column of class 0",
                          classes, 0, P[:, classes.index(0)], test[target])
    settings = {"target": target, "positive_label": 1, "protected": ["sex", "race"],
                "features": None, "missing_values": None}
    entry(id="adult-logreg-question-mark", regression="issue20-case3",
          description=(
              "UCI Adult, scikit-learn Pipeline: OneHotEncoder(handle_unknown='ignore') on "
              "every text column, StandardScaler on the integer columns, binary "
              "LogisticRegression, exported in skl2onnx's layout: one input per raw column "
              "(string/int64 [None,1]), Concat+Scaler, one OneHotEncoder(cats_strings, zeros=1) "
              "per text column, LinearClassifier (coefficients [-w, w], LOGISTIC) + "
              "Normalizer(L1), ZipMap. '?' is a real category of workclass, occupation and "
              "native_country (it has its own one-hot slot and coefficient): a tool that reads "
              "'?' as missing, or feeds NaN/'' for it, silently scores those rows as if the "
              "category were unknown (all-zero one-hot) and gets different probabilities."),
          model="adult_logreg.onnx", data="fixtures:adult/test.csv", settings=settings,
          expected={"predictions": "adult_logreg.test.expected.json", "tolerance": 1e-6,
                    "tolerance_reason": "float32 Scaler/LinearClassifier in onnxruntime vs "
                                        "float64 sklearn"})
    entry(id="adult-logreg-positive-label-0", regression="issue20-case1",
          description=(
              "The Adult model audited with positive_label 0 (income <= 50K is the outcome "
              "of interest). p_positive is predict_proba's class-0 column, i.e. the "
              "probability tensor's first column (ZipMap key 0), not 1 - p(1) taken from a "
              "hard-coded second column; a tool that ignores positive_label 0 (falsy) or "
              "always reads column 1 reports the mirror image."),
          model="adult_logreg.onnx", data="fixtures:adult/test.csv",
          settings=dict(settings, positive_label=0),
          expected={"predictions": "adult_logreg.test.p0.expected.json", "tolerance": 1e-6,
                    "tolerance_reason": "float32 onnxruntime vs float64 sklearn"})

    # --- unseen categories, 'NA', empty cells, leading spaces (what sklearn saw)
    rng = np.random.RandomState(7)
    u = read_csv(fix("adult/test.csv")).iloc[:400].copy()
    unseen = {"workclass": "Space-agency", "education": "Bootcamp",
              "marital_status": "Civil-union", "occupation": "Data-scientist",
              "relationship": "Partner", "native_country": "Atlantis"}
    for c, new in unseen.items():
        r = rng.rand(len(u))
        col = u[c].copy()
        col[r < 0.04] = "NA"
        col[(r >= 0.04) & (r < 0.08)] = ""
        col[(r >= 0.08) & (r < 0.11)] = new
        sp = (r >= 0.11) & (r < 0.13)
        col[sp] = " " + col[sp]
        col.iloc[0] = new            # row 1: every corrupted column unseen
        col.iloc[1] = ""             # row 2: every corrupted column empty
        col.iloc[2] = "NA"           # row 3: every corrupted column 'NA'
        u[c] = col
    write_csv(u, "adult_unseen.csv")
    u2 = read_csv(out("adult_unseen.csv"))
    assert (u2[list(unseen)] == u[list(unseen)]).all().all()
    P = pipe.predict_proba(u2[X.columns])
    write_expected(
        "adult_logreg.unseen.expected.json",
        "the adult_logreg pipeline's predict_proba (class 1) on adult_unseen.csv read with "
        "pandas keep_default_na=False: 'NA' is the two-letter string, an empty cell is '', "
        "' Private' keeps its leading space; all three and the invented categories are "
        "unknown to the OneHotEncoder (handle_unknown='ignore': all-zero block)",
        classes, 1, P[:, 1], u2[target])
    entry(id="adult-logreg-unseen-na-empty", regression="issue20-case3",
          description=(
              "First 400 rows of Adult test.csv with, in the six non-protected text columns, "
              "seeded cells replaced by the literal string NA, by an empty cell, by an "
              "invented category (Space-agency, Bootcamp, Civil-union, Data-scientist, "
              "Partner, Atlantis) or by the original value with a leading space; rows 1-3 "
              "have all six cells invented / empty / NA. Expected = what sklearn gives when "
              "fed exactly these strings (pandas keep_default_na=False: 'NA' and '' are "
              "strings, not NaN; ' Private' != 'Private'); each of them is an unknown "
              "category: handle_unknown='ignore' -> all-zero one-hot, as the ONNX "
              "OneHotEncoder's zeros=1 does. A tool must score these rows (not drop or "
              "refuse them) and must not trim, impute or map them onto '?'."),
          model="adult_logreg.onnx", data="adult_unseen.csv", settings=settings,
          expected={"predictions": "adult_logreg.unseen.expected.json", "tolerance": 1e-6,
                    "tolerance_reason": "float32 onnxruntime vs float64 sklearn"})
    return auc1, auc0


def case_german_strings():
    train = read_csv(fix("german_credit/train.csv"))
    test = read_csv(fix("german_credit/test.csv"))
    for d in (train, test):
        d["good_credit"] = np.where(d["good_credit"] == 1, "yes", "no")
    write_csv(test, "onnx_german_strlabels.test.csv")
    test = read_csv(out("onnx_german_strlabels.test.csv"))
    X = train.drop(columns=["good_credit", "gender", "age_group"])
    num = [c for c in X.columns if X[c].dtype != object]
    cat = [c for c in X.columns if X[c].dtype == object]
    pipe = column_pipeline(num, cat).fit(X, train["good_credit"])
    classes = pipe.classes_.tolist()
    assert classes == ["no", "yes"]
    save_model(export_column_pipeline(pipe, X, "german_strlabels"),
               "onnx_german_strlabels.onnx")
    P = pipe.predict_proba(test[X.columns])
    how = ("Pipeline(ColumnTransformer(StandardScaler on the 7 integer columns, "
           "OneHotEncoder(handle_unknown='ignore') on the 13 text columns; gender and "
           "age_group not used) -> LogisticRegression) trained on fixtures:german_credit/"
           "train.csv with good_credit recoded 1->'yes', 0->'no'; predict_proba on "
           "onnx_german_strlabels.test.csv")
    write_expected("onnx_german_strlabels.yes.expected.json", how + "; column 'yes'",
                   classes, "yes", P[:, 1], test["good_credit"])
    write_expected("onnx_german_strlabels.no.expected.json", how + "; column 'no'",
                   classes, "no", P[:, 0], test["good_credit"])
    base = {"target": "good_credit", "protected": ["gender", "age_group"],
            "features": None, "missing_values": None}
    common = ("German credit LogisticRegression with string class labels: "
              "LinearClassifier classlabels_strings ['no','yes'], output_label a string "
              "tensor, ZipMap(classlabels_strings). The data's target column holds 'yes'/'no'. ")
    entry(id="german-logreg-string-labels-yes", regression="issue20-case1",
          description=common + (
              "positive_label 'yes' is the second class: p_positive is the 'yes' column. "
              "Note for YAML users: an unquoted yes/no is a boolean in YAML 1.1; the label "
              "is the string 'yes'. A tool that requires numeric labels, or compares the "
              "target to true/1, gets no positives."),
          model="onnx_german_strlabels.onnx", data="onnx_german_strlabels.test.csv",
          settings=dict(base, positive_label="yes"),
          expected={"predictions": "onnx_german_strlabels.yes.expected.json",
                    "tolerance": 1e-6, "tolerance_reason": "float32 onnxruntime vs float64 sklearn"})
    entry(id="german-logreg-string-labels-no", regression="issue20-case1",
          description=common + (
              "positive_label 'no' is the FIRST class (classes sort as 'no' < 'yes'): "
              "p_positive = p('no') = the probability tensor's column 0. A tool that always "
              "takes the last column, or maps the label to an index without looking up "
              "classlabels_strings, reports p('yes') instead."),
          model="onnx_german_strlabels.onnx", data="onnx_german_strlabels.test.csv",
          settings=dict(base, positive_label="no"),
          expected={"predictions": "onnx_german_strlabels.no.expected.json",
                    "tolerance": 1e-6, "tolerance_reason": "float32 onnxruntime vs float64 sklearn"})


COMPAS5 = ["age", "priors_count", "juv_fel_count", "juv_misd_count", "juv_other_count"]


def case_compas_3class_lr():
    train = read_csv(fix("compas/train.csv"))
    test = read_csv(fix("compas/test.csv"))
    feats = ["sex", "age", "age_cat", "juv_fel_count", "juv_misd_count",
             "juv_other_count", "priors_count", "c_charge_degree"]  # CSV order
    X = train[feats]
    num = [c for c in feats if X[c].dtype != object]
    cat = [c for c in feats if X[c].dtype == object]
    pipe = column_pipeline(num, cat).fit(X, train["score_text"])
    classes = pipe.classes_.tolist()
    assert classes == ["High", "Low", "Medium"]
    save_model(export_column_pipeline(pipe, X, "compas_grade_logreg"),
               "onnx_compas_grade_logreg.onnx")
    P = pipe.predict_proba(test[feats])
    write_expected(
        "onnx_compas_grade_logreg.high.expected.json",
        "multinomial LogisticRegression (lbfgs, 3 classes) in a Pipeline(ColumnTransformer("
        "StandardScaler on %s, OneHotEncoder on %s)) trained on fixtures:compas/train.csv to "
        "predict score_text; predict_proba column 'High' on fixtures:compas/test.csv; "
        "roc_auc is one-vs-rest (score_text == 'High')" % (num, cat),
        classes, "High", P[:, classes.index("High")], test["score_text"])
    base = {"target": "score_text", "protected": ["race", "sex"], "features": None,
            "missing_values": None}
    desc = ("3-class multinomial LogisticRegression reproducing COMPAS's own score_text "
            "(High/Low/Medium) from age, priors and charge degree; exported as "
            "LinearClassifier(multi_class=1, post_transform SOFTMAX, classlabels_strings "
            "['High','Low','Medium'] - sklearn's sorted order, not Low<Medium<High) + "
            "Normalizer(L1) + ZipMap. ")
    entry(id="compas-logreg-3class-high", regression="issue20-case2",
          description=desc + (
              "positive_label 'High': a one-vs-rest audit, p_positive = p('High') = probability "
              "column 0, target binarised as score_text == 'High' (the column has 3 values). "
              "A tool that assumes two classes takes column 1 (p('Low')) or refuses."),
          model="onnx_compas_grade_logreg.onnx", data="fixtures:compas/test.csv",
          settings=dict(base, positive_label="High"),
          expected={"predictions": "onnx_compas_grade_logreg.high.expected.json",
                    "tolerance": 1e-6, "tolerance_reason": "float32 onnxruntime vs float64 sklearn"})
    entry(id="compas-logreg-3class-no-positive-label", regression="issue20-case2",
          description=desc + "No positive_label given: with 3 classes there is no default "
          "positive class; the tool must refuse instead of picking the last/second column.",
          model="onnx_compas_grade_logreg.onnx", data="fixtures:compas/test.csv",
          settings=dict(base, positive_label=None),
          expected={"refuse": "the model has 3 classes (High, Low, Medium) and no "
                    "positive_label was given: a binary audit needs the user to name the "
                    "positive class"})


def case_compas_mlp():
    grade = {"Low": 0, "Medium": 1, "High": 2}
    cols = ["sex", "race"] + COMPAS5
    train = read_csv(fix("compas/train.csv"))
    test = read_csv(fix("compas/test.csv"))
    d = test[cols].copy()
    d["risk_grade"] = test["score_text"].map(grade).astype(int)
    write_csv(d, "onnx_compas_grade.test.csv")
    d = read_csv(out("onnx_compas_grade.test.csv"))
    scaler = StandardScaler().fit(train[COMPAS5].to_numpy(float))
    mlp = MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=2000, random_state=0)
    mlp.fit(scaler.transform(train[COMPAS5].to_numpy(float)),
            train["score_text"].map(grade).astype(int))
    assert mlp.classes_.tolist() == [0, 1, 2]
    save_model(export_mlp_softmax(scaler, mlp, len(COMPAS5)), "onnx_compas_grade_mlp.onnx")
    P = mlp.predict_proba(scaler.transform(d[COMPAS5].to_numpy(float)))
    write_expected(
        "onnx_compas_grade_mlp.2.expected.json",
        "StandardScaler + MLPClassifier(hidden_layer_sizes=(16, 8), relu, random_state=0) "
        "trained on fixtures:compas/train.csv columns %s to predict risk_grade "
        "(score_text Low/Medium/High -> 0/1/2); predict_proba column of class 2 on "
        "onnx_compas_grade.test.csv; roc_auc one-vs-rest (risk_grade == 2)" % COMPAS5,
        [0, 1, 2], 2, P[:, 2], d["risk_grade"])
    base = {"target": "risk_grade", "protected": ["race", "sex"], "features": COMPAS5,
            "missing_values": None}
    desc = ("Softmax network (sklearn MLPClassifier 16-8 ReLU, 3 classes) written as plain "
            "Sub/Div/MatMul/Add/Relu/Softmax: one float input 'input' [None,5], one output "
            "'output' [None,None] with 3 probability columns, no class labels, no ZipMap, "
            "the class count shows only in the last weight matrix's shape or at run time. Target "
            "risk_grade holds 0/1/2 (COMPAS score_text Low/Medium/High). ")
    entry(id="compas-mlp-3class-grade-2", regression="issue20-case2",
          description=desc + (
              "positive_label 2 = column index 2 (classes are the column indices 0..2): "
              "p_positive = output[:, 2], one-vs-rest. A tool that treats a [N,K] output as "
              "binary reads column 1, or takes column 0 as p(y=1)."),
          model="onnx_compas_grade_mlp.onnx", data="onnx_compas_grade.test.csv",
          settings=dict(base, positive_label=2),
          expected={"predictions": "onnx_compas_grade_mlp.2.expected.json",
                    "tolerance": 1e-6, "tolerance_reason": "float32 onnxruntime vs float64 sklearn"})
    entry(id="compas-mlp-3class-no-positive-label", regression="issue20-case2",
          description=desc + "No positive_label: the output has 3 columns, there is no "
          "default positive class; the tool must refuse.",
          model="onnx_compas_grade_mlp.onnx", data="onnx_compas_grade.test.csv",
          settings=dict(base, positive_label=None),
          expected={"refuse": "the model outputs 3 probability columns and no positive_label "
                    "was given: a binary audit needs the user to name the positive class"})


def make_codes(rng, n):
    postal = ["%02d" % i for i in range(1, 11)]
    products = ["0.50", "2.50", "3.00", "7.25", "10.5", "12.0"]
    pz = rng.choice(postal, n, p=[.16, .12, .11, .1, .1, .09, .09, .08, .08, .07])
    pc = rng.choice(products, n, p=[.1, .3, .25, .15, .12, .08])
    ch = rng.choice(["web", "store", "app"], n, p=[.5, .35, .15])
    gender = rng.choice(["F", "M"], n, p=[.55, .45])
    basket = np.round(rng.gamma(2.0, 20.0, n) + 5.0, 2)
    items = rng.poisson(2.5, n) + 1
    eff_pz = dict(zip(postal, [0.6, -0.2, 0.1, 0.9, -0.5, 0.0, 0.3, -0.8, 0.4, 1.1]))
    eff_pc = dict(zip(products, [-0.7, 0.2, 0.0, 0.5, 0.9, -0.3]))
    eff_ch = {"web": 0.4, "store": -0.6, "app": 0.1}
    logit = (-1.0 + np.array([eff_pz[v] for v in pz]) + np.array([eff_pc[v] for v in pc])
             + np.array([eff_ch[v] for v in ch]) + 0.012 * (basket - 45.0)
             + 0.15 * (items - 3.5) + np.where(gender == "F", 0.15, 0.0))
    y = (rng.rand(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"postal_zone": pz, "product_code": pc, "channel": ch,
                         "basket_value": basket, "items": items, "gender": gender,
                         "returned": y})


CODE_COLS = ["postal_zone", "product_code", "channel", "gender"]


def case_codes():
    rng = np.random.RandomState(20)
    full = make_codes(rng, 2000)
    write_csv(full.iloc[:1400], "onnx_codes.train.csv")
    write_csv(full.iloc[1400:], "onnx_codes.test.csv")
    with open(out("onnx_codes.test.csv")) as fh:
        text = fh.read()
    assert "\n01," in text and ",2.50," in text and ",3.00," in text and ",10.5," in text
    train = read_csv(out("onnx_codes.train.csv"), CODE_COLS)
    test = read_csv(out("onnx_codes.test.csv"), CODE_COLS)
    feats = ["postal_zone", "product_code", "channel", "basket_value", "items"]
    X = train[feats]
    pipe = column_pipeline(["basket_value", "items"],
                           ["postal_zone", "product_code", "channel"]).fit(X, train["returned"])
    save_model(export_column_pipeline(pipe, X, "codes_logreg"), "onnx_codes_logreg.onnx")
    classes = pipe.classes_.tolist()
    how = ("Pipeline(ColumnTransformer(StandardScaler on basket_value, items; "
           "OneHotEncoder(handle_unknown='ignore') on postal_zone, product_code, channel read "
           "as strings) -> LogisticRegression) trained on onnx_codes.train.csv; predict_proba "
           "(class 1) on %s read with dtype=str for the code columns and "
           "keep_default_na=False")
    P = pipe.predict_proba(test[feats])
    write_expected("onnx_codes_logreg.test.expected.json", how % "onnx_codes.test.csv",
                   classes, 1, P[:, 1], test["returned"])
    settings = {"target": "returned", "positive_label": 1, "protected": ["gender"],
                "features": None, "missing_values": None}
    entry(id="codes-logreg-numeric-looking-strings", regression="issue20-case4",
          description=(
              "Synthetic retail-returns data (seeded): postal_zone '01'..'10' and "
              "product_code '0.50','2.50','3.00','7.25','10.5','12.0' are text categories that "
              "look like numbers; the ONNX inputs for them are string [None,1] with "
              "cats_strings exactly as written in the CSV. A tool that infers column types "
              "(01 -> 1, 2.50 -> 2.5, 3.00 -> 3) and feeds String(number) hits no category: "
              "all-zero one-hot, silently different probabilities. Inputs: basket_value "
              "float [None,1], items int64 [None,1] (Cast to float before Concat+Scaler, "
              "as skl2onnx merges a numeric block into its first column's type)."),
          model="onnx_codes_logreg.onnx", data="onnx_codes.test.csv", settings=settings,
          expected={"predictions": "onnx_codes_logreg.test.expected.json", "tolerance": 1e-6,
                    "tolerance_reason": "float32 onnxruntime vs float64 sklearn"})

    # unseen / missing-token variant
    rng2 = np.random.RandomState(21)
    u = make_codes(rng2, 200)
    r = rng2.rand(len(u))
    pz = u["postal_zone"].copy()
    pz[r < 0.05] = "1"      # '01' without its leading zero
    pz[(r >= 0.05) & (r < 0.09)] = "11"
    pz[(r >= 0.09) & (r < 0.12)] = "NA"
    pz[(r >= 0.12) & (r < 0.15)] = ""
    r = rng2.rand(len(u))
    pc = u["product_code"].copy()
    pc[r < 0.05] = "2.5"    # '2.50' without its trailing zero
    pc[(r >= 0.05) & (r < 0.09)] = "3"
    pc[(r >= 0.09) & (r < 0.12)] = "NA"
    pc[(r >= 0.12) & (r < 0.15)] = ""
    r = rng2.rand(len(u))
    ch = u["channel"].copy()
    ch[r < 0.05] = "kiosk"
    ch[(r >= 0.05) & (r < 0.08)] = ""
    pz.iloc[0], pc.iloc[0], ch.iloc[0] = "1", "2.5", "kiosk"
    pz.iloc[1], pc.iloc[1], ch.iloc[1] = "", "", ""
    pz.iloc[2], pc.iloc[2], ch.iloc[2] = "NA", "NA", "NA"
    u["postal_zone"], u["product_code"], u["channel"] = pz, pc, ch
    write_csv(u, "onnx_codes.unseen.csv")
    u2 = read_csv(out("onnx_codes.unseen.csv"), CODE_COLS)
    assert (u2[CODE_COLS] == u[CODE_COLS]).all().all()
    P = pipe.predict_proba(u2[feats])
    write_expected("onnx_codes_logreg.unseen.expected.json",
                   how % "onnx_codes.unseen.csv" + "; '1', '11', '2.5', '3', 'kiosk', 'NA' "
                   "and '' are unknown categories (all-zero one-hot)",
                   classes, 1, P[:, 1], u2["returned"])
    entry(id="codes-logreg-unseen-na-empty", regression="issue20-case4",
          description=(
              "200 fresh rows for the codes model where some cells are '1' (not '01'), '11', "
              "'2.5' (not '2.50'), '3' (not '3.00'), 'kiosk', the string NA or empty; rows 1-3 "
              "have all three code cells unseen / empty / NA. Expected = sklearn fed exactly "
              "those strings (dtype=str, keep_default_na=False): every one is an unknown "
              "category -> all-zero one-hot (handle_unknown='ignore' = ONNX zeros=1). "
              "'2.5' and '2.50' are different categories: a tool that normalises numbers "
              "would turn an unknown '2.5' into the known '2.50' and back again."),
          model="onnx_codes_logreg.onnx", data="onnx_codes.unseen.csv", settings=settings,
          expected={"predictions": "onnx_codes_logreg.unseen.expected.json", "tolerance": 1e-6,
                    "tolerance_reason": "float32 onnxruntime vs float64 sklearn"})


def case_forest():
    train = read_csv(fix("compas/train.csv"))
    test = read_csv(fix("compas/test.csv"))
    rf = RandomForestClassifier(n_estimators=10, max_depth=None, random_state=0)
    rf.fit(train[COMPAS5].to_numpy(np.float32), train["two_year_recid"])
    save_model(export_forest(rf, len(COMPAS5), "compas_rf_full"), "onnx_compas_rf_full.onnx")
    P = rf.predict_proba(test[COMPAS5].to_numpy(np.float32))
    write_expected(
        "onnx_compas_rf_full.test.expected.json",
        "RandomForestClassifier(n_estimators=10, max_depth=None, random_state=0) trained on "
        "fixtures:compas/train.csv columns %s (as float32) -> two_year_recid; predict_proba "
        "column of class 1 on fixtures:compas/test.csv" % COMPAS5,
        rf.classes_.tolist(), 1, P[:, 1], test["two_year_recid"])
    entry(id="compas-rf-fully-grown", regression="issue20-case6",
          description=(
              "Fully grown random forest (10 trees, max_depth=None, pure leaves) on five "
              "numeric COMPAS columns, single float_input [None,5] (the model names no "
              "columns: features list in settings), legacy TreeEnsembleClassifier as skl2onnx "
              "writes a binary forest: post_transform NONE, classlabels_int64s [0,1], one "
              "weight per leaf (p(class 1 | leaf) / 10 as float32, class_id 0), so "
              "onnxruntime returns [1 - s, s] with s a float32 sum of ten float32 weights. "
              "Where all ten trees say 1, s = 10 x float32(0.1) = 1.0000001 and p(0) = -1.2e-7: "
              "probabilities a hair outside [0,1] (and row sums off 1 by ~3e-8) are normal "
              "here. A tool that rejects or clips them per-row in a way that changes the "
              "result, or validates p in [0,1] strictly, fails on a perfectly good model; "
              "sklearn's own value there is exactly 1.0."),
          model="onnx_compas_rf_full.onnx", data="fixtures:compas/test.csv",
          settings={"target": "two_year_recid", "positive_label": 1,
                    "protected": ["race", "sex"], "features": COMPAS5,
                    "missing_values": None},
          expected={"predictions": "onnx_compas_rf_full.test.expected.json", "tolerance": 1e-6,
                    "tolerance_reason": "float32 leaf weights summed in float32 by "
                                        "onnxruntime vs float64 mean in sklearn"})


GERMAN_NUM = ["duration_months", "credit_amount", "installment_rate", "residence_years",
              "age", "existing_credits", "people_liable"]


def case_scaler_lr():
    train = read_csv(fix("german_credit/train.csv"))
    test = read_csv(fix("german_credit/test.csv"))
    pipe = Pipeline([("scaler", StandardScaler()),
                     ("clf", LogisticRegression(max_iter=5000))])
    pipe.fit(train[GERMAN_NUM].to_numpy(float), train["good_credit"])
    save_model(export_scaler_lr(pipe, len(GERMAN_NUM), "german_scaler_logreg"),
               "onnx_german_scaler_lr.onnx")
    P = pipe.predict_proba(test[GERMAN_NUM].to_numpy(float))
    write_expected(
        "onnx_german_scaler_lr.test.expected.json",
        "Pipeline(StandardScaler, LogisticRegression) trained on fixtures:german_credit/"
        "train.csv columns %s -> good_credit; predict_proba column of class 1 on "
        "fixtures:german_credit/test.csv" % GERMAN_NUM,
        pipe.classes_.tolist(), 1, P[:, 1], test["good_credit"])
    entry(id="german-scaler-logreg-single-input", regression="issue20-case8",
          description=(
              "StandardScaler + LogisticRegression on the 7 numeric German-credit columns, "
              "exported as one float_input [None,7] -> Scaler -> LinearClassifier "
              "(coefficients [-w, w], intercepts [-b, b], LOGISTIC) -> Normalizer(L1) -> "
              "ZipMap; features list in settings. The explainer case: exact linear SHAP must "
              "compose the Scaler (x - offset) * scale with the class-1 row of the "
              "coefficients (the second half, +w, not the first), in raw-column units; "
              "reading only the LinearClassifier, or the first coefficient row, gives "
              "wrong-signed or mis-scaled attributions while predictions still match."),
          model="onnx_german_scaler_lr.onnx", data="fixtures:german_credit/test.csv",
          settings={"target": "good_credit", "positive_label": 1,
                    "protected": ["gender", "age_group"], "features": GERMAN_NUM,
                    "missing_values": None},
          expected={"predictions": "onnx_german_scaler_lr.test.expected.json",
                    "tolerance": 1e-6, "tolerance_reason": "float32 onnxruntime vs float64 sklearn"})


def main():
    case_adult()
    case_german_strings()
    case_compas_3class_lr()
    case_compas_mlp()
    case_codes()
    case_forest()
    case_scaler_lr()
    with open(out("manifest.onnx.json"), "w") as fh:
        json.dump(MANIFEST, fh, indent=2)
        fh.write("\n")
    print("wrote %d manifest entries" % len(MANIFEST))


if __name__ == "__main__":
    main()
