r"""Objectives for learning from clicks: IPS pointwise and pairwise, Unbiased LambdaMART, position-debiased
LambdaRank.

Clicks are biased by position: a document at rank 1 is clicked because it is examined. Under the
position-based model ``P(click) = p_k * a`` (``p_k`` the examination probability of position k, ``a`` the
click probability given examination), and the objectives here correct for it in three ways.

- **Inverse propensity scoring** on aggregated clicks (``ips_binary``, ``ips_ranknet``): each row of an
  aggregated click set (:func:`ltr.clicks.training.click_training_set`) carries its clicks ``C_k`` and
  impressions ``N_k`` at every position k. The IPS label

  .. math:: \hat a = \frac{\sum_k C_k / \max(p_k, \tau)}{\sum_k N_k}

  is, without clipping (``clip=None``), an unbiased estimate of ``a`` given the impressions
  (``E[C_k] = N_k p_k a``; Joachims et al. 2017, Wang et al. 2016); with ``clip=tau`` the weights are at
  most ``1 / tau`` (less variance, biased towards the naive click rate at low positions). A loss that is
  linear in the label is then an unbiased estimate of the same loss on the true ``a``: the logistic loss
  (``ips_binary``) and Joachims et al.'s propensity-weighted rank of the clicked documents (``ips_ranknet``,
  ``sum_i a_i sum_{j != i} log(1 + exp(-sigma (s_i - s_j)))``). ``snips=True`` self-normalises per query:
  the IPS weights of a query's clicks are rescaled so that they sum to its number of clicks
  (Swaminathan and Joachims 2015's self-normalised estimator, with the click count as the normaliser);
  it removes any constant factor of the propensities (only the shape ``p_k / p_1`` matters), at the cost
  of a bias that vanishes with more clicks per query. Documents never shown have no impressions and label
  0: IPS cannot learn about them (Oosterhuis and de Rijke 2020); they are absent from the training set
  unless it was built with ``include_unshown=True`` (then they only act as the "others" of pairs).

- **Unbiased LambdaMART** (Hu et al. 2019), ``lambdarank_unbiased``, on one row per impression (each query
  block one SERP in display order): pairs (clicked i, unclicked j) have their lambda divided by
  ``t+(pos i) * t-(pos j)``, and the position biases are re-estimated after every iteration from the pair
  losses, ``t+(k) = (L+(k) / L+(1))^(1 / (1 + bias_norm))`` with ``L+(k) = sum over pairs whose clicked
  document is at k of loss / t-(pos j)`` (and symmetrically ``t-``). On XGBoost it is the native
  ``rank:ndcg`` with ``lambdarank_unbiased=True``; on LightGBM it is ltr's reference implementation of
  the same algorithm as a custom objective, written after XGBoost 3.2's ``lambdarank_obj.{h,cc}``
  (topk pairs by model rank, delta-nDCG with exponential gain, score normalisation, LightGBM's
  ``log2(1 + sum lambda) / sum lambda`` normalisation, biases normalised so that t(1) = 1, positions
  beyond ``truncation_level`` not tracked). One XGBoost convention is kept as XGBoost has it and stated:
  its pair *cost* (what the biases are estimated from) is ``log(1 / (1 - sigmoid(s_high - s_low)))``
  times |delta nDCG|, which grows as the pair gets *more* correctly ordered (the paper's eq. 30 uses the
  pair's RankNet loss ``log(1 + exp(-(s_i - s_j)))``); ``cost='paper'`` uses the paper's loss instead
  (LightGBM only; XGBoost cannot).

- **Position-debiased LambdaRank** (LightGBM >= 4.1), ``lambdarank_position``: LightGBM fits an additive
  model ``s = f(x) + g(position)`` with a Newton step on ``g`` after every iteration
  (``lambdarank_position_bias_regularization`` an L2 penalty on ``g``); only ``f`` is saved in the model.

References
----------
Joachims, Swaminathan, Schnabel. Unbiased learning-to-rank with biased feedback. WSDM 2017.
Wang, Bendersky, Metzler, Najork. Learning to rank with selection bias in personal search. SIGIR 2016.
Swaminathan, Joachims. The self-normalized estimator for counterfactual learning. NeurIPS 2015.
Hu, Wang, Peng, Li. Unbiased LambdaMART: an unbiased pairwise learning-to-rank algorithm. WWW 2019.
Oosterhuis, de Rijke. Policy-aware unbiased learning to rank for top-k rankings. SIGIR 2020.
"""

from __future__ import annotations

import math

import numpy as np

from ltr.errors import ConfigError, DataError
from ltr.objectives.base import (
    Objective, apply_weights, boolean, check_grades, choice, grad_inputs, offsets_of, optional_positive_int,
    positive_float, register,
)

__all__ = ["IPSBinary", "IPSRankNet", "UnbiasedLambdaMART", "LambdaRankPosition", "ips_labels",
           "bias_to_propensity", "unbiased_lambdamart_step", "ips_ranknet_grad_hess"]

#: XGBoost's ``Eps64()``: biases below it are not divided by.
_EPS64 = 1e-16
#: XGBoost's default ``lambdarank_num_pair_per_sample`` for ``topk`` (``LambdaRankParam::DefaultK``).
XGB_DEFAULT_K = 32


def _clip_value(value, key, owner):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or not 0 < value <= 1:
        raise ConfigError(f"The {key!r} parameter of {owner} must be None (no clipping) or a float in (0, 1] "
                          f"(the smallest propensity used; weights are then at most 1/clip). Got {value!r} instead.")
    return float(value)


def _nonneg_float(value, key, owner):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value < 0:
        raise ConfigError(f"The {key!r} parameter of {owner} must be a float >= 0. Got {value!r} instead.")
    return float(value)


# --------------------------------------------------------------------------------------------------
# IPS labels
# --------------------------------------------------------------------------------------------------

def ips_labels(counts, group_sizes=None, *, clip=None, snips=False, owner="ips") -> np.ndarray:
    """The IPS estimate of P(click | examined) of every row of an aggregated click set.

    ``sum_k C_k / max(p_k, clip) / sum_k N_k`` (0 for a row never shown); with ``snips`` every query's
    IPS-weighted clicks are rescaled to sum to its clicks (needs ``group_sizes``). See the module docstring.

    Parameters
    ----------
    counts : ltr.ranking.ClickCounts
        With ``propensities`` set.
    group_sizes : array of int, optional
        Rows per query (for ``snips``).

    Raises
    ------
    DataError
        No propensities, or a propensity of 0 at a position with clicks (an infinite weight).
    """
    p = counts.propensities
    if p is None:
        raise DataError(f"{owner} needs propensities: build the click set with click_training_set(log, "
                        f"features, propensities=...) (the simulator's truth, e.g. ProtocolResult.propensities, "
                        f"or an estimate from ltr.clicks.propensity), or ds.clicks.with_propensities(...)")
    p = np.asarray(p, dtype=np.float64)
    if clip is not None:
        p = np.maximum(p, clip)
    C, N = counts.clicks, counts.impressions
    zero = p <= 0
    if np.any(zero & (C.sum(axis=0) > 0)):
        k = int(np.flatnonzero(zero & (C.sum(axis=0) > 0))[0]) + 1
        raise DataError(f"{owner}: the propensity of position {k} is 0 but documents were clicked there (an "
                        f"infinite weight); estimate it again, or clip it (clip=0.01)")
    w = np.where(zero, 0.0, 1.0 / np.where(zero, 1.0, p))
    weighted = C @ w
    shown = N.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.where(shown > 0, weighted / np.maximum(shown, 1), 0.0)
    if snips:
        if group_sizes is None:
            raise DataError(f"{owner}: snips=True needs the query group sizes")
        starts = offsets_of(np.asarray(group_sizes, dtype=np.int64))[:-1]
        q_clicks = np.add.reduceat(C.sum(axis=1).astype(np.float64), starts) if len(starts) else np.zeros(0)
        q_ips = np.add.reduceat(weighted, starts) if len(starts) else np.zeros(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(q_ips > 0, q_clicks / np.where(q_ips > 0, q_ips, 1.0), 0.0)
        y = y * np.repeat(scale, group_sizes)
    return y.astype(np.float64)


class _IPS(Objective):
    needs_clicks = True

    def labels_from_clicks(self, counts, group_sizes) -> np.ndarray:
        return ips_labels(counts, group_sizes, clip=self.params["clip"], snips=self.params["snips"],
                          owner=f"objective {self!r}")

    def _notes(self, backend):
        return [f"labels: IPS estimates of P(click | examined) from the click set's counts "
                f"(clip={self.params['clip']!r}, snips={self.params['snips']!r}); see ltr.objectives.unbiased"]


@register
class IPSBinary(_IPS):
    r"""IPS-weighted pointwise logistic loss on aggregated clicks.

    .. math:: L = -\sum_r \hat a_r \log \sigma(s_r) + (1 - \hat a_r) \log (1 - \sigma(s_r))

    with the IPS labels :math:`\hat a_r` (:func:`ips_labels`; they may exceed 1 without clipping, the loss
    stays convex). Gradient :math:`\sigma(s) - \hat a`, hessian :math:`\sigma(s)(1 - \sigma(s))`. A custom
    objective on both backends (their cross-entropy objectives refuse labels above 1). Weights multiply
    each row's gradient and hessian.

    Parameters
    ----------
    clip : float in (0, 1] or None, default=None
        Smallest propensity used (weights at most 1/clip); None: no clipping (unbiased).
    snips : bool, default=False
        Self-normalise the IPS weights per query (module docstring).

    References
    ----------
    Joachims, Swaminathan, Schnabel. Unbiased learning-to-rank with biased feedback. WSDM 2017.
    Saito, Yaginuma, Nishino, Sakata, Nakata. Unbiased recommender learning from missing-not-at-random
    implicit feedback. WSDM 2020 (the IPS-weighted pointwise log loss).
    """

    name = "ips_binary"
    family = "pointwise"
    backends = ("lightgbm", "xgboost")
    label_kinds = frozenset({"binary", "graded", "real"})
    _spec = {"clip": (None, _clip_value), "snips": (False, boolean)}

    def grad_hess(self, labels, scores, group_sizes, weights=None):
        y, s, sizes, _ = grad_inputs(labels, scores, group_sizes)
        p = 1.0 / (1.0 + np.exp(-s))
        return apply_weights(p - y, p * (1.0 - p), weights)

    def loss(self, labels, scores) -> float:
        """The loss (for finite-difference tests)."""
        y, s = np.asarray(labels, np.float64), np.asarray(scores, np.float64)
        return float(np.sum(y * np.logaddexp(0.0, -s) + (1.0 - y) * np.logaddexp(0.0, s)))


def _ips_ranknet_py(labels, scores, offsets, sigma, unclicked_only, grad, hess):
    for q in range(len(offsets) - 1):
        a, b = offsets[q], offsets[q + 1]
        for i in range(a, b):
            yi = labels[i]
            if yi <= 0.0:
                continue
            for j in range(a, b):
                if j == i or (unclicked_only and labels[j] > 0.0):
                    continue
                d = sigma * (scores[i] - scores[j])
                if d >= 0:
                    z = math.exp(-d)
                    one_minus_p = z / (1.0 + z)
                else:
                    one_minus_p = 1.0 / (1.0 + math.exp(d))
                p = 1.0 - one_minus_p
                g = sigma * yi * one_minus_p
                h = sigma * sigma * yi * p * one_minus_p
                grad[i] -= g
                grad[j] += g
                hess[i] += h
                hess[j] += h


_JIT: dict = {}


def _jitted(fn):
    """``fn`` compiled by numba on first use (numba costs about a second to import: not at import time);
    the pure-Python function itself when numba is missing."""
    if fn.__name__ not in _JIT:
        try:
            from numba import njit
            _JIT[fn.__name__] = njit(cache=True)(fn)
        except ImportError:  # pragma: no cover - exercised only without numba
            _JIT[fn.__name__] = fn
    return _JIT[fn.__name__]


def ips_ranknet_grad_hess(labels, scores, offsets, sigma=1.0, unclicked_only=False, *, use_numba=True):
    """Gradient and hessian of ``sum_q sum_i y_i sum_{j != i} log(1 + exp(-sigma (s_i - s_j)))``."""
    grad = np.zeros(len(labels))
    hess = np.zeros(len(labels))
    fn = _jitted(_ips_ranknet_py) if use_numba else _ips_ranknet_py
    fn(np.ascontiguousarray(labels, dtype=np.float64), np.ascontiguousarray(scores, dtype=np.float64),
       np.ascontiguousarray(offsets, dtype=np.int64), float(sigma), bool(unclicked_only), grad, hess)
    return grad, hess


@register
class IPSRankNet(_IPS):
    r"""IPS RankNet: Joachims et al. (2017)'s propensity-weighted pairwise loss on aggregated clicks.

    .. math:: L = \sum_q \sum_{i} \hat a_i \sum_{j \ne i} \log\bigl(1 + e^{-\sigma (s_i - s_j)}\bigr)

    an unbiased estimate (without clipping) of the same sum with the true :math:`a_i`: a smooth upper bound
    of the rank of each document weighted by its relevance (Propensity SVM-Rank's loss with RankNet's
    logistic in place of the hinge). ``pairs='unclicked'`` pairs each clicked document only with documents
    of its query never clicked (Wang et al. 2016's clicked-versus-skipped pairs; no longer an unbiased
    estimate of a full-information loss). Each ordered pair adds :math:`-\sigma \hat a_i (1 - p_{ij})` to
    the gradient of i and the opposite to j, :math:`\sigma^2 \hat a_i p_{ij}(1 - p_{ij})` to both hessians.
    A custom objective on both backends (numba kernel, quadratic in the query's size).

    Parameters
    ----------
    clip, snips
        As :class:`IPSBinary`.
    sigma : float, default=1.0
    pairs : {"all", "unclicked"}, default="all"

    References
    ----------
    Joachims, Swaminathan, Schnabel. Unbiased learning-to-rank with biased feedback. WSDM 2017.
    Wang, Bendersky, Metzler, Najork. Learning to rank with selection bias in personal search. SIGIR 2016.
    """

    name = "ips_ranknet"
    family = "pairwise"
    backends = ("lightgbm", "xgboost")
    label_kinds = frozenset({"binary", "graded", "real"})
    _spec = {"clip": (None, _clip_value), "snips": (False, boolean), "sigma": (1.0, positive_float),
             "pairs": ("all", choice("all", "unclicked"))}

    def grad_hess(self, labels, scores, group_sizes, weights=None):
        y, s, sizes, offsets = grad_inputs(labels, scores, group_sizes)
        if np.any(y < 0):
            raise DataError(f"objective {self!r} needs labels >= 0 (IPS estimates)")
        g, h = ips_ranknet_grad_hess(y, s, offsets, self.params["sigma"], self.params["pairs"] == "unclicked")
        return apply_weights(g, h, weights)

    def loss(self, labels, scores, group_sizes) -> float:
        y, s, sizes, offsets = grad_inputs(labels, scores, group_sizes)
        total = 0.0
        for a, b in zip(offsets[:-1], offsets[1:]):
            yq, sq = y[a:b], s[a:b]
            d = self.params["sigma"] * (sq[:, None] - sq[None, :])
            m = np.ones_like(d, dtype=bool)
            np.fill_diagonal(m, False)
            if self.params["pairs"] == "unclicked":
                m &= (yq[None, :] <= 0)
            total += float(np.sum(np.where(m, yq[:, None] * np.logaddexp(0.0, -d), 0.0)))
        return total


# --------------------------------------------------------------------------------------------------
# Unbiased LambdaMART
# --------------------------------------------------------------------------------------------------

def _ulm_py(labels, scores, offsets, t_plus, t_minus, topk, score_norm, normalization, paper_cost,
            grad, hess, li_full, lj_full):
    """One gradient evaluation of XGBoost 3.2's unbiased rank:ndcg (exp gain, topk pairs), group by group.

    ``scores`` are float32 (XGBoost's predictions); ``li_full`` / ``lj_full`` receive each row's share of
    eq. 30 / 31 (summed over groups by position afterwards, as XGBoost does).
    """
    k = len(t_plus)
    for g in range(len(offsets) - 1):
        a, b = offsets[g], offsets[g + 1]
        cnt = b - a
        s = scores[a:b]
        y = labels[a:b]
        rank = np.argsort(-s, kind="mergesort")          # stable: ties keep the row order (XGBoost's ArgSort)
        ysorted = np.sort(y)[::-1]
        idcg = 0.0
        for i in range(min(cnt, topk)):
            idcg += (2.0 ** ysorted[i] - 1.0) / math.log2(i + 2.0)
        inv_idcg = 0.0 if idcg == 0.0 else 1.0 / idcg
        best, worst = s[rank[0]], s[rank[cnt - 1]]
        sum_lambda = 0.0
        gg = np.zeros(cnt)
        hh = np.zeros(cnt)
        for i in range(min(cnt, topk)):
            for j in range(i + 1, cnt):
                rh, rl = i, j
                if y[rank[rh]] == y[rank[rl]]:
                    continue
                if y[rank[rh]] < y[rank[rl]]:
                    rh, rl = rl, rh
                ih, il = rank[rh], rank[rl]
                diff = np.float32(s[ih] - s[il])
                delta_score = abs(float(diff))
                x = min(-diff, np.float32(88.7))
                sig = float(np.float32(1.0) / (np.float32(math.exp(x)) + np.float32(1.0)))
                gain_h, gain_l = 2.0 ** y[ih] - 1.0, 2.0 ** y[il] - 1.0
                d_h, d_l = 1.0 / math.log2(rh + 2.0), 1.0 / math.log2(rl + 2.0)
                delta_metric = abs((gain_h * d_h + gain_l * d_l - gain_l * d_h - gain_h * d_l) * inv_idcg)
                if score_norm and best != worst:
                    delta_metric /= delta_score + 0.01
                if paper_cost:
                    cost = math.log(1.0 + math.exp(-float(diff))) * delta_metric
                elif sig < 1.0:
                    cost = math.log(1.0 / (1.0 - sig)) * delta_metric
                else:
                    cost = math.inf
                lam = (sig - 1.0) * delta_metric
                hes = max(sig * (1.0 - sig), _EPS64) * delta_metric * 2.0
                if ih < k and il < k and t_minus[il] >= _EPS64 and t_plus[ih] >= _EPS64:
                    lam /= t_plus[ih] * t_minus[il]
                    hes /= t_plus[ih] * t_minus[il]
                lam = float(np.float32(lam))
                hes = float(np.float32(hes))
                gg[ih] += lam
                hh[ih] += hes
                gg[il] -= lam
                hh[il] += hes
                if ih < k and il < k:
                    if t_minus[il] >= _EPS64:
                        li_full[a + ih] += cost / t_minus[il]
                    if t_plus[ih] >= _EPS64:
                        lj_full[a + il] += cost / t_plus[ih]
                sum_lambda += -2.0 * lam
        norm = 1.0
        if normalization and sum_lambda > 0.0:
            norm = math.log2(1.0 + sum_lambda) / sum_lambda
        for r in range(cnt):
            grad[a + r] = gg[r] * norm
            hess[a + r] = hh[r] * norm




def unbiased_lambdamart_step(labels, scores, group_sizes, t_plus, t_minus, *, topk, bias_norm,
                             score_normalization=True, normalization=True, cost="xgboost", use_numba=True):
    """One iteration of Unbiased LambdaMART as XGBoost 3.2 computes it (see the module docstring).

    Returns ``(grad, hess, t_plus_new, t_minus_new)``: the gradients with the biases ``t_plus`` /
    ``t_minus`` of the previous iteration, and the biases XGBoost stores after this one (``ti+`` /
    ``tj-``; a position whose accumulated loss at position 1 is 0 keeps its previous value).
    """
    y = np.ascontiguousarray(labels, dtype=np.float64)
    s = np.ascontiguousarray(np.asarray(scores, dtype=np.float64).astype(np.float32))
    sizes = np.asarray(group_sizes, dtype=np.int64)
    offsets = offsets_of(sizes)
    tp = np.ascontiguousarray(t_plus, dtype=np.float64)
    tm = np.ascontiguousarray(t_minus, dtype=np.float64)
    grad, hess = np.zeros(len(y)), np.zeros(len(y))
    li_full, lj_full = np.zeros(len(y)), np.zeros(len(y))
    fn = _jitted(_ulm_py) if use_numba else _ulm_py
    fn(y, s, offsets, tp, tm, int(topk), bool(score_normalization), bool(normalization), cost == "paper",
       grad, hess, li_full, lj_full)
    k = len(tp)
    within = np.arange(len(y)) - np.repeat(offsets[:-1], sizes)
    keep = within < k
    li = np.bincount(within[keep], weights=li_full[keep], minlength=k)
    lj = np.bincount(within[keep], weights=lj_full[keep], minlength=k)
    reg = 1.0 / (1.0 + bias_norm)
    tp_new, tm_new = tp.copy(), tm.copy()
    if li[0] >= _EPS64:
        tp_new = (li / li[0]) ** reg
    if lj[0] >= _EPS64:
        tm_new = (lj / lj[0]) ** reg
    return grad, hess, tp_new, tm_new


def bias_to_propensity(t, bias_norm: float) -> np.ndarray:
    """Undo XGBoost's exponent: ``t ** (1 + bias_norm)`` (the ratio of accumulated losses, t(1) = 1)."""
    return np.asarray(t, dtype=np.float64) ** (1.0 + float(bias_norm))


class _UnbiasedSession:
    """The state of one training run of the reference Unbiased LambdaMART (biases across iterations)."""

    def __init__(self, obj: "UnbiasedLambdaMART", k: int):
        self.obj = obj
        self.t_plus = np.ones(k)
        self.t_minus = np.ones(k)
        self.iterations = 0

    def __call__(self, labels, scores, group_sizes, weights=None):
        p = self.obj.params
        g, h, self.t_plus, self.t_minus = unbiased_lambdamart_step(
            labels, scores, group_sizes, self.t_plus, self.t_minus, topk=self.obj.topk(group_sizes),
            bias_norm=p["bias_norm"], score_normalization=p["score_normalization"],
            normalization=p["normalization"], cost=p["cost"])
        self.iterations += 1
        return apply_weights(g, h, weights)

    def state(self) -> dict:
        return {"position": list(range(1, len(self.t_plus) + 1)), "t_plus": [float(v) for v in self.t_plus],
                "t_minus": [float(v) for v in self.t_minus], "bias_norm": float(self.obj.params["bias_norm"]),
                "source": "ltr reference (ltr.objectives.unbiased), biases after the last iteration"}


@register
class UnbiasedLambdaMART(Objective):
    r"""Unbiased LambdaMART (Hu et al. 2019): XGBoost's ``lambdarank_unbiased=True``, and ltr's reference.

    Trains on one row per impression (:func:`ltr.clicks.training.click_training_set` with
    ``aggregate=False``): every query block is one SERP **in display order** (XGBoost has no position
    field; the row index inside the group is the position), labels are the clicks. See the module
    docstring for the algorithm and the one stated XGBoost convention.

    Parameters
    ----------
    truncation_level : int or None, default=None
        XGBoost's ``lambdarank_num_pair_per_sample`` with ``topk`` pairs: pairs have one document in the
        model's top ``truncation_level``, and biases are tracked for positions 1..truncation_level. None:
        XGBoost's default, 32.
    bias_norm : float >= 0, default=0.0
        XGBoost's ``lambdarank_bias_norm``: the biases are ``(L(k) / L(1))^(1 / (1 + bias_norm))``. ltr's
        default 0 makes them the plain ratio (comparable to propensities); XGBoost 3.2's own default is 1
        (a square root).
    score_normalization : bool, default=True
        XGBoost's ``lambdarank_score_normalization`` (divide |delta nDCG| by |s_i - s_j| + 0.01).
    normalization : bool, default=True
        XGBoost's ``lambdarank_normalization`` (LightGBM's ``log2(1 + sum lambda) / sum lambda`` per query).
    cost : {"xgboost", "paper"}, default="xgboost"
        The pair cost the biases are estimated from; ``"paper"`` (the pair's RankNet loss times |delta
        nDCG|) on LightGBM only.

    Fitted state: ``Ranker.position_bias_`` = ``{"position", "t_plus", "t_minus", "bias_norm", "source"}``
    (XGBoost's ``ti+`` / ``tj-`` read from ``save_config``, or the reference's).

    References
    ----------
    Hu, Wang, Peng, Li. Unbiased LambdaMART: an unbiased pairwise learning-to-rank algorithm. WWW 2019.
    XGBoost 3.2, ``src/objective/lambdarank_obj.{h,cc}`` (the algorithm the reference reproduces).
    """

    name = "lambdarank_unbiased"
    family = "pairwise"
    backends = ("lightgbm", "xgboost")
    label_kinds = frozenset({"binary", "graded"})
    native = {"xgboost": "rank:ndcg"}
    needs_positions = True
    _spec = {"truncation_level": (None, optional_positive_int), "bias_norm": (0.0, _nonneg_float),
             "score_normalization": (True, boolean), "normalization": (True, boolean),
             "cost": ("xgboost", choice("xgboost", "paper"))}

    def _check_kind(self, y, sizes, backend):
        check_grades(self, y, sizes, 31, backend=backend, why_max="exponential gain 2^y - 1 of XGBoost's ndcg",
                     fix_max="Clicks are 0/1; map larger grades down")

    def topk(self, group_sizes=None) -> int:
        k = self.params["truncation_level"]
        return XGB_DEFAULT_K if k is None else int(k)

    def _unsupported(self, backend):
        if backend == "xgboost" and self.params["cost"] == "paper":
            return ["cost='paper' is ltr's reference only; XGBoost estimates the biases from its own cost "
                    "(use backend='lightgbm', or cost='xgboost')"]
        return []

    def _native_params(self, backend, *, labels, group_sizes):
        p = self.params
        return {"objective": "rank:ndcg", "lambdarank_unbiased": True, "lambdarank_pair_method": "topk",
                "lambdarank_num_pair_per_sample": self.topk(), "lambdarank_bias_norm": p["bias_norm"],
                "lambdarank_score_normalization": p["score_normalization"],
                "lambdarank_normalization": p["normalization"], "ndcg_exp_gain": True}

    def session(self, labels, group_sizes, positions=None):
        return _UnbiasedSession(self, self.topk(group_sizes))

    def grad_hess(self, labels, scores, group_sizes, weights=None):
        """The gradient with unit biases (the first iteration); training uses :meth:`session`."""
        y, s, sizes, _ = grad_inputs(labels, scores, group_sizes)
        k = self.topk(sizes)
        p = self.params
        g, h, _, _ = unbiased_lambdamart_step(y, s, sizes, np.ones(k), np.ones(k), topk=k, bias_norm=p["bias_norm"],
                                              score_normalization=p["score_normalization"],
                                              normalization=p["normalization"], cost=p["cost"])
        return apply_weights(g, h, weights)

    def _notes(self, backend):
        notes = ["one row per impression, each query block one SERP in display order (positions checked)"]
        if backend == "lightgbm":
            notes.append("ltr's reference implementation of XGBoost 3.2's algorithm as a LightGBM custom "
                         "objective; biases in Ranker.position_bias_")
        else:
            notes.append("biases read from save_config()['learner']['objective'] ti+ / tj- into "
                         "Ranker.position_bias_")
        return notes


@register
class LambdaRankPosition(Objective):
    r"""LightGBM's position-debiased LambdaRank (LightGBM >= 4.1): ``s = f(x) + g(position)``.

    LightGBM's ``lambdarank`` with the training rows' display positions in its Dataset
    (``Dataset(position=...)``; ``LGBMRanker.fit`` takes none). After every iteration LightGBM updates
    ``g`` by a Newton step on the lambdas of the rows at each position, with the L2 penalty
    ``position_bias_regularization`` (``lambdarank_position_bias_regularization``). ``g`` is not saved in
    the model; ltr reads it from LightGBM's debug log (verbosity 2, the table ``position  bias_factor``
    printed after every iteration, whose first column is the position value ltr passed: 1-based display
    positions) into ``Ranker.position_bias_ = {"position", "g", "source"}`` (the last iteration's table).
    Only LightGBM's ``lambdarank`` uses positions (``rank_xendcg`` accepts and ignores them), so this is
    the only objective ltr hands positions to.

    Parameters
    ----------
    position_bias_regularization : float >= 0, default=0.0
    truncation_level : int, default=30
        ``lambdarank_truncation_level``.
    sigmoid : float, default=1.0

    References
    ----------
    LightGBM 4.1+, ``src/objective/rank_objective.hpp`` (``UpdatePositionBiasFactors``); LightGBM pull
    request 5929, "Treat position bias via GAM in LambdaMART".
    """

    name = "lambdarank_position"
    family = "pairwise"
    backends = ("lightgbm",)
    label_kinds = frozenset({"binary", "graded"})
    native = {"lightgbm": "lambdarank"}
    needs_positions = True
    _spec = {"position_bias_regularization": (0.0, _nonneg_float), "truncation_level": (30, optional_positive_int),
             "sigmoid": (1.0, positive_float)}

    def _check_kind(self, y, sizes, backend):
        check_grades(self, y, sizes, 30, backend=backend, why_max="LightGBM's default label_gain covers 0..30",
                     fix_max="Clicks are 0/1; map larger grades down")

    def _native_params(self, backend, *, labels, group_sizes):
        p = self.params
        return {"objective": "lambdarank", "lambdarank_position_bias_regularization": p["position_bias_regularization"],
                "lambdarank_truncation_level": p["truncation_level"], "sigmoid": p["sigmoid"]}

    def _notes(self, backend):
        return ["positions handed to LightGBM as Dataset(position=...) (1-based display positions); g(position) "
                "read from LightGBM's verbosity-2 log into Ranker.position_bias_"]
