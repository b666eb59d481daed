"""Set-based measures at a cutoff: precision, recall, R-precision, success and judged fraction."""

from __future__ import annotations

import numpy as np

from ltr.metrics import letor
from ltr.metrics.base import Metric, RelevanceMixin, check_norel, register


def _denominator(metric, ranking):
    """k for a cutoff (trec_eval divides by k even when fewer documents were retrieved), else num_ret."""
    if metric.cutoff is not None:
        return np.full(ranking.n_queries, float(metric.cutoff))
    return ranking.num_ret.astype(np.float64)


def _ratio(num, den, empty):
    out = np.full(len(num), float(empty))
    ok = den > 0
    out[ok] = num[ok] / den[ok]
    return out


@register
class P(Metric, RelevanceMixin):
    r"""Precision at k (trec_eval ``P_k``): relevant documents in the top k, divided by k.

    .. math:: \mathrm{P@k} = \frac{|\{i \le k : \ell_i \ge rel\}|}{k}

    Without a cutoff, the fraction of the retrieved documents that are relevant (trec_eval ``set_P``).
    ``convention='letor4'`` / ``'letor3'``: the LETOR evaluation scripts' P@k (ties in row order; LETOR 3.0
    scores 0 for a query with fewer than k documents): see :mod:`ltr.metrics.letor`.
    """

    name = "P"
    aliases = ("Precision",)
    defaults = {"rel": 1, "ties": "docid", "convention": "trec_eval"}
    tie_aware = True
    _letor_fixed = {"rel": 1}

    def _check(self, params):
        self._check_rel(self.name, params)

    def _values(self, ranking):
        if self.convention != "trec_eval":
            return letor.precision(ranking, self.cutoff, self.convention, repr(self))
        rel = ranking.average_ties((ranking.labels >= self.rel).astype(np.float64))
        return _ratio(ranking.sum(rel, self._top(ranking)), _denominator(self, ranking), 0.0)


@register
class R(Metric, RelevanceMixin):
    r"""Recall at k (trec_eval ``recall_k``): relevant documents in the top k, divided by all relevant.

    .. math:: \mathrm{R@k} = \frac{|\{i \le k : \ell_i \ge rel\}|}{R}

    A query without relevant documents scores ``norel`` (0 as trec_eval).
    """

    name = "R"
    aliases = ("Recall", "recall")
    defaults = {"rel": 1, "norel": 0, "ties": "docid"}
    tie_aware = True

    def _check(self, params):
        self._check_rel(self.name, params)
        check_norel(self.name, params)

    def _values(self, ranking):
        rel = ranking.average_ties((ranking.labels >= self.rel).astype(np.float64))
        return _ratio(ranking.sum(rel, self._top(ranking)), ranking.num_rel(self.rel).astype(np.float64),
                      self.norel)


@register
class Rprec(Metric, RelevanceMixin):
    r"""R-precision (trec_eval ``Rprec``): precision at rank R, R = number of relevant documents.

    .. math:: \mathrm{Rprec} = \frac{|\{i \le R : \ell_i \ge rel\}|}{R}

    Takes no cutoff; a query without relevant documents scores ``norel``.
    """

    name = "Rprec"
    aliases = ("RPrec", "R-prec")
    defaults = {"rel": 1, "norel": 0, "ties": "docid"}
    cutoff_rule = "none"
    tie_aware = True

    def _check(self, params):
        self._check_rel(self.name, params)
        check_norel(self.name, params)

    def _values(self, ranking):
        nrel = ranking.num_rel(self.rel)
        rel = ranking.average_ties((ranking.labels >= self.rel).astype(np.float64))
        return _ratio(ranking.sum(rel, ranking.pos < nrel[ranking.qidx]), nrel.astype(np.float64),
                      self.norel)


@register
class Success(Metric, RelevanceMixin):
    r"""Success at k (trec_eval ``success_k``): 1 if a relevant document is in the top k, else 0."""

    name = "Success"
    aliases = ("success",)
    defaults = {"rel": 1, "ties": "docid"}

    def _check(self, params):
        self._check_rel(self.name, params)

    def _values(self, ranking):
        hits = ranking.sum((ranking.labels >= self.rel).astype(np.float64), self._top(ranking))
        return (hits > 0).astype(np.float64)


@register
class Judged(Metric):
    r"""Fraction of the top k documents that have a judgment (ir_measures ``Judged@k``).

    .. math:: \mathrm{Judged@k} = \frac{|\{i \le k : d_i \text{ judged}\}|}{k}

    Without a cutoff, the fraction of all retrieved documents. A document is judged when the qrels hold
    it with a label >= 0 (negative labels are trec_eval's "in pool, not judged").
    """

    name = "Judged"
    aliases = ("judged",)
    defaults = {"ties": "docid"}
    tie_aware = True

    def _values(self, ranking):
        judged = ranking.average_ties(ranking.judged.astype(np.float64))
        return _ratio(ranking.sum(judged, self._top(ranking)), _denominator(self, ranking), 0.0)
