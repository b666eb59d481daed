"""Ranker: sklearn contract, parity with the backends called directly, determinism, data checks, errors."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb
from sklearn.base import clone

from ltr.datasets import RankingDataset
from ltr.errors import (
    ConfigError,
    FeatureMismatchError,
    GroupError,
    LabelError,
    NotFittedError,
    SchemaError,
    UnknownNameError,
)
from ltr.metrics import parse_metric
from ltr.models import DEFAULT_EVAL_METRIC, Ranker, label_kind
from ltr.objectives import available_objectives, get_objective
from tests.models.conftest import make_dataset

LGB_PLAIN = {"learning_rate": 0.05, "num_leaves": 31, "deterministic": True, "force_row_wise": True,
             "num_threads": 1, "seed": 0, "verbosity": -1}


def _lgb_set(ds, reference=None):
    return lgb.Dataset(ds.X, label=ds.labels, group=ds.group_sizes, reference=reference)


# -- sklearn contract -------------------------------------------------------------------------------

def test_get_params_and_clone_round_trip():
    """Oracle: sklearn.base.clone, which rebuilds the estimator from get_params() and checks identity."""
    ranker = Ranker(objective="ranknet(sigma=2.0)", backend="lightgbm", n_estimators=7, learning_rate=0.1,
                    params={"max_bin": 63},
                    eval_metric=["nDCG@10", "AP"], record=True)
    twin = clone(ranker)
    assert twin.get_params() == ranker.get_params()
    assert twin.params is not ranker.params and twin.params == {"max_bin": 63}
    assert "ranknet(sigma=2.0)" in repr(ranker)


# -- parity with the backends called directly --------------------------------------------------------

def test_lambdarank_equals_plain_lightgbm_script(data):
    """Oracle: lightgbm.train with the same parameters, metric='ndcg', eval_at=[10] and LightGBM's own early
    stopping: same best iteration, bit-identical scores, and our harness metric (the default
    nDCG(gain='exp', norel=1, ties='row')@10) equal to LightGBM's own ndcg@10 at every iteration."""
    train, valid, test = data
    result: dict = {}
    plain = lgb.train({**LGB_PLAIN, "objective": "lambdarank", "metric": "ndcg", "eval_at": [10]},
                      _lgb_set(train), num_boost_round=120, valid_sets=[_lgb_set(valid)], valid_names=["valid"],
                      callbacks=[lgb.early_stopping(15, verbose=False), lgb.record_evaluation(result)])
    ranker = Ranker(objective="lambdarank", n_estimators=120, early_stopping_rounds=15, n_jobs=1).fit(train, valid)
    assert ranker.best_iteration_ == plain.best_iteration
    expected = plain.predict(test.X, num_iteration=plain.best_iteration)
    np.testing.assert_array_equal(ranker.predict_scores(test), expected)
    ours = ranker.evals_result_["valid"][DEFAULT_EVAL_METRIC]
    np.testing.assert_allclose(ours, result["valid"]["ndcg@10"], rtol=0, atol=1e-12)


def test_force_col_wise_replaces_the_row_wise_default(data):
    """params={'force_col_wise': True} (the memory-lean histograms) trains, where LightGBM refuses both
    flags at once. Oracle: lightgbm.train with force_col_wise and without force_row_wise: identical scores."""
    train, _, test = data
    plain = lgb.train({**LGB_PLAIN, "force_row_wise": False, "force_col_wise": True, "objective": "lambdarank"},
                      _lgb_set(train), num_boost_round=30)
    ranker = Ranker(objective="lambdarank", n_estimators=30, early_stopping_rounds=None, n_jobs=1,
                    params={"force_col_wise": True}).fit(train)
    np.testing.assert_array_equal(ranker.predict_scores(test), plain.predict(test.X))


@pytest.mark.parametrize("objective", ["lambdarank", "ranknet"])
def test_xgboost_equals_plain_xgboost_script(data, objective):
    """Oracle: xgboost.train called directly with the objective's native configuration (as printed by
    describe) and XGBoost's own early stopping on its ndcg@10: same best iteration and identical scores."""
    train, valid, test = data
    obj = get_objective(objective)
    if obj.is_custom("xgboost"):
        pytest.skip(f"{objective} is a custom objective on xgboost")
    params = {"tree_method": "hist", "eta": 0.05, "max_depth": 6, "nthread": 1, "seed": 0, "verbosity": 0,
              **obj.backend_params("xgboost", labels=train.labels, group_sizes=train.group_sizes),
              "eval_metric": "ndcg@10"}
    dtrain = xgb.DMatrix(train.X, label=train.labels, group=train.group_sizes)
    dvalid = xgb.DMatrix(valid.X, label=valid.labels, group=valid.group_sizes)
    result: dict = {}
    plain = xgb.train(params, dtrain, 120, evals=[(dvalid, "valid")], early_stopping_rounds=15,
                      evals_result=result, verbose_eval=False)
    ranker = Ranker(objective=objective, backend="xgboost", n_estimators=120, early_stopping_rounds=15,
                    n_jobs=1).fit(train, valid)
    ours = ranker.evals_result_["valid"][DEFAULT_EVAL_METRIC]
    np.testing.assert_allclose(ours, result["valid"]["ndcg@10"], rtol=0, atol=1e-6)   # XGBoost logs float32
    assert ranker.best_iteration_ == plain.best_iteration + 1
    np.testing.assert_array_equal(ranker.predict_scores(test),
                                  plain.predict(xgb.DMatrix(test.X), iteration_range=(0, plain.best_iteration + 1)))


@pytest.mark.parametrize("backend", ["lightgbm", "xgboost"])
def test_custom_objective_is_handed_to_the_backend_unchanged(data, backend):
    """Oracle: the backend trained directly with the objective's grad_hess as its custom objective
    (LightGBM: params['objective'] = callable(preds, dataset); XGBoost: obj=callable(predt, dmatrix))."""
    train, _, test = data
    custom = [n for n in ("ranknet", "lambdarank_ref") if n in available_objectives()
              and backend in get_objective(n).backends and get_objective(n).is_custom(backend)]
    if not custom:
        pytest.skip(f"no custom objective on {backend}")
    obj = get_objective(custom[0])
    y, sizes = obj.transform_labels(train.labels, backend=backend), train.group_sizes
    ranker = Ranker(objective=obj, backend=backend, n_estimators=15, n_jobs=1).fit(train)
    if backend == "lightgbm":
        params = {**LGB_PLAIN, "objective": lambda preds, ds: obj.grad_hess(y, preds, sizes)}
        plain = lgb.train(params, lgb.Dataset(train.X, label=y, group=sizes), num_boost_round=15)
        expected = plain.predict(test.X)
    else:
        params = {"tree_method": "hist", "eta": 0.05, "max_depth": 6, "nthread": 1, "seed": 0, "base_score": 0.0}
        plain = xgb.train(params, xgb.DMatrix(train.X, label=y, group=sizes), 15,
                          obj=lambda predt, dm: obj.grad_hess(y, predt, sizes))
        expected = plain.predict(xgb.DMatrix(test.X))
    assert ranker.best_iteration_ == 15
    np.testing.assert_array_equal(ranker.predict_scores(test), expected)


# -- determinism ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("objective,backend", [("lambdarank", "lightgbm"), ("ranknet", "lightgbm"),
                                               ("lambdarank", "xgboost"), ("ranknet", "xgboost")])
def test_same_seed_same_data_gives_identical_scores(data, objective, backend):
    """Invariant: two fits with the same seed and data give bit-identical scores (with bagging and column
    sampling on, 2 threads)."""
    train, valid, test = data

    def make():
        return Ranker(objective=objective, backend=backend, n_estimators=25, subsample=0.8, colsample=0.8,
                      random_state=3, n_jobs=2)

    a, b = make().fit(train, valid).predict_scores(test), make().fit(train, valid).predict_scores(test)
    assert a.tobytes() == b.tobytes()


# -- data plumbing -----------------------------------------------------------------------------------------

def test_predict_returns_run_in_row_order_and_frames_work(data):
    """Invariant: the RUN frame lists the input rows in order; a FEATURES frame (columns in any order, index
    kept) gives the same scores as the RankingDataset it came from."""
    train, valid, test = data
    ranker = Ranker(objective="lambdarank", n_estimators=20, n_jobs=1).fit(train, valid)
    run = ranker.predict(test)
    assert list(run.columns) == ["qid", "docid", "score"]
    assert run["qid"].tolist() == test.qids.tolist() and run["docid"].tolist() == test.docids.tolist()
    frame = test.to_frame()
    frame.index = frame.index + 1000
    shuffled = frame[["qid", "docid", "label"] + test.feature_names[::-1]]
    run2 = ranker.predict(shuffled)
    assert run2.index.equals(frame.index)
    np.testing.assert_array_equal(run2["score"].to_numpy(), run["score"].to_numpy())
    from_frames = Ranker(objective="lambdarank", n_estimators=20, n_jobs=1).fit(train.to_frame(), valid.to_frame())
    np.testing.assert_array_equal(from_frames.predict_scores(test), run["score"].to_numpy())


def test_feature_importances_are_gain_by_name(data):
    """Oracle: LightGBM's Booster.feature_importance('gain') of the same model."""
    train, valid, _ = data
    ranker = Ranker(objective="lambdarank", n_estimators=20, n_jobs=1).fit(train, valid)
    imp = ranker.feature_importances_
    assert imp.index.tolist() == train.feature_names
    np.testing.assert_array_equal(imp.to_numpy(), ranker.model_.feature_importance("gain",
                                                                                   iteration=ranker.best_iteration_))
    assert imp.idxmax() == "feat_0"      # the labels come from feature 0 most


def test_label_kind():
    assert label_kind(np.array([0.0, 1.0])) == "binary"
    assert label_kind(np.array([0.0, 2.0, 4.0])) == "graded"
    assert label_kind(np.array([0.5, 1.0])) == "real"
    assert label_kind(np.array([-1.0, 1.0])) == "real"


def test_real_valued_labels_train_with_ranknet_and_regression():
    """Real-valued relevance is taken by ranknet and regression (issue: label kinds)."""
    train = make_dataset(30, labels="real", seed=5)
    for objective in ("ranknet", "regression"):
        ranker = Ranker(objective=objective, n_estimators=10, n_jobs=1).fit(train)
        assert ranker.label_kind_ == "real"
        assert np.isfinite(ranker.predict_scores(train)).all()


def test_pointwise_objective_with_multiclass_scores_is_expected_grade(data):
    """Oracle: multiclass ranking score = sum_k k * P(k) from LightGBM's own probabilities."""
    train, valid, test = data
    if "multiclass" not in available_objectives():
        pytest.skip("no multiclass objective registered")
    ranker = Ranker(objective="multiclass", n_estimators=10, early_stopping_rounds=None, n_jobs=1).fit(train, valid)
    proba = ranker.model_.predict(test.X)
    np.testing.assert_allclose(ranker.predict_scores(test), proba @ np.arange(proba.shape[1]), rtol=1e-12)


# -- bad input -------------------------------------------------------------------------------------------

def test_nan_labels_are_refused(data):
    train = data[0]
    y = train.labels.copy()
    y[5] = np.nan
    bad = RankingDataset(train.X, y, train.qids, train.docids, train.feature_names, name="bad")
    with pytest.raises(LabelError, match=r"bad \(train\) has 1 rows with NaN .* query 'tr0', docid 'd5'"):
        Ranker(n_estimators=2, n_jobs=1).fit(bad)
    with pytest.raises(LabelError, match=r"bad \(valid\)"):
        Ranker(n_estimators=2, n_jobs=1).fit(train, bad)


def test_labels_of_the_wrong_kind_are_refused_by_the_objective():
    """Real-valued labels for LightGBM's lambdarank: the objective's LabelError, never a silent cast."""
    train = make_dataset(10, labels="real", seed=3)
    with pytest.raises(LabelError, match="lambdarank"):
        Ranker(objective="lambdarank", n_estimators=2, n_jobs=1).fit(train)


def test_single_document_query_refused_for_pairwise_but_fine_for_pointwise(data):
    train = data[0]
    keep = np.r_[0, np.arange(train.group_sizes[0], len(train))]     # query tr0 reduced to one row
    one = train.take(keep)
    with pytest.raises(GroupError, match=r"1 queries with a single document \(first: 'tr0'\); the .* objective "
                                         r"'?ranknet"):
        Ranker(objective="ranknet", n_estimators=2, n_jobs=1).fit(one)
    Ranker(objective="regression", n_estimators=2, n_jobs=1).fit(one)


def test_validation_features_must_equal_training_features(data):
    train, valid, _ = data
    renamed = RankingDataset(valid.X, valid.labels, valid.qids, valid.docids,
                             valid.feature_names[:-1] + ["other"], name="v")
    with pytest.raises(FeatureMismatchError, match=r"validation features differ from the 8 training features: "
                                                   r"missing \['feat_7'\]; unexpected \['other'\]"):
        Ranker(n_estimators=2, n_jobs=1).fit(train, renamed)
    swapped = RankingDataset(valid.X, valid.labels, valid.qids, valid.docids,
                             ["feat_1", "feat_0"] + valid.feature_names[2:], name="v")
    with pytest.raises(FeatureMismatchError, match=r"different order \(position 0: expected 'feat_0', got 'feat_1'\)"):
        Ranker(n_estimators=2, n_jobs=1).fit(train, swapped)


def test_prediction_features_are_checked(data):
    train, _, test = data
    ranker = Ranker(n_estimators=3, n_jobs=1).fit(train)
    with pytest.raises(FeatureMismatchError, match=r"prediction frame lacks 1 feature column\(s\) seen at fit "
                                                   r"time: \['feat_3'\]"):
        ranker.predict(test.to_frame().drop(columns=["feat_3"]))
    narrow = RankingDataset(test.X[:, :7], test.labels, test.qids, test.docids, test.feature_names[:7])
    with pytest.raises(FeatureMismatchError, match=r"missing \['feat_7'\]"):
        ranker.predict(narrow)
    with pytest.raises(SchemaError, match="RankingDataset or a FEATURES DataFrame"):
        ranker.predict(test.X)


def test_unknown_objective_and_backend_list_the_valid_names(data):
    with pytest.raises(UnknownNameError, match=r"Unknown objective 'lambdamart'\. Choose from \[.*'lambdarank'"):
        Ranker(objective="lambdamart", n_jobs=1).fit(data[0])
    with pytest.raises(UnknownNameError, match=r"Unknown backend 'catboost'\. Choose from \['lightgbm', 'xgboost'\]"):
        Ranker(objective="lambdarank", backend="catboost", n_jobs=1).fit(data[0])


@pytest.mark.parametrize("kwargs,message", [
    ({"learning_rate": -1.0}, r"The 'learning_rate' parameter of Ranker must be a float > 0\. Got -1\.0 instead\."),
    ({"n_estimators": 0}, r"The 'n_estimators' parameter of Ranker must be an int >= 1\. Got 0 instead\."),
    ({"subsample": 1.5}, r"'subsample' parameter of Ranker must be a float in \(0, 1\]"),
    ({"params": {"objective": "binary"}}, r"set by the Ranker itself; use Ranker\(objective=\.\.\.\)"),
    ({"backend": "xgboost", "num_leaves": 63}, r"Ranker\(num_leaves=63\) has no XGBoost equivalent"),
])
def test_bad_settings_are_config_errors(data, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Ranker(n_estimators=kwargs.pop("n_estimators", 2), **kwargs, n_jobs=1).fit(data[0])


def test_unknown_metric_is_refused(data):
    with pytest.raises(UnknownNameError):
        Ranker(n_estimators=2, eval_metric="nDGC@10", n_jobs=1).fit(*data[:2])


def test_predict_before_fit():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        Ranker(n_jobs=1).predict(make_dataset(2))


def test_eval_metric_is_our_metric_on_the_validation_set(data):
    """Oracle: ltr.metrics' compute on the validation scores of the model truncated at each iteration."""
    train, valid, _ = data
    ranker = Ranker(objective="lambdarank", n_estimators=12, early_stopping_rounds=None,
                    eval_metric=["nDCG@5", "AP"], n_jobs=1).fit(train, valid)
    for t in (1, 6, 12):
        scores = ranker.model_.predict(valid.X, num_iteration=t)
        for name in ("nDCG@5", "AP"):
            expected = parse_metric(name).compute(valid.labels, scores, valid.group_sizes).mean()
            assert ranker.evals_result_["valid"][name][t - 1] == pytest.approx(expected, abs=1e-12)


# -- the estimator contract -----------------------------------------------------------------------------------

def test_ranker_takes_keyword_arguments_only():
    """As LightGBM's LGBMRanker and scikit-learn's estimators: a positional objective is a TypeError."""
    with pytest.raises(TypeError, match="positional argument"):
        Ranker("lambdarank")
    with pytest.raises(TypeError):
        Ranker("lambdarank", "xgboost")
    assert Ranker(objective="ranknet", backend="xgboost").get_params()["backend"] == "xgboost"


def test_set_params_after_fit_does_not_change_the_fitted_model(data, tmp_path):
    """Oracle: the same model's scores, importances and saved folder before set_params. Before, predict read the
    hyperparameter self.backend, so set_params(backend='xgboost') made predict_scores fail with a TypeError."""
    train, valid, test = data
    ranker = Ranker(objective="lambdarank", n_estimators=15, n_jobs=1).fit(train, valid)
    scores, gain = ranker.predict_scores(test), ranker.feature_importances_
    ranker.set_params(backend="xgboost", objective="ranknet", n_estimators=3)
    assert ranker.backend_.name == "lightgbm" and repr(ranker.objective_) == "lambdarank"
    np.testing.assert_array_equal(ranker.predict_scores(test), scores)
    assert ranker.feature_importances_.equals(gain)
    ranker.save(tmp_path / "m")
    loaded = Ranker.load(tmp_path / "m")
    assert (loaded.backend, loaded.objective, loaded.n_estimators) == ("lightgbm", "lambdarank", 15)
    np.testing.assert_array_equal(loaded.predict_scores(test), scores)
    assert ranker.versions()["lightgbm"] == lgb.__version__


def test_not_fitted_error_is_scikit_learns_and_check_is_fitted_works(data):
    """Oracle: scikit-learn's own NotFittedError and check_is_fitted."""
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError
    from sklearn.utils.validation import check_is_fitted
    assert issubclass(NotFittedError, SklearnNotFittedError)
    with pytest.raises(SklearnNotFittedError, match="not fitted yet"):
        Ranker(n_jobs=1).predict_scores(make_dataset(2))
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(Ranker(n_jobs=1))
    ranker = Ranker(n_estimators=2, n_jobs=1).fit(data[0])
    check_is_fitted(ranker)
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(clone(ranker))


def test_feature_names_in_and_the_deprecated_alias(data):
    """scikit-learn's name: feature_names_in_ is an object ndarray of the training features, in order."""
    train = data[0]
    ranker = Ranker(n_estimators=2, n_jobs=1).fit(train)
    assert ranker.feature_names_in_.dtype == object and list(ranker.feature_names_in_) == train.feature_names
    assert ranker.n_features_in_ == train.n_features
    with pytest.warns(FutureWarning, match="use feature_names_in_"):
        assert ranker.feature_names_ == train.feature_names


def test_readme_training_snippet_runs_as_written(capsys):
    """The README's training section (weights per query, subsampling by query, callbacks) runs as written."""
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Training: defaults, weights, subsampling, callbacks", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "README.md", "exec"), {})
    best, backend, metrics = capsys.readouterr().out.split(maxsplit=2)
    assert int(best) >= 1 and backend == "lightgbm" and metrics.strip() == "['nDCG@10', 'nDCG@5']"
