"""The objectives for learning from clicks (ltr.objectives.unbiased): gradients, IPS labels, and the
reference Unbiased LambdaMART against XGBoost's own lambdarank_unbiased, iteration by iteration."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ltr.errors import ConfigError, DataError
from ltr.objectives import get_objective
from ltr.objectives.unbiased import (bias_to_propensity, ips_labels, ips_ranknet_grad_hess,
                                     unbiased_lambdamart_step)
from ltr.ranking import ClickCounts


def _fd_grad(loss, s, eps=1e-6):
    g = np.zeros_like(s)
    for i in range(len(s)):
        e = np.zeros_like(s)
        e[i] = eps
        g[i] = (loss(s + e) - loss(s - e)) / (2 * eps)
    return g


@pytest.mark.parametrize("spec", ["ips_binary", "ips_ranknet", "ips_ranknet(pairs='unclicked')",
                                  "ips_ranknet(sigma=2.5)"])
def test_gradient_and_hessian_match_finite_differences(spec):
    """Oracle: central finite differences of the objective's own loss (gradient) and of its gradient
    (the diagonal of the Hessian); IPS labels above 1 and exact zeros included."""
    obj = get_objective(spec)
    rng = np.random.default_rng(3)
    sizes = np.array([4, 1, 6])
    y = np.where(rng.random(11) < 0.5, 0.0, rng.random(11) * 2.5)
    s = rng.normal(size=11)
    if obj.family == "pointwise":
        loss = lambda z: obj.loss(y, z)          # noqa: E731
    else:
        loss = lambda z: obj.loss(y, z, sizes)   # noqa: E731
    g, h = obj.grad_hess(y, s, sizes)
    np.testing.assert_allclose(g, _fd_grad(loss, s), rtol=1e-6, atol=1e-7)
    hd = np.array([(obj.grad_hess(y, s + eps_i, sizes)[0][i] - obj.grad_hess(y, s - eps_i, sizes)[0][i]) / 2e-6
                   for i, eps_i in enumerate(np.eye(11) * 1e-6)])
    np.testing.assert_allclose(h, hd, rtol=1e-5, atol=1e-7)


def test_ips_ranknet_numba_kernel_equals_the_python_loop():
    """Oracle: the same kernel run as plain Python (no numba)."""
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 30, size=40)
    n = int(sizes.sum())
    y = np.where(rng.random(n) < 0.6, 0.0, rng.random(n))
    s = rng.normal(size=n) * 3
    off = np.r_[0, np.cumsum(sizes)]
    for unclicked in (False, True):
        a = ips_ranknet_grad_hess(y, s, off, 1.3, unclicked, use_numba=True)
        b = ips_ranknet_grad_hess(y, s, off, 1.3, unclicked, use_numba=False)
        np.testing.assert_allclose(a[0], b[0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(a[1], b[1], rtol=1e-12, atol=1e-14)


def test_ips_labels_by_hand_clipping_and_snips():
    """Oracle: the formula evaluated by hand on two queries (positions 1..3, propensities 1, 1/2, 1/4)."""
    C = np.array([[3, 1, 0], [0, 1, 1], [0, 0, 0], [2, 0, 0]])
    N = np.array([[10, 4, 0], [0, 6, 8], [5, 0, 0], [4, 0, 0]])
    counts = ClickCounts(C, N, np.array([1.0, 0.5, 0.25]))
    y = ips_labels(counts, [3, 1])
    np.testing.assert_allclose(y, [(3 + 2) / 14, (2 + 4) / 14, 0.0, 0.5])
    y_clip = ips_labels(counts, [3, 1], clip=0.5)
    np.testing.assert_allclose(y_clip, [(3 + 2) / 14, (2 + 2) / 14, 0.0, 0.5])
    y_sn = ips_labels(counts, [3, 1], snips=True)
    # query 1: 6 clicks, IPS-weighted 3 + 2 + 2 + 4 = 11 -> scale 6/11; query 2: 2 clicks / 2 -> 1
    np.testing.assert_allclose(y_sn, [5 / 14 * 6 / 11, 6 / 14 * 6 / 11, 0.0, 0.5])
    with pytest.raises(DataError, match="needs propensities"):
        ips_labels(ClickCounts(C, N), [3, 1])
    with pytest.raises(DataError, match="propensity of position 3 is 0"):
        ips_labels(ClickCounts(C, N, np.array([1.0, 0.5, 0.0])), [3, 1])
    with pytest.raises(ConfigError, match=r"'clip' parameter .* must be None \(no clipping\) or a float in \(0, 1\]"):
        get_objective("ips_binary(clip=0)")


def test_bias_to_propensity_undoes_the_exponent():
    t = np.array([1.0, 0.5, 0.25]) ** (1 / 3)
    np.testing.assert_allclose(bias_to_propensity(t, 2.0), [1.0, 0.5, 0.25])


def _impressions(n_serps=300, width=8, seed=0):
    """A per-impression click set from PBM users on fixed rankings: features drive relevance."""
    rng = np.random.default_rng(seed)
    n = n_serps * width
    X = rng.normal(size=(n, 4)).astype(np.float32)
    attr = 1 / (1 + np.exp(-(2 * X[:, 0] - 1)))
    exam = np.tile((1.0 / np.arange(1, width + 1)), n_serps)
    y = (rng.random(n) < attr * exam).astype(np.float64)
    return X, y, np.full(n_serps, width)


def _xgb_run(X, y, sizes, rounds, params):
    xgb = pytest.importorskip("xgboost")
    dm = xgb.DMatrix(X, label=y)
    dm.set_group(sizes.astype(np.uint32))
    configs, margins = [], []

    class Capture(xgb.callback.TrainingCallback):
        def before_iteration(self, model, epoch, evals_log):
            margins.append(model.predict(dm, output_margin=True) if epoch > 0 else None)
            return False

        def after_iteration(self, model, epoch, evals_log):
            configs.append(json.loads(model.save_config())["learner"]["objective"])
            return False

    booster = xgb.train({"objective": "rank:ndcg", "lambdarank_unbiased": True, "lambdarank_pair_method": "topk",
                         "nthread": 1, "tree_method": "hist", "eta": 0.3, "max_depth": 4, **params}, dm,
                        num_boost_round=rounds, callbacks=[Capture()])
    return booster, configs, margins


@pytest.mark.parametrize("params", [
    {"lambdarank_num_pair_per_sample": 8, "lambdarank_bias_norm": 0.0},
    {"lambdarank_num_pair_per_sample": 5, "lambdarank_bias_norm": 1.0},           # XGBoost 3.2's default norm
    {"lambdarank_num_pair_per_sample": 8, "lambdarank_bias_norm": 2.0, "lambdarank_score_normalization": False,
     "lambdarank_normalization": False},
])
def test_reference_biases_equal_xgboost_iteration_by_iteration(params):
    """Oracle: XGBoost 3.2's own lambdarank_unbiased. At every iteration r the reference's bias update,
    fed XGBoost's margins before tree r and XGBoost's biases after iteration r - 1, gives XGBoost's
    ti+ / tj- after iteration r (saved as float32 in save_config: tolerance 2e-6 relative)."""
    X, y, sizes = _impressions()
    booster, configs, margins = _xgb_run(X, y, sizes, 6, params)
    k = params["lambdarank_num_pair_per_sample"]
    tp, tm = np.ones(k), np.ones(k)
    base = float(json.loads(booster.save_config())["learner"]["learner_model_param"]["base_score"].strip("[]"))
    for r in range(6):
        scores = np.full(len(y), base) if margins[r] is None else margins[r]
        _, _, tp, tm = unbiased_lambdamart_step(
            y, scores, sizes, tp, tm, topk=k, bias_norm=params["lambdarank_bias_norm"],
            score_normalization=params.get("lambdarank_score_normalization", True),
            normalization=params.get("lambdarank_normalization", True))
        np.testing.assert_allclose(tp, configs[r]["ti+"], rtol=2e-6, atol=1e-7, err_msg=f"ti+ at iteration {r}")
        np.testing.assert_allclose(tm, configs[r]["tj-"], rtol=2e-6, atol=1e-7, err_msg=f"tj- at iteration {r}")
        tp, tm = np.asarray(configs[r]["ti+"], float), np.asarray(configs[r]["tj-"], float)


def test_reference_gradient_trains_what_xgboost_trains():
    """Oracle: XGBoost. One tree of the reference's gradient as XGBoost's custom objective equals one tree
    of the native lambdarank_unbiased (same first-iteration gradient, biases 1)."""
    xgb = pytest.importorskip("xgboost")
    X, y, sizes = _impressions(n_serps=120)
    obj = get_objective("lambdarank_unbiased(truncation_level=8)")
    common = {"nthread": 1, "tree_method": "hist", "eta": 0.3, "max_depth": 3, "base_score": 0.0}
    dm = xgb.DMatrix(X, label=y)
    dm.set_group(sizes.astype(np.uint32))
    native = xgb.train({**common, **obj.backend_params("xgboost")}, dm, num_boost_round=1)

    def custom(predt, dmatrix):
        return obj.grad_hess(y, predt, sizes)

    ours = xgb.train({**common, "objective": "reg:squarederror"}, dm, num_boost_round=1, obj=custom)
    np.testing.assert_allclose(ours.predict(dm, output_margin=True), native.predict(dm, output_margin=True),
                               rtol=1e-5, atol=1e-6)


def test_unbiased_lambdamart_numba_equals_python():
    """Oracle: the same kernel as plain Python."""
    X, y, sizes = _impressions(n_serps=40)
    s = np.random.default_rng(1).normal(size=len(y))
    tp = np.linspace(1, 0.3, 8)
    tm = np.linspace(1, 0.6, 8)
    a = unbiased_lambdamart_step(y, s, sizes, tp, tm, topk=8, bias_norm=0.0, use_numba=True)
    b = unbiased_lambdamart_step(y, s, sizes, tp, tm, topk=8, bias_norm=0.0, use_numba=False)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-15)


def test_objective_identities_and_backends():
    assert repr(get_objective("ips_ranknet(clip=0.05, snips=True)")) == "ips_ranknet(clip=0.05, snips=True)"
    assert get_objective("lambdarank_unbiased").backend_params("xgboost")["lambdarank_unbiased"] is True
    assert get_objective("lambdarank_unbiased").is_custom("lightgbm")
    assert not get_objective("lambdarank_unbiased").is_custom("xgboost")
    with pytest.raises(ConfigError, match="not available on xgboost"):
        get_objective("lambdarank_position").check_backend("xgboost")
    with pytest.raises(ConfigError, match="cost='paper' is ltr's reference only"):
        get_objective("lambdarank_unbiased(cost='paper')").check_backend("xgboost")
