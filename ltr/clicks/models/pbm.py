"""The position-based model (PBM; Craswell et al. 2008, Chuklin et al. 2015 section 3.3), fitted by EM.

``P(C_r = 1) = gamma_r * alpha_qd``: the user examines position r with probability ``gamma_r`` (PyClick's
``exam``) and clicks an examined document with its attractiveness ``alpha_qd`` (``attr``). EM as in PyClick:
for an impression with current values a, e,

    attr numerator += 1 if clicked else (1 - e) a / (1 - e a);   attr denominator += 1
    exam numerator += 1 if clicked else (1 - a) e / (1 - e a);   exam denominator += 1

starting from 1/2 every iteration (numerator 1, denominator 2), 50 iterations, values capped at 1 - 1e-6.

Identification: only ``gamma_k / gamma_1`` is identified, and only when the log links the positions through
documents shown at several of them (:mod:`ltr.clicks.models.identification`); PyClick does not normalise
(its exam at position 1 on the Yandex sample is 0.81). :meth:`PBM.propensities` gives the ratios when they
are identified and refuses otherwise.

References
----------
Craswell, Zoeter, Taylor, Ramsey. An experimental comparison of click position-bias models. WSDM 2008.
Chuklin, Markov, de Rijke. Click Models for Web Search. Morgan & Claypool, 2015.
"""

from __future__ import annotations

import numpy as np

from ltr.clicks.models.base import UNSEEN, ClickModel, em_value, pad_positions, register
from ltr.clicks.models.identification import identify
from ltr.errors import DataError

__all__ = ["PBM", "em_position_based"]


def em_position_based(pair: np.ndarray, node: np.ndarray, click: np.ndarray, n_pairs: int, n_nodes: int,
                      iterations: int) -> tuple[np.ndarray, np.ndarray]:
    """EM of ``P(click) = attr[pair] * exam[node]`` with PyClick's updates (PBM: node = position; UBM: node =
    cell (position, previous click)).

    The E-step depends on an impression only through (pair, node, click), so impressions are first counted
    per distinct triple: one iteration then costs the number of distinct triples, not of impressions (the
    sums equal PyClick's up to the order of floating-point additions).
    """
    key = (pair.astype(np.int64) * n_nodes + node) * 2 + click.astype(np.int64)
    uniq, count = np.unique(key, return_counts=True)
    count = count.astype(np.float64)
    c = (uniq % 2).astype(bool)
    pu = uniq // 2 // n_nodes
    nu = uniq // 2 % n_nodes
    pair_den = 2.0 + np.bincount(pu, weights=count, minlength=n_pairs + 1)
    node_den = 2.0 + np.bincount(nu, weights=count, minlength=n_nodes)
    attr = np.full(n_pairs + 1, UNSEEN)
    exam = np.full(n_nodes, UNSEEN)
    for _ in range(iterations):
        a, e = attr[pu], exam[nu]
        d = 1.0 - a * e
        post_a = np.where(c, 1.0, (1.0 - e) * a / d) * count
        post_e = np.where(c, 1.0, (1.0 - a) * e / d) * count
        attr = em_value(1.0 + np.bincount(pu, weights=post_a, minlength=n_pairs + 1), pair_den)
        exam = em_value(1.0 + np.bincount(nu, weights=post_e, minlength=n_nodes), node_den)
    attr[n_pairs] = UNSEEN
    return attr, exam


@register
class PBM(ClickModel):
    """Position-based model: attractiveness per (query, document), examination per position, by EM.

    Parameters
    ----------
    iterations : int, default=50
        EM iterations (PyClick's ``EMInference.ITERATION_NUM``); no convergence test, as in PyClick.

    Attributes
    ----------
    attr_ : ndarray of shape (n_pairs + 1,)
        Attractiveness per training pair (``relevance()`` gives them with their ids); the last entry is the
        value of unseen pairs (1/2).
    exam_ : ndarray of shape (n_positions,)
        Examination probability per position (not normalised, as PyClick).
    identification_ : Identification
        Whether the log identifies the examination ratios.
    """

    name = "pbm"
    fitting = "em"
    position_based = True
    pair_params = ("attr",)
    rank_params = ("exam",)

    def __init__(self, *, iterations=50):
        self.iterations = iterations

    def _fit(self, m, pair):
        n, width = m.n_pairs, m.max_len
        mask = m.mask
        pm = pair[mask]
        rm = np.nonzero(mask)[1]
        attr, exam = em_position_based(pm, rm, m.click[mask], n, width, int(self.iterations))
        self.attr_, self.exam_ = attr, exam
        self.identification_ = identify(pm, rm, list(range(1, width + 1)), what="positions")

    def _click_probs(self, m, idx):
        return self.attr_[idx] * pad_positions(self.exam_, m.max_len)[None, : m.max_len]

    @property
    def examination_(self):
        return self.exam_

    def propensities(self) -> np.ndarray:
        """``exam[k] / exam[1]`` for k = 1..n (position 1 is 1.0), if the log identifies them.

        Raises
        ------
        DataError
            When the positions are not linked through shared documents (e.g. one fixed ranking per query):
            only the products examination x attractiveness are identified then.
        """
        self._check_fitted()
        if not self.identification_.identified:
            raise DataError(f"{self!r}: {self.identification_.note}")
        return self.exam_ / self.exam_[0]
