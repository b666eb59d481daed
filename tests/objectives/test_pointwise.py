"""Pointwise objectives: gradients vs finite differences and vs LightGBM's own binary/regression/multiclass."""

from __future__ import annotations

import numpy as np
import pytest

from ltr.errors import DataError, LabelError
from ltr.objectives import get_objective


def _loss(name, y, s):
    if name == "regression":
        return 0.5 * np.sum((s - y) ** 2)
    if name == "binary":
        return np.sum(np.logaddexp(0, s) - y * s)
    z = s - s.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -np.sum(logp[np.arange(len(y)), y.astype(int)])


@pytest.mark.parametrize("name", ["regression", "binary", "multiclass"])
def test_gradient_matches_finite_differences(name):
    """Oracle: central differences of the loss written out in _loss (squared error, logistic, softmax CE)."""
    rng = np.random.default_rng(0)
    n = 12
    y = rng.integers(0, 3 if name == "multiclass" else 2, size=n).astype(float)
    if name == "regression":
        y = rng.normal(size=n)
    s = rng.normal(size=(n, 3) if name == "multiclass" else n)
    g, h = get_objective(name).grad_hess(y, s, [5, 7])
    fd = np.zeros_like(s)
    eps = 1e-6
    for idx in np.ndindex(s.shape):
        up, down = s.copy(), s.copy()
        up[idx] += eps
        down[idx] -= eps
        fd[idx] = (_loss(name, y, up) - _loss(name, y, down)) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    if name == "binary":   # hessian = exact second derivative
        p = 1 / (1 + np.exp(-s))
        np.testing.assert_allclose(h, p * (1 - p), rtol=1e-12)
    if name == "multiclass":   # LightGBM's K/(K-1) scaling of the diagonal p(1-p)
        z = np.exp(s - s.max(axis=1, keepdims=True))
        p = z / z.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(h, 1.5 * p * (1 - p), rtol=1e-12)


@pytest.mark.parametrize("name", ["regression", "binary", "multiclass"])
def test_lightgbm_builtin_equals_our_gradient(name):
    """Oracle: LightGBM's own objective; one round from random init scores equals one round of our grad_hess."""
    lgb = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(1)
    n = 300
    X = rng.normal(size=(n, 4))
    raw = rng.integers(0, 3, size=n).astype(float) if name != "regression" else rng.normal(size=n)
    obj = get_objective(name)
    obj.check_labels(raw, [n], backend="lightgbm")
    y = obj.transform_labels(raw, backend="lightgbm")
    k = 3 if name == "multiclass" else 1
    init = rng.normal(size=(n, k)) if k > 1 else rng.normal(size=n)
    base = {"learning_rate": 1.0, "num_leaves": 6, "min_data_in_leaf": 1, "min_sum_hessian_in_leaf": 0.0,
            "lambda_l2": 0.0, "num_threads": 1, "deterministic": True, "force_row_wise": True, "verbose": -1,
            "boost_from_average": False}
    native = obj.backend_params("lightgbm", labels=raw, group_sizes=[n])
    built_in = lgb.train({**base, **native}, lgb.Dataset(X, label=y, init_score=init), num_boost_round=1)

    def fobj(preds, dataset):
        return obj.grad_hess(dataset.get_label(), preds, [n])

    extra = {"num_class": native["num_class"]} if k > 1 else {}
    custom = lgb.train({**base, **extra, "objective": fobj}, lgb.Dataset(X, label=y, init_score=init),
                       num_boost_round=1)
    a = built_in.predict(X, raw_score=True)
    b = custom.predict(X, raw_score=True)
    assert np.abs(a).max() > 1e-3
    np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-7)


def test_multiclass_grad_hess_input_checks():
    obj = get_objective("multiclass")
    with pytest.raises(DataError, match=r"needs scores of shape \(n_samples, num_class\)"):
        obj.grad_hess(np.zeros(3), np.zeros(3), [3])
    with pytest.raises(LabelError, match=r"label 3 in query #0 \(rows 0..2\), row 2 is not a grade 0..2"):
        obj.grad_hess(np.array([0.0, 1.0, 3.0]), np.zeros((3, 3)), [3])


def test_rank_xendcg_has_no_reference_gradient():
    """LightGBM's XE-NDCG is randomised by generators ltr cannot replay: say so instead of guessing."""
    with pytest.raises(NotImplementedError, match=r"rank_xendcg has no reference gradient"):
        get_objective("rank_xendcg").grad_hess(np.zeros(2), np.zeros(2), [2])
