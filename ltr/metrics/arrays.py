"""Evaluation over id arrays with numpy alone: the ranking step shared by :func:`ltr.metrics.evaluate`'s numpy
path, and a whole evaluation for callers that have no frames and want no pandas (``ltr evaluate`` on small
files, where importing pandas would cost more than the evaluation).

Ids are numpy byte-string arrays (``dtype='S'``, the bytes of the TREC file): numpy orders them by their
bytes, which is trec_eval's ``strcmp`` order, so a docid's code from ``np.unique`` is its tie-breaking rank and
the qids come out in trec_eval's output order.
"""

from __future__ import annotations

import numpy as np

from ltr.metrics.base import Metric, Ranking, order_within_queries


class Unsupported(Exception):
    """The input needs the frame path's checks or messages (duplicates, nothing in common): not an error
    by itself; the caller runs :func:`ltr.metrics.evaluate`, which computes the same or raises the error."""


def rankings(metrics: list[Metric], qidx: np.ndarray, n_eval: int, scores: np.ndarray, row_labels: np.ndarray,
             pool_q: np.ndarray, pool_l: np.ndarray, docid_rank) -> list[np.ndarray]:
    """Per-query values of ``metrics`` from the evaluated run rows and the evaluated queries' pools.

    Parameters
    ----------
    qidx : int64 array of shape (n,)
        Evaluation index (0..n_eval-1) of each kept run row.
    scores : float64 array of shape (n,)
    row_labels : float64 array of shape (n,)
        The qrels label of each kept run row, NaN where the qrels do not hold it.
    pool_q, pool_l : arrays
        Evaluation index and label of each judged (label >= 0) qrels row of the evaluated queries.
    docid_rank : callable(rows) -> int array
        Ranks of the docids of kept rows ``rows`` in ascending byte order (for ties='docid').
    """
    porder = np.lexsort((-pool_l, pool_q))
    pool_offsets = np.r_[0, np.cumsum(np.bincount(pool_q, minlength=n_eval))].astype(np.int64)
    offsets = np.r_[0, np.cumsum(np.bincount(qidx, minlength=n_eval))].astype(np.int64)
    max_label = float(pool_l.max()) if len(pool_l) else 0.0
    built: dict[str, Ranking] = {}
    values = []
    for metric in metrics:
        ties = metric.ties
        if ties not in built:
            order, blocks = order_within_queries(qidx, n_eval, scores, ties, docid_rank)
            ranked = row_labels[order]
            judged = ranked >= 0                                   # NaN (not in qrels) and < 0: unjudged
            built[ties] = Ranking(offsets=offsets, labels=np.where(judged, ranked, 0.0), judged=judged,
                                  pool_offsets=pool_offsets, pool_labels=pool_l[porder], blocks=blocks,
                                  max_label=max_label)
        values.append(metric._values(built[ties]))
    return values


def evaluate_arrays(qrels_qid: np.ndarray, qrels_docid: np.ndarray, labels: np.ndarray, run_qid: np.ndarray,
                    run_docid: np.ndarray, scores: np.ndarray, metrics: list[Metric], *,
                    zero: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
    """trec_eval's per-query values, as :func:`ltr.metrics.evaluate` computes them, from byte-string id arrays.

    Parameters
    ----------
    qrels_qid, qrels_docid : arrays of dtype 'S'
    labels : float64 array (no NaN)
    run_qid, run_docid : arrays of dtype 'S'
    scores : float64 array (no NaN)
    metrics : list of Metric
    zero : bool
        trec_eval ``-c``: qrels queries missing from the run are evaluated as empty rankings.

    Returns
    -------
    eval_qids : array of dtype 'S'
        The evaluated queries, in byte order (the order of :func:`ltr.metrics.evaluate`'s frame).
    values : list of float64 arrays of shape (n_eval,), one per metric

    Raises
    ------
    Unsupported
        Duplicate (qid, docid) pairs in the run or in the evaluated qrels, or no query to evaluate: the
        frame path raises the error with its message.
    """
    n_run = len(run_qid)
    # Step 1: query codes in byte order, shared by run and qrels; the evaluated queries
    uq, q_inv = np.unique(np.concatenate([run_qid, qrels_qid]), return_inverse=True)
    run_q, qrels_q = q_inv[:n_run], q_inv[n_run:]
    in_run = np.bincount(run_q, minlength=len(uq)) > 0
    in_qrels = np.bincount(qrels_q, minlength=len(uq)) > 0
    evaluated = in_qrels if zero else in_run & in_qrels
    if not evaluated.any():
        raise Unsupported("no query to evaluate")
    code_to_eval = np.where(evaluated, np.cumsum(evaluated) - 1, -1)
    n_eval = int(evaluated.sum())
    # Step 2: docid codes in byte order (their ranks for tie-breaking); (query, doc) keys
    ud, d_inv = np.unique(np.concatenate([run_docid, qrels_docid]), return_inverse=True)
    run_d, qrels_d = d_inv[:n_run].astype(np.int64), d_inv[n_run:].astype(np.int64)
    run_key = run_q.astype(np.int64) * len(ud) + run_d
    qrels_key = qrels_q.astype(np.int64) * len(ud) + qrels_d
    q_eval = code_to_eval[qrels_q]
    if len(np.unique(run_key)) != n_run or len(np.unique(qrels_key[q_eval >= 0])) != int((q_eval >= 0).sum()):
        raise Unsupported("duplicate (qid, docid) pairs")
    # Step 3: each kept run row's label (NaN when the qrels do not hold it)
    order = np.argsort(qrels_key, kind="stable")
    sorted_keys = qrels_key[order]
    at = np.minimum(np.searchsorted(sorted_keys, run_key), max(len(sorted_keys) - 1, 0))
    found = (sorted_keys[at] == run_key) if len(sorted_keys) else np.zeros(n_run, dtype=bool)
    row_labels = np.where(found, labels[order][at] if len(sorted_keys) else 0.0, np.nan)
    keep = np.flatnonzero(code_to_eval[run_q] >= 0)
    kept_d = run_d[keep]
    pool = np.flatnonzero((q_eval >= 0) & (labels >= 0))
    values = rankings(metrics, code_to_eval[run_q][keep], n_eval, scores[keep], row_labels[keep],
                      q_eval[pool], labels[pool], lambda rows: kept_d[rows])
    return uq[evaluated], values
