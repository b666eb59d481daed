"""Floor 3: ranking metrics over grouped arrays, ir_measures-style names, trec_eval-exact evaluation.

>>> from ltr.metrics import parse_metric, evaluate, aggregate
>>> parse_metric("nDCG(gain='exp', norel=1)@10")
nDCG(gain='exp', norel=1)@10

Metrics (see :func:`available_metrics`): nDCG, DCG, ERR, AP (AP@k = trec_eval map_cut), RR, P, R, Rprec,
Bpref, Success, Judged.
"""

from ltr.metrics import ap, dcg, err, precision, rr  # noqa: F401  (register the metrics)
from ltr.metrics.ap import AP, Bpref
from ltr.metrics.base import TIES, Metric, Ranking, available_metrics, parse_metric, register, registry
from ltr.metrics.dcg import DCG, nDCG
from ltr.metrics.err import ERR
from ltr.metrics.evaluate import MISSING_QUERIES, aggregate, evaluate
from ltr.metrics.precision import P, R, Judged, Rprec, Success
from ltr.metrics.rr import RR

__all__ = ["AP", "Bpref", "DCG", "ERR", "Judged", "MISSING_QUERIES", "Metric", "P", "R", "RR", "Ranking",
           "Rprec", "Success", "TIES", "aggregate", "available_metrics", "evaluate", "nDCG", "parse_metric",
           "register", "registry"]
