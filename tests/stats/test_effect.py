"""Tests of ltr.stats.effect: Cohen's d_z and win/tie/loss counts, against values computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from ltr import stats as S
from ltr.errors import DataError


def test_cohens_dz_by_hand():
    """Oracle: d_z = mean(d) / sd(d, ddof=1) computed by hand on d = (1, 2, 3, 6): mean 3, sd sqrt(14/3)."""
    a, b = np.array([2.0, 4, 6, 12]), np.array([1.0, 2, 3, 6])
    assert S.cohens_dz(a, b) == pytest.approx(3 / np.sqrt(14 / 3), abs=1e-12)
    # d_z relates to the paired t statistic by t = d_z * sqrt(n)
    assert S.paired_t_test(a, b).statistic == pytest.approx(S.cohens_dz(a, b) * 2, abs=1e-12)


def test_win_tie_loss_by_hand():
    """Oracle: counts by hand."""
    a = [0.5, 0.2, 0.3, 0.31, 0.0]
    b = [0.4, 0.2, 0.9, 0.30, 0.0]
    assert S.win_tie_loss(a, b) == (2, 2, 1)
    assert S.win_tie_loss(a, b, tol=0.02) == (1, 3, 1)
    with pytest.raises(DataError, match="'tol' parameter of win_tie_loss must be a float >= 0"):
        S.win_tie_loss(a, b, tol=-1)
