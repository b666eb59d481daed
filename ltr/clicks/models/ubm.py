"""The user browsing model (UBM; Dupret and Piwowarski, SIGIR 2008), fitted by EM as in PyClick.

``P(C_r = 1 | C_<r) = alpha_qd * gamma[r, r']`` where r' is the position of the previous click above r, or
"none" when nothing above was clicked. The EM updates are PBM's with ``gamma[r, r']`` in place of
``gamma_r``. Unconditional click probabilities sum over the position of the last click above.

Layout: ``gamma_[r - 1, j]`` with j = 0 for "no click above" and j = r' (1-based) otherwise (j < r). PyClick
stores the same values as ``exam[r-1][r'-1]`` with "no click above" in the last column (its M-1 rule, M the
SERP length); :meth:`UBM.gamma_pyclick` gives that layout. With SERPs of different lengths PyClick's rule
puts "no click above" of a short SERP in the same cell as "previous click at M" of longer SERPs; ours keeps
them apart (the only difference, and none for the 10-result Yandex sample).
"""

from __future__ import annotations

import numpy as np

from ltr.clicks.models.base import UNSEEN, ClickModel, pad_positions, register
from ltr.clicks.models.identification import identify
from ltr.clicks.models.pbm import em_position_based
from ltr.errors import DataError

__all__ = ["UBM", "previous_click"]


def previous_click(click: np.ndarray) -> np.ndarray:
    """1-based position of the last click above each position (0 = none), shape of ``click``."""
    width = click.shape[1]
    marked = np.where(click, np.arange(1, width + 1)[None, :], 0)
    above = np.maximum.accumulate(marked, axis=1)
    out = np.zeros_like(above)
    out[:, 1:] = above[:, :-1]
    return out


@register
class UBM(ClickModel):
    """User browsing model: attractiveness per pair, examination per (position, previous click), by EM.

    Parameters
    ----------
    iterations : int, default=50

    Attributes
    ----------
    attr_ : ndarray of shape (n_pairs + 1,)
    gamma_ : ndarray of shape (n_positions, n_positions)
        ``gamma_[r-1, 0]``: examination at r with no click above; ``gamma_[r-1, j]``: with the previous
        click at position j. Cells no data reach stay 1/2.
    identification_ : Identification
        Over the cells (position, previous click).
    """

    name = "ubm"
    fitting = "em"
    position_based = True
    pair_params = ("attr",)
    rank_params = ("gamma",)

    def __init__(self, *, iterations=50):
        self.iterations = iterations

    def _fit(self, m, pair):
        n, width = m.n_pairs, m.max_len
        mask = m.mask
        prev = previous_click(m.click)
        pm = pair[mask]
        rm = np.nonzero(mask)[1]
        cell = rm * width + prev[mask]
        attr, gamma = em_position_based(pm, cell, m.click[mask], n, width * width, int(self.iterations))
        self.attr_, self.gamma_ = attr, gamma.reshape(width, width)
        labels = [(r + 1, "none" if j == 0 else j) for r in range(width) for j in range(width)]
        self.identification_ = identify(pm, cell, labels, what="cells (position, previous click)",
                                        reference_name="position 1 with no click above")

    def _gamma(self, width: int) -> np.ndarray:
        g = pad_positions(self.gamma_, width)
        if g.shape[1] < width:
            g = np.concatenate([g, np.full((g.shape[0], width - g.shape[1]), UNSEEN)], axis=1)
        return g[:width, :width]

    def _conditional_probs(self, m, idx):
        g = self._gamma(m.max_len)
        prev = previous_click(m.click)
        p = self.attr_[idx] * g[np.arange(m.max_len)[None, :], prev]
        return np.where(m.click, p, 1.0 - p)

    def _click_probs(self, m, idx):
        width = m.max_len
        g = self._gamma(width)
        a = self.attr_[idx]
        probs = np.zeros(a.shape)
        for r in range(width):
            total = np.zeros(a.shape[0])
            for j in range(r + 1):            # j = 0: no click above; j >= 1: previous click at position j
                weight = 1.0 if j == 0 else probs[:, j - 1]
                none_between = np.ones(a.shape[0])
                for b in range(j, r):         # 0-based positions strictly between the click and r
                    none_between *= 1.0 - a[:, b] * g[b, j]
                total += weight * none_between * a[:, r] * g[r, j]
            probs[:, r] = total
        return probs

    @property
    def examination_(self):
        """Examination with no click above, per position (``gamma_[:, 0]``)."""
        return self.gamma_[:, 0]

    def gamma_pyclick(self) -> np.ndarray:
        """``gamma`` in PyClick's layout: ``[r-1][r'-1]``, "no click above" in the last column."""
        width = self.gamma_.shape[0]
        out = np.full((width, width), UNSEEN)
        out[:, : width - 1] = self.gamma_[:, 1:]
        out[:, width - 1] = self.gamma_[:, 0]
        return out

    def propensities(self) -> np.ndarray:
        """``gamma[r, none] / gamma[1, none]``: examination at r with no click above, relative to position 1."""
        self._check_fitted()
        if not self.identification_.identified:
            raise DataError(f"{self!r}: {self.identification_.note}")
        return self.gamma_[:, 0] / self.gamma_[0, 0]
