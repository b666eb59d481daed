"""Student's t and the noncentral t from ``scipy.special``, without importing ``scipy.stats``.

``scipy.stats`` takes about a second to import (every distribution is built at import), which is most of
the statistics a report computes; its ``t`` and ``nct`` evaluate these same special functions, so the
values are equal bit for bit (``tests/stats/test_dist.py``, scipy.stats as the oracle).
"""

from __future__ import annotations

import numpy as np


def t_sf(x, df):
    """:math:`P(T_{df} > x)`, as ``scipy.stats.t.sf(x, df)`` (``stdtr(df, -x)``)."""
    from scipy import special

    return special.stdtr(df, -np.asarray(x, dtype=np.float64))


def t_cdf(x, df):
    """:math:`P(T_{df} \\le x)`, as ``scipy.stats.t.cdf(x, df)``."""
    from scipy import special

    return special.stdtr(df, np.asarray(x, dtype=np.float64))


def t_ppf(q, df):
    """The ``q`` quantile of :math:`T_{df}`, as ``scipy.stats.t.ppf(q, df)``."""
    from scipy import special

    return special.stdtrit(df, q)


def nct_sf(x, df, nc):
    """:math:`P(T'_{df,nc} > x)` of the noncentral t, as ``scipy.stats.nct.sf(x, df, nc)`` (Boost's
    complement of the noncentral t, clipped to [0, 1])."""
    from scipy.special import _ufuncs

    with np.errstate(over="ignore"):
        return np.clip(_ufuncs._nct_sf(x, df, nc), 0, 1)
