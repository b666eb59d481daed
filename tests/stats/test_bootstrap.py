"""Tests of ltr.stats.bootstrap. Oracle: scipy.stats.bootstrap with the same Generator (same resamples)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as ss

from ltr import stats as S


@pytest.mark.parametrize("n", [5, 40, 300])
@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_bootstrap_matches_scipy(n, method):
    """Oracle: scipy.stats.bootstrap(np.mean) with the same Generator seed (same resamples)."""
    x = np.random.default_rng(n).random(n)
    ours = S.bootstrap_ci(x, n_resamples=3000, seed=11, method=method, confidence=0.9)
    ref = ss.bootstrap((x,), np.mean, n_resamples=3000, method=method, confidence_level=0.9,
                       rng=np.random.default_rng(11)).confidence_interval
    assert ours.low == pytest.approx(ref.low, abs=1e-10)
    assert ours.high == pytest.approx(ref.high, abs=1e-10)
    assert ours.estimate == pytest.approx(x.mean(), abs=1e-12)
    assert ours.low <= ours.estimate <= ours.high


def test_bootstrap_is_deterministic_and_independent_of_batching():
    """Invariant: same seed, same interval; more resamples than one batch gives scipy's answer too."""
    x = np.random.default_rng(5).random(60)
    first = S.bootstrap_ci(x, n_resamples=4500, seed=2)
    assert S.bootstrap_ci(x, n_resamples=4500, seed=2) == first
    ref = ss.bootstrap((x,), np.mean, n_resamples=4500, method="percentile",
                       rng=np.random.default_rng(2)).confidence_interval
    assert first.low == pytest.approx(ref.low, abs=1e-10)
    assert first.high == pytest.approx(ref.high, abs=1e-10)


def test_bootstrap_columns_share_resamples_exactly():
    """Invariant: the internal multi-column bootstrap gives each column exactly bootstrap_ci(column)."""
    x = np.random.default_rng(6).random((50, 3))
    many = S._bootstrap_intervals(x, confidence=0.95, n_resamples=2000, seed=1, method="bca")
    for j in range(3):
        assert many[j] == S.bootstrap_ci(x[:, j], n_resamples=2000, seed=1, method="bca")
