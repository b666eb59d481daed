"""ONNX export of fitted Rankers (ltr.models.export).

Oracle throughout: the backend's own predictions (``Ranker.predict_scores``, i.e. LightGBM's / XGBoost's
``predict``) against onnxruntime running the exported graph, on the data and on probe rows that sit on every
split threshold and its float32 neighbours (and NaN). A normalisation inside the graph is checked against
``features.FeatureSet`` itself. onnxmltools serves as the counter-example (float32 thresholds; XGBoost
rankers converted as classifiers).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

onnx = pytest.importorskip("onnx", reason="needs the onnx extra: pip install 'ltr[onnx]'")
ort = pytest.importorskip("onnxruntime", reason="needs the onnx extra: pip install 'ltr[onnx]'")

from ltr.errors import ExportError, FeatureMismatchError, ModelFormatError, SchemaError  # noqa: E402
from ltr.models import Ranker  # noqa: E402
from ltr.models.export import (  # noqa: E402
    FeatureNormalization, export_onnx, manifest_path, read_export_manifest, score_onnx,
)
from ltr.models.export import _trees  # noqa: E402
from ltr.objectives import available_objectives, get_objective  # noqa: E402
from ltr.ranking import RankingDataset  # noqa: E402
from tests.models.conftest import click_fields, make_dataset  # noqa: E402

CASES = [(name, backend) for name in available_objectives() for backend in get_objective(name).backends]


def _with_nans(ds: RankingDataset, seed: int) -> RankingDataset:
    """Features 2 and 3 missing on 1 row in 12 (LightGBM then learns a NaN direction for them; the others
    have LightGBM's missing type None, where NaN is read as 0)."""
    X = ds.X.copy()
    rng = np.random.default_rng(seed)
    X[rng.random(len(X)) < 1 / 12, 2] = np.nan
    X[rng.random(len(X)) < 1 / 12, 3] = np.nan
    return RankingDataset(X, ds.labels, ds.qids, ds.docids, ds.feature_names, name=ds.name)


@pytest.fixture(scope="module")
def small():
    graded = _with_nans(make_dataset(40, n_features=6, seed=3, prefix="a", name="train"), 0)
    binary = _with_nans(make_dataset(40, n_features=6, seed=3, prefix="a", labels="binary", name="train"), 0)
    test = _with_nans(make_dataset(12, n_features=6, seed=4, prefix="t", name="test"), 1)
    return {"graded": graded, "binary": binary, "test": test}


def _fit(objective, backend, train, n_estimators=15, **kw):
    params = {"min_data_in_leaf": 5} if backend == "lightgbm" else {"max_depth": 4}
    params.update(kw.pop("params", {}))
    return Ranker(objective=objective, backend=backend, n_estimators=n_estimators, early_stopping_rounds=None,
                  n_jobs=1, params=params, **kw).fit(click_fields(objective, train))


@pytest.mark.parametrize("objective,backend", CASES, ids=[f"{b}-{o}" for o, b in CASES])
def test_every_objective_exports_with_native_scores(objective, backend, small, tmp_path):
    """Oracle: the backend's predictions. Every objective of the registry on every backend it runs on; 0 rows
    over 1e-5 on probe rows (thresholds, float32 neighbours, NaN) and on held-out data with NaNs; LightGBM
    (float64 throughout) to 1e-12, XGBoost (which sums its trees in float32) to 1e-5."""
    kinds = get_objective(objective).label_kinds
    ranker = _fit(objective, backend, small["graded"] if "graded" in kinds else small["binary"])
    result = export_onnx(ranker, tmp_path / "m.onnx", check_data=small["test"])
    assert [c["rows_over_tolerance"] for c in result.checks] == [0, 0]
    assert result.checks[0]["rows"] == 2048 and result.checks[1]["rows"] == len(small["test"])
    native = ranker.predict_scores(small["test"])
    ours = score_onnx(tmp_path / "m.onnx", small["test"])
    atol = 1e-12 if backend == "lightgbm" else 1e-5
    np.testing.assert_allclose(ours, native, rtol=0, atol=atol)
    assert result.manifest["objective"] == repr(ranker.objective_)
    assert result.manifest["trees"] == len(_trees.read_ensemble(ranker.model_, backend, ranker.best_iteration_,
                                                                 ranker.objective_).trees)


@pytest.mark.parametrize("backend", ["lightgbm", "xgboost"])
def test_ml_opset_3_has_double_thresholds_and_float32_scores(backend, small, tmp_path):
    """Oracle: the backend. ai.onnx.ml 3 (TreeEnsembleRegressor with *_as_tensor): same branches as the
    backend on the threshold probes, scores rounded to float32 only (relative 1e-7)."""
    ranker = _fit("lambdarank", backend, small["graded"])
    result = export_onnx(ranker, tmp_path / "m3.onnx", ml_opset=3, check_data=small["test"])
    assert result.manifest["operator"] == "TreeEnsembleRegressor"
    native = ranker.predict_scores(small["test"])
    np.testing.assert_allclose(score_onnx(tmp_path / "m3.onnx", small["test"]), native, rtol=2e-7, atol=1e-7)
    graph = onnx.load(str(tmp_path / "m3.onnx"))
    node = next(n for n in graph.graph.node if n.op_type == "TreeEnsembleRegressor")
    names = {a.name for a in node.attribute}
    assert {"nodes_values_as_tensor", "target_weights_as_tensor"} <= names and "nodes_values" not in names


def test_float32_thresholds_of_onnxmltools_flip_splits_ours_do_not(small, tmp_path):
    """Oracle: LightGBM. onnxmltools' default conversion (float32 thresholds) with float64 inputs sends rows
    lying between float32(t) and t the other way: on the threshold probes it misses on many rows; our graph
    on none."""
    onnxmltools = pytest.importorskip("onnxmltools")
    from onnxmltools.convert.common.data_types import DoubleTensorType
    from ltr.models.export import probe_rows

    ranker = _fit("lambdarank", "lightgbm", small["graded"], n_estimators=30)
    ensemble = _trees.read_ensemble(ranker.model_, "lightgbm", ranker.best_iteration_, ranker.objective_)
    X = probe_rows(ensemble, 2048, seed=1)
    X = X[~np.isnan(X).any(axis=1)]             # onnxmltools' NaN handling is another matter
    native = ranker.predict_scores(RankingDataset(X, np.zeros(len(X)), np.repeat("q", len(X)),
                                                  feature_names=list(ranker.feature_names_in_)))
    theirs_model = onnxmltools.convert_lightgbm(ranker.model_, initial_types=[("X", DoubleTensorType([None, 6]))])
    theirs = ort.InferenceSession(theirs_model.SerializeToString(),
                                  providers=["CPUExecutionProvider"]).run(None, {"X": X.astype(np.float64)})[0]
    theirs_off = int((np.abs(theirs.ravel() - native) > 1e-5).sum())
    export_onnx(ranker, tmp_path / "m.onnx")
    ours = score_onnx(tmp_path / "m.onnx", RankingDataset(X, np.zeros(len(X)), np.repeat("q", len(X)),
                                                          feature_names=list(ranker.feature_names_in_)))
    assert int((np.abs(ours - native) > 1e-5).sum()) == 0
    assert theirs_off > 0


@pytest.mark.filterwarnings("ignore:invalid value encountered in log")
def test_xgboost_ranker_intercept_is_kept(small, tmp_path):
    """Oracle: XGBoost. A ranker's base_score and a regressor's fitted intercept (the label mean, ~0.5) must
    be in the graph: scores equal XGBoost's on every row. onnxmltools converts the same ranker as a binary
    classifier (its output is a probability pair, far from the margin)."""
    train = small["graded"]
    for objective in ("lambdarank", "regression"):
        ranker = _fit(objective, "xgboost", train)
        config = json.loads(ranker.model_.save_config())["learner"]["learner_model_param"]
        base = float(config["base_score"].strip("[]"))
        if objective == "regression":
            assert base > 0.3            # a real intercept (the label mean), so dropping it would show
        export_onnx(ranker, tmp_path / f"{objective}.onnx")
        native = ranker.predict_scores(small["test"])
        np.testing.assert_allclose(score_onnx(tmp_path / f"{objective}.onnx", small["test"]), native, atol=1e-5)
    onnxmltools = pytest.importorskip("onnxmltools")
    from onnxmltools.convert.common.data_types import FloatTensorType
    ranker = _fit("lambdarank", "xgboost", train)
    theirs = onnxmltools.convert_xgboost(ranker.model_, initial_types=[("X", FloatTensorType([None, 6]))])
    outputs = ort.InferenceSession(theirs.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        None, {"X": np.nan_to_num(small["test"].X)})
    assert outputs[-1].shape == (len(small["test"]), 2)       # a two-class probability, not a ranking score


def test_a_silent_misconversion_is_refused(small, tmp_path, monkeypatch):
    """Oracle: the backend. If the graph lost the intercept (what a classifier-style conversion of an XGBoost
    ranker does), the export check sees every row off and writes nothing."""
    ranker = _fit("regression", "xgboost", small["graded"])
    real = _trees.read_ensemble

    def lose_intercept(*args, **kw):
        ensemble = real(*args, **kw)
        ensemble.intercept = np.zeros_like(ensemble.intercept)
        return ensemble

    monkeypatch.setattr(_trees, "read_ensemble", lose_intercept)
    with pytest.raises(ExportError, match=r"differs from the xgboost model on 2048 of 2048 rows of 2048 probe"):
        export_onnx(ranker, tmp_path / "bad.onnx")
    assert not (tmp_path / "bad.onnx").exists() and not manifest_path(tmp_path / "bad.onnx").exists()


def test_single_leaf_trees_export(small, tmp_path):
    """Oracle: LightGBM. Trees without a split (min_data_in_leaf larger than the data allows) are one leaf;
    the TreeEnsemble encoding for them (one node whose branches reach the same leaf) scores like LightGBM."""
    ranker = _fit("regression", "lightgbm", small["graded"], n_estimators=3, params={"min_data_in_leaf": 10 ** 6})
    ensemble = _trees.read_ensemble(ranker.model_, "lightgbm", ranker.best_iteration_, ranker.objective_)
    assert all(t.n_nodes == 0 for t in ensemble.trees)
    export_onnx(ranker, tmp_path / "m.onnx", check_data=small["test"])
    np.testing.assert_allclose(score_onnx(tmp_path / "m.onnx", small["test"]), ranker.predict_scores(small["test"]),
                               atol=1e-12)


def test_best_iteration_only(small, tmp_path):
    """Oracle: the backend at its best iteration. After early stopping the graph holds the trees the Ranker
    predicts with, not every tree trained."""
    for backend in ("lightgbm", "xgboost"):
        ranker = Ranker(objective="lambdarank", backend=backend, n_estimators=60, early_stopping_rounds=5, n_jobs=1,
                        params={"min_data_in_leaf": 5} if backend == "lightgbm" else None).fit(
            small["graded"], valid=small["test"])
        result = export_onnx(ranker, tmp_path / f"{backend}.onnx", check_data=small["test"])
        assert result.manifest["iterations"] == ranker.best_iteration_
        assert result.checks[-1]["rows_over_tolerance"] == 0


# --------------------------------------------------------------------------------------------------
# normalisation inside the graph, against FeatureSet itself
# --------------------------------------------------------------------------------------------------

def _column_extractor():
    """A feature extractor passing precomputed raw columns of the pairs through (FeatureSet does the rest)."""
    from features.base import FeatureExtractor

    class Columns(FeatureExtractor):
        name = "columns_for_test"
        requires = ("qid", "docid")

        def __init__(self, *, names=()):
            self.names = names

        def transform(self, pairs):
            return self._frame({n: pairs[n].to_numpy() for n in self.names}, pairs)

        def feature_names_out(self):
            return list(self.names)

    return Columns


def _raw_pairs(seed, n_queries, prefix):
    ds = make_dataset(n_queries, n_features=4, seed=seed, prefix=prefix)
    rng = np.random.default_rng(seed)
    X = ds.X * rng.uniform(0.5, 20, size=4).astype(np.float32) + rng.uniform(-3, 3, size=(n_queries, 1)).repeat(
        ds.group_sizes, axis=0).astype(np.float32)            # query-dependent offsets: per-query scaling matters
    X[rng.random(len(X)) < 0.05, 1] = np.nan
    X[ds.qids == ds.qids[0], 2] = 7.0                        # a constant column within one query
    frame = pd.DataFrame(X, columns=[f"raw{j}" for j in range(4)])
    frame.insert(0, "qid", ds.qids)
    frame.insert(1, "docid", ds.docids)
    frame["label"] = ds.labels
    return frame


@pytest.mark.parametrize("method,scope", [("zscore", "query"), ("minmax", "query"), ("zscore", "global"),
                                          ("minmax", "global")])
def test_normalisation_in_the_graph_equals_feature_set(method, scope, tmp_path):
    """Oracle: features.FeatureSet's own normalisation followed by the Ranker's prediction, against the graph
    fed the raw features (one call per query for scope='query')."""
    from features import FeatureSet

    Columns = _column_extractor()
    train_pairs, test_pairs = _raw_pairs(5, 40, "a"), _raw_pairs(6, 12, "t")
    fs = FeatureSet([Columns(names=("raw0", "raw1", "raw2", "raw3"))], normalize=method, scope=scope)
    fs.fit(None, train_pairs)
    train = pd.concat([train_pairs[["qid", "docid", "label"]], fs.transform(train_pairs)], axis=1)
    test_norm = pd.concat([test_pairs[["qid", "docid", "label"]], fs.transform(test_pairs)], axis=1)
    ranker = _fit("lambdarank", "lightgbm", train)
    result = export_onnx(ranker, tmp_path / "n.onnx", normalization=fs, check_data=test_pairs)
    assert result.manifest["rows_per_call"] == ("one query" if scope == "query" else "any")
    assert result.manifest["normalization"]["method"] == method
    assert all(c["rows_over_tolerance"] == 0 for c in result.checks)
    native = ranker.predict_scores(test_norm)
    ours = score_onnx(tmp_path / "n.onnx", test_pairs.iloc[::-1])[::-1]      # rows of a query in any order
    np.testing.assert_allclose(ours, native, atol=1e-12)


def test_per_query_graph_needs_qids(tmp_path, small):
    """A per-query graph refuses to score rows it cannot split into queries."""
    ranker = _fit("lambdarank", "lightgbm", small["graded"])
    export_onnx(ranker, tmp_path / "q.onnx", normalization=FeatureNormalization("zscore", "query"))
    frame = small["test"].to_frame().drop(columns=["qid"])
    with pytest.raises(SchemaError, match="normalises per query: score_onnx needs a qid column"):
        score_onnx(tmp_path / "q.onnx", frame)


def test_normalisation_from_the_model_manifest(tmp_path, small):
    """A model directory whose manifest records feature_normalization exports with it by default ("auto")."""
    ranker = _fit("lambdarank", "lightgbm", small["graded"])
    ranker.save(tmp_path / "model")
    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text())
    manifest["feature_normalization"] = {"method": "minmax", "scope": "query"}
    (tmp_path / "model" / "manifest.json").write_text(json.dumps(manifest))
    result = export_onnx(tmp_path / "model", tmp_path / "m.onnx")
    assert result.manifest["normalization"] == {"method": "minmax", "scope": "query"}
    assert export_onnx(tmp_path / "model", tmp_path / "m2.onnx", normalization=None).manifest["normalization"] is None


def test_global_normalisation_constants_are_reordered_by_name():
    """Constants given per feature name follow the model's feature order; unknown names are refused."""
    norm = FeatureNormalization.from_dict({"method": "zscore", "scope": "global",
                                           "shift": {"b": 2.0, "a": 1.0}, "scale": {"b": 20.0, "a": 10.0}})
    aligned = norm.aligned(["a", "b"])
    assert aligned.shift == (1.0, 2.0) and aligned.scale == (10.0, 20.0)
    with pytest.raises(FeatureMismatchError, match=r"missing \['c'\]"):
        norm.aligned(["a", "c"])
    with pytest.raises(Exception, match="a per-query normalisation takes no shift/scale"):
        FeatureNormalization("zscore", "query", shift=(1.0,), scale=(1.0,))


# --------------------------------------------------------------------------------------------------
# manifest, files, refusals
# --------------------------------------------------------------------------------------------------

def test_manifest_lists_features_in_order_and_guards_the_file(small, tmp_path):
    """The manifest (beside the file and inside its metadata) lists the features in order; a changed file is
    refused; a frame's columns are taken by name."""
    ranker = _fit("ranknet", "lightgbm", small["graded"])
    result = export_onnx(ranker, tmp_path / "r.onnx")
    assert result.manifest_path == tmp_path / "r.manifest.json"
    manifest = read_export_manifest(tmp_path / "r.onnx")
    assert manifest["feature_names"] == list(ranker.feature_names_in_) == [f"feat_{j}" for j in range(6)]
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "r.onnx")).metadata_props}
    assert json.loads(meta["ltr_feature_names"]) == list(ranker.feature_names_in_)
    assert json.loads(meta["ltr_manifest"])["objective"] == "ranknet"
    frame = small["test"].to_frame()
    shuffled = frame[["qid", "docid"] + list(ranker.feature_names_in_)[::-1]]
    np.testing.assert_allclose(score_onnx(tmp_path / "r.onnx", shuffled), ranker.predict_scores(small["test"]),
                               atol=1e-12)
    with pytest.raises(FeatureMismatchError, match=r"lacks the exported model's features \['feat_5'\]"):
        score_onnx(tmp_path / "r.onnx", frame.drop(columns=["feat_5"]))
    data = (tmp_path / "r.onnx").read_bytes()
    (tmp_path / "r.onnx").write_bytes(data + b"\0")
    with pytest.raises(ModelFormatError, match="does not match the manifest"):
        read_export_manifest(tmp_path / "r.onnx")


def test_export_is_deterministic(small, tmp_path):
    """Same model, same bytes (graph and manifest)."""
    ranker = _fit("lambdarank", "xgboost", small["graded"])
    export_onnx(ranker, tmp_path / "a" / "m.onnx")
    export_onnx(ranker, tmp_path / "b" / "m.onnx")
    for name in ("m.onnx", "m.manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.parametrize("backend,params,message", [
    ("lightgbm", {"linear_tree": True}, "linear trees"),
    ("lightgbm", {"zero_as_missing": True}, "treats zeros as missing values"),
    ("xgboost", {"booster": "dart"}, "XGBoost booster 'dart'"),
])
def test_models_onnx_cannot_express_are_refused(backend, params, message, small, tmp_path):
    """A model the TreeEnsemble operator cannot express is refused with the reason, and nothing is written."""
    train = small["graded"]
    if params.get("zero_as_missing"):
        X = np.nan_to_num(train.X)
        X[::3, 0] = 0.0
        train = RankingDataset(X, train.labels, train.qids, train.docids, train.feature_names)
    ranker = _fit("regression", backend, train, params=params)
    with pytest.raises(ExportError, match=message):
        export_onnx(ranker, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_cli_export_and_check(small, tmp_path, capsys):
    """`ltr export MODEL_DIR --format onnx --out FILE --check DATA` writes the graph and prints the checks."""
    from ltr.cli import main
    from ltr.io import write_letor

    ranker = _fit("lambdarank", "lightgbm", small["graded"])
    ranker.save(tmp_path / "model")
    test = RankingDataset(np.nan_to_num(small["test"].X), small["test"].labels, small["test"].qids,
                          small["test"].docids, [f"f{j + 1}" for j in range(6)])
    ranker.feature_names_in_ = np.asarray(test.feature_names, dtype=object)      # LETOR files name features f1..fN
    ranker.save(tmp_path / "model")
    write_letor(test, tmp_path / "test.txt")
    assert main(["export", str(tmp_path / "model"), "--format", "onnx", "--out", str(tmp_path / "m.onnx"),
                 "--check", str(tmp_path / "test.txt")]) == 0
    out = capsys.readouterr().out
    assert "0 rows over 1e-05" in out and (tmp_path / "m.manifest.json").is_file()
    assert main(["export", str(tmp_path / "model"), "--format", "pmml", "--out", str(tmp_path / "m.pmml")]) == 2
    assert "Unknown export format 'pmml'" in capsys.readouterr().err
