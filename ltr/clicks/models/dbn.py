"""Dynamic Bayesian network models (Chapelle and Zhang, WWW 2009): the simplified DBN (SDBN, by MLE) and
the DBN (by EM).

Model: the user examines position 1; an examined document is clicked with its attractiveness ``alpha_qd``
(PyClick ``attr``); after a click the user is satisfied with ``sigma_qd`` (``sat``) and leaves; otherwise
(no click, or a click without satisfaction) the user examines the next position with probability ``gamma``
(``cont``, one value). SDBN fixes gamma = 1 and, as PyClick, assumes every position up to the last click
was examined: ``attr = (1 + clicks) / (2 + positions up to the last click)`` (all positions of a SERP
without a click), ``sat = (1 + last clicks) / (2 + clicks)``.

DBN is fitted by EM with one of two E-steps:

``convention='pyclick'`` (default: reproduces PyClick's figures) follows PyClick's update rules, which
approximate the posterior:

- attractiveness: a click adds 1; an unclicked position *after* the last click adds
  ``(1 - eps) a / (1 - eps * car)`` where eps is the *unconditional* examination probability from position
  1 (not the one given the clicks above) and car = P(click at or below | examined); a SERP without a click
  adds 0 at every position (its "last click" is at n + 1);
- satisfaction: the last click adds ``s / (1 - (1 - s) gamma car_{r+1})``, every click adds 1 to the
  denominator;
- continuation: every position of every SERP adds ``P(E_r = 1, S_r = 0, E_{r+1} = 1 | C)`` over
  ``P(E_r = 1, S_r = 0 | C)`` computed from PyClick's factor table, including its two quirks: the clicks
  below r are scored with the parameters of positions 1, 2, ... instead of r+1, r+2, ... (its
  ``_get_tail_clicks`` indexes the session parameters from 0), and in a SERP without clicks "no examination
  at r + 1" is ruled out (its last-click rank n makes every such factor 0), so those SERPs add 1 to both
  numerator and denominator at every position, pushing gamma towards 1.

``convention='exact'`` is the exact E-step of the model (forward probabilities given the clicks above,
backward click-at-or-below probabilities): it converges to the maximum-likelihood (MAP under PyClick's
1/2 prior) estimate and recovers simulated parameters; its figures differ from PyClick's. Both start from
1/2, add to numerator 1 and denominator 2 each iteration and cap values at 1 - 1e-6.
"""

from __future__ import annotations

import numpy as np

from ltr.clicks.models.base import (UNSEEN, ClickModel, check_choice, em_value, last_click, mle_value,
                                    register, unique_serps)

__all__ = ["SDBN", "DBN"]

_CONVENTIONS = ("pyclick", "exact")


def _cascade_click_probs(a, s, gamma):
    """Unconditional P(C_r = 1) = a_r * P(E_r = 1), P(E_{r+1}) = P(E_r) gamma ((1 - s) a + (1 - a))."""
    exam = np.ones(a.shape[0])
    out = np.empty(a.shape)
    for r in range(a.shape[1]):
        out[:, r] = a[:, r] * exam
        exam = exam * gamma * ((1.0 - s[:, r]) * a[:, r] + (1.0 - a[:, r]))
    return out


def _forward(a, s, gamma, click):
    """P(C_r = c_r | C_<r) and eps_r = P(E_r = 1 | C_<r) (shape n x (width + 1); eps_1 = 1)."""
    n, width = a.shape
    eps = np.ones((n, width + 1))
    probs = np.empty((n, width))
    e = np.ones(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        for r in range(width):
            c = click[:, r]
            p_click = a[:, r] * e
            p = np.where(c, p_click, 1.0 - p_click)
            probs[:, r] = p
            e = np.where(c, gamma * (1.0 - s[:, r]), e * gamma * (1.0 - a[:, r]) / p)
            eps[:, r + 1] = e
    return probs, eps


def _click_after(a, gamma, length):
    """car_r = P(a click at r or below | E_r = 1), 0 past the SERP's end (shape n x (width + 1))."""
    n, width = a.shape
    car = np.zeros((n, width + 1))
    for r in range(width - 1, -1, -1):
        inside = r < length
        car[:, r] = np.where(inside, a[:, r] + (1.0 - a[:, r]) * gamma * car[:, r + 1], 0.0)
    return car


@register
class SDBN(ClickModel):
    """Simplified DBN (gamma = 1): attractiveness and satisfaction per (query, document), by MLE."""

    name = "sdbn"
    pair_params = ("attr", "sat")

    def __init__(self):
        pass

    def _fit(self, m, pair):
        n = m.n_pairs
        last = last_click(m)
        ranks = np.arange(m.max_len)[None, :]
        upto = m.mask & (ranks <= last[:, None])
        clicked = m.click & m.mask
        is_last = clicked & (ranks == last[:, None])
        self.attr_ = mle_value(1.0 + np.bincount(pair[upto], weights=m.click[upto], minlength=n + 1),
                               2.0 + np.bincount(pair[upto], minlength=n + 1))
        self.sat_ = mle_value(1.0 + np.bincount(pair[clicked], weights=is_last[clicked], minlength=n + 1),
                              2.0 + np.bincount(pair[clicked], minlength=n + 1))
        self.attr_[n] = self.sat_[n] = UNSEEN

    def _click_probs(self, m, idx):
        return _cascade_click_probs(self.attr_[idx], self.sat_[idx], 1.0)

    def _conditional_probs(self, m, idx):
        return _forward(self.attr_[idx], self.sat_[idx], 1.0, m.click)[0]


@register
class DBN(ClickModel):
    """Dynamic Bayesian network: attractiveness and satisfaction per pair, one continuation gamma, by EM.

    Parameters
    ----------
    iterations : int, default=50
    convention : {"pyclick", "exact"}, default="pyclick"
        The E-step (see the module docstring): PyClick's update rules, or the exact posterior.

    Attributes
    ----------
    attr_, sat_ : ndarray of shape (n_pairs + 1,)
    cont_ : float
        gamma, the probability of examining the next position after no click or an unsatisfying click.
    """

    name = "dbn"
    fitting = "em"
    pair_params = ("attr", "sat")
    rank_params = ("cont",)

    def __init__(self, *, iterations=50, convention="pyclick"):
        self.iterations = iterations
        self.convention = convention

    def _validate(self):
        super()._validate()
        check_choice(self.convention, _CONVENTIONS, "convention", self.name)

    def _fit(self, m, pair):
        n = m.n_pairs
        attr = np.full(n + 1, UNSEEN)
        sat = np.full(n + 1, UNSEEN)
        gamma = UNSEEN
        step = _estep_pyclick if self.convention == "pyclick" else _estep_exact
        m, pair, w = unique_serps(m, pair)
        mask = m.mask
        clicked = m.click & mask
        weight = np.broadcast_to(w[:, None], mask.shape)
        pm, pc, wm, wc = pair[mask], pair[clicked], weight[mask], weight[clicked]
        attr_den = 2.0 + np.bincount(pm, weights=wm, minlength=n + 1)
        sat_den = 2.0 + np.bincount(pc, weights=wc, minlength=n + 1)
        last = last_click(m)
        for _ in range(int(self.iterations)):
            post_a, post_s, g_num, g_den = step(attr[pair], sat[pair], gamma, m, last, w)
            attr = em_value(1.0 + np.bincount(pm, weights=post_a[mask] * wm, minlength=n + 1), attr_den)
            sat = em_value(1.0 + np.bincount(pc, weights=post_s[clicked] * wc, minlength=n + 1), sat_den)
            gamma = float(em_value(1.0 + g_num, 2.0 + g_den))
        attr[n] = sat[n] = UNSEEN
        self.attr_, self.sat_, self.cont_ = attr, sat, gamma

    def _click_probs(self, m, idx):
        return _cascade_click_probs(self.attr_[idx], self.sat_[idx], self.cont_)

    def _conditional_probs(self, m, idx):
        return _forward(self.attr_[idx], self.sat_[idx], self.cont_, m.click)[0]


def _estep_exact(a, s, g, m, last, w):
    """Exact expected counts: per-impression posteriors of A_r = 1 and S_r = 1, and gamma's counts."""
    click, mask, length = m.click, m.mask, m.length
    n, width = a.shape
    ranks = np.arange(width)[None, :]
    _, eps = _forward(a, s, g, click)
    car = _click_after(a, g, length)
    any_click = click.any(axis=1)
    lastc = np.where(any_click, last, -1)[:, None]          # -1: no click
    e, cr, cr_next = eps[:, :width], car[:, :width], car[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        below = 1.0 - e * cr                                   # P(no click at r or below | C_<r)
        post_a = np.where(click, 1.0, np.where(ranks > lastc, a * (1.0 - e) / below, 0.0))
        z_sat = 1.0 - (1.0 - s) * g * cr_next
        post_s = np.where(click & (ranks == lastc), s / z_sat, 0.0)
        # transitions r -> r+1 (r + 1 < length): expected "examined and not satisfied" (den) and "went on" (num)
        trans = mask & (ranks + 1 < length[:, None])
        before = ranks < lastc
        at_last = ranks == lastc
        after = ranks > lastc
        den = np.where(before, 1.0, 0.0)
        num = np.where(before, 1.0, 0.0)
        den = den + np.where(at_last, (1.0 - s) * (1.0 - g * cr_next) / z_sat, 0.0)
        num = num + np.where(at_last, (1.0 - s) * g * (1.0 - cr_next) / z_sat, 0.0)
        den = den + np.where(after, e * (1.0 - cr) / below, 0.0)
        num = num + np.where(after, e * (1.0 - a) * g * (1.0 - cr_next) / below, 0.0)
    wt = np.broadcast_to(w[:, None], trans.shape)
    return post_a, post_s, float((num * wt)[trans].sum()), float((den * wt)[trans].sum())


def _tail_logs(a, s, g, click, length, quirk: bool):
    """For each start position t (0..width), the sum of ln P(C_j = c_j | C_t..C_{j-1}, E_t = 1) over
    j = t..n-1. With ``quirk`` the parameters are taken from positions 0, 1, ... instead of t, t+1, ...
    (PyClick's ``_get_tail_clicks`` indexing)."""
    n, width = a.shape
    out = np.zeros((n, width + 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        for t in range(1, width):
            e = np.ones(n)
            total = np.zeros(n)
            for i in range(width - t):
                j = t + i
                k = i if quirk else j
                inside = j < length
                c = click[:, j]
                p_click = a[:, k] * e
                p = np.where(c, p_click, 1.0 - p_click)
                total += np.where(inside, np.log(np.where(inside, p, 1.0)), 0.0)
                e = np.where(c, g * (1.0 - s[:, k]), e * g * (1.0 - a[:, k]) / p)
            out[:, t] = total
    return out


def _estep_pyclick(a, s, g, m, last, w):
    """PyClick's DBN update rules (``DBNAttrEM``, ``DBNSatEM``, ``DBNContEM``), vectorised over SERPs."""
    click, mask, length = m.click, m.mask, m.length
    n, width = a.shape
    ranks = np.arange(width)[None, :]
    # unconditional examination from position 1 (PyClick's _get_session_exam) and click-at-or-below
    exam = np.ones((n, width + 1))
    for r in range(width):
        exam[:, r + 1] = exam[:, r] * g * ((1.0 - s[:, r]) * a[:, r] + (1.0 - a[:, r]))
    car = _click_after(a, g, length)
    e, cr, cr_next = exam[:, :width], car[:, :width], car[:, 1:]
    lastr = last[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        post_a = np.where(click, 1.0, np.where(ranks >= lastr, (1.0 - e) * a / (1.0 - e * cr), 0.0))
        post_s = np.where(click & (ranks == lastr), s / (1.0 - (1.0 - s) * g * cr_next), 0.0)
    # continuation: PyClick's factor table P(E_r = x, S_r = y, E_{r+1} = z, C) up to a constant
    _, fwd = _forward(a, s, g, click)
    tail = _tail_logs(a, s, g, click, length, quirk=True)
    lg, l1g = np.log(g), np.log1p(-g)
    g_num = g_den = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        for r in range(width):
            inside = mask[:, r]
            if not inside.any():
                continue
            ar, sr, c = a[:, r], s[:, r], click[:, r]
            la, l1a, ls, l1s = np.log(ar), np.log1p(-ar), np.log(sr), np.log1p(-sr)
            lx1, lx0 = np.log(fwd[:, r]), np.log1p(-fwd[:, r])
            z0 = last < r + 1                              # "no examination at r+1" possible (no click below)
            tz = np.where(r + 1 < length, tail[:, min(r + 1, width)], 0.0)
            ninf = -np.inf
            # no click at r
            n000 = np.where(z0, l1a + lx0, ninf)
            n100 = np.where(z0, l1a + l1g + lx1, ninf)
            n101 = l1a + lg + tz + lx1
            # click at r
            c100 = np.where(z0, la + l1s + l1g + lx1, ninf)
            c101 = la + l1s + lg + tz + lx1
            c110 = np.where(z0, la + ls + lx1, ninf)
            terms0 = np.stack([n000, n100, n101, np.full(n, ninf)])
            terms1 = np.stack([np.full(n, ninf), c100, c101, c110])
            terms = np.where(c[None, :], terms1, terms0)    # rows: (x0), (1,0,0), (1,0,1), (1,1,0)
            top = terms.max(axis=0)
            f = np.exp(terms - top)
            total = f.sum(axis=0)
            p101 = f[2] / total
            p100 = f[1] / total
            g_num += float((p101 * w)[inside].sum())
            g_den += float(((p100 + p101) * w)[inside].sum())
    return post_a, post_s, g_num, g_den
