"""Weights and query subsampling, passed to each backend as it defines them (oracle: the backend called directly)."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb

from ltr.errors import ConfigError, DataError
from ltr.models import Ranker
from ltr.objectives import get_objective
from tests.models.conftest import make_dataset

LGB_PLAIN = {"learning_rate": 0.05, "num_leaves": 31, "max_depth": -1, "min_data_in_leaf": 20, "feature_fraction": 1.0,
             "bagging_fraction": 1.0, "bagging_freq": 0, "lambda_l2": 0.0, "deterministic": True, "force_row_wise": True,
             "num_threads": 1, "seed": 0, "verbosity": -1}
XGB_PLAIN = {"tree_method": "hist", "eta": 0.05, "max_depth": 6, "subsample": 1.0, "colsample_bytree": 1.0,
             "nthread": 1, "seed": 0, "verbosity": 0}


@pytest.fixture(scope="module")
def weighted():
    rng = np.random.default_rng(7)
    train, test = make_dataset(40, seed=11), make_dataset(10, seed=12, prefix="t")
    row_w = rng.uniform(0.2, 3.0, len(train))
    query_w = rng.uniform(0.2, 3.0, train.n_queries)
    return (train.__class__(train.X, train.labels, train.qids, train.docids, train.feature_names, weights=row_w),
            train.with_query_weights(query_w), query_w, test)


def test_lightgbm_ranking_objective_takes_per_row_weights(weighted):
    """Oracle: lightgbm.train with Dataset(weight=w): bit-identical scores; and the weights change the model."""
    rows, _, _, test = weighted
    ranker = Ranker(objective="lambdarank", n_estimators=20, early_stopping_rounds=None, n_jobs=1).fit(rows)
    params = {**LGB_PLAIN, **get_objective("lambdarank").backend_params("lightgbm")}
    plain = lgb.train(params, lgb.Dataset(rows.X, label=rows.labels, group=rows.group_sizes, weight=rows.weights), 20)
    np.testing.assert_array_equal(ranker.predict_scores(test), plain.predict(test.X))
    unweighted = Ranker(objective="lambdarank", n_estimators=20, early_stopping_rounds=None, n_jobs=1).fit(
        rows.__class__(rows.X, rows.labels, rows.qids, rows.docids, rows.feature_names))
    assert not np.array_equal(unweighted.predict_scores(test), ranker.predict_scores(test))


def test_ltr_objective_applies_weights_as_lightgbm_does(weighted):
    """Oracle: LightGBM's built-in lambdarank with the same per-row weights. Our lambdarank_ref (a custom
    objective, whose weights LightGBM does not apply) multiplies each row's gradient and hessian by its weight
    after the query normalisation, as LightGBM's RankingObjective does: from the same model (3 built-in
    rounds), the next stump of each has the same split and leaf values to 1e-7 (LightGBM's gradients are
    float32). Whole models drift apart after a few rounds, as near-tied splits resolve differently."""
    rows, *_ = weighted
    ref = get_objective("lambdarank_ref")

    def dataset():
        return lgb.Dataset(rows.X, label=rows.labels, group=rows.group_sizes, weight=rows.weights,
                           free_raw_data=False)
    start = lgb.train({**LGB_PLAIN, "objective": "lambdarank"}, dataset(), 3, keep_training_booster=True)
    stump = {**LGB_PLAIN, "num_leaves": 2, "min_data_in_leaf": 1, "min_sum_hessian_in_leaf": 0.0, "learning_rate": 1.0}
    trees = []
    for objective in ("lambdarank", lambda p, d: ref.grad_hess(rows.labels, p, rows.group_sizes, rows.weights)):
        booster = lgb.train({**stump, "objective": objective}, dataset(), 1, init_model=start)
        trees.append(booster.dump_model()["tree_info"][3]["tree_structure"])
    builtin, ours = trees
    assert (ours["split_feature"], ours["threshold"]) == (builtin["split_feature"], builtin["threshold"])
    for side in ("left_child", "right_child"):
        assert ours[side]["leaf_value"] == pytest.approx(builtin[side]["leaf_value"], abs=1e-7)
    unweighted = ref.grad_hess(rows.labels, start.predict(rows.X, raw_score=True), rows.group_sizes)
    left = rows.X[:, builtin["split_feature"]] <= builtin["threshold"]
    assert -unweighted[0][left].sum() / unweighted[1][left].sum() != pytest.approx(builtin["left_child"]["leaf_value"],
                                                                                  abs=1e-4)


@pytest.mark.parametrize("objective", ["lambdarank", "ranknet"])
def test_xgboost_ranking_objectives_take_one_weight_per_query(weighted, objective):
    """Oracle: xgboost.train with DMatrix.set_weight(one weight per group): identical scores."""
    _, per_query, query_w, test = weighted
    ranker = Ranker(objective=objective, backend="xgboost", n_estimators=20, early_stopping_rounds=None,
                    n_jobs=1).fit(per_query)
    obj = get_objective(objective)
    dm = xgb.DMatrix(per_query.X, label=per_query.labels)
    dm.set_group(per_query.group_sizes)
    dm.set_weight(query_w.astype(np.float32))
    params = {**XGB_PLAIN, "disable_default_eval_metric": 1,
              **obj.backend_params("xgboost", labels=per_query.labels, group_sizes=per_query.group_sizes)}
    plain = xgb.train(params, dm, 20)
    np.testing.assert_array_equal(ranker.predict_scores(test), plain.predict(xgb.DMatrix(test.X)))


def test_xgboost_ranking_objective_refuses_weights_that_vary_inside_a_query(weighted):
    rows, *_ = weighted
    with pytest.raises(DataError, match=r"the training weights vary inside query #0 \(.*\) and 39 other queries; "
                                        r"XGBoost's ranking objective 'rank:ndcg' takes one weight per query"):
        Ranker(backend="xgboost", n_estimators=2, n_jobs=1).fit(rows)


def test_xgboost_pointwise_objective_takes_per_row_weights(weighted):
    """Oracle: xgboost.train with per-row weights for reg:squarederror (and no query groups: XGBoost reads
    weights beside groups as one per group and refuses per-row ones)."""
    rows, _, _, test = weighted
    ranker = Ranker(objective="regression", backend="xgboost", n_estimators=15, early_stopping_rounds=None,
                    n_jobs=1).fit(rows)
    dm = xgb.DMatrix(rows.X, label=rows.labels)
    dm.set_weight(rows.weights.astype(np.float32))
    plain = xgb.train({**XGB_PLAIN, "disable_default_eval_metric": 1, "objective": "reg:squarederror"}, dm, 15)
    np.testing.assert_array_equal(ranker.predict_scores(test), plain.predict(xgb.DMatrix(test.X)))


def test_validation_weights_weight_the_early_stopping_metric_as_lightgbm_does(weighted):
    """Oracle: LightGBM's own ndcg@10 on a weighted validation Dataset (queries weighted by their mean row
    weight), equal to our default early-stopping metric at every iteration."""
    rows, *_ = weighted
    rng = np.random.default_rng(3)
    valid = make_dataset(15, seed=13, prefix="v")
    # weights on a grid of 1/4 (exact in float32: LightGBM keeps weights and query weights as float32)
    valid = valid.__class__(valid.X, valid.labels, valid.qids, valid.docids, valid.feature_names,
                            weights=rng.integers(1, 20, len(valid)) / 4)
    ranker = Ranker(objective="lambdarank", n_estimators=15, early_stopping_rounds=None, n_jobs=1).fit(rows, valid)
    result: dict = {}
    params = {**LGB_PLAIN, "objective": "lambdarank", "metric": "ndcg", "eval_at": [10]}
    train_set = lgb.Dataset(rows.X, label=rows.labels, group=rows.group_sizes, weight=rows.weights)
    lgb.train(params, train_set, 15, valid_sets=[lgb.Dataset(valid.X, label=valid.labels, group=valid.group_sizes,
                                                              weight=valid.weights, reference=train_set)],
              valid_names=["valid"], callbacks=[lgb.record_evaluation(result)])
    ours = ranker.evals_result_["valid"]["nDCG(gain='exp', norel=1, ties='row')@10"]
    np.testing.assert_allclose(ours, result["valid"]["ndcg@10"], rtol=0, atol=1e-12)


def test_dask_training_refuses_weights(weighted):
    from ltr.models.backends import get_backend
    from ltr.models.distributed import train_on_cluster
    rows, *_ = weighted
    ranker = Ranker(n_estimators=2, n_jobs=1)
    with pytest.raises(ConfigError, match=r"training on a cluster does not take weights yet"):
        spec = _spec(ranker, rows)
        train_on_cluster(spec, get_backend("lightgbm"), "local", qids=rows.qids)


def _spec(ranker, ds):
    from ltr.models.backends import TrainSpec
    obj = get_objective("lambdarank")
    return TrainSpec(params={}, objective=obj, custom=False, X=ds.X, labels=ds.labels, backend_labels=ds.labels,
                     group_sizes=ds.group_sizes, n_estimators=2, early_stopping_rounds=None, metrics=[],
                     weights=ds.weights)


# -- query subsampling (LightGBM's bagging_by_query) ---------------------------------------------------------------

def test_subsample_by_query_is_lightgbms_bagging_by_query():
    """Oracle: lightgbm.train with bagging_by_query=True, bagging_fraction=0.5, bagging_freq=1: identical scores;
    and different from row subsampling at the same fraction."""
    train, test = make_dataset(40, seed=21), make_dataset(10, seed=22, prefix="t")
    kw = dict(objective="lambdarank", n_estimators=20, early_stopping_rounds=None, subsample=0.5, n_jobs=1,
              random_state=4)
    by_query = Ranker(subsample_by="query", **kw).fit(train)
    params = {**LGB_PLAIN, "seed": 4, "bagging_fraction": 0.5, "bagging_freq": 1, "bagging_by_query": True,
              **get_objective("lambdarank").backend_params("lightgbm")}
    plain = lgb.train(params, lgb.Dataset(train.X, label=train.labels, group=train.group_sizes), 20)
    np.testing.assert_array_equal(by_query.predict_scores(test), plain.predict(test.X))
    assert by_query.backend_params_["bagging_by_query"] is True
    by_row = Ranker(subsample_by="row", **kw).fit(train)
    assert "bagging_by_query" not in by_row.backend_params_
    assert not np.array_equal(by_row.predict_scores(test), by_query.predict_scores(test))


def test_subsample_by_query_is_refused_where_it_cannot_work():
    train = make_dataset(4)
    with pytest.raises(ConfigError, match=r"XGBoost samples rows only"):
        Ranker(backend="xgboost", subsample=0.5, subsample_by="query", n_jobs=1).fit(train)
    with pytest.raises(ConfigError, match=r"set subsample < 1 too"):
        Ranker(subsample_by="query", n_jobs=1).fit(train)
    with pytest.raises(ConfigError, match=r"'subsample_by' parameter of Ranker must be 'row' or 'query'"):
        Ranker(subsample=0.5, subsample_by="queries", n_jobs=1).fit(train)
