"""The click chain model (CCM; Guo et al., WWW 2009) with PyClick's EM update rules.

Model: an examined document is clicked with its attractiveness ``alpha_qd`` (PyClick ``attr``), which
also serves as its relevance; after no click the user goes on with ``tau_1`` (``cont_noclick``), after a
click with ``tau_2 (1 - alpha) + tau_3 alpha`` (``cont_click_nonrel``, ``cont_click_rel``).

Fitted with PyClick's update rules only (``CCMAttrEM``, ``CCMCont*EM``), which share DBN's approximations
and quirks (unconditional examination in the attractiveness update, the shifted parameters of its tail
clicks, "no examination below" ruled out in SERPs without a click); see :mod:`ltr.clicks.models.dbn`. An
exact E-step is not offered for CCM: it is here to match PyClick's figures, and it is not among the
simulated user models, so no recovery test could check one.
"""

from __future__ import annotations

import numpy as np

from ltr.clicks.models.base import UNSEEN, ClickModel, em_value, last_click, register, unique_serps

__all__ = ["CCM"]


def _forward(a, t1, t2, t3, click):
    n, width = a.shape
    eps = np.ones((n, width + 1))
    probs = np.empty((n, width))
    e = np.ones(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        for r in range(width):
            c = click[:, r]
            ar = a[:, r]
            p_click = ar * e
            p = np.where(c, p_click, 1.0 - p_click)
            probs[:, r] = p
            e = np.where(c, t2 * (1.0 - ar) + t3 * ar, e * t1 * (1.0 - ar) / p)
            eps[:, r + 1] = e
    return probs, eps


def _tail_logs_quirk(a, t1, t2, t3, click, length):
    n, width = a.shape
    out = np.zeros((n, width + 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        for t in range(1, width):
            e = np.ones(n)
            total = np.zeros(n)
            for i in range(width - t):
                j = t + i
                inside = j < length
                c = click[:, j]
                ai = a[:, i]                      # PyClick's indexing: parameters of positions 0, 1, ...
                p_click = ai * e
                p = np.where(c, p_click, 1.0 - p_click)
                total += np.where(inside, np.log(np.where(inside, p, 1.0)), 0.0)
                e = np.where(c, t2 * (1.0 - ai) + t3 * ai, e * t1 * (1.0 - ai) / p)
            out[:, t] = total
    return out


@register
class CCM(ClickModel):
    """Click chain model (PyClick's EM updates).

    Parameters
    ----------
    iterations : int, default=50

    Attributes
    ----------
    attr_ : ndarray of shape (n_pairs + 1,)
    tau_ : ndarray of shape (3,)
        ``tau_1`` (no click), ``tau_2`` (click, not relevant), ``tau_3`` (click, relevant).
    """

    name = "ccm"
    fitting = "em"
    pair_params = ("attr",)
    rank_params = ("cont_noclick", "cont_click_nonrel", "cont_click_rel")

    def __init__(self, *, iterations=50):
        self.iterations = iterations

    def _fit(self, m, pair):
        n = m.n_pairs
        m, pair, w = unique_serps(m, pair)
        mask = m.mask
        weight = np.broadcast_to(w[:, None], mask.shape)
        click = m.click
        length = m.length
        width = m.max_len
        ranks = np.arange(width)[None, :]
        last = last_click(m)
        attr = np.full(n + 1, UNSEEN)
        t1 = t2 = t3 = UNSEEN
        pm, wm = pair[mask], weight[mask]
        attr_den = 2.0 + np.bincount(pm, weights=np.where(click, 2.0, 1.0)[mask] * wm, minlength=n + 1)
        for _ in range(int(self.iterations)):
            a = attr[pair]
            exam = np.ones((a.shape[0], width + 1))
            for r in range(width):
                ar = a[:, r]
                exam[:, r + 1] = exam[:, r] * ((1.0 - ar) * t1 + ar * ((1.0 - ar) * t2 + ar * t3))
            car = np.zeros((a.shape[0], width + 1))
            for r in range(width - 1, -1, -1):
                car[:, r] = np.where(r < length, a[:, r] + (1.0 - a[:, r]) * t1 * car[:, r + 1], 0.0)
            e, cr, cr_next = exam[:, :width], car[:, :width], car[:, 1:]
            lastr = last[:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                num = np.where(click, 1.0, np.where(ranks >= lastr, (1.0 - e) * a / (1.0 - e * cr), 0.0))
                sat_part = a / (1.0 - (t2 * (1.0 - a) + t3 * a) * cr_next)
                num = num + np.where(click & (ranks == lastr), sat_part, 0.0)
            new_attr = em_value(1.0 + np.bincount(pm, weights=num[mask] * wm, minlength=n + 1), attr_den)
            # continuation parameters from PyClick's factor table
            _, fwd = _forward(a, t1, t2, t3, click)
            tail = _tail_logs_quirk(a, t1, t2, t3, click, length)
            acc = np.zeros(6)                           # num/den of tau_1, tau_2, tau_3
            with np.errstate(divide="ignore", invalid="ignore"):
                for r in range(width):
                    inside = mask[:, r]
                    if not inside.any():
                        continue
                    ar, c = a[:, r], click[:, r]
                    la, l1a = np.log(ar), np.log1p(-ar)
                    lx1, lx0 = np.log(fwd[:, r]), np.log1p(-fwd[:, r])
                    z0 = last < r + 1
                    tz = np.where(r + 1 < length, tail[:, min(r + 1, width)], 0.0)
                    ninf = np.full(len(ar), -np.inf)
                    # no click: (0,0,0), (1,0,0), (1,0,1)
                    n000 = np.where(z0, l1a + lx0, -np.inf)
                    n100 = np.where(z0, l1a + np.log1p(-t1) + lx1, -np.inf)
                    n101 = l1a + np.log(t1) + tz + lx1
                    # click: (1,0,0), (1,0,1), (1,1,0), (1,1,1)
                    c100 = np.where(z0, la + l1a + np.log1p(-t2) + lx1, -np.inf)
                    c101 = la + l1a + np.log(t2) + tz + lx1
                    c110 = np.where(z0, la + la + np.log1p(-t3) + lx1, -np.inf)
                    c111 = la + la + np.log(t3) + tz + lx1
                    terms = np.where(c[None, :], np.stack([ninf, c100, c101, c110, c111]),
                                     np.stack([n000, n100, n101, ninf, ninf]))
                    top = terms.max(axis=0)
                    f = np.exp(terms - top)
                    f = f / f.sum(axis=0) * w[None, :]
                    nc = inside & ~c
                    cc = inside & c
                    acc[0] += f[2][nc].sum()
                    acc[1] += (f[1] + f[2])[nc].sum()
                    acc[2] += f[2][cc].sum()
                    acc[3] += (f[1] + f[2])[cc].sum()
                    acc[4] += f[4][cc].sum()
                    acc[5] += (f[3] + f[4])[cc].sum()
            t1 = float(em_value(1.0 + acc[0], 2.0 + acc[1]))
            t2 = float(em_value(1.0 + acc[2], 2.0 + acc[3]))
            t3 = float(em_value(1.0 + acc[4], 2.0 + acc[5]))
            attr = new_attr
        attr[n] = UNSEEN
        self.attr_ = attr
        self.tau_ = np.array([t1, t2, t3])

    @property
    def cont_noclick_(self):
        return float(self.tau_[0])

    @property
    def cont_click_nonrel_(self):
        return float(self.tau_[1])

    @property
    def cont_click_rel_(self):
        return float(self.tau_[2])

    def _click_probs(self, m, idx):
        a = self.attr_[idx]
        t1, t2, t3 = self.tau_
        exam = np.ones(a.shape[0])
        out = np.empty(a.shape)
        for r in range(m.max_len):
            ar = a[:, r]
            out[:, r] = ar * exam
            exam = exam * ((1.0 - ar) * t1 + ar * ((1.0 - ar) * t2 + ar * t3))
        return out

    def _conditional_probs(self, m, idx):
        t1, t2, t3 = self.tau_
        return _forward(self.attr_[idx], t1, t2, t3, m.click)[0]
