"""First-stage retrieval: BM25 top-k over a whole collection, and the recall@k ceiling it sets.

The retriever reuses :class:`features.index.BM25Index` over the field index that the lexical extractors
build (``features.index.field_index``), with the same :class:`ltr.text.Tokenizer`: the first-stage score
of a (query, document) pair *is* the ``bm25__<field>`` feature of that pair with the same parameters, to
the last bit (tested). Scores are precomputed per (document, term) (bm25s' eager scoring, Lù 2024). Two
backends give the same run bit for bit: ``numpy`` (``BM25Index.topk``, one sparse product per batch of
queries; the reference) and ``numba`` (:mod:`ltr.pipeline._topk`, walks only the postings of the query's
terms and keeps the best k in a heap), which retrieves the top-1000 of a 100k-document collection faster
than bm25s' own numba backend (``benchmarks/bench_first_stage.py``, ``benchmarks/pipeline.md``).

Rules
-----
- **k larger than the collection**: capped at the number of documents (``k_`` holds the value used).
- **Only matching documents are retrieved**: a document is in a query's list only if it scores more than
  an empty document would, i.e. it contains at least one query term with a positive IDF (for ``lucene``,
  ``bm25l`` and ``bm25+`` every term's IDF is positive; ``robertson`` and ``atire`` give 0 to terms in
  at least half / all of the documents). A query with no
  token after stop-word removal, or none in the vocabulary, retrieves **nothing**: it has no rows in the
  run, its qid is listed in the run's ``attrs["empty_queries"]`` and a :class:`UserWarning` says how many
  there are. (A run
  padded with arbitrary zero-score documents would look like evidence; an empty list is honest, and the
  end-to-end metrics still count the query, against the full qrels.)
- Ties are ordered by document position in the collection (BM25Index's rule), so a run is the same bit for
  bit on every call.

References
----------
Robertson, Zaragoza. "The Probabilistic Relevance Framework: BM25 and Beyond." FnTIR 3(4), 2009.
doi:10.1561/1500000019
Lù. "BM25S: Orders of magnitude faster lexical search via eager sparse scoring." arXiv:2407.03618, 2024.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from features.index import ALL_FIELDS, BM25_VARIANTS, BM25Index, _check_number, field_index
from ltr.collection import Collection
from ltr import errors
from ltr.errors import ConfigError, SchemaError
from ltr.naming import check_params, format_spec, parse_spec, select
from ltr.params import Params
from ltr.schema import DOCID, LABEL, QID, QUERY, RANK, SCORE, normalize_ids, require_columns
from ltr.text import DEFAULT_PATTERN, Tokenizer

#: The depths at which :func:`recall_at_k` reports the ceiling by default.
DEFAULT_RECALL_KS = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)


class FirstStage(Params):
    """Base class of first-stage retrievers: ``fit(collection)``, ``retrieve(queries, k) -> RUN``.

    A subclass implements ``_fit(collection)`` and ``_retrieve(queries_frame, k) -> RUN frame``; the base
    class checks the input, caps ``k`` and applies the empty-query rule. ``retrieve`` does not change the
    retriever: what a call decided travels with its run, in ``run.attrs``.
    """

    name = "first_stage"

    def spec(self) -> str:
        """The printed form that :func:`get_first_stage` parses back, e.g. ``"bm25(k1=1.2, b=0.75)"``."""
        return format_spec(self.name, self.get_params(), defaults=type(self)().get_params())

    def fit(self, collection: Collection) -> "FirstStage":
        if not isinstance(collection, Collection):
            raise SchemaError(f"{type(self).__name__}.fit needs a Collection, got {type(collection).__name__}")
        start = time.perf_counter()
        self._fit(collection)
        self.n_docs_ = len(collection.documents)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def retrieve(self, queries: pd.DataFrame, k: int | None = None) -> pd.DataFrame:
        """The top-``k`` documents of each query.

        Parameters
        ----------
        queries : DataFrame
            ``qid``, ``query`` (a collection's ``queries`` frame).
        k : int, optional
            Documents per query (default: the retriever's ``k``); capped at the collection size.

        Returns
        -------
        DataFrame
            RUN frame ``qid``, ``docid``, ``score`` (float64), ``rank`` (int64, 1-based), queries in the
            given order, each query's documents best first. Queries that retrieve nothing have no rows.
            ``run.attrs`` holds ``"k"`` (the depth used: ``k`` capped at the collection size),
            ``"empty_queries"`` (qids that retrieved nothing) and ``"seconds"`` (the retrieval's wall time).
        """
        if not hasattr(self, "n_docs_"):
            raise errors.NotFittedError(f"{type(self).__name__} is not fitted yet: call fit(collection) first")
        require_columns(queries, (QID, QUERY), caller=f"{type(self).__name__}.retrieve")
        k = getattr(self, "k", 1000) if k is None else k
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ConfigError(f"The 'k' parameter of {type(self).__name__}.retrieve must be an integer >= 1. "
                              f"Got {k!r} instead.")
        k = min(int(k), self.n_docs_)
        queries = normalize_ids(queries, (QID,))
        if queries[QID].duplicated().any():
            raise SchemaError(f"{type(self).__name__}.retrieve got duplicated qids "
                              f"{queries.loc[queries[QID].duplicated(), QID].head(5).tolist()}")
        start = time.perf_counter()
        run = self._retrieve(queries, k)
        seconds = time.perf_counter() - start
        found = set(run[QID].unique())
        empty = [q for q in queries[QID] if q not in found]
        if empty:
            warnings.warn(f"{len(empty)} of {len(queries)} queries retrieved no document (no query term in the "
                          f"collection's vocabulary), e.g. {empty[:5]}; they have no rows in the run and score 0 "
                          f"end to end", UserWarning, stacklevel=2)
        run.attrs.update(k=k, empty_queries=empty, seconds=seconds)
        return run


class BM25Retriever(FirstStage):
    """BM25 over one field (or all fields joined) of a collection, top-k per query.

    score(q, d) = sum_{t in q} idf(t) * tf(t, d) / (tf(t, d) + k1 (1 - b + b |d| / avgdl)) for the default
    ``lucene`` variant, idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)); see :class:`features.lexical.BM25`
    for the other variants.

    Parameters
    ----------
    field : str, default="all"
        A text column of the documents, or ``"all"``: the collection's fields joined by a space (CACM's
        title + abstract, as ``../shared/data/REFERENCE.md`` indexes them).
    k : int, default=1000
        Documents per query when :meth:`retrieve` is given no ``k``.
    k1 : float, default=0.9
    b : float, default=0.4
    variant : {"lucene", "robertson", "atire", "bm25l", "bm25+"}, default="lucene"
    delta : float, default=0.5
    lowercase, stopwords, stemmer, pattern
        :class:`ltr.text.Tokenizer` settings (default: bm25s' English setup, the lexical features' default).
    backend : {"auto", "numba", "numpy"}, default="auto"
        ``"numpy"``: ``BM25Index.topk`` (batches of ``batch_size`` queries, one sparse product each; the
        reference). ``"numba"``: a compiled loop over the postings of each query's terms
        (:mod:`ltr.pipeline._topk`) that only looks at matching documents; same scores (the same float
        sums) and same order. ``"auto"``: numba when it is installed.
    batch_size : int, default=256
        Queries scored per sparse product by the numpy backend (memory ``batch_size x n_docs`` float64).

    Attributes
    ----------
    index_ : features.index.BM25Index
    n_docs_ : int
        Documents in the collection it was fitted on.

    Examples
    --------
    >>> docs = pd.DataFrame({"docid": ["a", "b", "c"],
    ...                      "body": ["ranking with trees", "cooking pasta", "trees and forests"]})
    >>> queries = pd.DataFrame({"qid": ["q1", "q2"], "query": ["trees", "the"]})
    >>> c = Collection("toy", docs, queries, pd.DataFrame(columns=["qid", "docid", "label"]))
    >>> retriever = BM25Retriever(k=5).fit(c)
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     run = retriever.retrieve(queries)
    >>> run[["qid", "docid", "rank"]].values.tolist()
    [['q1', 'a', 1], ['q1', 'c', 2]]
    >>> str(caught[0].message)[:44]
    '1 of 2 queries retrieved no document (no que'
    >>> run.attrs["k"], run.attrs["empty_queries"]
    (3, ['q2'])
    """

    name = "bm25"

    def __init__(self, *, field: str = ALL_FIELDS, k: int = 1000, k1: float = 0.9, b: float = 0.4,
                 variant: str = "lucene", delta: float = 0.5, lowercase: bool = True, stopwords="english",
                 stemmer: str | None = "english", pattern: str = DEFAULT_PATTERN, backend: str = "auto",
                 batch_size: int = 256):
        self.field, self.k, self.k1, self.b, self.variant, self.delta = field, k, k1, b, variant, delta
        self.lowercase, self.stopwords, self.stemmer, self.pattern = lowercase, stopwords, stemmer, pattern
        self.backend, self.batch_size = backend, batch_size

    def tokenizer(self) -> Tokenizer:
        return Tokenizer(lowercase=self.lowercase, stopwords=self.stopwords, stemmer=self.stemmer,
                         pattern=self.pattern)

    def _backend(self) -> str:
        from ltr.pipeline._topk import HAVE_NUMBA

        name = select({"auto": "auto", "numba": "numba", "numpy": "numpy"}, self.backend,
                      what="first-stage backend")
        if name == "auto":
            return "numba" if HAVE_NUMBA else "numpy"
        if name == "numba" and not HAVE_NUMBA:
            raise ConfigError("BM25Retriever(backend='numba') needs numba: pip install numba, or use "
                              "backend='numpy'")
        return name

    def check(self) -> "BM25Retriever":
        """Check every parameter's value (done by :func:`get_first_stage` at declaration, and by ``fit``)."""
        _check_number("BM25Retriever", "k1", self.k1, low=0.0)
        _check_number("BM25Retriever", "b", self.b, low=0.0, high=1.0)
        _check_number("BM25Retriever", "delta", self.delta, low=0.0)
        select(BM25_VARIANTS, self.variant, what="BM25 variant")
        select({"auto": 1, "numba": 1, "numpy": 1}, self.backend, what="first-stage backend")
        for name in ("k", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"The {name!r} parameter of BM25Retriever must be an integer >= 1. Got "
                                  f"{value!r} instead.")
        if not isinstance(self.field, str):
            raise ConfigError(f"The 'field' parameter of BM25Retriever must be a field name. Got {self.field!r} "
                              f"instead.")
        self.tokenizer()   # the tokenizer checks its own settings
        return self

    def _fit(self, collection: Collection) -> None:
        self.check()
        self.backend_ = self._backend()
        index = field_index(collection, self.field, self.tokenizer(), owner="BM25Retriever")
        self.index_ = BM25Index(k1=self.k1, b=self.b, variant=self.variant, delta=self.delta,
                                tokenizer=index.tokenizer).fit_index(index)
        if self.backend_ == "numba":
            w = self.index_.weights_t_  # terms x documents
            self._postings = (w.indptr.astype(np.int64), w.indices.astype(np.int64),
                              np.asarray(w.data, dtype=np.float64))

    def _retrieve(self, queries: pd.DataFrame, k: int) -> pd.DataFrame:
        texts = queries[QUERY].tolist()
        qids = queries[QID].to_numpy()
        if self.backend_ == "numba":
            return self._retrieve_numba(texts, qids, k)
        return self._retrieve_numpy(texts, qids, k)

    def _retrieve_numba(self, texts, qids, k: int) -> pd.DataFrame:
        from ltr.pipeline._topk import topk_postings

        qt = self.index_.index_.query_terms(texts)
        const = qt.constant(self.index_.absent_)
        # each query's terms in ascending term id: the order in which scipy's sparse product (the numpy
        # backend) sums them, so that both backends add the same floats in the same order
        query_of = np.repeat(np.arange(len(qt.ptr) - 1), np.diff(qt.ptr))
        order = np.lexsort((qt.term_ids, query_of))
        rows, scores, n_kept = topk_postings(qt.ptr, qt.term_ids[order], qt.counts[order], const, *self._postings,
                                             self.index_.index_.n_docs, k)
        keep = np.arange(rows.shape[1])[None, :] < n_kept[:, None]
        return _run_frame(np.repeat(qids, n_kept), self.index_.docids[rows[keep]], scores[keep], n_kept)

    def _retrieve_numpy(self, texts, qids, k: int) -> pd.DataFrame:
        from tqdm.auto import tqdm

        # the score of a document holding none of the query's terms (0 except for bm25l / bm25+)
        floor = self.index_.index_.query_terms(texts).constant(self.index_.absent_)
        docids = self.index_.docids
        parts = []
        bs = int(self.batch_size)
        for start in tqdm(range(0, len(texts), bs), desc="BM25 first stage", unit="batch",
                          disable=None if len(texts) > 4 * bs else True, leave=False):
            rows, scores = self.index_.topk(texts[start:start + bs], k, batch_size=bs)
            keep = scores > floor[start:start + bs, None]  # NaN (no token) compares False
            n_keep = keep.sum(axis=1)
            # kept entries are a prefix of each row (rows are sorted best first)
            parts.append(pd.DataFrame({
                QID: np.repeat(qids[start:start + bs], n_keep),
                DOCID: docids[rows[keep]],
                SCORE: scores[keep],
                RANK: np.concatenate([np.arange(1, n + 1) for n in n_keep]) if len(n_keep) else [],
            }))
        run = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[QID, DOCID, SCORE, RANK])
        return _run_frame(run[QID].to_numpy(), run[DOCID].to_numpy(), run[SCORE].to_numpy(), None,
                          ranks=run[RANK].to_numpy())


def _run_frame(qids, docids, scores, n_kept, *, ranks=None) -> pd.DataFrame:
    if ranks is None:
        ranks = np.arange(len(qids)) - np.repeat(np.cumsum(n_kept) - n_kept, n_kept) + 1
    return pd.DataFrame({QID: pd.Series(np.asarray(qids, dtype=object), dtype=object),
                         DOCID: pd.Series(np.asarray(docids, dtype=object), dtype=object),
                         SCORE: np.asarray(scores, dtype=np.float64),
                         RANK: np.asarray(ranks, dtype=np.int64)})


#: First-stage retrievers by name (``get_first_stage("bm25(k1=1.2)")``).
FIRST_STAGES: dict[str, type] = {BM25Retriever.name: BM25Retriever}


def get_first_stage(spec: "str | FirstStage") -> FirstStage:
    """A first-stage retriever from its printed form, e.g. ``"bm25(field='body', k1=1.2, b=0.75)"``.

    >>> get_first_stage("bm25(k1=1.2)").spec()
    'bm25(k1=1.2)'
    """
    if isinstance(spec, FirstStage):
        return spec
    parsed = parse_spec(spec, what="first stage")
    cls = select(FIRST_STAGES, parsed.name, what="first stage")
    check_params(parsed.params, cls().get_params(), owner=f"first stage {parsed.name!r}")
    if parsed.cutoff is not None:
        parsed.params.setdefault("k", parsed.cutoff)  # "bm25@1000" = BM25 top 1000
    retriever = cls(**parsed.params)
    return retriever.check() if hasattr(retriever, "check") else retriever


def recall_at_k(run: pd.DataFrame, qrels: pd.DataFrame, ks=DEFAULT_RECALL_KS, *,
                n_docs: int | None = None) -> pd.DataFrame:
    """The recall ceiling: the fraction of each query's relevant documents within the run's top ``k``.

    recall@k(q) = |{d in top-k(q) : label(q, d) > 0}| / |{d : label(q, d) > 0}|, averaged over the queries
    of ``qrels`` that have at least one relevant document. A query the run does not hold (it retrieved
    nothing) counts 0, as ``trec_eval -c``. No re-ranker of the top-k can exceed recall@k.

    Parameters
    ----------
    run : DataFrame
        RUN frame (``qid``, ``docid``, ``score``, optional ``rank``).
    qrels : DataFrame
        ``qid``, ``docid``, ``label``; restrict it to the queries you evaluate.
    ks : iterable of int
        Depths; each is capped at the run's depth (and at ``n_docs``), duplicates after capping dropped.
    n_docs : int, optional
        The collection size, to cap the depths when the run holds whole rankings.

    Returns
    -------
    DataFrame
        ``k`` (int), ``recall`` (float64), ``n_queries`` (int), one row per capped depth, ascending.
    """
    from ltr.pipeline.candidates import order_run

    require_columns(qrels, (QID, DOCID, LABEL), caller="recall_at_k (qrels)")
    ordered = order_run(run)
    qrels = normalize_ids(qrels)
    rel = qrels[qrels[LABEL] > 0]
    n_rel = rel.groupby(QID).size()
    depth = int(ordered[RANK].max()) if len(ordered) else 0
    if n_docs is not None:
        depth = min(depth, int(n_docs)) if depth else int(n_docs)
    bad = [k for k in ks if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1]
    if bad:
        raise ConfigError(f"recall_at_k depths must be integers >= 1; got {bad}")
    capped = sorted({min(int(k), depth) for k in ks if depth > 0}) or [1]
    hits = ordered.merge(rel[[QID, DOCID]], on=[QID, DOCID], how="inner")[[QID, RANK]]
    out = []
    for k in capped:
        found = hits[hits[RANK] <= k].groupby(QID).size().reindex(n_rel.index, fill_value=0)
        recall = float((found / n_rel).mean()) if len(n_rel) else float("nan")
        out.append((k, recall, len(n_rel)))
    return pd.DataFrame(out, columns=["k", "recall", "n_queries"])
