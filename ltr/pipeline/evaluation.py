"""Evaluating a re-ranked run: end-to-end figures against the full qrels, candidate-only figures apart.

Two scopes, never mixed:

``end_to_end``
    The run is judged by the **full qrels** of the evaluated queries, with trec_eval's semantics
    (:func:`ltr.metrics.evaluate`, ``missing_queries="zero"``: a query that retrieved nothing scores 0).
    A relevant document the first stage missed is in the ideal ranking and in the recall denominator, so
    it counts against the pipeline. These are the figures a report compares.
``candidates``
    The metric over each query's candidate set only: the ideal DCG and the number of relevant documents
    come from the candidates' own labels (what LightGBM's training-time ``ndcg@k`` computes). Useful for
    early stopping and to see what the re-ranker does with what it was given; it overstates the pipeline
    whenever the first stage misses relevant documents. Its metric names carry the suffix
    ``"[candidates]"`` and its rows ``scope="candidates"``, so a report cannot pass them off as end-to-end.

:func:`recall_ceiling` is the first stage's recall@k (re-exported from :mod:`ltr.pipeline.first_stage`):
no re-ranker of the top-k can retrieve more.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ltr.errors import DataError
from ltr.metrics import evaluate, parse_metric
from ltr.pipeline.first_stage import recall_at_k as recall_ceiling
from ltr.schema import DOCID, LABEL, QID, SCORE, as_id_array, require_columns

END_TO_END, CANDIDATES = "end_to_end", "candidates"
CANDIDATE_SUFFIX = "[candidates]"

__all__ = ["CANDIDATES", "CANDIDATE_SUFFIX", "END_TO_END", "evaluate_candidates", "evaluate_end_to_end",
           "evaluate_pipeline", "recall_ceiling"]


def _names(metrics) -> list:
    return [metrics] if isinstance(metrics, str) else list(metrics)


def evaluate_end_to_end(run: pd.DataFrame, qrels: pd.DataFrame, metrics: Sequence[str] | str, *,
                        qids=None) -> pd.DataFrame:
    """Per-query metrics of ``run`` against the full ``qrels`` (trec_eval semantics, ``-c``).

    Parameters
    ----------
    run : DataFrame
        RUN frame (``qid``, ``docid``, ``score``).
    qrels : DataFrame
        The collection's qrels (``qid``, ``docid``, ``label``), not the candidates' labels.
    metrics : list of str
        Metric names (``"nDCG@10"``, ``"AP"``, ...).
    qids : array-like of str, optional
        The evaluated queries (a test fold). Default: every query of ``qrels``. Queries without rows in
        the run score 0 (they retrieved nothing).

    Returns
    -------
    DataFrame
        ``qid``, ``metric``, ``value``, ``scope`` (``"end_to_end"``).
    """
    require_columns(qrels, (QID, DOCID, LABEL), caller="evaluate_end_to_end (qrels)")
    require_columns(run, (QID, DOCID, SCORE), caller="evaluate_end_to_end (run)")
    if qids is not None:
        wanted = set(as_id_array(qids).tolist())
        qrels = qrels[qrels[QID].astype(str).isin(wanted)]
        run = run[run[QID].astype(str).isin(wanted)]
        if qrels.empty:
            raise DataError(f"none of the {len(wanted)} evaluated queries has qrels; nothing to evaluate "
                            f"end to end")
    out = evaluate(qrels, run[[QID, DOCID, SCORE]], _names(metrics), missing_queries="zero")
    out["scope"] = END_TO_END
    return out


def evaluate_candidates(scored: pd.DataFrame, metrics: Sequence[str] | str, *, score: str = SCORE
                        ) -> pd.DataFrame:
    """Per-query metrics over the candidate sets only (ideal ranking from the candidates' labels).

    Parameters
    ----------
    scored : DataFrame
        Candidates with ``qid``, ``docid``, ``label`` and a score column, each query one block of rows
        (e.g. the output of :func:`~ltr.pipeline.candidates.build_candidates` with model scores added).
    metrics : list of str
    score : str, default="score"
        The column holding the scores to rank by.

    Returns
    -------
    DataFrame
        ``qid``, ``metric`` (the name + ``"[candidates]"``), ``value``, ``scope`` (``"candidates"``).
    """
    from ltr.ranking import group_sizes_from_qids

    require_columns(scored, (QID, DOCID, LABEL, score), caller="evaluate_candidates")
    qids = as_id_array(scored[QID].to_numpy())
    sizes = group_sizes_from_qids(qids, source="the scored candidates")
    starts = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
    labels = scored[LABEL].to_numpy(dtype=np.float64)
    scores = scored[score].to_numpy(dtype=np.float64)
    docids = as_id_array(scored[DOCID].to_numpy())
    parts = []
    for name in _names(metrics):
        values = parse_metric(name).compute(labels, scores, sizes, docids)
        parts.append(pd.DataFrame({QID: qids[starts], "metric": name + CANDIDATE_SUFFIX, "value": values}))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[QID, "metric", "value"])
    out = out.sort_values([QID], kind="stable").reset_index(drop=True)
    out[QID] = out[QID].astype(object)
    out["scope"] = CANDIDATES
    return out


def evaluate_pipeline(run: pd.DataFrame, qrels: pd.DataFrame, metrics: Sequence[str] | str, *, qids=None,
                      candidates: pd.DataFrame | None = None) -> pd.DataFrame:
    """End-to-end metrics of ``run``, plus candidate-only metrics of the same run when ``candidates`` is given.

    ``candidates`` holds the labels of the candidate sets (``qid``, ``docid``, ``label``, e.g. from
    :func:`~ltr.pipeline.candidates.build_candidates` in ``"eval"`` mode); the run's scores are joined to
    them and candidates the run lacks are left out. Returns the concatenation of
    :func:`evaluate_end_to_end` and :func:`evaluate_candidates`, told apart by ``scope`` and by the metric
    names' ``"[candidates]"`` suffix.
    """
    out = [evaluate_end_to_end(run, qrels, metrics, qids=qids)]
    if candidates is not None:
        require_columns(candidates, (QID, DOCID, LABEL), caller="evaluate_pipeline (candidates)")
        cand = candidates[[QID, DOCID, LABEL]]
        if qids is not None:
            cand = cand[cand[QID].astype(str).isin(set(as_id_array(qids).tolist()))]
        scored = cand.merge(run[[QID, DOCID, SCORE]], on=[QID, DOCID], how="inner")
        scored = scored.iloc[np.argsort(pd.factorize(scored[QID])[0], kind="stable")]
        out.append(evaluate_candidates(scored, metrics))
    return pd.concat(out, ignore_index=True)
