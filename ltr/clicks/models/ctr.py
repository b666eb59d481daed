"""Click-through-rate baselines (MLE with PyClick's add-one smoothing): one global CTR, a CTR per position,
a CTR per (query, document).

Each estimate is ``(1 + clicks) / (2 + impressions)``; clicks are independent of each other, so the
conditional and the unconditional click probabilities are the same. Registered as ``gctr`` (PyClick's GCTR,
also known as the random click model), ``rctr`` and ``dctr``.
"""

from __future__ import annotations

import numpy as np

from ltr.clicks.models.base import UNSEEN, ClickModel, mle_value, pad_positions, register

__all__ = ["GCTR", "RCTR", "DCTR"]


@register
class GCTR(ClickModel):
    """Global CTR: one click probability for every position and document.

    ``ctr = (1 + clicks) / (2 + impressions)`` (PyClick ``GCTR``).
    """

    name = "gctr"
    rank_params = ("ctr",)

    def __init__(self):
        pass

    def _fit(self, m, pair):
        self.ctr_ = float(mle_value(1.0 + m.click[m.mask].sum(), 2.0 + m.mask.sum()))

    def _click_probs(self, m, idx):
        return np.full(m.pair.shape, self.ctr_)


@register
class RCTR(ClickModel):
    """CTR per position: ``ctr[r] = (1 + clicks at r) / (2 + SERPs showing r)`` (PyClick ``RCTR``)."""

    name = "rctr"
    position_based = True
    rank_params = ("ctr",)

    def __init__(self):
        pass

    def _fit(self, m, pair):
        clicks = (m.click & m.mask).sum(axis=0)
        shown = m.mask.sum(axis=0)
        self.ctr_ = mle_value(1.0 + clicks, 2.0 + shown)

    def _click_probs(self, m, idx):
        return np.broadcast_to(pad_positions(self.ctr_, m.max_len)[: m.max_len][None, :], m.pair.shape).copy()

    @property
    def examination_(self):
        return self.ctr_


@register
class DCTR(ClickModel):
    """CTR per (query, document): ``(1 + clicks) / (2 + impressions)``; unseen pairs 1/2 (PyClick ``DCTR``)."""

    name = "dctr"
    pair_params = ("ctr",)

    def __init__(self):
        pass

    def _fit(self, m, pair):
        n = m.n_pairs
        pm, cm = pair[m.mask], m.click[m.mask]
        self.ctr_ = mle_value(1.0 + np.bincount(pm, weights=cm, minlength=n + 1),
                              2.0 + np.bincount(pm, minlength=n + 1))
        self.ctr_[n] = UNSEEN

    def _click_probs(self, m, idx):
        return self.ctr_[idx]
