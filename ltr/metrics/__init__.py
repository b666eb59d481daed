"""Floor 3: ranking metrics over grouped arrays, ir_measures-style names, trec_eval-exact evaluation.

>>> from ltr.metrics import parse_metric, evaluate, aggregate
>>> parse_metric("nDCG(gain='exp', norel=1)@10")
nDCG(gain='exp', norel=1)@10

Metrics (see :func:`available_metrics`): nDCG, DCG, ERR, AP (AP@k = trec_eval map_cut), RR, P, R, Rprec,
Bpref, Success, Judged. With their defaults they are trec_eval's (linear gain, a query without relevant
documents scores 0, ties by float32 score then docid descending). Other conventions are spelled out:

=========================================== ==========================================================
name                                        equals
=========================================== ==========================================================
``nDCG@10``                                 trec_eval ``ndcg_cut.10``
``AP``, ``AP@100``                          trec_eval ``map``, ``map_cut.100``
``P(rel=2)@5``                              trec_eval ``-l 2 P.5``
``nDCG(gain='exp', norel=1, ties='row')@10`` LightGBM's ``ndcg@10``, XGBoost's ``ndcg@10``
``nDCG(gain='exp', ties='row')@10``         XGBoost's ``ndcg@10-``
``nDCG(convention='letor4')@10``            the LETOR 4.0 script's NDCG@10 (:mod:`ltr.metrics.letor`)
=========================================== ==========================================================

trec_eval's and ir_measures' names are read too (``ndcg_cut_10``, ``P.10``, ``map``, ``SetP``, ...; see
:mod:`ltr.metrics.names`): ``parse_metric('ndcg_cut_10') == parse_metric('nDCG@10')``, one repr.
:func:`parse_metrics` canonicalises a list and refuses two names of one measure.

``nDCG(gain='exp', norel=1)@10`` equals LightGBM's value whenever no two candidates of a query have the
same score; tree ensembles often produce ties, and LightGBM keeps tied rows in input order.
"""

from ltr.metrics.ap import AP, Bpref
from ltr.metrics.base import (
    CONVENTIONS, TIES, Metric, Ranking, available_metrics, parse_metric, parse_metrics, register, registry,
)
from ltr.metrics.dcg import DCG, nDCG
from ltr.metrics.err import ERR
from ltr.metrics.precision import P, R, Judged, Rprec, Success
from ltr.metrics.rr import RR

_LAZY = {"MISSING_QUERIES", "aggregate", "evaluate"}


def __getattr__(name):
    # evaluate() works on pandas frames; importing pandas costs more than a small evaluation, so the
    # frame API loads on first use (`ltr evaluate` and `ltr info` never need it)
    if name in _LAZY:
        from ltr.metrics import frames
        return getattr(frames, name)
    raise AttributeError(f"module 'ltr.metrics' has no attribute {name!r}")


__all__ = ["AP", "Bpref", "CONVENTIONS", "DCG", "ERR", "Judged", "MISSING_QUERIES", "Metric", "P", "R", "RR",
           "Ranking", "Rprec", "Success", "TIES", "aggregate", "available_metrics", "evaluate", "nDCG",
           "parse_metric", "parse_metrics", "register", "registry"]
