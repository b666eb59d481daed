"""Average precision (AP, AP@k as trec_eval's map_cut) and bpref."""

from __future__ import annotations

import numpy as np

from ltr.metrics import letor
from ltr.metrics.base import Metric, RelevanceMixin, check_norel, register


@register
class AP(Metric, RelevanceMixin):
    r"""Average precision (trec_eval ``map``; with a cutoff ``map_cut``).

    .. math:: \mathrm{AP@k} = \frac{1}{R} \sum_{i \le k,\ \ell_i \ge rel} \mathrm{P@i}

    R is the number of relevant documents of the query (all judged ones with label >= rel, retrieved
    or not): with a cutoff, AP@k is still divided by R, as trec_eval's ``map_cut``.

    Parameters
    ----------
    rel : float, default=1
        Documents with label >= rel are relevant.
    norel : float, default=0
        Value of a query without relevant documents.
    ties : {'docid', 'row'}, default='docid'
    convention : {'trec_eval', 'letor3', 'letor4'}, default='trec_eval'
        ``'letor4'`` / ``'letor3'``: the LETOR evaluation scripts' MAP (divided by the relevant documents
        in the ranked list; ties in row order; no cutoff): see :mod:`ltr.metrics.letor`.

    References
    ----------
    C. Buckley and E. M. Voorhees. Evaluating evaluation measure stability. SIGIR 2000.
    """

    name = "AP"
    aliases = ("MAP", "map")
    defaults = {"rel": 1, "norel": 0, "ties": "docid", "convention": "trec_eval"}
    _letor_fixed = {"rel": 1, "norel": 0}
    _letor_cutoff = "none"

    def _check(self, params):
        self._check_rel(self.name, params)
        check_norel(self.name, params)

    def _values(self, ranking):
        if self.convention != "trec_eval":
            return letor.average_precision(ranking, repr(self))
        rel = (ranking.labels >= self.rel).astype(np.float64)
        prec = ranking.within_cumsum(rel) / (ranking.pos + 1.0)
        sums = ranking.sum(prec, (rel > 0) & self._top(ranking))
        nrel = ranking.num_rel(self.rel)
        out = np.full(ranking.n_queries, float(self.norel))
        ok = nrel > 0
        out[ok] = sums[ok] / nrel[ok]
        return out


@register
class Bpref(Metric, RelevanceMixin):
    r"""Binary preference (trec_eval ``bpref``; Buckley and Voorhees 2004).

    .. math:: \mathrm{bpref} = \frac{1}{R} \sum_{r} \left(1 - \frac{\min(|n \text{ ranked above } r|, R)}
              {\min(R, N)}\right)

    over the retrieved relevant documents r, where n are the retrieved judged non-relevant documents, R
    the number of relevant and N the number of judged non-relevant documents. Unjudged documents are
    skipped. Takes no cutoff.

    References
    ----------
    C. Buckley and E. M. Voorhees. Retrieval evaluation with incomplete information. SIGIR 2004.
    doi:10.1145/1008992.1009000
    """

    name = "Bpref"
    aliases = ("bpref", "BPref")
    defaults = {"rel": 1, "norel": 0, "ties": "docid"}
    cutoff_rule = "none"

    def _check(self, params):
        self._check_rel(self.name, params)
        check_norel(self.name, params)

    def _values(self, ranking):
        is_rel = ranking.judged & (ranking.labels >= self.rel)
        is_nonrel = ranking.judged & ~is_rel
        nonrel_before = ranking.within_cumsum(is_nonrel.astype(np.float64))   # non-relevant at or above
        R = ranking.num_rel(self.rel)
        N = ranking.num_judged_nonrel(self.rel)
        Rq = R[ranking.qidx].astype(np.float64)
        denom = np.minimum(N, R)[ranking.qidx].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            part = np.where(nonrel_before > 0, 1.0 - np.minimum(nonrel_before, Rq) / denom, 1.0)
        sums = ranking.sum(part, is_rel)
        out = np.full(ranking.n_queries, float(self.norel))
        ok = R > 0
        out[ok] = sums[ok] / R[ok]
        return out
