"""TreeSHAP explanations (ltr.models.explain).

Oracles: exact Shapley values computed by brute force over every feature subset from the trees' own dumps
(the path-dependent expectation TreeSHAP defines: a feature outside the subset averages the branches by
their training cover), and the backends' raw predictions (contributions + bias = raw score).
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from ltr.errors import ConfigError, DataError, FeatureMismatchError
from ltr.models import Ranker
from ltr.models.explain import explain
from ltr.ranking import RankingDataset
from tests.models.conftest import make_dataset


@pytest.fixture(scope="module")
def small():
    return (make_dataset(30, n_features=4, seed=7, prefix="a", name="train"),
            make_dataset(8, n_features=4, seed=8, prefix="t", name="test"))


def _fit(objective, backend, train, n_estimators=12, **kw):
    params = {"min_data_in_leaf": 5} if backend == "lightgbm" else {"max_depth": 3}
    return Ranker(objective=objective, backend=backend, n_estimators=n_estimators, early_stopping_rounds=None,
                  n_jobs=1, params=params, **kw).fit(train)


# --------------------------------------------------------------------------------------------------
# brute-force Shapley values from the dumps
# --------------------------------------------------------------------------------------------------

def _lightgbm_trees(booster, n_trees):
    """Each tree as a function (x, S) -> path-dependent expectation of its output given x_S."""
    def node_fn(node):
        if "split_index" not in node:
            value = node["leaf_value"]
            return lambda x, S: value, node.get("leaf_count", 0)
        left, lc = node_fn(node["left_child"])
        right, rc = node_fn(node["right_child"])
        f, t = node["split_feature"], node["threshold"]

        def expect(x, S):
            if f in S:
                return left(x, S) if x[f] <= t else right(x, S)
            return (lc * left(x, S) + rc * right(x, S)) / (lc + rc)
        return expect, node["internal_count"]
    return [node_fn(info["tree_structure"])[0] for info in booster.dump_model(num_iteration=n_trees)["tree_info"]]


def _xgboost_tree(tree):
    lefts, rights, feats = tree["left_children"], tree["right_children"], tree["split_indices"]
    conds = np.asarray(tree["split_conditions"], dtype=np.float32)
    cover = tree["sum_hessian"]

    def expect(x, S, node=0):
        if lefts[node] == -1:
            return float(conds[node])
        lo, hi = lefts[node], rights[node]
        if feats[node] in S:
            return expect(x, S, lo if np.float32(x[feats[node]]) < conds[node] else hi)
        return (cover[lo] * expect(x, S, lo) + cover[hi] * expect(x, S, hi)) / (cover[lo] + cover[hi])
    return expect


def _xgboost_trees(booster, n_trees):
    model = json.loads(bytes(booster[:n_trees].save_raw("json")))["learner"]["gradient_booster"]["model"]
    return [_xgboost_tree(tree) for tree in model["trees"]]


def _shapley(trees, x, n_features, base=0.0):
    """phi_i = sum_S |S|! (M - |S| - 1)! / M! (v(S + i) - v(S)), v(S) = sum of the trees' expectations."""
    value = lambda S: base + sum(t(x, S) for t in trees)
    phi = np.zeros(n_features)
    for i in range(n_features):
        others = [j for j in range(n_features) if j != i]
        for k in range(n_features):
            w = math.factorial(k) * math.factorial(n_features - k - 1) / math.factorial(n_features)
            for S in itertools.combinations(others, k):
                phi[i] += w * (value(set(S) | {i}) - value(set(S)))
    return phi, value(set())


@pytest.mark.parametrize("backend", ["lightgbm", "xgboost"])
def test_contributions_are_exact_shapley_values(backend, small):
    """Oracle: brute-force Shapley values over all 2^4 feature subsets of the path-dependent expectation
    (LightGBM: cover = training counts; XGBoost: cover = hessian sums), from the models' own dumps."""
    train, test = small
    ranker = _fit("lambdarank", backend, train)
    explanation = explain(ranker, test)
    if backend == "lightgbm":
        trees, base, atol = _lightgbm_trees(ranker.model_, ranker.best_iteration_), 0.0, 1e-10
    else:
        cfg = json.loads(ranker.model_.save_config())["learner"]["learner_model_param"]
        trees, base, atol = _xgboost_trees(ranker.model_, ranker.best_iteration_), float(
            cfg["base_score"].strip("[]")), 1e-5
    for row in range(0, len(test), 17):
        phi, bias = _shapley(trees, test.X[row].astype(np.float64), 4, base)
        np.testing.assert_allclose(explanation.contributions.iloc[row].to_numpy(), phi, atol=atol)
        assert explanation.rows["bias"].iloc[row] == pytest.approx(bias, abs=atol)


@pytest.mark.parametrize("objective,backend", [(o, b) for o in ("lambdarank", "ranknet", "binary", "regression")
                                               for b in ("lightgbm", "xgboost")])
def test_contributions_sum_to_the_raw_score(objective, backend, small):
    """Oracle: the backend's raw margin (LightGBM raw_score=True, XGBoost output_margin=True). The sum of the
    contributions and the bias equals it to float64 rounding on LightGBM, float32 on XGBoost (which computes
    in float32); for margin objectives the raw score is the Ranker's score."""
    train, test = small
    ranker = _fit(objective, backend, train)
    e = explain(ranker, test)
    if backend == "lightgbm":
        raw = ranker.model_.predict(test.X, raw_score=True)
        assert e.additivity_error() <= 1e-12
    else:
        import xgboost as xgb
        raw = ranker.model_.predict(xgb.DMatrix(test.X), output_margin=True)
        assert e.additivity_error() <= 1e-5 * max(1.0, float(np.abs(raw).max()))
    np.testing.assert_array_equal(e.rows["raw_score"].to_numpy(), raw.astype(np.float64))
    scores = ranker.predict_scores(test)
    np.testing.assert_array_equal(e.rows["score"].to_numpy(), scores)
    if objective != "binary":
        np.testing.assert_allclose(scores, raw, rtol=0, atol=0)
    else:
        np.testing.assert_allclose(scores, 1 / (1 + np.exp(-raw)), rtol=1e-6)
    assert list(e.contributions.columns) == list(ranker.feature_names_in_)
    assert list(e.rows["docid"]) == list(test.docids) and list(e.rows["qid"]) == list(test.qids)


def test_relative_contributions_explain_the_rank(small):
    """Per row, contributions minus the query's mean sum to the raw score minus the query's mean raw score
    (the bias cancels), the quantity a document's rank depends on."""
    train, test = small
    e = explain(_fit("lambdarank", "lightgbm", train), test)
    rel = e.relative.sum(axis=1).to_numpy()
    raw = e.rows["raw_score"]
    expected = (raw - raw.groupby(e.rows["qid"]).transform("mean")).to_numpy()
    np.testing.assert_allclose(rel, expected, atol=1e-12)
    q = e.query(test.qids[0])
    assert len(q) == int(test.group_sizes[0]) and set(q.rows["qid"]) == {test.qids[0]}
    with pytest.raises(DataError, match="query 'nope' is not in the explained data"):
        e.query("nope")


def test_only_the_trees_the_ranker_predicts_with(small):
    """After early stopping the contributions cover the best iteration's trees (they add up to the score the
    Ranker gives, not to the full model's)."""
    train, test = small
    ranker = Ranker(objective="lambdarank", backend="lightgbm", n_estimators=80, early_stopping_rounds=3, n_jobs=1,
                    params={"min_data_in_leaf": 5}).fit(train, valid=test)
    assert ranker.best_iteration_ < ranker.n_iterations_ or ranker.best_iteration_ < 80
    e = explain(ranker, test)
    assert e.n_trees == ranker.best_iteration_
    np.testing.assert_allclose(e.rows["raw_score"], ranker.predict_scores(test), atol=0)
    assert e.additivity_error() <= 1e-12


def test_refusals(small):
    """Multiclass (the expected grade is not additive) and other features are refused with the reason."""
    train, test = small
    with pytest.raises(ConfigError, match="expected grade over several class margins"):
        explain(_fit("multiclass", "lightgbm", train, n_estimators=3), test)
    ranker = _fit("lambdarank", "lightgbm", train, n_estimators=3)
    other = RankingDataset(test.X, test.labels, test.qids, test.docids, ["a", "b", "c", "d"])
    with pytest.raises(FeatureMismatchError, match="differ from the model's"):
        explain(ranker, other)


def test_cli_explain_json_and_table(small, tmp_path, capsys):
    """`ltr explain MODEL_DIR DATA --qid Q [--json]`: the query's top documents with their features, and the
    importance table; contributions in the JSON agree with explain()."""
    from ltr.cli import main
    from ltr.io import write_letor

    train, test = small
    rename = lambda ds: RankingDataset(ds.X, ds.labels, ds.qids, ds.docids, [f"f{j + 1}" for j in range(4)])
    ranker = _fit("lambdarank", "lightgbm", rename(train))
    ranker.save(tmp_path / "model")
    write_letor(rename(test), tmp_path / "test.txt")
    qid = str(test.qids[0])
    assert main(["explain", str(tmp_path / "model"), str(tmp_path / "test.txt"), "--qid", qid, "--json",
                 "--top", "3", "--features", "4"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["qid"] == qid and not out["chosen"] and len(out["documents"]) == 3
    doc = out["documents"][0]
    assert doc["rank"] == 1 and len(doc["features"]) == 4
    # with every feature shown, the relative contributions add up to the document's lead over the query mean
    assert sum(f["vs_query_mean"] for f in doc["features"]) == pytest.approx(doc["score_vs_query_mean"], abs=1e-9)
    scores = [d["score"] for d in out["documents"]]
    assert scores == sorted(scores, reverse=True)
    assert main(["explain", str(tmp_path / "model"), str(tmp_path / "test.txt"), "--qid", qid,
                 "--plot", str(tmp_path / "q.png")]) == 0
    text = capsys.readouterr().out
    assert f"query {qid}: why its top 5 documents rank where they do" in text and "mean |contribution|" in text
    assert (tmp_path / "q.png").stat().st_size > 1000
    assert main(["explain", str(tmp_path / "model"), str(tmp_path / "test.txt"), "--qid", "nope"]) == 2
    assert "query 'nope' is not in the explanation" in capsys.readouterr().err
