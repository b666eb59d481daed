"""RankNet gradients: finite differences, a slow loop, numba vs numpy, and XGBoost's rank:pairwise."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ltr.errors import ConfigError, DataError, GroupError, LabelError
from ltr.objectives import HAVE_NUMBA, get_objective, ranknet_loss, ranknet_numpy
from ltr.objectives.base import offsets_of
from tests.objectives.helpers import random_groups


def slow_ranknet(labels, scores, sizes, sigma=1.0, normalize=False):
    """Pair-by-pair loop over the issue's formulas, with math.exp: an implementation independent of ours."""
    grad = [0.0] * len(labels)
    hess = [0.0] * len(labels)
    start = 0
    for size in sizes:
        rows = range(start, start + size)
        pairs = [(i, j) for i in rows for j in rows if labels[i] > labels[j]]
        for i, j in pairs:
            p = 1.0 / (1.0 + math.exp(-sigma * (scores[i] - scores[j])))
            c = 1.0 / len(pairs) if normalize else 1.0
            grad[i] += c * sigma * (p - 1.0)
            grad[j] -= c * sigma * (p - 1.0)
            hess[i] += c * sigma * sigma * p * (1.0 - p)
            hess[j] += c * sigma * sigma * p * (1.0 - p)
        start += size
    return np.array(grad), np.array(hess)


@pytest.mark.parametrize("kind", ["graded", "binary", "real"])
@pytest.mark.parametrize("sigma", [1.0, 2.5])
def test_gradient_matches_finite_differences_of_the_loss(kind, sigma):
    """Oracle: central differences of the summed pairwise logistic loss (written out in ranknet_loss)."""
    labels, scores, sizes = random_groups(1, n_queries=6, max_size=9, kind=kind)
    offsets = offsets_of(sizes)
    grad, _ = get_objective(f"ranknet(sigma={sigma})").grad_hess(labels, scores, sizes)
    h = 1e-6
    fd = np.empty_like(scores)
    for i in range(len(scores)):
        up, down = scores.copy(), scores.copy()
        up[i] += h
        down[i] -= h
        fd[i] = (ranknet_loss(labels, up, offsets, sigma) - ranknet_loss(labels, down, offsets, sigma)) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-7)
    assert np.any(np.abs(grad) > 1e-3)


@pytest.mark.parametrize("kind", ["graded", "real"])
def test_hessian_is_the_exact_diagonal_of_the_loss_hessian(kind):
    """Oracle: central differences of our gradient along each coordinate (d g_i / d s_i)."""
    labels, scores, sizes = random_groups(2, n_queries=6, max_size=9, kind=kind)
    obj = get_objective("ranknet(sigma=1.5)")
    _, hess = obj.grad_hess(labels, scores, sizes)
    h = 1e-5
    fd = np.empty_like(scores)
    for i in range(len(scores)):
        up, down = scores.copy(), scores.copy()
        up[i] += h
        down[i] -= h
        fd[i] = (obj.grad_hess(labels, up, sizes)[0][i] - obj.grad_hess(labels, down, sizes)[0][i]) / (2 * h)
    np.testing.assert_allclose(hess, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("kind", ["graded", "real"])
def test_numba_and_numpy_match_the_slow_loop(seed, normalize, kind):
    """Oracle: slow_ranknet, a pair-by-pair loop of the issue's formulas; numba == numpy to 1e-12."""
    labels, scores, sizes = random_groups(seed, kind=kind, tie_scores=seed % 2 == 1)
    obj = get_objective(f"ranknet(normalize={normalize}, sigma=0.7)")
    g_slow, h_slow = slow_ranknet(labels, scores, sizes, sigma=0.7, normalize=normalize)
    g_np, h_np = obj.grad_hess(labels, scores, sizes, use_numba=False)
    g_nb, h_nb = obj.grad_hess(labels, scores, sizes)
    np.testing.assert_allclose(g_np, g_slow, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_np, h_slow, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g_nb, g_np, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_nb, h_np, rtol=1e-12, atol=1e-12)


def test_extreme_score_ranges_take_the_stable_path():
    """Oracle: the numpy reference; a query whose scores span > 600/sigma uses pairwise logistic evaluation."""
    labels = np.array([2.0, 1.0, 0.0, 1.0, 0.0, 3.0])
    scores = np.array([400.0, -400.0, 0.0, 1.0, 2.0, -3.0])
    obj = get_objective("ranknet")
    g_np, h_np = obj.grad_hess(labels, scores, [3, 3], use_numba=False)
    g_nb, h_nb = obj.grad_hess(labels, scores, [3, 3])
    assert np.all(np.isfinite(g_nb)) and np.all(np.isfinite(h_nb))
    np.testing.assert_allclose(g_nb, g_np, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(h_nb, h_np, rtol=1e-12, atol=1e-300)


def test_normalize_divides_by_the_query_pair_count():
    """Oracle: hand count. Query 1 has labels (2, 1, 1, 0): 5 discordant pairs; query 2 (1, 0): 1."""
    labels = np.array([2.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    scores = np.array([0.3, -0.2, 0.5, 0.1, 1.0, 2.0])
    g, h = get_objective("ranknet").grad_hess(labels, scores, [4, 2])
    gn, hn = get_objective("ranknet(normalize=True)").grad_hess(labels, scores, [4, 2])
    np.testing.assert_allclose(gn[:4], g[:4] / 5, rtol=1e-14)
    np.testing.assert_allclose(hn[:4], h[:4] / 5, rtol=1e-14)
    np.testing.assert_allclose(gn[4:], g[4:], rtol=1e-14)


def test_weights_multiply_each_rows_gradient_and_hessian():
    """Oracle: LightGBM's convention (rank_objective.hpp: gradients[i] * weights[i] after the query)."""
    labels, scores, sizes = random_groups(5, kind="real")
    w = np.random.default_rng(0).uniform(0.5, 2.0, size=len(labels))
    g, h = get_objective("ranknet").grad_hess(labels, scores, sizes)
    gw, hw = get_objective("ranknet").grad_hess(labels, scores, sizes, weights=w)
    np.testing.assert_allclose(gw, g * w, rtol=1e-15)
    np.testing.assert_allclose(hw, h * w, rtol=1e-15)
    with pytest.raises(DataError, match=r"weights must have one value per row"):
        get_objective("ranknet").grad_hess(labels, scores, sizes, weights=w[:-1])


def test_single_document_and_all_tied_queries_contribute_nothing():
    """Oracle: the definition (no pair with different labels => zero gradient and hessian)."""
    labels = np.array([1.0, 2.0, 2.0, 2.0, 0.0, 1.0])
    scores = np.array([5.0, 1.0, 2.0, 3.0, 0.0, 0.0])
    g, h = get_objective("ranknet").grad_hess(labels, scores, [1, 3, 2])
    assert g[:4].tolist() == [0.0] * 4 and h[:4].tolist() == [0.0] * 4
    np.testing.assert_allclose(g[4:], [0.5, -0.5])     # p = 1/2 at equal scores: a (p - 1) = -1/2 for the higher


def test_gradient_sums_to_zero_per_query_and_is_shift_invariant():
    """Invariants: pairwise forces cancel within a query; adding a constant to a query's scores changes nothing."""
    labels, scores, sizes = random_groups(7, kind="real")
    g, h = get_objective("ranknet").grad_hess(labels, scores, sizes)
    g2, h2 = get_objective("ranknet").grad_hess(labels, scores + 3.25, sizes)
    off = offsets_of(sizes)
    np.testing.assert_allclose(np.add.reduceat(g, off[:-1]), 0.0, atol=1e-12)
    np.testing.assert_allclose(g2, g, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(h2, h, rtol=1e-12, atol=1e-13)


def test_grad_hess_refuses_mismatched_inputs():
    """Bad input: group sizes that do not add up and scores of another length."""
    obj = get_objective("ranknet")
    with pytest.raises(GroupError, match=r"group sizes sum to 5 but there are 4 rows"):
        obj.grad_hess(np.zeros(4), np.zeros(4), [2, 3])
    with pytest.raises(DataError, match=r"scores have 3 rows but labels have 4"):
        obj.grad_hess(np.zeros(4), np.zeros(3), [4])
    with pytest.raises(LabelError, match=r"grad_hess got 1 non-finite label"):
        obj.grad_hess(np.array([0.0, np.nan, 1.0]), np.zeros(3), [3])


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
def test_numba_is_deterministic_across_calls():
    """Same inputs, same bits (prange over queries writes disjoint rows)."""
    labels, scores, sizes = random_groups(11, n_queries=200, max_size=40, kind="real")
    a = get_objective("ranknet").grad_hess(labels, scores, sizes)
    b = get_objective("ranknet").grad_hess(labels, scores, sizes)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


# ---------------------------------------------------------------------------------------------------
# XGBoost's rank:pairwise configured as all-pairs RankNet
# ---------------------------------------------------------------------------------------------------

def _xgb_one_round(labels, sizes, X, margin, params, obj=None):
    xgb = pytest.importorskip("xgboost")
    d = xgb.DMatrix(X, label=labels, base_margin=margin)
    d.set_group(sizes)
    base = {"eta": 1.0, "max_depth": 3, "reg_lambda": 0.0, "min_child_weight": 0.0, "nthread": 1,
            "tree_method": "exact", "base_score": 0.0, "seed": 0}
    booster = xgb.train({**base, **params}, d, num_boost_round=1, obj=obj)
    return booster.predict(d, output_margin=True) - margin


@pytest.mark.parametrize("seed", [0, 1])
def test_xgboost_rank_pairwise_config_is_ranknet_with_twice_the_hessian(seed):
    """Oracle: XGBoost 3's own rank:pairwise with describe()'s configuration, trained 1 round from random
    margins, equals XGBoost trained with our gradient and 2x our hessian as a custom objective; with our
    hessian unchanged, every leaf value is exactly twice XGBoost's (same splits: gains scale by 1/2)."""
    rng = np.random.default_rng(seed)
    labels, _, sizes = random_groups(seed, n_queries=20, max_size=25, kind="real")
    X = rng.normal(size=(len(labels), 4)).astype(np.float32)
    margin = rng.normal(size=len(labels)).astype(np.float32)
    obj = get_objective("ranknet")
    obj.check_labels(labels, sizes, backend="xgboost")
    native = obj.backend_params("xgboost", labels=labels, group_sizes=sizes)
    assert native["lambdarank_num_pair_per_sample"] == sizes.max()
    built_in = _xgb_one_round(labels, sizes, X, margin, native)

    def ours(scale):
        def fobj(preds, dmat):
            g, h = obj.grad_hess(dmat.get_label(), preds, sizes)
            return g, scale * h
        return fobj

    doubled = _xgb_one_round(labels, sizes, X, margin, {}, obj=ours(2.0))
    plain = _xgb_one_round(labels, sizes, X, margin, {}, obj=ours(1.0))
    assert np.abs(built_in).max() > 1e-3
    np.testing.assert_allclose(built_in, doubled, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(plain, 2 * built_in, rtol=2e-5, atol=1e-6)


def test_xgboost_default_pairwise_is_not_all_pairs_ranknet():
    """Control for the test above: XGBoost's defaults (top 32 pairs, normalisations on) give other trees."""
    rng = np.random.default_rng(3)
    labels, _, sizes = random_groups(3, n_queries=20, max_size=25, kind="graded")
    X = rng.normal(size=(len(labels), 4)).astype(np.float32)
    margin = rng.normal(size=len(labels)).astype(np.float32)
    ours = _xgb_one_round(labels, sizes, X, margin,
                          get_objective("ranknet").backend_params("xgboost", labels=labels, group_sizes=sizes))
    default = _xgb_one_round(labels, sizes, X, margin, {"objective": "rank:pairwise"})
    assert not np.allclose(ours, default, rtol=1e-3)


def test_ranknet_parameters_without_xgboost_equivalent_are_refused_there():
    """Bad input: sigma != 1 and normalize=True have no rank:pairwise equivalent (ConfigError says so)."""
    with pytest.raises(ConfigError, match=r"sigma=2.0: XGBoost's rank:pairwise has no scale"):
        get_objective("ranknet(sigma=2)").backend_params("xgboost", labels=np.zeros(2), group_sizes=[2])
    with pytest.raises(ConfigError, match=r"normalize=True"):
        get_objective("ranknet(normalize=True)").check_labels(np.zeros(2), [2], backend="xgboost")
    assert get_objective("ranknet(sigma=2)").is_custom("lightgbm")


def test_describe_prints_the_xgboost_configuration():
    """The configuration a figure used is printed verbatim, with the hessian convention."""
    text = get_objective("ranknet").describe("xgboost", labels=np.zeros(7), group_sizes=[3, 4])
    for line in ["objective = 'rank:pairwise'", "lambdarank_pair_method = 'topk'",
                 "lambdarank_num_pair_per_sample = 4", "lambdarank_normalization = False",
                 "lambdarank_score_normalization = False", "lambdarank_unbiased = False", "2 p(1-p)"]:
        assert line in text
    assert "<size of the largest query>" in get_objective("ranknet").describe("xgboost")


def test_reference_numpy_function_is_exported():
    """The numpy reference is public (ltr.objectives.ranknet_numpy) and agrees with grad_hess(use_numba=False)."""
    labels, scores, sizes = random_groups(9, kind="real")
    g, h = ranknet_numpy(labels, scores, offsets_of(sizes))
    g2, h2 = get_objective("ranknet").grad_hess(labels, scores, sizes, use_numba=False)
    assert np.array_equal(g, g2) and np.array_equal(h, h2)
