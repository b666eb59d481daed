"""Introspection: pair counts and the per-iteration recorder (Ranker(record=True))."""

from __future__ import annotations

import numpy as np
import pytest

from ltr.models import DEFAULT_EVAL_METRIC, Ranker, pair_counts
from ltr.objectives import get_objective


def _pairs_slow(labels, scores, sizes, truncation):
    """Slow loop oracle: every pair of one query; effective if labels differ and one is in the top T."""
    total = disc = eff = 0
    start = 0
    for n in sizes:
        y, s = labels[start:start + n], scores[start:start + n]
        order = sorted(range(n), key=lambda i: (-s[i], i))          # descending, ties in row order
        rank = {doc: r for r, doc in enumerate(order)}
        for i in range(n):
            for j in range(i + 1, n):
                total += 1
                if y[i] != y[j]:
                    disc += 1
                    if truncation is None or min(rank[i], rank[j]) < truncation:
                        eff += 1
        start += n
    return total, disc, eff


@pytest.mark.parametrize("truncation", [None, 1, 3, 50])
def test_pair_counts_equal_a_slow_loop(truncation):
    """Oracle: the slow pair loop above, on random groups with tied scores and real-valued labels."""
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 12, size=40)
    n = int(sizes.sum())
    labels = rng.choice([0.0, 0.5, 1.0, 2.0], size=n)
    scores = rng.integers(0, 4, size=n).astype(np.float64)            # many ties
    assert pair_counts(labels, scores, sizes, truncation) == _pairs_slow(labels, scores, sizes, truncation)


@pytest.mark.parametrize("objective,backend", [("ranknet", "lightgbm"), ("lambdarank", "lightgbm"),
                                               ("lambdarank", "xgboost")])
def test_recorder_history(data, objective, backend):
    """Oracle: mean |lambda| recomputed from scratch with the objective's grad_hess at the raw training scores
    of the model truncated to t trees (the backend's own prediction), and the metric curves of
    evals_result_."""
    train, valid, _ = data
    ranker = Ranker(objective=objective, backend=backend, n_estimators=20, early_stopping_rounds=None, record=True,
                    n_jobs=1).fit(train, valid)
    hist = ranker.history_
    assert hist["iteration"].tolist() == list(range(1, 21))
    metric = DEFAULT_EVAL_METRIC
    assert hist[f"valid:{metric}"].tolist() == ranker.evals_result_["valid"][metric]
    assert hist[f"train:{metric}"].tolist() == ranker.evals_result_["train"][metric]
    obj = get_objective(objective)
    y = obj.transform_labels(train.labels, backend=backend)
    for t in (1, 10, 20):
        if backend == "lightgbm":
            raw = ranker.model_.predict(train.X, num_iteration=t, raw_score=True)
        else:
            import xgboost as xgb
            raw = ranker.model_.predict(xgb.DMatrix(train.X), iteration_range=(0, t), output_margin=True)
        grad, _ = obj.grad_hess(y, raw, train.group_sizes)
        assert hist["mean_abs_lambda"].iloc[t - 1] == pytest.approx(np.mean(np.abs(grad)), rel=1e-6)
        trunc = obj.params.get("truncation_level")
        assert tuple(hist[["pairs", "pairs_discordant", "pairs_effective"]].iloc[t - 1]) == \
            pair_counts(y, raw, train.group_sizes, trunc)
    source = hist.attrs["lambda_source"]
    if obj.is_custom(backend):
        assert "trained on" in source
    else:
        assert "recomputed by ltr's reference implementation" in source and "not read" in source


def test_recorder_on_a_multiclass_objective(data):
    """Multi-output scores: no mean |lambda| (said so), pairs counted on the expected grade, whose
    oracle is LightGBM's own class probabilities after t trees."""
    train, valid, _ = data
    ranker = Ranker(objective="multiclass", n_estimators=5, early_stopping_rounds=None, record=True,
                    n_jobs=1).fit(train, valid)
    hist = ranker.history_
    assert hist["mean_abs_lambda"].isna().all()
    assert hist.attrs["lambda_source"].startswith("not available")
    proba = ranker.model_.predict(train.X, num_iteration=5)
    expected = proba @ np.arange(proba.shape[1])
    counts = pair_counts(train.labels, expected, train.group_sizes, None)
    assert tuple(hist[["pairs", "pairs_discordant", "pairs_effective"]].iloc[-1]) == counts


# -- the public training callbacks ----------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["lightgbm", "xgboost"])
def test_user_callback_sees_every_iteration_and_can_stop_training(data, backend):
    """A plain function receives a CallbackEnv after each iteration, on either backend, with ltr's metric on the
    validation set; raising EarlyStopException stops training and sets the iteration predictions use. Oracle:
    the recorded values are evals_result_, and the model predicts with best_iteration + 1 trees."""
    from ltr.models.callbacks import CallbackEnv, EarlyStopException
    train, valid, test = data
    seen = []

    def spy(env):
        assert isinstance(env, CallbackEnv) and env.backend == backend
        assert (env.begin_iteration, env.end_iteration) == (0, 30)
        seen.append((env.iteration, [r.metric_value for r in env.evaluation_result_list]))
        if env.iteration == 7:
            raise EarlyStopException(4, env.evaluation_result_list)

    ranker = Ranker(objective="lambdarank", backend=backend, n_estimators=30, early_stopping_rounds=None,
                    n_jobs=1).fit(train, valid, callbacks=[spy])
    assert [i for i, _ in seen] == list(range(8))
    # a plain function runs before the built-in record_evaluation (order 20), so the iteration it stopped at
    # is not recorded (LightGBM's order)
    assert [v[0] for _, v in seen[:-1]] == ranker.evals_result_["valid"][DEFAULT_EVAL_METRIC]
    assert ranker.best_iteration_ == 5
    expected = (ranker.model_.predict(test.X, num_iteration=5) if backend == "lightgbm"
                else ranker.model_.predict(__import__("xgboost").DMatrix(test.X), iteration_range=(0, 5)))
    np.testing.assert_array_equal(ranker.predict_scores(test), expected)


@pytest.mark.parametrize("backend", ["lightgbm", "xgboost"])
def test_early_stopping_callback_equals_early_stopping_rounds(data, backend):
    """Oracle: Ranker(early_stopping_rounds=k), itself equal to the backends' own early stopping (test_ranker's
    parity tests). early_stopping(k, metric=...) on another metric stops by that metric instead."""
    from ltr.models.callbacks import early_stopping, record_evaluation
    train, valid, test = data
    kw = dict(objective="lambdarank", backend=backend, n_estimators=80, n_jobs=1, eval_metric=["nDCG@10", "AP"])
    builtin = Ranker(early_stopping_rounds=8, **kw).fit(train, valid)
    curves: dict = {}
    ours = Ranker(early_stopping_rounds=None, **kw).fit(train, valid, callbacks=[early_stopping(8),
                                                                                 record_evaluation(curves)])
    assert ours.best_iteration_ == builtin.best_iteration_
    np.testing.assert_array_equal(ours.predict_scores(test), builtin.predict_scores(test))
    assert curves == ours.evals_result_
    by_ap = Ranker(early_stopping_rounds=None, **kw).fit(train, valid, callbacks=[early_stopping(8, metric="AP")])
    ap = by_ap.evals_result_["valid"]["AP"]
    best = int(np.argmax(ap))             # the first best value (strictly better values only reset)
    assert by_ap.best_iteration_ == best + 1 and len(ap) == min(80, best + 1 + 8)


def test_callback_order_and_before_iteration(data):
    """Callbacks run by ``order`` (plain functions first, in the order given); before_iteration callbacks run
    before the tree with no evaluation results."""
    from ltr.models.callbacks import log_evaluation
    train, valid, _ = data
    calls = []

    class Late:
        order, before_iteration = 99, False

        def __call__(self, env):
            calls.append(("late", env.iteration))

    class Before:
        order, before_iteration = 0, True

        def __call__(self, env):
            assert env.evaluation_result_list == []
            calls.append(("before", env.iteration))

    import io
    stream = io.StringIO()
    Ranker(n_estimators=2, early_stopping_rounds=None, n_jobs=1).fit(
        train, valid, callbacks=[Late(), lambda env: calls.append(("first", env.iteration)), Before(),
                                 log_evaluation(1, stream=stream)])
    assert calls == [("before", 0), ("first", 0), ("late", 0), ("before", 1), ("first", 1), ("late", 1)]
    assert stream.getvalue().startswith(f"[1]\tvalid's {DEFAULT_EVAL_METRIC}: ")


def test_bad_callbacks_fail_before_training(data):
    from ltr.errors import ConfigError
    from ltr.models.callbacks import early_stopping
    train, valid, _ = data
    with pytest.raises(ConfigError, match=r"early_stopping\(metric='nDCG@5'\) is not among the evaluated metrics"):
        Ranker(n_jobs=1).fit(train, valid, callbacks=[early_stopping(5, metric="nDCG@5")])
    with pytest.raises(ConfigError, match=r"takes a list of callables"):
        Ranker(n_jobs=1).fit(train, valid, callbacks=early_stopping(5))
    with pytest.raises(ConfigError, match=r"'stopping_rounds' parameter of early_stopping must be an int >= 1"):
        early_stopping(0)
    with pytest.raises(ConfigError, match=r"takes no callbacks"):
        Ranker(n_jobs=1, cluster="local").fit(train, valid, callbacks=[early_stopping(5)])
