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
