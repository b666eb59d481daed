"""Reciprocal rank of the first relevant document (trec_eval ``recip_rank``)."""

from __future__ import annotations

import numpy as np

from ltr.metrics.base import Metric, RelevanceMixin, register


@register
class RR(Metric, RelevanceMixin):
    r"""Reciprocal rank: 1 / rank of the first relevant document within the cutoff, 0 if none.

    .. math:: \mathrm{RR@k} = \max_{i \le k,\ \ell_i \ge rel} 1 / i

    The mean over queries is MRR.

    References
    ----------
    E. M. Voorhees. The TREC-8 question answering track report. TREC 1999.
    """

    name = "RR"
    aliases = ("MRR", "recip_rank")
    defaults = {"rel": 1, "ties": "docid"}

    def _check(self, params):
        self._check_rel(self.name, params)

    def _values(self, ranking):
        hit = np.flatnonzero((ranking.labels >= self.rel) & self._top(ranking))
        out = np.zeros(ranking.n_queries)
        if len(hit):
            q = ranking.qidx[hit]
            first = hit[np.r_[True, q[1:] != q[:-1]]]
            out[ranking.qidx[first]] = 1.0 / (ranking.pos[first] + 1.0)
        return out
