"""ltr.stats._dist: Student's t and the noncentral t without importing scipy.stats.

Oracle: scipy.stats.t and scipy.stats.nct, which must give the same bits (the report's p-values and MDEs
did not change when their import was dropped)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from ltr.stats._dist import nct_sf, t_cdf, t_ppf, t_sf

X = np.array([-1e6, -40.0, -3.2, -1.0, -1e-12, 0.0, 1e-9, 0.5, 1.96, 2.5, 7.0, 38.0, 1e6, np.inf, -np.inf])
DF = [1, 2, 4.5, 9, 29, 99, 1000, 1e7]


@pytest.mark.parametrize("df", DF)
def test_t_equals_scipy_stats(df):
    np.testing.assert_array_equal(t_sf(X, df), sps.t.sf(X, df))
    np.testing.assert_array_equal(t_cdf(X, df), sps.t.cdf(X, df))
    q = np.array([1e-12, 0.001, 0.025, 0.2, 0.5, 0.8, 0.975, 0.999, 1 - 1e-12])
    np.testing.assert_array_equal(t_ppf(q, df), sps.t.ppf(q, df))


@pytest.mark.parametrize("df", DF[:-1])
@pytest.mark.parametrize("nc", [-30.0, -2.0, 0.0, 0.7, 3.0, 12.0, 40.0])
def test_nct_sf_equals_scipy_stats(df, nc):
    np.testing.assert_array_equal(nct_sf(X[np.isfinite(X)], df, nc), sps.nct.sf(X[np.isfinite(X)], df, nc))
