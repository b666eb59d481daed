r"""Equivalence test: a claim of "no difference" with a test behind it.

A non-significant difference is not evidence of no difference (it may be a test without power). To claim that
A and B are equivalent, declare a margin :math:`(\delta_L, \delta_U)`, the largest differences you would
call negligible, *before* looking, and reject both "A is worse than B by :math:`\delta_L` or more" and "A is
better by :math:`\delta_U` or more" (Schuirmann's two one-sided tests, TOST). On paired per-query
differences :math:`d = a - b` with mean :math:`\bar d`, standard error :math:`s_d/\sqrt n` and
:math:`\nu = n - 1` degrees of freedom:

.. math::
    t_L = \frac{\bar d - \delta_L}{s_d/\sqrt n},\ p_L = P(T_\nu \ge t_L);\qquad
    t_U = \frac{\bar d - \delta_U}{s_d/\sqrt n},\ p_U = P(T_\nu \le t_U);\qquad p = \max(p_L, p_U).

Equivalence is declared at level alpha when :math:`p \le \alpha`, which is the same as the
:math:`1 - 2\alpha` confidence interval of the mean difference lying inside the margin.

References
----------
.. [1] D. J. Schuirmann. "A comparison of the two one-sided tests procedure and the power approach for
   assessing the equivalence of average bioavailability." J. Pharmacokinet. Biopharm. 15(6), 1987.
   doi:10.1007/BF01068419
.. [2] D. Lakens. "Equivalence tests: a practical primer for t tests, correlations, and meta-analyses."
   Soc. Psychol. Personal. Sci. 8(4), 2017. doi:10.1177/1948550617697177
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ltr.errors import DataError
from ltr.stats._checks import _paired
from ltr.stats._dist import t_cdf, t_sf

__all__ = ["EquivalenceResult", "tost_paired"]


class EquivalenceResult(NamedTuple):
    """Outcome of :func:`tost_paired`.

    Attributes
    ----------
    pvalue : float
        :math:`\\max(p_L, p_U)`: equivalence at level alpha when ``pvalue <= alpha``.
    estimate : float
        The mean difference :math:`\\bar d`.
    low, high : float
        The margin :math:`(\\delta_L, \\delta_U)`.
    t_low, p_low, t_high, p_high : float
        The two one-sided tests.
    n : int
        Pairs.
    df : int
        Degrees of freedom, n - 1.
    """

    pvalue: float
    estimate: float
    low: float
    high: float
    t_low: float
    p_low: float
    t_high: float
    p_high: float
    n: int
    df: int


def _margin(margin) -> tuple[float, float]:
    if isinstance(margin, (int, float, np.floating)) and not isinstance(margin, bool):
        if not np.isfinite(margin) or margin <= 0:
            raise DataError(f"The 'margin' parameter of tost_paired must be a float > 0 (the margin "
                            f"(-margin, margin)) or a pair (low, high) with low < high. Got {margin!r}.")
        return -float(margin), float(margin)
    try:
        low, high = (float(v) for v in margin)
    except (TypeError, ValueError):
        raise DataError(f"The 'margin' parameter of tost_paired must be a float > 0 or a pair (low, high). "
                        f"Got {margin!r}.") from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise DataError(f"The 'margin' parameter of tost_paired must have low < high, both finite. "
                        f"Got {margin!r}.")
    return low, high


def tost_paired(a, b, *, margin) -> EquivalenceResult:
    r"""Paired two one-sided t-tests (TOST) of equivalence of ``a`` and ``b`` within ``margin``.

    Parameters
    ----------
    a, b : array-like of shape (n_queries,)
        Paired per-query values, ``n_queries >= 2``.
    margin : float or (float, float)
        The equivalence margin on ``mean(a - b)``: ``m`` means :math:`(-m, m)`; a pair gives
        :math:`(\delta_L, \delta_U)`. Declare it before looking at the data (e.g. the smallest difference in
        nDCG@10 your users would notice).

    Returns
    -------
    EquivalenceResult
        Same p-values as ``statsmodels.stats.weightstats.ttost_paired(a, b, low, high)``. With no spread
        (:math:`s_d = 0`, e.g. identical inputs) the mean is known exactly: p = 0 if it lies strictly
        inside the margin, 1 otherwise.

    Examples
    --------
    >>> r = tost_paired([0.50, 0.61, 0.70, 0.42], [0.51, 0.60, 0.69, 0.43], margin=0.05)
    >>> round(r.pvalue, 4), round(r.estimate, 4)
    (0.0016, 0.0)
    """
    low, high = _margin(margin)
    d = _paired(a, b, caller="tost_paired")
    n = d.size
    mean = float(d.mean())
    sd = float(d.std(ddof=1))
    if sd == 0:
        inside = low < mean < high
        t_low = np.inf if mean > low else (-np.inf if mean < low else 0.0)
        t_high = np.inf if mean > high else (-np.inf if mean < high else 0.0)
        p_low = 0.0 if mean > low else 1.0
        p_high = 0.0 if mean < high else 1.0
        return EquivalenceResult(0.0 if inside else 1.0, mean, low, high, float(t_low), p_low, float(t_high),
                                 p_high, n, n - 1)
    se = sd / np.sqrt(n)
    t_low = (mean - low) / se
    t_high = (mean - high) / se
    p_low = float(t_sf(t_low, n - 1))
    p_high = float(t_cdf(t_high, n - 1))
    return EquivalenceResult(max(p_low, p_high), mean, low, high, float(t_low), p_low, float(t_high), p_high,
                             n, n - 1)
