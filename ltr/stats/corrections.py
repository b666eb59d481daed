"""Multiple-testing corrections (statsmodels' names and values) over a family of p-values.

References
----------
.. [1] S. Holm. "A simple sequentially rejective multiple test procedure." Scand. J. Statist. 6, 1979.
.. [2] Y. Benjamini, Y. Hochberg. "Controlling the false discovery rate." JRSS B 57, 1995.
.. [3] Y. Benjamini, D. Yekutieli. "The control of the false discovery rate in multiple testing under
   dependency." Ann. Statist. 29, 2001.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ltr.errors import DataError
from ltr.naming import select

__all__ = ["CORRECTIONS", "CORRECTION_LABELS", "get_correction", "correct_pvalues"]


def _none(p: np.ndarray) -> np.ndarray:
    return p.copy()


def _bonferroni(p: np.ndarray) -> np.ndarray:
    """:math:`\\tilde p_i = \\min(1, m p_i)`."""
    return np.minimum(1.0, p * p.size)


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down: :math:`\\tilde p_{(i)} = \\max_{j \\le i} \\min(1, (m - j + 1) p_{(j)})`."""
    m = p.size
    order = np.argsort(p, kind="stable")
    adj = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out


def _bh(p: np.ndarray, *, by: bool = False) -> np.ndarray:
    """Benjamini-Hochberg step-up: :math:`\\tilde p_{(i)} = \\min_{j \\ge i} \\min(1, m p_{(j)} / j)`;
    Benjamini-Yekutieli multiplies by :math:`\\sum_{k=1}^m 1/k`."""
    m = p.size
    order = np.argsort(p, kind="stable")
    ranks = np.arange(1, m + 1)
    factor = np.sum(1.0 / ranks) if by else 1.0
    adj = np.minimum.accumulate((p[order] * m * factor / ranks)[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(1.0, adj)
    return out


def _by(p: np.ndarray) -> np.ndarray:
    return _bh(p, by=True)


CORRECTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": _none,
    "bonferroni": _bonferroni,
    "holm": _holm,
    "fdr_bh": _bh,
    "fdr_by": _by,
}
"""Registry of multiple-testing corrections (statsmodels' names)."""

CORRECTION_LABELS = {"none": "no correction", "bonferroni": "Bonferroni correction",
                     "holm": "Holm correction", "fdr_bh": "Benjamini-Hochberg FDR correction",
                     "fdr_by": "Benjamini-Yekutieli FDR correction"}


def get_correction(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """The correction registered as ``name``; an unknown name lists the valid ones."""
    return select(CORRECTIONS, name, what="multiple-testing correction")


def correct_pvalues(pvalues, method: str = "holm") -> np.ndarray:
    r"""Adjust a family of p-values for multiple testing.

    The family is what the caller passes: when comparing systems against a baseline, pass the p-values of
    the non-baseline systems only (the baseline is not compared with itself). Adjusted p-values are
    compared with alpha directly (reject where :math:`\tilde p \le \alpha`).

    Parameters
    ----------
    pvalues : array-like of shape (m,)
        Raw p-values in [0, 1]. NaN entries (tests that could not run) are left NaN and are not part
        of the family.
    method : {"holm", "bonferroni", "fdr_bh", "fdr_by", "none"}, default="holm"
        Holm (1979) step-down FWER, Bonferroni FWER, Benjamini-Hochberg (1995) FDR,
        Benjamini-Yekutieli (2001) FDR under dependence, or none.

    Returns
    -------
    numpy.ndarray of shape (m,)
        Adjusted p-values, in the input order. Same values as
        ``statsmodels.stats.multitest.multipletests(p, method=method)[1]``.
    """
    fn = get_correction(method)
    try:
        p = np.asarray(pvalues, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise DataError(f"correct_pvalues needs numbers, got {pvalues!r}") from None
    ok = ~np.isnan(p)
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise DataError(f"correct_pvalues needs p-values in [0, 1], got {p[ok][(p[ok] < 0) | (p[ok] > 1)][:5]}")
    out = np.full(p.shape, np.nan)
    if ok.any():
        out[ok] = fn(p[ok])
    return out

