"""The lexical index: tokenised fields (term-frequency matrices and collection statistics), the BM25 variants,
and :class:`BM25Index`, the eager BM25 engine that the lexical extractors and the first-stage retriever share.

One job: turn a collection's text into sparse (document, term) weights and score (query, document) pairs or
whole queries from them. The extractors (:mod:`features.lexical`) and the first stage
(:mod:`ltr.pipeline.first_stage`) are its two users, so that ``bm25__body`` equals the first-stage BM25 score
of the same pair to the last bit.

How it is computed (bm25s' "eager" scoring): the field is tokenised once, a sparse document x term matrix of
term frequencies is built and turned into per-(document, term) weights; a pair's score is the sum of the
weights of its query terms in its document's row, vectorised over all pairs (compiled with numba when it is
installed; :func:`_pair_sums_numpy` is the reference).

References
----------
Kamphuis, de Vries, Boytsov, Lin. "Which BM25 Do You Mean? A Large-Scale Reproducibility Study of Scoring
Variants." ECIR 2020. doi:10.1007/978-3-030-45442-5_4
Lù. "BM25S: Orders of magnitude faster lexical search via eager sparse scoring." arXiv:2407.03618, 2024.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ltr.collection import Collection, doc_rows
from ltr import errors
from ltr.errors import ConfigError, DataError
from ltr.naming import select
from ltr.schema import DOCID, QID
from ltr.text import Tokenizer

ALL_FIELDS = "all"


# ---------------------------------------------------------------------------------------------------------
# BM25 variants as small pure functions (Kamphuis et al., ECIR 2020, Table 1; bm25s.scoring)
# ---------------------------------------------------------------------------------------------------------
def _idf_robertson(df, n):
    """log((N - df + 0.5) / (df + 0.5)), floored at 0 (bm25s ``allow_negative=False``; rank_bm25 with
    ``epsilon=0``)."""
    return np.log(np.maximum((n - df + 0.5) / (df + 0.5), 1.0))


def _idf_lucene(df, n):
    """log(1 + (N - df + 0.5) / (df + 0.5)) (Lucene >= 8; always positive)."""
    return np.log1p((n - df + 0.5) / (df + 0.5))


def _idf_atire(df, n):
    """log(N / df)."""
    return np.log(n / df)


def _idf_bm25l(df, n):
    """log((N + 1) / (df + 0.5))."""
    return np.log((n + 1) / (df + 0.5))


def _idf_bm25plus(df, n):
    """log((N + 1) / df)."""
    return np.log((n + 1) / df)


def _tfc_robertson(tf, dl, avgdl, k1, b, delta):
    """tf / (k1 (1 - b + b dl/avgdl) + tf)  (also Lucene's: Lucene drops the constant (k1 + 1))."""
    return tf / (k1 * (1 - b + b * dl / avgdl) + tf)


def _tfc_atire(tf, dl, avgdl, k1, b, delta):
    """(k1 + 1) tf / (tf + k1 (1 - b + b dl/avgdl))."""
    return tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))


def _tfc_bm25l(tf, dl, avgdl, k1, b, delta):
    """(k1 + 1)(c + delta) / (k1 + c + delta) with c = tf / (1 - b + b dl/avgdl)."""
    c = tf / (1 - b + b * dl / avgdl)
    return (k1 + 1) * (c + delta) / (k1 + c + delta)


def _tfc_bm25plus(tf, dl, avgdl, k1, b, delta):
    """(k1 + 1) tf / (k1 (1 - b + b dl/avgdl) + tf) + delta."""
    return (k1 + 1) * tf / (k1 * (1 - b + b * dl / avgdl) + tf) + delta


#: variant -> (IDF, TF component, whether a term absent from the document still scores idf * tfc(0))
BM25_VARIANTS = {
    "robertson": (_idf_robertson, _tfc_robertson, False),
    "lucene": (_idf_lucene, _tfc_robertson, False),
    "atire": (_idf_atire, _tfc_atire, False),
    "bm25l": (_idf_bm25l, _tfc_bm25l, True),
    "bm25+": (_idf_bm25plus, _tfc_bm25plus, True),
}


def _check_number(owner: str, name: str, value, *, low: float, high: float = math.inf) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not (low <= float(value) <= high):
        bound = f">= {low}" if high == math.inf else f"in [{low}, {high}]"
        raise ConfigError(f"The {name!r} parameter of {owner} must be a float {bound}. Got {value!r} instead.")
    return float(value)


# ---------------------------------------------------------------------------------------------------------
# The tokenised field: term-frequency matrix and collection statistics
# ---------------------------------------------------------------------------------------------------------
@dataclass(eq=False)
class FieldIndex:
    """Term frequencies of one tokenised text field.

    Attributes
    ----------
    tokenizer : Tokenizer
    vocabulary : dict of str -> int
        Term -> column (first-appearance order).
    tf : scipy.sparse.csr_array of shape (n_docs, n_terms), float64
        Term frequencies, rows in document order, sorted column indices.
    doc_len : ndarray of shape (n_docs,), float64
        Tokens per document.
    df : ndarray of shape (n_terms,), float64
        Documents containing each term.
    cf : ndarray of shape (n_terms,), float64
        Occurrences of each term in the whole field.
    docids : pandas.Index
        Document ids (row labels).
    """

    tokenizer: Tokenizer
    vocabulary: dict
    tf: sp.csr_array
    doc_len: np.ndarray
    df: np.ndarray
    cf: np.ndarray
    docids: pd.Index

    @property
    def n_docs(self) -> int:
        return self.tf.shape[0]

    @property
    def avgdl(self) -> float:
        """Mean document length; 1.0 for an all-empty field (any positive value gives the same scores)."""
        mean = float(self.doc_len.mean()) if self.n_docs else 0.0
        return mean if mean > 0 else 1.0

    @classmethod
    def build(cls, texts: Sequence, docids: Sequence | None, tokenizer: Tokenizer) -> "FieldIndex":
        texts = list(texts)
        n = len(texts)
        if docids is None:
            docids = [str(i) for i in range(n)]
        docids = pd.Index([str(d) for d in docids], dtype=object)
        if len(docids) != n:
            raise DataError(f"got {n} texts but {len(docids)} document ids")
        if docids.has_duplicates:
            raise DataError(f"duplicate document ids, e.g. {docids[docids.duplicated()][:5].tolist()}; "
                            f"ids must be unique")
        # Step 1: tokenise (each distinct word stemmed once)
        tokens = tokenizer.tokenize_many(texts)
        lengths = np.fromiter((len(t) for t in tokens), dtype=np.int64, count=n)
        # Step 2: term ids by hashing all tokens at once, in order of first appearance
        flat = np.fromiter((w for t in tokens for w in t), dtype=object, count=int(lengths.sum()))
        codes, terms = pd.factorize(flat)
        # Step 3: sparse counts; duplicates (a term repeated in a document) are summed by the constructor
        rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
        tf = sp.csr_array((np.ones(len(codes)), (rows, codes)), shape=(n, len(terms)), dtype=np.float64)
        tf.sum_duplicates()
        tf.sort_indices()
        df = np.bincount(tf.indices, minlength=len(terms)).astype(np.float64)
        cf = np.bincount(tf.indices, weights=tf.data, minlength=len(terms))
        vocabulary = {t: i for i, t in enumerate(terms.tolist())}
        return cls(tokenizer, vocabulary, tf, lengths.astype(np.float64), df, cf, docids)

    def query_terms(self, queries: Sequence) -> "QueryTerms":
        """Tokenise queries and map their in-vocabulary tokens to term ids (with multiplicities)."""
        tokens = self.tokenizer.tokenize_many(list(queries))
        vocab = self.vocabulary
        ptr = [0]
        term_ids: list[int] = []
        counts: list[float] = []
        distinct = np.empty(len(tokens), dtype=np.float64)
        for i, toks in enumerate(tokens):
            distinct[i] = len(set(toks))
            tally: dict[int, int] = {}
            for w in toks:
                j = vocab.get(w)
                if j is not None:
                    tally[j] = tally.get(j, 0) + 1
            term_ids.extend(tally)
            counts.extend(tally.values())
            ptr.append(len(term_ids))
        n_tokens = np.fromiter((len(t) for t in tokens), dtype=np.float64, count=len(tokens))
        return QueryTerms(np.asarray(ptr, dtype=np.int64), np.asarray(term_ids, dtype=np.int64),
                          np.asarray(counts, dtype=np.float64), n_tokens, distinct)

    def rows_of(self, docids, *, owner: str) -> np.ndarray:
        """Row of each document id (a Series or array); DataError naming the unknown ones."""
        return doc_rows(self.docids, docids, owner=owner)


@dataclass(eq=False)
class QueryTerms:
    """Queries as ragged arrays: query ``i``'s distinct in-vocabulary term ids are
    ``term_ids[ptr[i]:ptr[i+1]]`` with multiplicities ``counts[...]``; ``n_tokens`` counts all its tokens
    (out-of-vocabulary included), ``n_distinct`` its distinct tokens."""

    ptr: np.ndarray
    term_ids: np.ndarray
    counts: np.ndarray
    n_tokens: np.ndarray
    n_distinct: np.ndarray

    def expand(self, query_of_pair: np.ndarray):
        """For every (pair, query term): the pair's position, the term id and its count in the query."""
        lengths = np.diff(self.ptr)[query_of_pair]
        pair = np.repeat(np.arange(len(query_of_pair), dtype=np.int64), lengths)
        starts = np.repeat(self.ptr[query_of_pair] - (np.cumsum(lengths) - lengths), lengths)
        pos = starts + np.arange(len(pair), dtype=np.int64)
        return pair, self.term_ids[pos], self.counts[pos]

    def constant(self, per_term: np.ndarray) -> np.ndarray:
        """sum over each query's terms of count * per_term[term]."""
        q = np.repeat(np.arange(len(self.ptr) - 1), np.diff(self.ptr))
        return np.bincount(q, weights=self.counts * per_term[self.term_ids], minlength=len(self.ptr) - 1)


def _pair_sums_numpy(weights: sp.csr_array, rows: np.ndarray, qterms: "QueryTerms",
                     qcodes: np.ndarray) -> np.ndarray:
    """Reference implementation of :func:`_pair_sums`: expand to (pair, query term), look the weights up with
    scipy's ``csr_sample_values``, sum per pair with ``bincount`` (terms in query order)."""
    pair, term, count = qterms.expand(qcodes)
    if len(pair) == 0:
        return np.zeros(len(rows))
    values = np.asarray(weights[rows[pair], term]).ravel()
    return np.bincount(pair, weights=values * count, minlength=len(rows))


_KERNEL: list = []

#: a query's pairs are scored by scattering its terms' posting lists into a dense per-document buffer when
#: that reads fewer entries than binary-searching each pair's document row: 2 * sum(df) < _DENSE_FACTOR *
#: pairs * terms (the scatter reads postings sequentially; the searches jump between rows)
_DENSE_FACTOR = 8


def _numba_kernel():
    """The compiled pair-sum kernel, or None without numba (then the numpy path runs)."""
    if not _KERNEL:
        try:
            from numba import njit
        except ImportError:  # pragma: no cover - numba is in install_requires; kept optional as bm25s does
            _KERNEL.append(None)
        else:
            @njit(cache=True, nogil=True)
            def kernel(indptr, indices, data, tptr, tdocs, tdata, rows, order, qstart, qptr, qterms, qcounts,
                       n_docs, dense_factor, out):
                dense = np.zeros(n_docs)
                for q in range(qstart.shape[0] - 1):
                    a, b = qstart[q], qstart[q + 1]
                    t0, t1 = qptr[q], qptr[q + 1]
                    if a == b:
                        continue
                    if t0 == t1:
                        for k in range(a, b):
                            out[order[k]] = 0.0
                        continue
                    sum_df = 0
                    for j in range(t0, t1):
                        sum_df += tptr[qterms[j] + 1] - tptr[qterms[j]]
                    if 2 * sum_df < dense_factor * (b - a) * (t1 - t0):
                        # scatter the postings (terms in query order: the same additions as below)
                        for j in range(t0, t1):
                            t = qterms[j]
                            for p in range(tptr[t], tptr[t + 1]):
                                dense[tdocs[p]] += tdata[p] * qcounts[j]
                        for k in range(a, b):
                            out[order[k]] = dense[rows[order[k]]]
                        for j in range(t0, t1):
                            t = qterms[j]
                            for p in range(tptr[t], tptr[t + 1]):
                                dense[tdocs[p]] = 0.0
                    else:
                        for k in range(a, b):
                            i = order[k]
                            lo0, hi0 = indptr[rows[i]], indptr[rows[i] + 1]
                            s = 0.0
                            for j in range(t0, t1):
                                t = qterms[j]
                                lo, hi = lo0, hi0
                                while lo < hi:  # binary search of t in the document's sorted term ids
                                    mid = (lo + hi) >> 1
                                    if indices[mid] < t:
                                        lo = mid + 1
                                    else:
                                        hi = mid
                                if lo < hi0 and indices[lo] == t:
                                    s += data[lo] * qcounts[j]
                            out[i] = s
            _KERNEL.append(kernel)
    return _KERNEL[0]


def term_major(weights: sp.csr_array) -> sp.csr_array:
    """The (term, document) transpose with sorted document ids: each term's posting list."""
    t = sp.csr_array(weights.T)
    t.sort_indices()
    return t


def _pair_sums(weights: sp.csr_array, rows: np.ndarray, qterms: "QueryTerms", qcodes: np.ndarray,
               weights_t: sp.csr_array | None = None) -> np.ndarray:
    """sum_t count(t, q) * weights[row, t] for every pair (row, q), float64.

    With numba (and the term-major copy ``weights_t``), a compiled kernel scores each query's pairs either
    by scattering its terms' posting lists into a dense buffer or by binary search in each pair's document
    row, whichever reads less. Both add a pair's terms in query order starting from 0.0, as
    :func:`_pair_sums_numpy` does (an absent term adds exactly 0.0 there), so all paths give the same bits.
    """
    kernel = _numba_kernel()
    if kernel is None or weights_t is None or len(rows) == 0:
        return _pair_sums_numpy(weights, rows, qterms, qcodes)
    n_queries = len(qterms.ptr) - 1
    qcodes = np.ascontiguousarray(qcodes, dtype=np.int64)
    order = np.argsort(qcodes, kind="stable")
    qstart = np.zeros(n_queries + 1, dtype=np.int64)
    np.cumsum(np.bincount(qcodes, minlength=n_queries), out=qstart[1:])
    out = np.empty(len(rows), dtype=np.float64)
    kernel(weights.indptr, weights.indices, weights.data, weights_t.indptr, weights_t.indices, weights_t.data,
           np.ascontiguousarray(rows, dtype=np.int64), order, qstart, qterms.ptr, qterms.term_ids, qterms.counts,
           weights.shape[0], _DENSE_FACTOR, out)
    return out


# Tokenised fields are shared by the extractors fitted on the same collection (a FeatureSet of ten lexical
# extractors tokenises each field once). Keyed on the collection object (weakly) and on the identity and
# length of its documents frame, so a collection given new documents is tokenised again.
_FIELD_CACHE: "weakref.WeakKeyDictionary[Collection, dict]" = weakref.WeakKeyDictionary()


def field_texts(collection: Collection, field: str, *, owner: str) -> list:
    """The texts of ``field`` (``"all"``: the collection's fields joined by a space), in document order."""
    docs = collection.documents
    if field in docs.columns and field != DOCID:
        return docs[field].tolist()
    if field == ALL_FIELDS:
        parts = [docs[f].fillna("").astype(str) for f in collection.fields]
        joined = parts[0]
        for p in parts[1:]:
            joined = joined + " " + p
        return joined.tolist()
    raise ConfigError(f"{owner}: the collection {collection.name!r} has no field {field!r}. "
                      f"Choose from {sorted(collection.fields)} or {ALL_FIELDS!r} (all fields joined).")


def field_index(collection: Collection, field: str, tokenizer: Tokenizer, *, owner: str = "lexical") -> FieldIndex:
    """The (cached) :class:`FieldIndex` of one field of a collection."""
    per_collection = _FIELD_CACHE.setdefault(collection, {})
    key = (field, tokenizer, id(collection.documents), len(collection.documents))
    if key not in per_collection:
        texts = field_texts(collection, field, owner=owner)
        per_collection[key] = FieldIndex.build(texts, collection.documents[DOCID].to_numpy(), tokenizer)
    return per_collection[key]


def bm25_weights(index: FieldIndex, *, k1: float, b: float, variant: str, delta: float):
    """Eager BM25: the (document, term) score matrix and the per-term score of an absent term.

    Returns
    -------
    weights : csr_array of shape (n_docs, n_terms)
        ``idf(t) * tfc(tf, dl) - absent(t)`` on the document's terms.
    absent : ndarray of shape (n_terms,)
        ``idf(t) * tfc(0)``, the score every document gets for a query term it lacks (non-zero only for
        ``bm25l`` and ``bm25+``), added back per query.
    """
    idf_fn, tfc_fn, floor = select(BM25_VARIANTS, variant, what="BM25 variant")
    tf = index.tf
    idf = idf_fn(index.df, float(index.n_docs))
    dl = np.repeat(index.doc_len, np.diff(tf.indptr))
    data = idf[tf.indices] * tfc_fn(tf.data, dl, index.avgdl, k1, b, delta)
    absent = np.zeros(len(idf))
    if floor:
        absent = idf * tfc_fn(0.0, 0.0, index.avgdl, k1, b, delta)  # tfc(0) does not depend on dl here
        data = data - absent[tf.indices]
    weights = sp.csr_array((data, tf.indices.copy(), tf.indptr.copy()), shape=tf.shape)
    return weights, absent


# ---------------------------------------------------------------------------------------------------------
# BM25Index: the retriever-facing index (first stage imports it from here)
# ---------------------------------------------------------------------------------------------------------
class BM25Index:
    """An eager BM25 index over a list of texts, for retrieval (top-k over the whole collection).

    Parameters
    ----------
    k1 : float, default=0.9
    b : float, default=0.4
    variant : {"lucene", "robertson", "atire", "bm25l", "bm25+"}, default="lucene"
    delta : float, default=0.5
        The lower bound of ``bm25l`` and ``bm25+``.
    tokenizer : Tokenizer or None
        Default ``Tokenizer()``, the same as the lexical extractors'.

    The score of document d for query q is ``sum_{t in q} idf(t) * tfc(tf(t, d), |d|)`` over the query's
    tokens (with repetitions), with ``idf`` and ``tfc`` from :data:`BM25_VARIANTS`. For ``lucene``:

        idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)),   tfc = tf / (tf + k1 (1 - b + b |d| / avgdl)).

    Examples
    --------
    >>> index = BM25Index().fit(["ranking with trees", "cooking pasta", "trees and forests"], ["a", "b", "c"])
    >>> index.search(["trees"], k=2)[["qid", "docid", "rank"]].values.tolist()
    [['0', 'a', 1], ['0', 'c', 2]]
    """

    def __init__(self, *, k1: float = 0.9, b: float = 0.4, variant: str = "lucene", delta: float = 0.5,
                 tokenizer: Tokenizer | None = None):
        self.k1, self.b, self.variant, self.delta = k1, b, variant, delta
        self.tokenizer = Tokenizer() if tokenizer is None else tokenizer

    def __repr__(self):
        return (f"BM25Index(k1={self.k1!r}, b={self.b!r}, variant={self.variant!r}, delta={self.delta!r}, "
                f"tokenizer={self.tokenizer!r})")

    def fit(self, texts: Sequence, docids: Sequence | None = None) -> "BM25Index":
        """Tokenise and index ``texts``; ``docids`` default to ``"0", "1", ...``."""
        return self.fit_index(FieldIndex.build(texts, docids, self.tokenizer))

    def fit_index(self, index: FieldIndex) -> "BM25Index":
        """Build the scores from an already tokenised field (shared with the lexical extractors)."""
        _check_number("BM25Index", "k1", self.k1, low=0.0)
        _check_number("BM25Index", "b", self.b, low=0.0, high=1.0)
        _check_number("BM25Index", "delta", self.delta, low=0.0)
        if index.tokenizer != self.tokenizer:
            raise ConfigError(f"BM25Index has {self.tokenizer!r} but the field was tokenised with "
                              f"{index.tokenizer!r}; the scores would not match the queries' tokens")
        self.index_ = index
        weights, self.absent_ = bm25_weights(index, k1=self.k1, b=self.b, variant=self.variant, delta=self.delta)
        self.weights_ = weights
        # term-major copy for scoring whole queries at once
        self.weights_t_ = sp.csr_array(weights.T)
        return self

    @property
    def docids(self) -> np.ndarray:
        return self.index_.docids.to_numpy()

    def _check_fitted(self) -> None:
        if not hasattr(self, "index_"):
            raise errors.NotFittedError("BM25Index is not fitted yet: call fit(texts, docids) first")

    def _query_matrix(self, queries: Sequence) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
        self._check_fitted()
        qt = self.index_.query_terms(queries)
        n_q = len(qt.ptr) - 1
        rows = np.repeat(np.arange(n_q), np.diff(qt.ptr))
        q = sp.csr_array((qt.counts, (rows, qt.term_ids)), shape=(n_q, len(self.index_.vocabulary)))
        return q, qt.constant(self.absent_), qt.n_tokens

    def score_matrix(self, queries: Sequence) -> np.ndarray:
        """Dense scores of every document for every query, shape (n_queries, n_docs), float64.

        A query without tokens scores NaN for every document (see the module's rules).
        """
        q, const, n_tokens = self._query_matrix(queries)
        scores = (q @ self.weights_t_).toarray() + const[:, None]
        scores[n_tokens == 0] = np.nan
        return scores

    def topk(self, queries: Sequence, k: int = 1000, *, batch_size: int = 256):
        """The ``k`` best documents of each query.

        Returns
        -------
        rows : ndarray of shape (n_queries, min(k, n_docs)), int64
            Document rows (positions in ``docids``), best first; equal scores in document order.
        scores : ndarray of the same shape, float64
            NaN rows for queries without tokens (their rows are then in document order).
        """
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ConfigError(f"The 'k' parameter of BM25Index.topk must be an int >= 1. Got {k!r} instead.")
        self._check_fitted()
        n_docs = self.index_.n_docs
        kk = min(int(k), n_docs)
        queries = list(queries)
        all_rows = np.empty((len(queries), kk), dtype=np.int64)
        all_scores = np.empty((len(queries), kk), dtype=np.float64)
        for start in range(0, len(queries), batch_size):
            scores = self.score_matrix(queries[start:start + batch_size])
            key = np.where(np.isnan(scores), -np.inf, scores)
            if kk < n_docs:
                # the k-th best score; every document scoring above it is in, ties at it are taken in doc order
                part = np.partition(-key, kk - 1, axis=1)[:, kk - 1]
            for i in range(len(scores)):
                row = key[i]
                if kk < n_docs:
                    cand = np.flatnonzero(row >= -part[i])
                else:
                    cand = np.arange(n_docs)
                order = cand[np.lexsort((cand, -row[cand]))][:kk]
                all_rows[start + i] = order
                all_scores[start + i] = scores[i, order]
        return all_rows, all_scores

    def search(self, queries: Sequence, k: int = 1000, *, qids: Sequence | None = None) -> pd.DataFrame:
        """Top-k as a long RUN frame: ``qid``, ``docid``, ``score``, ``rank`` (1-based)."""
        queries = list(queries)
        qids = [str(i) for i in range(len(queries))] if qids is None else [str(q) for q in qids]
        if len(qids) != len(queries):
            raise DataError(f"BM25Index.search got {len(queries)} queries but {len(qids)} qids")
        rows, scores = self.topk(queries, k)
        kk = rows.shape[1]
        return pd.DataFrame({
            QID: pd.Series(np.repeat(np.asarray(qids, dtype=object), kk), dtype=object),
            DOCID: pd.Series(self.docids[rows.ravel()], dtype=object),
            "score": scores.ravel(),
            "rank": np.tile(np.arange(1, kk + 1), len(queries)),
        })


__all__ = ["ALL_FIELDS", "BM25Index", "BM25_VARIANTS", "FieldIndex", "QueryTerms", "bm25_weights", "field_index",
           "field_texts", "term_major"]
