"""Candidate sets: the first-stage top-k of each query, and training sets with a chosen negative strategy.

Evaluation candidates are the first-stage top-k, never altered by a training strategy (so two training
strategies are always compared on the same evaluation set). Training candidates may add the judged
documents the first stage missed and choose the non-relevant documents by a named strategy:

===========  =====================================================================================
strategy     negatives of a query
===========  =====================================================================================
``all``      every non-relevant document of the first-stage top-k (source ``first_stage``)
``hard``     the ``n_negatives`` non-relevant documents the first stage ranks highest, over the whole
             depth of the run (source ``hard``): superficially relevant documents
``random``   ``n_negatives`` non-relevant documents drawn uniformly from the collection (source
             ``random``)
``mix``      ``round(hard_ratio * n_negatives)`` hard ones, the rest random
===========  =====================================================================================

``n_negatives=None`` takes, for each query, as many negatives as its first-stage top-k holds, so that
every strategy trains on candidate sets of the same size. Every row says where it came from (column
``source``: ``first_stage``, ``judged``, ``hard`` or ``random``), so a report can compare strategies.

Labels come from the qrels; a candidate without a qrels entry gets label 0. When the qrels list only some
documents (CACM, NPL: ``complete_judgments=False``), such a document is *assumed* non-relevant; the frame
says so in ``frame.attrs["notes"]`` and counts them in ``frame.attrs["n_assumed_nonrelevant"]``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ltr.errors import ConfigError, DataError
from ltr.naming import check_params, format_spec, parse_spec, select
from ltr.schema import DOCID, LABEL, LABEL_DTYPE, QID, QUERY, QUERY_TIME, RANK, SCORE, SOURCE, \
    as_id_array, normalize_ids, require_columns

FIRST_STAGE, JUDGED, HARD, RANDOM = "first_stage", "judged", "hard", "random"
#: The first-stage score of a candidate (NaN for documents the first stage did not retrieve).
FIRST_STAGE_SCORE = "first_stage_score"
MODES = ("eval", "train")


def order_run(run: pd.DataFrame) -> pd.DataFrame:
    """The run with each query's documents in rank order and a 1-based ``rank`` column.

    Queries keep their order of first appearance. Within a query the order is the ``rank`` column if
    present, else descending score with ties broken by docid *descending* (trec_eval's rule, so that a
    cut-off keeps the documents trec_eval would rank first).
    """
    require_columns(run, (QID, DOCID, SCORE), caller="order_run")
    run = normalize_ids(run)
    qids = run[QID].to_numpy()
    if _in_rank_order(qids, run[RANK].to_numpy() if RANK in run.columns else None):
        out = run.reset_index(drop=True)   # a retriever's run (or a slice of one): nothing to sort
        out[RANK] = out[RANK].to_numpy(dtype=np.int64)
        _check_unique(out)
        return out
    _, first, inverse = np.unique(qids, return_index=True, return_inverse=True)
    query_pos = np.argsort(np.argsort(first))[inverse]  # position of each row's query by first appearance
    if RANK in run.columns:
        order = np.lexsort((run[RANK].to_numpy(dtype=np.float64), query_pos))
    else:
        docs = run[DOCID].to_numpy()
        # descending docid: rank of the docid string among all docids, negated
        _, doc_code = np.unique(docs, return_inverse=True)
        order = np.lexsort((-doc_code, -run[SCORE].to_numpy(dtype=np.float64), query_pos))
    out = run.iloc[order].reset_index(drop=True)
    out[RANK] = (out.groupby(QID, sort=False).cumcount() + 1).to_numpy(dtype=np.int64)
    _check_unique(out)
    return out


def _in_rank_order(qids: np.ndarray, ranks: np.ndarray | None) -> bool:
    """Whether each query is one block of rows whose ranks are 1, 2, ... in row order."""
    if ranks is None or len(qids) == 0:
        return ranks is not None
    starts = np.flatnonzero(np.r_[True, qids[1:] != qids[:-1]])
    if len(set(qids[starts].tolist())) != len(starts):
        return False
    expected = np.arange(len(qids)) - np.repeat(starts, np.diff(np.r_[starts, len(qids)])) + 1
    return bool(np.array_equal(np.asarray(ranks, dtype=np.float64), expected))


def _check_unique(out: pd.DataFrame) -> None:
    dup = out.duplicated([QID, DOCID])
    if dup.any():
        bad = out.loc[dup, [QID, DOCID]].head(3).to_dict("records")
        raise DataError(f"the first-stage run lists a document twice for a query, e.g. {bad}; "
                        f"each (qid, docid) must appear once")


def top_k(run: pd.DataFrame, k: int | None) -> pd.DataFrame:
    """The first ``k`` documents of each query in rank order (all of them when ``k`` is None)."""
    ordered = order_run(run)
    if k is None:
        return ordered
    _check_k(k)
    return ordered[ordered[RANK] <= k].reset_index(drop=True)


def _check_k(k) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ConfigError(f"The 'k' parameter must be an integer >= 1 (the number of candidates kept per "
                          f"query). Got {k!r} instead.")


def _label_lookup(qrels: pd.DataFrame) -> dict:
    require_columns(qrels, (QID, DOCID, LABEL), caller="build_candidates (qrels)")
    q = normalize_ids(qrels)
    dup = q.duplicated([QID, DOCID])
    if dup.any():
        raise DataError(f"the qrels judge a document twice for a query, e.g. "
                        f"{q.loc[dup, [QID, DOCID]].head(3).to_dict('records')}")
    return dict(zip(zip(q[QID], q[DOCID]), q[LABEL].astype(LABEL_DTYPE)))


def _query_rng(seed: int, qid: str) -> np.random.Generator:
    """A generator per query, so a query's sample does not depend on which other queries are present."""
    return np.random.default_rng([int(seed), zlib.crc32(qid.encode("utf-8"))])


def _negatives_all(ctx, n):
    return [(d, FIRST_STAGE) for d in ctx["topk_neg"]]


def _negatives_hard(ctx, n):
    taken = ctx["taken"]
    return [(d, HARD) for d in [d for d in ctx["run_neg"] if d not in taken][:n]]


def _negatives_random(ctx, n):
    universe, taken, relevant = ctx["universe"], ctx["taken"], ctx["relevant"]
    if n <= 0:
        return []
    if universe is None:
        raise ConfigError("random negatives are drawn from the collection: pass "
                          "docids=collection.docids to build_candidates")
    excluded = taken | relevant
    size = min(len(universe), n + len(excluded))
    draw = ctx["rng"].choice(len(universe), size=size, replace=False)
    picked = [d for d in universe[draw] if d not in excluded][:n]
    return [(d, RANDOM) for d in picked]


def _negatives_mix(ctx, n):
    n_hard = int(round(ctx["hard_ratio"] * n))
    hard = _negatives_hard(ctx, n_hard)
    ctx = dict(ctx, taken=ctx["taken"] | {d for d, _ in hard})
    return hard + _negatives_random(ctx, n - len(hard))


_NEGATIVES = {"all": _negatives_all, "hard": _negatives_hard, "random": _negatives_random,
              "mix": _negatives_mix}


#: The parameters each declared strategy takes (``"random(n=20)"``): ``n`` negatives per query, and the hard
#: fraction of ``mix``.
NEGATIVE_PARAMS = {"all": (), "hard": ("n",), "random": ("n",), "mix": ("n", "hard_ratio")}


@dataclass(frozen=True)
class Negatives:
    """A declared training-candidate strategy: ``"all"``, ``"hard(n=20)"``, ``"random(n=20)"`` or
    ``"mix(n=20, hard_ratio=0.5)"`` (see the module docstring); checked when it is declared.

    >>> get_negatives("mix(n=10)").build_kwargs()
    {'negatives': 'mix', 'n_negatives': 10, 'hard_ratio': 0.5}
    """

    name: str = "all"
    n: int | None = None
    hard_ratio: float = 0.5

    def __post_init__(self):
        select(_NEGATIVES, self.name, what="negative strategy")
        if self.n is not None and (isinstance(self.n, bool) or not isinstance(self.n, (int, np.integer))
                                   or self.n < 0):
            raise ConfigError(f"The 'n' parameter of negative strategy {self.name!r} must be an integer >= 0. "
                              f"Got {self.n!r} instead.")
        if isinstance(self.hard_ratio, bool) or not isinstance(self.hard_ratio, (int, float)) \
                or not 0.0 <= self.hard_ratio <= 1.0:
            raise ConfigError(f"The 'hard_ratio' parameter of negative strategy {self.name!r} must be a float in "
                              f"[0, 1]. Got {self.hard_ratio!r} instead.")

    def build_kwargs(self) -> dict:
        """The keyword arguments of :func:`build_candidates` (mode ``"train"``)."""
        out = {"negatives": self.name, "n_negatives": self.n}
        if self.name == "mix":
            out["hard_ratio"] = float(self.hard_ratio)
        return out

    def __str__(self) -> str:
        params = {k: getattr(self, k) for k in NEGATIVE_PARAMS[self.name]}
        return format_spec(self.name, params, defaults={"n": None, "hard_ratio": 0.5})


def get_negatives(spec) -> Negatives:
    """A negative strategy from its printed form; unknown strategies and parameters list the valid ones."""
    if isinstance(spec, Negatives):
        return spec
    parsed = parse_spec(spec, what="negative strategy")
    select(_NEGATIVES, parsed.name, what="negative strategy")
    check_params(parsed.params, NEGATIVE_PARAMS[parsed.name], owner=f"negative strategy {parsed.name!r}")
    if parsed.cutoff is not None:
        raise ConfigError(f"negative strategy {spec!r} takes no @cutoff; write e.g. 'hard(n=20)'")
    return Negatives(parsed.name, **parsed.params)


def build_candidates(first_stage_run: pd.DataFrame, qrels: pd.DataFrame, *, k: int | None = None,
                     mode: str = "eval", add_judged: bool = False, negatives: str = "all",
                     n_negatives: int | None = None, hard_ratio: float = 0.5, seed: int = 0,
                     docids=None, complete_judgments: bool = False,
                     queries: pd.DataFrame | None = None) -> pd.DataFrame:
    """Candidate (query, document) pairs with labels and their source.

    Parameters
    ----------
    first_stage_run : DataFrame
        RUN frame (``qid``, ``docid``, ``score``, optional ``rank``) of the first stage, possibly deeper
        than ``k`` (hard negatives are taken over its whole depth).
    qrels : DataFrame
        ``qid``, ``docid``, ``label``.
    k : int or None, default=None
        Candidates kept per query from the first stage (None: the run's whole depth).
    mode : {"eval", "train"}, default="eval"
        ``"eval"`` returns the first-stage top-k exactly; the training options below are refused.
    add_judged : bool, default=False
        (train) Also add the judged documents of each query that the top-k missed (source ``judged``).
    negatives : {"all", "hard", "random", "mix"}, default="all"
        (train) How to choose non-relevant documents; see the module docstring.
    n_negatives : int or None, default=None
        (train) Negatives per query; None = as many as the query's top-k holds.
    hard_ratio : float, default=0.5
        (train, ``mix``) Fraction of the negatives that are hard.
    seed : int, default=0
        Random negatives of a query are drawn from ``default_rng([seed, crc32(qid)])``.
    docids : array-like of str, optional
        The collection's documents, needed by ``random`` and ``mix``.
    complete_judgments : bool, default=False
        Whether the qrels judge every document (the collection's ``complete_judgments``); only changes the
        notes.
    queries : DataFrame, optional
        ``qid``, ``query`` (+ ``query_time``): attached to the candidates for the feature extractors.

    Returns
    -------
    DataFrame
        ``qid``, ``docid``, ``label`` (float64), ``source``, ``rank`` (first-stage rank, float64, NaN if
        not retrieved), ``first_stage_score`` (float64, NaN if not retrieved), plus the query columns.
        Queries keep the run's order; within a query, first-stage documents come in rank order.
        ``attrs``: ``notes`` (list of str), ``n_assumed_nonrelevant``, ``mode``, ``negatives``, ``k``.
    """
    select({m: m for m in MODES}, mode, what="candidate mode")
    strategy = select(_NEGATIVES, negatives, what="negative strategy")
    if k is not None:
        _check_k(k)
    if mode == "eval" and (add_judged or negatives != "all" or n_negatives is not None):
        raise ConfigError("evaluation candidates are the first-stage top-k and are never altered by a "
                          "training strategy: build them with mode='eval' and the default add_judged=False, "
                          "negatives='all', n_negatives=None (use mode='train' for training sets)")
    if n_negatives is not None and (isinstance(n_negatives, bool) or not isinstance(n_negatives, (int, np.integer))
                                    or n_negatives < 0):
        raise ConfigError(f"The 'n_negatives' parameter must be an integer >= 0 or None. Got {n_negatives!r} "
                          f"instead.")
    if isinstance(hard_ratio, bool) or not isinstance(hard_ratio, (int, float)) or not 0.0 <= hard_ratio <= 1.0:
        raise ConfigError(f"The 'hard_ratio' parameter must be a float in [0, 1]. Got {hard_ratio!r} instead.")
    if mode == "train" and negatives in ("random", "mix") and docids is None:
        raise ConfigError(f"negatives={negatives!r} draws random negatives from the collection: pass "
                          f"docids=collection.docids to build_candidates")
    labels = _label_lookup(qrels)
    ordered = order_run(first_stage_run)
    universe = None if docids is None else as_id_array(docids)

    if mode == "eval":
        out = ordered if k is None else ordered[ordered[RANK] <= k]
        out = pd.DataFrame({QID: out[QID].to_numpy(), DOCID: out[DOCID].to_numpy(),
                            SOURCE: FIRST_STAGE, RANK: out[RANK].to_numpy(dtype=np.float64),
                            FIRST_STAGE_SCORE: out[SCORE].to_numpy(dtype=np.float64)})
    else:
        out = _train_candidates(ordered, labels, k=k, add_judged=add_judged, strategy=strategy,
                                n_negatives=n_negatives, hard_ratio=float(hard_ratio), seed=seed,
                                universe=universe)
    keys = zip(out[QID].to_numpy(), out[DOCID].to_numpy())
    lab = np.fromiter((labels.get(key, np.nan) for key in keys), dtype=LABEL_DTYPE, count=len(out))
    unjudged = np.isnan(lab)
    out.insert(2, LABEL, np.where(unjudged, 0.0, lab))
    out[QID] = out[QID].astype(object)
    out[DOCID] = out[DOCID].astype(object)
    out[SOURCE] = out[SOURCE].astype(object)
    if queries is not None:
        out = attach_queries(out, queries)
    notes = []
    n_unjudged = int(unjudged.sum())
    if complete_judgments:
        notes.append("labels are complete: documents without a qrels entry are non-relevant by construction")
    elif n_unjudged:
        notes.append(f"{n_unjudged} of {len(out)} candidates have no qrels entry and are assumed non-relevant "
                     f"(label 0): the qrels list only some documents, so some of these may be relevant")
    out.attrs.update({"notes": notes, "n_assumed_nonrelevant": 0 if complete_judgments else n_unjudged,
                      "mode": mode, "negatives": negatives, "k": k})
    return out


def _train_candidates(ordered, labels, *, k, add_judged, strategy, n_negatives, hard_ratio, seed, universe):
    judged_by_query: dict[str, list[str]] = {}
    relevant_by_query: dict[str, set] = {}
    for (q, d), v in labels.items():
        judged_by_query.setdefault(q, []).append(d)
        if v > 0:
            relevant_by_query.setdefault(q, set()).add(d)
    rank_of = dict(zip(zip(ordered[QID], ordered[DOCID]), ordered[RANK].to_numpy(dtype=np.float64)))
    score_of = dict(zip(zip(ordered[QID], ordered[DOCID]), ordered[SCORE].to_numpy(dtype=np.float64)))
    qids = ordered[QID].to_numpy()
    docs = ordered[DOCID].to_numpy()
    starts = np.flatnonzero(np.r_[True, qids[1:] != qids[:-1]]) if len(qids) else np.zeros(0, dtype=int)
    ends = np.r_[starts[1:], len(qids)]
    rows_q, rows_d, rows_s = [], [], []
    for s, e in zip(starts, ends):
        q = qids[s]
        run_docs = docs[s:e]
        top = run_docs if k is None else run_docs[:k]
        rel = np.array([labels.get((q, d), 0.0) > 0 for d in run_docs], dtype=bool)
        top_rel = rel[:len(top)]
        chosen = [(d, FIRST_STAGE) for d in top[top_rel]]
        taken = set(top[top_rel].tolist())
        if add_judged:
            top_set = set(top.tolist())
            extra = [d for d in judged_by_query.get(q, []) if d not in top_set]
            chosen += [(d, JUDGED) for d in extra]
            taken |= set(extra)
        topk_neg = top[~top_rel].tolist()
        n = len(topk_neg) if n_negatives is None else int(n_negatives)
        ctx = {"topk_neg": topk_neg, "run_neg": run_docs[~rel].tolist(), "taken": taken,
               "relevant": relevant_by_query.get(q, set()), "universe": universe,
               "rng": _query_rng(seed, q), "hard_ratio": hard_ratio}
        chosen += strategy(ctx, n)
        rows_q += [q] * len(chosen)
        rows_d += [d for d, _ in chosen]
        rows_s += [src for _, src in chosen]
    out = pd.DataFrame({QID: pd.Series(rows_q, dtype=object), DOCID: pd.Series(rows_d, dtype=object),
                        SOURCE: pd.Series(rows_s, dtype=object)})
    keys = list(zip(rows_q, rows_d))
    out[RANK] = np.array([rank_of.get(key, np.nan) for key in keys], dtype=np.float64)
    out[FIRST_STAGE_SCORE] = np.array([score_of.get(key, np.nan) for key in keys], dtype=np.float64)
    # first-stage documents (positives and hard/first-stage negatives) in rank order, then the others
    order = np.lexsort((np.where(np.isnan(out[RANK]), np.inf, out[RANK]),
                        pd.factorize(out[QID])[0]))
    return out.iloc[order].reset_index(drop=True)


def attach_queries(pairs: pd.DataFrame, queries: pd.DataFrame) -> pd.DataFrame:
    """The pairs with the query columns (``query``, ``query_time`` if present) added, index and order kept.

    Raises :class:`DataError` naming the qids of the pairs that ``queries`` lacks.
    """
    require_columns(pairs, (QID,), caller="attach_queries (pairs)")
    require_columns(queries, (QID, QUERY), caller="attach_queries (queries)")
    q = normalize_ids(queries, (QID,)).drop_duplicates(QID).set_index(QID)
    cols = [c for c in (QUERY, QUERY_TIME) if c in q.columns and c not in pairs.columns]
    missing = pd.Index(pairs[QID].unique()).difference(q.index)
    if len(missing):
        raise DataError(f"{len(missing)} candidate qids have no query text, e.g. {missing[:5].tolist()}; "
                        f"pass the collection's queries")
    out = pairs.copy()
    for c in cols:
        out[c] = q[c].reindex(pairs[QID].to_numpy()).to_numpy()
        if c == QUERY:
            out[c] = out[c].astype(object)
    return out


def candidate_summary(candidates: pd.DataFrame) -> pd.DataFrame:
    """Per source: number of candidates, of relevant ones (label > 0), and candidates per query."""
    require_columns(candidates, (QID, LABEL, SOURCE), caller="candidate_summary")
    n_q = max(candidates[QID].nunique(), 1)
    g = candidates.groupby(SOURCE, sort=True)
    return pd.DataFrame({"candidates": g.size(), "relevant": g[LABEL].apply(lambda s: int((s > 0).sum())),
                         "per_query": g.size() / n_q}).reset_index()
