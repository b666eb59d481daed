"""Cascade models fitted by MLE: the cascade model (CM; Craswell et al. 2008) and the dependent click model
(DCM; Guo, Liu and Wang, WSDM 2009).

**CM**: the user scans from the top, clicks an examined document with its attractiveness and stops after
the first click: ``P(C_r = 1) = alpha_r * prod_{b<r} (1 - alpha_b)``. MLE as PyClick: the positions up to
and including the first click (all positions of a SERP without a click) count, ``(1 + clicks) / (2 + n)``.
PyClick's conditional probability (``convention='pyclick'``, the default, so that its figures are matched)
takes the *unconditional* probability at positions up to the first click and ``1e-6`` at every position
after it, clicked or not; every later position so adds ``ln 1e-6 = -13.8`` to the log-likelihood (PyClick's
CM log-likelihood of about -7.9 on the Yandex sample). ``convention='exact'`` uses the model's own
conditionals: ``alpha_r`` (or ``1 - alpha_r``) up to the first click, then 1 for no click and 1e-6 for a
click the model cannot produce.

**DCM**: like CM but the user may continue after a click with a per-position probability ``lambda_r``
(PyClick's ``cont``). MLE assumes, as the paper, that every position up to the last click was examined:
attractiveness counts the positions up to the last click (all positions of a SERP without a click),
``cont[r] = (1 + clicks at r that are not the last click) / (2 + clicks at r)``.
"""

from __future__ import annotations

import numpy as np

from ltr.clicks.models.base import (PROB_MIN, UNSEEN, ClickModel, check_choice, first_click, last_click,
                                    mle_value, pad_positions, register)

__all__ = ["CM", "DCM"]

_CONVENTIONS = ("pyclick", "exact")


def _per_pair(pair, weights, keep, n):
    return np.bincount(pair[keep], weights=None if weights is None else weights[keep], minlength=n + 1)


@register
class CM(ClickModel):
    """Cascade model: attractiveness per (query, document); the user stops at the first click.

    Parameters
    ----------
    convention : {"pyclick", "exact"}, default="pyclick"
        How conditional click probabilities (log-likelihood, conditional perplexity) are computed; see the
        module docstring. The unconditional probabilities (perplexity) are the same under both.
    """

    name = "cm"
    pair_params = ("attr",)

    def __init__(self, *, convention="pyclick"):
        self.convention = convention

    def _validate(self):
        check_choice(self.convention, _CONVENTIONS, "convention", self.name)

    def _fit(self, m, pair):
        n = m.n_pairs
        first = first_click(m)
        keep = m.mask & (np.arange(m.max_len)[None, :] <= first[:, None])
        self.attr_ = mle_value(1.0 + _per_pair(pair, m.click.astype(float), keep, n),
                               2.0 + _per_pair(pair, None, keep, n))
        self.attr_[n] = UNSEEN

    def _click_probs(self, m, idx):
        a = self.attr_[idx]
        exam = np.cumprod(np.concatenate([np.ones((a.shape[0], 1)), 1.0 - a[:, :-1]], axis=1), axis=1)
        return a * exam

    def _conditional_probs(self, m, idx):
        first = first_click(m)
        upto = np.arange(m.max_len)[None, :] <= first[:, None]
        if self.convention == "pyclick":
            p = self._click_probs(m, idx)
            return np.where(upto, np.where(m.click, p, 1.0 - p), PROB_MIN)
        a = self.attr_[idx]
        return np.where(upto, np.where(m.click, a, 1.0 - a), np.where(m.click, PROB_MIN, 1.0))


@register
class DCM(ClickModel):
    """Dependent click model: attractiveness per pair, continuation after a click per position (MLE)."""

    name = "dcm"
    pair_params = ("attr",)
    rank_params = ("cont",)

    def __init__(self):
        pass

    def _fit(self, m, pair):
        n = m.n_pairs
        last = last_click(m)
        ranks = np.arange(m.max_len)[None, :]
        keep = m.mask & (ranks <= last[:, None])
        self.attr_ = mle_value(1.0 + _per_pair(pair, m.click.astype(float), keep, n),
                               2.0 + _per_pair(pair, None, keep, n))
        self.attr_[n] = UNSEEN
        clicked = m.click & m.mask
        not_last = clicked & (ranks != last[:, None])
        self.cont_ = mle_value(1.0 + not_last.sum(axis=0), 2.0 + clicked.sum(axis=0))

    def _click_probs(self, m, idx):
        a = self.attr_[idx]
        cont = pad_positions(self.cont_, m.max_len)
        exam = np.ones(a.shape[0])
        out = np.empty(a.shape)
        for r in range(m.max_len):
            out[:, r] = a[:, r] * exam
            exam = exam * (cont[r] * a[:, r] + (1.0 - a[:, r]))
        return out

    def _conditional_probs(self, m, idx):
        a = self.attr_[idx]
        cont = pad_positions(self.cont_, m.max_len)
        exam = np.ones(a.shape[0])
        out = np.empty(a.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            for r in range(m.max_len):
                c = m.click[:, r]
                p_click = a[:, r] * exam
                p = np.where(c, p_click, 1.0 - p_click)
                out[:, r] = p
                exam = np.where(c, cont[r], exam * (1.0 - a[:, r]) / p)
        return out
