"""Effect size and win/tie/loss counts of paired per-query values.

References
----------
.. [1] J. Cohen. "Statistical Power Analysis for the Behavioral Sciences." 2nd ed., 1988 (d_z, sec. 2.3.5).
.. [2] D. Lakens. "Calculating and reporting effect sizes." Front. Psychol. 4:863, 2013.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ltr.errors import DataError
from ltr.stats._checks import _paired, _sample

__all__ = ["WinTieLoss", "cohens_dz", "win_tie_loss"]


class WinTieLoss(NamedTuple):
    """Counts of queries where ``a`` beats, ties or loses to ``b``."""

    wins: int
    ties: int
    losses: int



def cohens_dz(a, b) -> float:
    r"""Cohen's :math:`d_z` for paired samples: :math:`\bar d / s_d` with :math:`d = a - b`, :math:`s_d` the
    sample standard deviation (ddof = 1).

    Identical inputs give 0.0; constant non-zero differences give +-inf (no spread at all).

    References
    ----------
    J. Cohen, "Statistical Power Analysis for the Behavioral Sciences", 1988, sec. 2.3.5 (eq. 2.3.5);
    D. Lakens, "Calculating and reporting effect sizes", Front. Psychol. 4:863, 2013 (eq. 6).
    """
    d = _paired(a, b, caller="cohens_dz")
    if not d.any():
        return 0.0
    sd = d.std(ddof=1)
    mean = d.mean()
    if sd == 0:
        return float(np.copysign(np.inf, mean))
    return float(mean / sd)


def win_tie_loss(a, b, *, tol: float = 0.0) -> WinTieLoss:
    """Count queries where ``a`` wins (``a - b > tol``), ties (``|a - b| <= tol``) or loses (``a - b < -tol``).

    Examples
    --------
    >>> win_tie_loss([0.5, 0.2, 0.3], [0.4, 0.2, 0.9])
    WinTieLoss(wins=1, ties=1, losses=1)
    """
    if not isinstance(tol, (int, float)) or isinstance(tol, bool) or not tol >= 0:
        raise DataError(f"The 'tol' parameter of win_tie_loss must be a float >= 0. Got {tol!r}.")
    a = _sample(a, caller="win_tie_loss", name="a", min_size=0)
    b = _sample(b, caller="win_tie_loss", name="b", min_size=0)
    if a.shape != b.shape:
        raise DataError(f"win_tie_loss needs paired values: a has {a.size} values but b has {b.size}")
    d = a - b
    wins = int(np.count_nonzero(d > tol))
    losses = int(np.count_nonzero(d < -tol))
    return WinTieLoss(wins, d.size - wins - losses, losses)

