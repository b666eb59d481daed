"""Tests of ltr.stats.equivalence (paired TOST).

Oracles: statsmodels.stats.weightstats.ttost_paired, and the duality with the (1 - 2 alpha) t confidence
interval computed here from scipy's t quantiles.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.stats as ss

from ltr import stats as S
from ltr.errors import DataError

weightstats = pytest.importorskip("statsmodels.stats.weightstats")


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("margin", [0.01, 0.05, (-0.02, 0.04), (0.005, 0.03)])
def test_matches_statsmodels_ttost_paired(seed, margin):
    """Oracle: ttost_paired(a, b, low, upp): (p, (t1, p1, df), (t2, p2, df))."""
    rng = np.random.default_rng(seed)
    n = (12, 50, 200, 784)[seed]
    a = rng.random(n)
    b = a + rng.normal(0.01 * (seed - 1), 0.05, n)
    low, high = (-margin, margin) if np.ndim(margin) == 0 else margin
    ours = S.tost_paired(a, b, margin=margin)
    p, (t1, p1, df1), (t2, p2, _) = weightstats.ttost_paired(a, b, low, high)
    assert (ours.low, ours.high, ours.n, ours.df) == (low, high, n, df1)
    for mine, ref in ((ours.pvalue, p), (ours.t_low, t1), (ours.p_low, p1), (ours.t_high, t2), (ours.p_high, p2)):
        assert mine == pytest.approx(ref, abs=1e-12, rel=1e-10)
    assert ours.estimate == pytest.approx(np.mean(a - b), abs=1e-15)


@pytest.mark.parametrize("seed", range(6))
def test_equivalent_iff_the_confidence_interval_is_inside_the_margin(seed):
    """Oracle: TOST at alpha rejects iff the (1 - 2 alpha) t interval of the mean difference lies in the margin."""
    rng = np.random.default_rng(seed)
    d = rng.normal(rng.uniform(-0.02, 0.02), 0.05, 80)
    sd, n = d.std(ddof=1), d.size
    half = ss.t.ppf(0.95, n - 1) * sd / np.sqrt(n)
    inside = -0.02 < d.mean() - half and d.mean() + half < 0.02
    assert (S.tost_paired(d, np.zeros(n), margin=0.02).pvalue <= 0.05) == inside


def test_no_spread():
    """Convention: with s_d = 0 the mean is known: p = 0 strictly inside the margin, 1 otherwise (statsmodels
    agrees in the first case, where it returns infinite t statistics)."""
    a = np.linspace(0, 1, 10)
    assert S.tost_paired(a, a, margin=0.01).pvalue == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert weightstats.ttost_paired(a, a, -0.01, 0.01)[0] == 0.0
    assert S.tost_paired(a + 0.5, a, margin=0.25).pvalue == 1.0


def test_bad_margins_are_typed_errors():
    """The margin is declared: a positive number or an ordered pair."""
    for bad in (0, -0.1, np.inf, "0.1x", (0.1, -0.1), (0.1,)):
        with pytest.raises(DataError, match="'margin' parameter of tost_paired"):
            S.tost_paired([0.1, 0.2], [0.2, 0.1], margin=bad)
    with pytest.raises(DataError, match="a has 2 values but b has 3"):
        S.tost_paired([0.1, 0.2], [0.2, 0.1, 0.3], margin=0.1)
