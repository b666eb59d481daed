"""Expected reciprocal rank (Chapelle et al. 2009)."""

from __future__ import annotations

import numpy as np

from ltr.errors import ConfigError
from ltr.metrics.base import Metric, register


@register
class ERR(Metric):
    r"""Expected reciprocal rank at k (Chapelle, Metzler, Zhang and Grinspan, CIKM 2009).

    .. math:: \mathrm{ERR@k} = \sum_{r=1}^{k} \frac{1}{r} R_r \prod_{i<r} (1 - R_i), \qquad
              R_i = \frac{2^{g_i} - 1}{2^{g_{max}}}

    where :math:`g_i` is the grade (label, negatives as 0) of the document at rank i.

    Parameters
    ----------
    max_grade : float or None, default=None
        :math:`g_{max}`. None uses the largest label in the evaluated data (all queries together: the
        qrels in :func:`evaluate`, the labels in :meth:`compute`); give it explicitly (e.g. 4 for
        MSLR/Yahoo, as gdeval) to make values comparable across data sets. Larger grades are clipped.
    ties : {'docid', 'row'}, default='docid'

    References
    ----------
    O. Chapelle, D. Metzler, Y. Zhang and P. Grinspan. Expected reciprocal rank for graded relevance.
    CIKM 2009. doi:10.1145/1645953.1646033
    """

    name = "ERR"
    defaults = {"max_grade": None, "ties": "docid"}

    def _check(self, params):
        g = params["max_grade"]
        if g is not None and (isinstance(g, bool) or not isinstance(g, (int, float)) or not g > 0):
            raise ConfigError(f"max_grade of metric ERR must be None or a number > 0, got {g!r}")

    def _values(self, ranking):
        gmax = self.max_grade if self.max_grade is not None else ranking.max_label
        out = np.zeros(ranking.n_queries)
        if gmax <= 0:
            return out
        sizes = ranking.num_ret
        depth = int(sizes.max()) if len(sizes) else 0
        if self.cutoff is not None:
            depth = min(depth, self.cutoff)
        reach = np.ones(ranking.n_queries)          # prod_{i<r} (1 - R_i), per query
        starts = ranking.offsets[:-1]
        # one step per rank, vectorised over queries: the same products, in the same order, as the
        # formula's loop (a cumulative sum of logs over all rows would lose digits on large inputs)
        for r in range(depth):
            q = np.flatnonzero(sizes > r)
            grades = np.minimum(np.maximum(ranking.labels[starts[q] + r], 0.0), gmax)
            stop = (np.exp2(grades) - 1.0) / np.exp2(gmax)      # R_i < 1 as grades <= gmax
            out[q] += stop * reach[q] / (r + 1.0)
            reach[q] *= 1.0 - stop
        return out
