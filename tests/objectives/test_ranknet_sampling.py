"""Sampled RankNet, ``ranknet(pairs_per_doc=k, seed=s)``.

Oracles: the all-pairs gradient and hessian (ltr's kernel, itself checked against finite differences in
test_ranknet.py) and central finite differences of the all-pairs loss, which the mean over many seeds must
approach within its sampling error (5 standard errors); the pure-Python reference drawing the same pairs;
the bytes of repeated runs.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from ltr.errors import ConfigError
from ltr.objectives import HAVE_NUMBA, get_objective, ranknet_loss, ranknet_sampled_reference
from ltr.objectives.base import offsets_of


def _data(seed=0, sizes=(12, 7, 1, 20, 5)):
    """Queries with ties, a single-document query and one whose labels are all equal."""
    rng = np.random.default_rng(seed)
    sizes = np.asarray(sizes)
    y = rng.integers(0, 3, sizes.sum()).astype(float)
    y[sizes[:4].sum():] = 1.0                           # last query: all labels equal, no pairs
    return y, rng.normal(size=sizes.sum()), sizes


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("k", [1, 3])
def test_compiled_kernel_draws_the_reference_pairs(k, normalize):
    """Oracle: ranknet_sampled_reference (pair by pair in Python, same splitmix64 stream): equal to 1e-12."""
    y, s, sizes = _data(1)
    obj = get_objective(f"ranknet(pairs_per_doc={k}, seed=7, sigma=0.8, normalize={normalize})")
    g, h = obj.grad_hess(y, s, sizes)
    gr, hr = ranknet_sampled_reference(y, s, offsets_of(sizes), 0.8, normalize, k, 7)
    np.testing.assert_allclose(g, gr, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h, hr, rtol=0, atol=1e-12)
    assert np.all(g[sizes[:4].sum():] == 0) and g[sizes[:2].sum()] == 0     # no pairs, no gradient


def test_enough_pairs_per_document_is_the_full_gradient():
    """Oracle: the all-pairs kernel. With k at least every document's number of partners, each pair is
    counted twice with weight 1/2: the full gradient and hessian."""
    y, s, sizes = _data(2)
    full = get_objective("ranknet(sigma=1.3)").grad_hess(y, s, sizes)
    sampled = get_objective("ranknet(sigma=1.3, pairs_per_doc=20)").grad_hess(y, s, sizes)
    for a, b in zip(sampled, full):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("k", [1, 4])
def test_unbiased_for_the_full_gradient_and_hessian(k):
    """Oracle: the all-pairs gradient/hessian, and central finite differences of the all-pairs loss. The mean
    over 600 seeds lies within 5 standard errors of them for every document (and gets closer with k)."""
    y, s, sizes = _data(3, sizes=(30, 9, 16))
    offsets = offsets_of(sizes)
    g_full, h_full = get_objective("ranknet").grad_hess(y, s, sizes)
    draws = [get_objective(f"ranknet(pairs_per_doc={k}, seed={seed})").grad_hess(y, s, sizes)
             for seed in range(600)]
    G = np.array([d[0] for d in draws])
    H = np.array([d[1] for d in draws])
    for sample, full in ((G, g_full), (H, h_full)):
        err = np.abs(sample.mean(axis=0) - full)
        se = sample.std(axis=0, ddof=1) / np.sqrt(len(sample))
        assert np.all(err <= 5 * se + 1e-12), f"max err/se {np.max(err / np.maximum(se, 1e-300)):.2f}"
    assert G.std(axis=0).max() > 0                      # it does sample
    eps = 1e-6
    fd = np.array([(ranknet_loss(y, s + eps * np.eye(len(s))[i], offsets)
                    - ranknet_loss(y, s - eps * np.eye(len(s))[i], offsets)) / (2 * eps) for i in range(len(s))])
    se = G.std(axis=0, ddof=1) / np.sqrt(len(G))
    assert np.all(np.abs(G.mean(axis=0) - fd) <= 5 * se + 1e-6)


def test_bit_reproducible_and_redrawn_when_the_scores_move():
    """Same seed and inputs: the same bytes (whatever the number of threads); another seed or other scores
    (the next boosting iteration): other pairs."""
    y, s, sizes = _data(4, sizes=(40, 33, 25))
    obj = get_objective("ranknet(pairs_per_doc=2, seed=11)")
    g1, h1 = obj.grad_hess(y, s, sizes)
    g2, h2 = obj.grad_hess(y, s.copy(), sizes)
    assert g1.tobytes() == g2.tobytes() and h1.tobytes() == h2.tobytes()
    if HAVE_NUMBA:
        threads = numba.get_num_threads()
        try:
            numba.set_num_threads(1)
            g3, h3 = obj.grad_hess(y, s, sizes)
        finally:
            numba.set_num_threads(threads)
        assert g1.tobytes() == g3.tobytes() and h1.tobytes() == h3.tobytes()
    other_seed = get_objective("ranknet(pairs_per_doc=2, seed=12)").grad_hess(y, s, sizes)[0]
    moved = obj.grad_hess(y, s + 1e-9 * np.arange(len(s)), sizes)[0]
    assert not np.allclose(g1, other_seed) and not np.allclose(g1, moved, atol=1e-6)


def test_in_training_and_on_the_wrong_backend():
    """A Ranker with the sampled objective trains reproducibly on LightGBM; XGBoost refuses it, saying what
    to use instead; bad parameters are refused."""
    from ltr.models import Ranker
    from tests.models.conftest import make_dataset

    train = make_dataset(20, docs=30, n_features=5, seed=5)
    fit = lambda: Ranker(objective="ranknet(pairs_per_doc=3, seed=1)", backend="lightgbm", n_estimators=8,
                         early_stopping_rounds=None, n_jobs=2).fit(train)
    a, b = fit(), fit()
    assert a.predict_scores(train).tobytes() == b.predict_scores(train).tobytes()
    assert repr(a.objective_) == "ranknet(pairs_per_doc=3, seed=1)"
    with pytest.raises(ConfigError, match="XGBoost samples pairs itself"):
        Ranker(objective="ranknet(pairs_per_doc=3)", backend="xgboost", n_estimators=2).fit(train)
    with pytest.raises(ConfigError, match="The 'pairs_per_doc' parameter of objective 'ranknet' must be"):
        get_objective("ranknet(pairs_per_doc=0)")
    with pytest.raises(ConfigError, match="The 'seed' parameter of objective 'ranknet' must be an int >= 0"):
        get_objective("ranknet(pairs_per_doc=2, seed=-1)")
    assert get_objective(repr(get_objective("ranknet(pairs_per_doc=2, seed=3)"))) == \
        get_objective("ranknet(seed=3, pairs_per_doc=2)")
