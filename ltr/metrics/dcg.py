"""Discounted cumulative gain: DCG@k and nDCG@k (Järvelin and Kekäläinen 2002)."""

from __future__ import annotations

import numpy as np

from ltr.metrics import letor
from ltr.metrics.base import Metric, Ranking, check_gain, check_norel, gain_values, register


def _dcg(ranking: Ranking, top: np.ndarray, gain: str) -> np.ndarray:
    g = ranking.average_ties(gain_values(ranking.labels, gain))
    # trec_eval adds gain / log2(rank + 1) in rank order; bincount sums in row order, i.e. rank order
    return ranking.sum(g / np.log2(ranking.pos + 2.0), top)


@register
class DCG(Metric):
    r"""Discounted cumulative gain at rank k.

    .. math:: \mathrm{DCG@k} = \sum_{i=1}^{\min(k, n)} \frac{g(\ell_i)}{\log_2(i + 1)}

    where :math:`\ell_i` is the label of the document at rank i and g the gain: ``'linear'``
    (g(l) = l, trec_eval) or ``'exp'`` (g(l) = 2^l - 1, Burges et al. 2005; LightGBM, XGBoost).

    Parameters
    ----------
    gain : {'linear', 'exp'}, default='linear'
    ties : {'docid', 'row', 'average'}, default='docid'

    References
    ----------
    K. Järvelin and J. Kekäläinen. Cumulated gain-based evaluation of IR techniques. ACM TOIS 20(4),
    2002. doi:10.1145/582415.582418
    """

    name = "DCG"
    defaults = {"gain": "linear", "ties": "docid"}
    tie_aware = True

    def _check(self, params):
        check_gain(self.name, params)

    def _values(self, ranking):
        return _dcg(ranking, self._top(ranking), self.gain)


@register
class nDCG(Metric):
    r"""Normalised discounted cumulative gain at rank k (trec_eval ``ndcg_cut``; ``ndcg`` without k).

    .. math:: \mathrm{nDCG@k} = \frac{\mathrm{DCG@k}}{\mathrm{IDCG@k}}

    IDCG@k is the DCG@k of the ideal ranking of all judged documents of the query (the qrels, or the
    candidate labels in :meth:`compute`). A query whose IDCG is 0 (no document with a positive label)
    scores ``norel``: 0 as trec_eval, 1 as LightGBM (XGBoost's ``ndcg@k-`` gives 0).

    Parameters
    ----------
    gain : {'linear', 'exp'}, default='linear'
        ``'linear'``: gain = label (trec_eval). ``'exp'``: gain = 2^label - 1 (LightGBM, XGBoost).
    norel : float, default=0
        Value of a query without relevant documents.
    ties : {'docid', 'row', 'average'}, default='docid'
        LightGBM's own ``ndcg@k`` is ``nDCG(gain='exp', norel=1, ties='row')@k``; it equals
        ``nDCG(gain='exp', norel=1)@k`` whenever no two candidates of a query score the same.
    convention : {'trec_eval', 'letor3', 'letor4'}, default='trec_eval'
        ``'letor4'`` / ``'letor3'``: the LETOR 4.0 / 3.0 evaluation scripts' NDCG@k, which published LETOR
        tables use (gain table 0, 1, 3; ranks 1-2 undiscounted; a query with fewer than k documents scores
        0; ties in row order): see :mod:`ltr.metrics.letor`. Needs a cutoff; fixes gain, norel and ties.

    References
    ----------
    K. Järvelin and J. Kekäläinen. Cumulated gain-based evaluation of IR techniques. ACM TOIS 20(4),
    2002. doi:10.1145/582415.582418
    C. Burges et al. Learning to rank using gradient descent. ICML 2005.
    """

    name = "nDCG"
    aliases = ("ndcg", "NDCG")
    defaults = {"gain": "linear", "norel": 0, "ties": "docid", "convention": "trec_eval"}
    tie_aware = True
    _letor_fixed = {"gain": "linear", "norel": 0}

    def _check(self, params):
        check_gain(self.name, params)
        check_norel(self.name, params)

    def _values(self, ranking):
        if self.convention != "trec_eval":
            return letor.ndcg(ranking, self.cutoff, repr(self))
        dcg = _dcg(ranking, self._top(ranking), self.gain)
        pos, qidx, labels = ranking.pool_pos, ranking.pool_qidx, ranking.pool_labels
        if self.cutoff is not None:                  # only the top of each ideal ranking counts
            top = pos < self.cutoff
            pos, qidx, labels = pos[top], qidx[top], labels[top]
        ideal_gain = gain_values(labels, self.gain) / np.log2(pos + 2.0)
        idcg = np.bincount(qidx, weights=ideal_gain, minlength=ranking.n_queries)
        out = np.full(ranking.n_queries, float(self.norel))
        ok = idcg > 0
        out[ok] = dcg[ok] / idcg[ok]
        return out
