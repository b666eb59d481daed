"""Tests of ltr.stats.corrections. Oracle: statsmodels.stats.multitest.multipletests."""

from __future__ import annotations

import numpy as np
import pytest

from ltr import stats as S

multitest = pytest.importorskip("statsmodels.stats.multitest")


@pytest.mark.parametrize("method", ["holm", "bonferroni", "fdr_bh", "fdr_by"])
@pytest.mark.parametrize("seed", range(4))
def test_corrections_match_statsmodels(method, seed):
    """Oracle: statsmodels.stats.multitest.multipletests(p, method=method)[1]."""
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.random(7) ** 3, [0.01, 0.01, 1.0, 0.0]])   # ties and the edges
    rng.shuffle(p)
    ours = S.correct_pvalues(p, method)
    ref = multitest.multipletests(p, method=method)[1]
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


def test_correction_none_keeps_and_nan_is_outside_the_family():
    """Definition: 'none' returns the input; NaNs stay NaN and do not count in m (statsmodels on the rest)."""
    p = np.array([0.01, np.nan, 0.04, 0.03])
    np.testing.assert_array_equal(S.correct_pvalues(p, "none"), p)
    out = S.correct_pvalues(p, "holm")
    assert np.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2, 3]], multitest.multipletests(p[[0, 2, 3]], method="holm")[1])
