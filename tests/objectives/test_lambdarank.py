"""LambdaRank: our reference (lambdarank_ref) against a slow loop, numba vs numpy, and LightGBM's own lambdarank."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ltr.errors import ConfigError
from ltr.objectives import default_label_gain, get_objective, lambdarank_numpy, lightgbm_sigmoid
from ltr.objectives.base import offsets_of
from tests.objectives.helpers import random_groups


def slow_lambdarank(labels, scores, sizes, truncation_level=30, norm=True, sigma=1.0, gain=None):
    """A loop-by-loop transcription of LightGBM 4's LambdarankNDCG::GetGradientsForOneQuery, with the
    smooth logistic function (LightGBM reads a 2^20-bin table; compared at 1e-4 below)."""
    gain = gain or [2.0 ** i - 1 for i in range(31)]
    grad = np.zeros(len(labels))
    hess = np.zeros(len(labels))
    start = 0
    for cnt in sizes:
        lab = labels[start:start + cnt]
        sc = scores[start:start + cnt]
        order = sorted(range(cnt), key=lambda k: -sc[k])                     # stable
        ideal = sorted(lab, reverse=True)[:truncation_level]
        max_dcg = sum(gain[int(v)] / math.log2(2 + k) for k, v in enumerate(ideal))
        inv = 1.0 / max_dcg if max_dcg > 0 else 0.0
        best, worst = sc[order[0]], sc[order[-1]]
        lam = [0.0] * cnt
        hes = [0.0] * cnt
        total = 0.0
        for i in range(min(cnt - 1, truncation_level)):
            for j in range(i + 1, cnt):
                if lab[order[i]] == lab[order[j]]:
                    continue
                hr, lr = (i, j) if lab[order[i]] > lab[order[j]] else (j, i)
                high, low = order[hr], order[lr]
                ds = sc[high] - sc[low]
                delta = (gain[int(lab[high])] - gain[int(lab[low])]) * abs(
                    1 / math.log2(2 + hr) - 1 / math.log2(2 + lr)) * inv
                if norm and best != worst:
                    delta /= 0.01 + abs(ds)
                rho = 1.0 / (1.0 + math.exp(sigma * ds))
                pl = -sigma * delta * rho
                ph = sigma * sigma * delta * rho * (1 - rho)
                lam[low] -= pl
                hes[low] += ph
                lam[high] += pl
                hes[high] += ph
                total -= 2 * pl
        f = math.log2(1 + total) / total if norm and total > 0 else 1.0
        grad[start:start + cnt] = np.array(lam) * f
        hess[start:start + cnt] = np.array(hes) * f
        start += cnt
    return grad, hess


def test_sigmoid_table_matches_lightgbm_construction():
    """Oracle: LightGBM's ConstructSigmoidTable/GetSigmoid written out for a few inputs, incl. both clamps."""
    sigma = 1.0
    lo, bins = -25.0, 1024 * 1024
    factor = bins / 50.0
    for x in [-30.0, -25.0, -1.234567, 0.0, 1e-9, 3.3, 24.99999, 25.0, 40.0]:
        if x <= lo:
            i = 0
        elif x >= -lo:
            i = bins - 1
        else:
            i = int((x - lo) * factor)
        expected = 1.0 / (1.0 + math.exp((i / factor + lo) * sigma))
        assert lightgbm_sigmoid(x, sigma) == expected
    assert abs(lightgbm_sigmoid(0.7, 1.0) - 1 / (1 + math.exp(0.7))) < 1e-4


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("params", [{}, {"truncation_level": 3}, {"norm": False}, {"sigmoid": 2.0},
                                    {"truncation_level": 1, "norm": False}])
def test_reference_matches_slow_loop_and_numba(seed, params):
    """Oracles: slow_lambdarank (smooth sigmoid: 1e-4) and numpy vs numba (same table: 1e-12)."""
    labels, scores, sizes = random_groups(seed, tie_scores=seed == 2)
    spec = "lambdarank_ref(" + ", ".join(f"{k}={v!r}" for k, v in params.items()) + ")"
    obj = get_objective(spec)
    g_np, h_np = obj.grad_hess(labels, scores, sizes, use_numba=False)
    g_nb, h_nb = obj.grad_hess(labels, scores, sizes)
    np.testing.assert_allclose(g_nb, g_np, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h_nb, h_np, rtol=1e-12, atol=1e-14)
    g_slow, h_slow = slow_lambdarank(labels, scores, sizes, truncation_level=obj.truncation_level,
                                     norm=obj.norm, sigma=obj.sigmoid)
    np.testing.assert_allclose(g_np, g_slow, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(h_np, h_slow, rtol=1e-4, atol=1e-6)
    assert np.abs(g_np).max() > 1e-3


def test_custom_label_gain_is_used():
    """Oracle: slow loop with a linear gain table; 40 grades are fine once label_gain has 41 entries."""
    rng = np.random.default_rng(4)
    sizes = np.array([8, 12, 5])
    labels = rng.integers(0, 41, size=sizes.sum()).astype(float)
    scores = rng.normal(size=sizes.sum())
    gain = tuple(float(i) for i in range(41))
    obj = get_objective(f"lambdarank_ref(label_gain={gain!r})")
    obj.check_labels(labels, sizes, backend="lightgbm")
    g, h = obj.grad_hess(labels, scores, sizes)
    g_slow, h_slow = slow_lambdarank(labels, scores, sizes, gain=list(gain))
    np.testing.assert_allclose(g, g_slow, rtol=1e-4, atol=1e-7)


def _lgb_one_round(X, labels, sizes, init, objective_params, extra=None):
    lgb = pytest.importorskip("lightgbm")
    params = {"learning_rate": 1.0, "num_leaves": 8, "min_data_in_leaf": 1, "min_sum_hessian_in_leaf": 0.0,
              "lambda_l2": 0.0, "num_threads": 1, "deterministic": True, "force_row_wise": True,
              "verbose": -1, "seed": 0, **objective_params, **(extra or {})}
    ds = lgb.Dataset(X, label=labels, group=sizes, init_score=init)
    booster = lgb.train(params, ds, num_boost_round=1)
    return booster


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("params", ["", "truncation_level=5", "norm=False", "sigmoid=1.7"])
def test_lightgbm_lambdarank_equals_our_reference(seed, params):
    """Oracle: LightGBM 4's built-in lambdarank, one round from random (partly tied) init scores.

    (1) LightGBM's leaf values are -sum(g)/sum(h) of OUR gradients over LightGBM's own leaves, and
    (2) LightGBM trained on our grad_hess as a custom objective grows the same tree (same predictions).
    """
    rng = np.random.default_rng(seed)
    labels, _, sizes = random_groups(seed, n_queries=30, max_size=40)
    X = rng.normal(size=(len(labels), 5))
    init = np.round(rng.normal(size=len(labels)), 1 if seed == 2 else 6)    # seed 2: many score ties
    obj = get_objective(f"lambdarank({params})")
    ref = get_objective(f"lambdarank_ref({params})")
    native = obj.backend_params("lightgbm", labels=labels, group_sizes=sizes)
    built_in = _lgb_one_round(X, labels, sizes, init, native)

    g, h = ref.grad_hess(labels, init, sizes)
    leaves = built_in.predict(X, pred_leaf=True).reshape(-1)
    values = built_in.predict(X, raw_score=True)
    for leaf in np.unique(leaves):
        rows = leaves == leaf
        np.testing.assert_allclose(values[rows], -g[rows].sum() / h[rows].sum(), rtol=1e-5, atol=1e-7)

    def fobj(preds, dataset):
        return ref.grad_hess(dataset.get_label(), preds, dataset.get_group())

    custom = _lgb_one_round(X, labels, sizes, init, {"objective": fobj})
    np.testing.assert_allclose(custom.predict(X, raw_score=True), values, rtol=1e-5, atol=1e-7)
    assert np.abs(values).max() > 1e-3


def test_lambdarank_grad_hess_is_lightgbm_reference():
    """The built-in's introspection gradient is our reference with the same parameters."""
    labels, scores, sizes = random_groups(3)
    a = get_objective("lambdarank(truncation_level=7)").grad_hess(labels, scores, sizes)
    b = get_objective("lambdarank_ref(truncation_level=7)").grad_hess(labels, scores, sizes)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_numpy_reference_is_exported():
    labels, scores, sizes = random_groups(6)
    g, h = lambdarank_numpy(labels, scores, offsets_of(sizes), default_label_gain())
    g2, _ = get_objective("lambdarank_ref").grad_hess(labels, scores, sizes, use_numba=False)
    assert np.array_equal(g, g2)


def test_xgboost_mapping_of_lambdarank():
    """The parameter mapping onto XGBoost rank:ndcg; parameters without an equivalent are refused there."""
    p = get_objective("lambdarank(truncation_level=10, norm=False)").backend_params("xgboost")
    assert p == {"objective": "rank:ndcg", "lambdarank_pair_method": "topk", "lambdarank_num_pair_per_sample": 10,
                 "lambdarank_normalization": False, "lambdarank_score_normalization": False,
                 "lambdarank_unbiased": False, "ndcg_exp_gain": True}
    assert get_objective("lambdarank(label_gain=(0, 1, 2, 3))").backend_params("xgboost")["ndcg_exp_gain"] is False
    with pytest.raises(ConfigError, match=r"label_gain: XGBoost offers only"):
        get_objective("lambdarank(label_gain=(0, 1, 5))").backend_params("xgboost")
    with pytest.raises(ConfigError, match=r"no sigmoid scale"):
        get_objective("lambdarank(sigmoid=2)").is_custom("xgboost")
    assert get_objective("lambdarank_map(threshold=1)").backend_params("xgboost")["objective"] == "rank:map"


def test_xgboost_rank_ndcg_trains_with_the_mapping():
    """Oracle: XGBoost accepts the mapped parameters and reports them back in its saved configuration."""
    xgb = pytest.importorskip("xgboost")
    import json
    labels, _, sizes = random_groups(2, n_queries=10, max_size=20)
    X = np.random.default_rng(0).normal(size=(len(labels), 3))
    d = xgb.DMatrix(X, label=labels)
    d.set_group(sizes)
    params = get_objective("lambdarank(truncation_level=12, norm=False)").backend_params("xgboost")
    booster = xgb.train({**params, "nthread": 1}, d, num_boost_round=1)
    got = json.loads(booster.save_config())["learner"]["objective"]["lambdarank_param"]
    assert got["lambdarank_num_pair_per_sample"] == "12"
    assert got["lambdarank_pair_method"] == "topk"
    assert got["lambdarank_normalization"] == "0" and got["lambdarank_score_normalization"] == "0"


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("params", ["", "truncation_level=5", "norm=False"])
def test_xgboost_rank_ndcg_is_our_reference_with_twice_the_hessian(seed, params):
    """Oracle: XGBoost 3's own rank:ndcg under our mapping, one round from random margins, equals XGBoost
    trained on our (LightGBM-convention) gradient with 2x our hessian, to float32/sigmoid-table precision."""
    xgb = pytest.importorskip("xgboost")
    rng = np.random.default_rng(seed)
    labels, _, sizes = random_groups(seed, n_queries=20, max_size=25)
    X = rng.normal(size=(len(labels), 4)).astype(np.float32)
    margin = rng.normal(size=len(labels)).astype(np.float32)
    obj = get_objective(f"lambdarank({params})")

    def one_round(extra, fobj=None):
        d = xgb.DMatrix(X, label=labels, base_margin=margin)
        d.set_group(sizes)
        p = {"eta": 1.0, "max_depth": 3, "reg_lambda": 0.0, "min_child_weight": 0.0, "nthread": 1,
             "tree_method": "exact", "base_score": 0.0, **extra}
        return xgb.train(p, d, num_boost_round=1, obj=fobj).predict(d, output_margin=True) - margin

    def ours(preds, dmat):
        g, h = obj.grad_hess(dmat.get_label(), preds, sizes)
        return g, 2.0 * h

    built_in = one_round(obj.backend_params("xgboost"))
    custom = one_round({}, ours)
    scale = np.abs(built_in).max()
    assert scale > 1e-2
    np.testing.assert_allclose(custom, built_in, rtol=1e-4, atol=1e-4 * scale)


def test_xgboost_pair_sampling_is_exposed():
    """Oracle: XGBoost's saved configuration shows the sampled-pairs method; LightGBM has no equivalent and
    ltr has no reference gradient for XGBoost's random pairs (both say so)."""
    xgb = pytest.importorskip("xgboost")
    import json
    obj = get_objective("lambdarank(pair_method='mean', pairs_per_sample=3)")
    labels, scores, sizes = random_groups(1, n_queries=10, max_size=20)
    d = xgb.DMatrix(np.random.default_rng(1).normal(size=(len(labels), 3)), label=labels)
    d.set_group(sizes)
    booster = xgb.train({**obj.backend_params("xgboost"), "nthread": 1}, d, num_boost_round=1)
    got = json.loads(booster.save_config())["learner"]["objective"]["lambdarank_param"]
    assert got["lambdarank_pair_method"] == "mean" and got["lambdarank_num_pair_per_sample"] == "3"
    with pytest.raises(ConfigError, match=r"LightGBM's lambdarank has no pair sampling"):
        obj.backend_params("lightgbm")
    with pytest.raises(NotImplementedError, match=r"samples pairs with XGBoost's random generator"):
        obj.grad_hess(labels, scores, sizes)
