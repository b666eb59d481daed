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

from ltr.errors import DataError, SchemaError
from ltr.naming import select

__all__ = ["CORRECTIONS", "CORRECTION_LABELS", "get_correction", "correct_pvalues", "correct_family",
           "per_comparison_alpha"]


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



def correct_family(frame, *, family=None, method: str = "holm", p: str = "p_raw", out: str = "p_value"):
    r"""Apply one correction over each declared family of a tidy frame of p-values.

    A family is the set of rows sharing the values of the ``family`` columns; the correction of
    :func:`correct_pvalues` runs once per family. For example, with one row per (system, metric):

    - ``family=None``: every row is one family, "all (system, metric)";
    - ``family="metric"``: one family per metric (what a report did before issue 13);
    - the primary metric across the non-baseline systems: pass the frame's primary-metric rows (or give the
      rows a ``family`` column such as ``"primary"`` / ``"exploratory: AP"`` and pass ``family="family"``).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per comparison, with the raw p-values in column ``p``. NaN p-values (the baseline's own row,
        a test that could not run) stay NaN and are not counted in their family.
    family : str, sequence of str or None, default=None
        The columns that define a family; None: the whole frame is one family. A missing key (NaN) is a
        family of its own, never dropped.
    method : str, default="holm"
        A name of :data:`CORRECTIONS`.
    p, out : str, default="p_raw", "p_value"
        The column read and the column written.

    Returns
    -------
    pandas.DataFrame
        A copy of ``frame`` (same index and row order) with ``out`` (the adjusted p-values) and
        ``family_size`` (the number of non-NaN p-values in the row's family, the *m* of the correction; the
        per-comparison level of :func:`per_comparison_alpha` and of the power statements uses it).

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"system": ["a", "b", "a", "b"], "metric": ["nDCG@10", "nDCG@10", "AP", "AP"],
    ...                      "p_raw": [0.01, 0.04, 0.03, 0.20]})
    >>> correct_family(rows, family="metric", method="bonferroni")["p_value"].tolist()
    [0.02, 0.08, 0.06, 0.4]
    >>> correct_family(rows, method="bonferroni")["family_size"].tolist()
    [4, 4, 4, 4]
    """
    import pandas as pd

    get_correction(method)
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(f"correct_family needs a pandas DataFrame, got {type(frame).__name__}")
    keys = [] if family is None else [family] if isinstance(family, str) else list(family)
    missing = [c for c in [p, *keys] if c not in frame.columns]
    if missing:
        raise SchemaError(f"correct_family needs columns {missing} (found {list(frame.columns)}); "
                          f"name the p-value column with p= and the family columns with family=")
    values = pd.to_numeric(frame[p], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero((np.isnan(values) & frame[p].notna().to_numpy()) | (values < 0) | (values > 1))
    if bad.size:
        raise DataError(f"correct_family: column {p!r} holds {bad.size} values that are not p-values in [0, 1] "
                        f"(first at row {_plain(frame.index[bad[0]])!r}: {_plain(frame[p].iloc[bad[0]])!r})")
    result = frame.copy()
    adjusted = np.full(len(frame), np.nan)
    size = np.zeros(len(frame), dtype=np.int64)
    if keys:
        groups = frame.groupby(keys, dropna=False, sort=False).indices.values()
    else:
        groups = [np.arange(len(frame))]
    for idx in groups:
        adjusted[idx] = correct_pvalues(values[idx], method)
        size[idx] = int(np.count_nonzero(~np.isnan(values[idx])))
    result[out] = adjusted
    result["family_size"] = size
    return result


def _plain(value):
    """A numpy scalar as the Python value it holds (so that messages read 1.5, not np.float64(1.5))."""
    return value.item() if isinstance(value, np.generic) else value


def per_comparison_alpha(alpha: float = 0.05, family_size: int = 1, correction: str = "holm") -> float:
    r"""The level one comparison must reach to be rejected whatever the rest of its family: the level of the
    power statements and of the "can this test reject at all" checks.

    =====================  ===========================================================================
    correction             per-comparison level
    =====================  ===========================================================================
    none                   :math:`\alpha`
    bonferroni             :math:`\alpha / m`
    holm                   :math:`\alpha / m` (the first step of Holm's procedure; later steps are less
                           strict, so this is the conservative level)
    fdr_bh                 :math:`\alpha / m` (Benjamini-Hochberg's level for a single discovery; with
                           many discoveries the levels rise to :math:`k \alpha / m`)
    fdr_by                 :math:`\alpha / (m \sum_{k=1}^m 1/k)` (the same for Benjamini-Yekutieli)
    =====================  ===========================================================================

    Parameters
    ----------
    alpha : float in (0, 1), default=0.05
        The family's level.
    family_size : int >= 1, default=1
        The number *m* of comparisons in the family (``correct_family``'s ``family_size``).
    correction : str, default="holm"
        A name of :data:`CORRECTIONS`.

    Examples
    --------
    >>> per_comparison_alpha(0.05, 20, "holm")
    0.0025
    """
    get_correction(correction)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating)) or not 0 < alpha < 1:
        raise DataError(f"The 'alpha' parameter of per_comparison_alpha must be a float in (0, 1). Got {alpha!r}.")
    if isinstance(family_size, bool) or not isinstance(family_size, (int, np.integer)) or family_size < 1:
        raise DataError(f"The 'family_size' parameter of per_comparison_alpha must be an int >= 1. "
                        f"Got {family_size!r}.")
    m = int(family_size)
    if correction == "none":
        return float(alpha)
    if correction == "fdr_by":
        return float(alpha / (m * np.sum(1.0 / np.arange(1, m + 1))))
    return float(alpha / m)
