"""Oracles: LightGBM's and XGBoost's own ``ndcg@k`` evaluation.

LightGBM (src/metric/rank_metric.hpp, dcg_calculator.cpp): gain 2^label - 1, a query without relevant
documents scores 1, ties among equal scores keep the row order (std::stable_sort). That is
``nDCG(gain='exp', norel=1, ties='row')@k``. XGBoost 3 (ndcg_exp_gain=true): the same, and its
``ndcg@k-`` scores a query without relevant documents 0, i.e. ``nDCG(gain='exp', ties='row')@k``.
Tree ensembles produce many tied scores, so the tie rule matters (test_default_ties_differ_on_ties).
"""

from __future__ import annotations

import numpy as np
import pytest

from ltr.metrics import parse_metric

lgb = pytest.importorskip("lightgbm")
xgb = pytest.importorskip("xgboost")

KS = (1, 3, 5, 10)


def random_ranking_data(seed):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 40, 50)
    n = int(sizes.sum())
    X = rng.normal(size=(n, 5))
    y = rng.integers(0, 5, n).astype(np.float64)
    y[: sizes[0]] = 0                                    # a query without relevant documents
    return X, y, sizes


def lgb_eval(X, y, sizes, rounds=3, init_score=None):
    ds = lgb.Dataset(X, y, group=sizes, init_score=init_score)
    record = {}
    booster = lgb.train({"objective": "lambdarank", "metric": "ndcg", "eval_at": list(KS), "num_threads": 1,
                         "verbose": -1, "num_leaves": 4, "min_data_in_leaf": 5, "seed": 0},
                        ds, num_boost_round=rounds, valid_sets=[ds], valid_names=["train"],
                        callbacks=[lgb.record_evaluation(record)])
    scores = booster.predict(X) + (0 if init_score is None else init_score)
    return scores, {k: record["train"][f"ndcg@{k}"][-1] for k in KS}


@pytest.mark.parametrize("seed", range(3))
def test_matches_lightgbm_ndcg(seed):
    """Oracle: LightGBM's record_evaluation ndcg@k on the training set, to 1e-12."""
    X, y, sizes = random_ranking_data(seed)
    scores, expected = lgb_eval(X, y, sizes)
    for k in KS:
        got = parse_metric(f"nDCG(gain='exp', norel=1, ties='row')@{k}").compute(y, scores, sizes).mean()
        assert got == pytest.approx(expected[k], abs=1e-12)


def test_default_ties_equal_lightgbm_without_ties():
    """Oracle: LightGBM ndcg@k; with continuous init scores no two candidates tie, and then the name
    nDCG(gain='exp', norel=1)@k (ties by docid) gives LightGBM's value too."""
    X, y, sizes = random_ranking_data(5)
    init = np.random.default_rng(1).normal(size=len(y))
    scores, expected = lgb_eval(X, y, sizes, rounds=1, init_score=init)
    assert len(np.unique(scores.astype(np.float32))) == len(scores)
    for k in KS:
        got = parse_metric(f"nDCG(gain='exp', norel=1)@{k}").compute(y, scores, sizes).mean()
        assert got == pytest.approx(expected[k], abs=1e-12)


def test_default_ties_differ_on_ties():
    """Oracle: LightGBM ndcg@10; with a 4-leaf tree the scores tie, and breaking ties by (synthetic) docid
    descending instead of row order gives another value: the tie rule is part of the name."""
    X, y, sizes = random_ranking_data(0)
    scores, expected = lgb_eval(X, y, sizes, rounds=1)
    assert parse_metric("nDCG(gain='exp', norel=1)@10").compute(y, scores, sizes).mean() != \
        pytest.approx(expected[10], abs=1e-6)


@pytest.mark.parametrize("seed", range(2))
def test_matches_xgboost_ndcg(seed):
    """Oracle: XGBoost's evals_result ndcg@k (no relevant -> 1) and ndcg@k- (-> 0), to 1e-12."""
    X, y, sizes = random_ranking_data(10 + seed)
    dm = xgb.DMatrix(X, y)
    dm.set_group(sizes)
    names = [f"ndcg@{k}" for k in KS] + [f"ndcg@{k}-" for k in KS]
    record = {}
    booster = xgb.train({"objective": "rank:ndcg", "eval_metric": names, "nthread": 1, "max_depth": 2,
                         "seed": 0}, dm, 3, evals=[(dm, "train")], evals_result=record, verbose_eval=False)
    scores = booster.predict(dm)
    for k in KS:
        ours = parse_metric(f"nDCG(gain='exp', norel=1, ties='row')@{k}").compute(y, scores, sizes).mean()
        assert ours == pytest.approx(record["train"][f"ndcg@{k}"][-1], abs=1e-12)
        ours = parse_metric(f"nDCG(gain='exp', ties='row')@{k}").compute(y, scores, sizes).mean()
        assert ours == pytest.approx(record["train"][f"ndcg@{k}-"][-1], abs=1e-12)


def test_mq2008_fold1_vali_matches_lightgbm(shared_data):
    """Oracle: LightGBM ndcg@k on MQ2008 Fold1 (train -> vali, 5 rounds), read with scikit-learn's
    svmlight reader."""
    from sklearn.datasets import load_svmlight_files
    fold = shared_data("letor4-mq2008", "MQ2008", "Fold1")
    Xt, yt, qt, Xv, yv, qv = load_svmlight_files([str(fold / "train.txt"), str(fold / "vali.txt")],
                                                 query_id=True)

    def sizes_of(q):
        return np.diff(np.r_[np.flatnonzero(np.r_[True, q[1:] != q[:-1]]), len(q)])

    train = lgb.Dataset(Xt, yt, group=sizes_of(qt))
    valid = lgb.Dataset(Xv, yv, group=sizes_of(qv), reference=train)
    record = {}
    booster = lgb.train({"objective": "lambdarank", "metric": "ndcg", "eval_at": [5, 10], "num_threads": 2,
                         "verbose": -1, "seed": 0}, train, num_boost_round=5, valid_sets=[valid],
                        valid_names=["vali"], callbacks=[lgb.record_evaluation(record)])
    scores = booster.predict(Xv)
    for k in (5, 10):
        ours = parse_metric(f"nDCG(gain='exp', norel=1, ties='row')@{k}").compute(yv, scores, sizes_of(qv))
        assert ours.mean() == pytest.approx(record["vali"][f"ndcg@{k}"][-1], abs=1e-12)
