"""Lexical features of a (query, document field) pair: BM25 variants, TF-IDF cosine, query likelihood,
matched terms and lengths. The index they share with the first-stage retriever (tokenised fields, the BM25
variants, :class:`~features.index.BM25Index`) is :mod:`features.index`.

Every extractor here tokenises with :class:`ltr.text.Tokenizer` (parameters ``lowercase``, ``stopwords``,
``stemmer`` on each extractor, defaults = the tokenizer's defaults), so that ``bm25__body`` equals the
first-stage BM25 score of the same pair when both use the same parameters.

How it is computed (bm25s' "eager" scoring): ``fit`` tokenises the field once, builds a sparse
document x term matrix of term frequencies, and turns it into a matrix of per-(document, term) weights
(BM25 term scores, normalised TF-IDF weights, smoothed log-probabilities); ``transform`` looks up the
weights of each pair's query terms in its document's row and sums them, vectorised over all pairs.

Rules for awkward input (the same for every extractor)
-------------------------------------------------------
- A query with **no token** after stop-word removal (or a missing query text): BM25, TF-IDF, QL, matched
  count and coverage are **NaN** (no evidence either way; LightGBM/XGBoost treat NaN as missing). Its
  query length is 0.
- Query terms absent from the field's vocabulary match nothing: they add 0 to BM25 and TF-IDF (for
  ``bm25l``/``bm25+`` too: no IDF exists for them), are left out of QL (their collection probability is
  0, which would make every document's log-likelihood -inf), and count in the coverage denominator.
  QL of a query none of whose terms is in the vocabulary is NaN.
- A document whose field is empty or missing is an empty document (length 0): BM25 0 (or the
  ``bm25l``/``bm25+`` floor), TF-IDF cosine 0 (cosine with a zero vector is 0, as scikit-learn's),
  QL from the collection model alone, matched 0.
- Duplicate query terms count once per occurrence (as bm25s, rank_bm25 and Lucene's BooleanQuery do).
- Document ids in the pairs that the collection does not hold raise :class:`~ltr.errors.DataError`.

References
----------
Kamphuis, de Vries, Boytsov, Lin. "Which BM25 Do You Mean? A Large-Scale Reproducibility Study of Scoring
Variants." ECIR 2020. doi:10.1007/978-3-030-45442-5_4
Zhai, Lafferty. "A study of smoothing methods for language models applied to information retrieval."
ACM TOIS 22(2), 2004. doi:10.1145/984321.984322
Lù. "BM25S: Orders of magnitude faster lexical search via eager sparse scoring." arXiv:2407.03618, 2024.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import scipy.sparse as sp

from features.base import FeatureExtractor, register
from features.index import (ALL_FIELDS, BM25_VARIANTS, BM25Index, FieldIndex, QueryTerms,  # noqa: F401 (re-exported)
                            _check_number, _pair_sums, bm25_weights, field_index, field_texts, term_major)
from ltr.collection import Collection
from ltr.errors import ConfigError
from ltr.naming import select
from ltr.schema import DOCID, QID, QUERY
from ltr.text import DEFAULT_PATTERN, Tokenizer

# ---------------------------------------------------------------------------------------------------------
# Extractors
# ---------------------------------------------------------------------------------------------------------
def _short(value) -> str:
    if isinstance(value, (tuple, list)):
        return hashlib.sha1(repr(tuple(value)).encode()).hexdigest()[:6]
    return str(value)


class _Lexical(FeatureExtractor):
    """Shared machinery: tokenizer parameters, field lookup, query grouping."""

    requires = (QID, DOCID, QUERY)
    prefix = "lexical"
    _feature_params: tuple[str, ...] = ()

    def tokenizer(self) -> Tokenizer:
        return Tokenizer(lowercase=self.lowercase, stopwords=self.stopwords, stemmer=self.stemmer,
                         pattern=self.pattern)

    def _stem(self) -> str:
        """The part of the feature names before ``__<field>``: the prefix plus every non-default parameter
        that changes the values, so that two configurations never share a name."""
        defaults = type(self)().get_params()
        params = self.get_params()
        extra = [f"{k}={_short(params[k])}" for k in (*self._feature_params, "lowercase", "stopwords",
                                                      "stemmer", "pattern")
                 if params[k] != defaults[k]]
        return "_".join([self._prefix(), *extra])

    def _prefix(self) -> str:
        return self.prefix

    def fit(self, collection: Collection):
        self._validate()
        self.index_ = field_index(collection, self.field, self.tokenizer(), owner=type(self).__name__)
        self._fit_index(self.index_)
        if hasattr(self, "weights_"):
            self.weights_t_ = term_major(self.weights_)  # posting lists, for the dense scoring path
        return self

    def _validate(self) -> None:
        pass

    def _fit_index(self, index: FieldIndex) -> None:
        pass

    def _prepare(self, pairs: pd.DataFrame):
        """Rows of the pairs' documents, query codes per pair and the distinct queries' terms."""
        self._check_fitted("index_")
        self._check_pairs(pairs)
        owner = f"{type(self).__name__}.transform"
        rows = self.index_.rows_of(pairs[DOCID], owner=owner)
        codes, uniques = pd.factorize(pairs[QUERY], use_na_sentinel=True)
        uniques = pd.Index(uniques).to_numpy(dtype=object).tolist()
        if (codes < 0).any():  # missing query text: one extra "query" with no tokens
            codes = np.where(codes < 0, len(uniques), codes)
            uniques.append(None)
        return rows, codes.astype(np.int64), self.index_.query_terms(uniques)


@register
class BM25(_Lexical):
    """Okapi BM25 between the query text and one document field.

    score(q, d) = sum_{t in q} idf(t) * tfc(tf(t, d), |d|), variants after Kamphuis et al. (ECIR 2020):

    ===========  =====================================  ==========================================
    variant      idf(t)                                 tfc
    ===========  =====================================  ==========================================
    robertson    ln((N - df + .5)/(df + .5)), >= 0      tf / (tf + k1 (1 - b + b |d|/avgdl))
    lucene       ln(1 + (N - df + .5)/(df + .5))        same as robertson
    atire        ln(N / df)                             (k1 + 1) tf / (tf + k1 (1 - b + b |d|/avgdl))
    bm25l        ln((N + 1)/(df + .5))                  (k1+1)(c + delta)/(k1 + c + delta), c = tf/(1-b+b|d|/avgdl)
    bm25+        ln((N + 1)/df)                         atire's tfc + delta
    ===========  =====================================  ==========================================

    ``rank_bm25.BM25Okapi(k1, b, epsilon=0)`` equals ``(k1 + 1)`` x ``robertson``.

    Parameters
    ----------
    field : str, default="body"
    k1 : float, default=0.9
    b : float, default=0.4
    variant : {"lucene", "robertson", "atire", "bm25l", "bm25+"}, default="lucene"
    delta : float, default=0.5
        Lower bound of ``bm25l``/``bm25+`` (ignored by the others).
    lowercase, stopwords, stemmer, pattern
        :class:`ltr.text.Tokenizer` settings.

    Feature: ``bm25__<field>`` for the lucene variant, ``bm25_<variant>__<field>`` for the others;
    non-default parameters are added to the prefix, e.g. ``bm25_atire_k1=1.2_b=0.75__body``.
    """

    name = "bm25"
    prefix = "bm25"

    @property
    def _feature_params(self):
        # delta changes nothing for the variants without a lower bound
        return ("k1", "b", "delta") if self.variant in ("bm25l", "bm25+") else ("k1", "b")

    def _prefix(self):
        return "bm25" if self.variant == "lucene" else f"bm25_{self.variant}"

    def __init__(self, *, field="body", k1=0.9, b=0.4, variant="lucene", delta=0.5, lowercase=True,
                 stopwords="english", stemmer="english", pattern=DEFAULT_PATTERN):
        self.field, self.k1, self.b, self.variant, self.delta = field, k1, b, variant, delta
        self.lowercase, self.stopwords, self.stemmer, self.pattern = lowercase, stopwords, stemmer, pattern

    def _validate(self):
        _check_number("BM25", "k1", self.k1, low=0.0)
        _check_number("BM25", "b", self.b, low=0.0, high=1.0)
        _check_number("BM25", "delta", self.delta, low=0.0)
        select(BM25_VARIANTS, self.variant, what="BM25 variant")

    def _fit_index(self, index):
        self.weights_, self.absent_ = bm25_weights(index, k1=self.k1, b=self.b, variant=self.variant,
                                                   delta=self.delta)

    def feature_names_out(self) -> list[str]:
        return [f"{self._stem()}__{self.field}"]

    def transform(self, pairs: pd.DataFrame) -> pd.DataFrame:
        rows, codes, qt = self._prepare(pairs)
        score = _pair_sums(self.weights_, rows, qt, codes, self.weights_t_) + qt.constant(self.absent_)[codes]
        score[qt.n_tokens[codes] == 0] = np.nan
        return self._frame({self.feature_names_out()[0]: score}, pairs)


@register
class TfIdfCosine(_Lexical):
    """Cosine between the TF-IDF vectors of the query and of one document field.

    The weights are scikit-learn's ``TfidfVectorizer`` defaults (``smooth_idf=True``, raw tf, l2 norm):

        w(t, x) = tf(t, x) * (ln((1 + N) / (1 + df(t))) + 1),
        cos(q, d) = sum_t w(t, q) w(t, d) / (||w(., q)|| ||w(., d)||),

    with the query's out-of-vocabulary terms left out of its vector (as ``TfidfVectorizer.transform``).
    A zero vector (empty document; query of only unknown terms) gives 0.

    Parameters
    ----------
    field : str, default="body"
    lowercase, stopwords, stemmer, pattern
        :class:`ltr.text.Tokenizer` settings.

    Feature: ``tfidf__<field>``.

    References
    ----------
    Salton, Buckley. "Term-weighting approaches in automatic text retrieval." IP&M 24(5), 1988.
    """

    name = "tfidf"
    prefix = "tfidf"

    def __init__(self, *, field="body", lowercase=True, stopwords="english", stemmer="english",
                 pattern=DEFAULT_PATTERN):
        self.field = field
        self.lowercase, self.stopwords, self.stemmer, self.pattern = lowercase, stopwords, stemmer, pattern

    def _fit_index(self, index):
        self.idf_ = np.log((1.0 + index.n_docs) / (1.0 + index.df)) + 1.0
        tf = index.tf
        data = tf.data * self.idf_[tf.indices]
        norms = np.sqrt(np.bincount(np.repeat(np.arange(tf.shape[0]), np.diff(tf.indptr)), weights=data ** 2,
                                    minlength=tf.shape[0]))
        data = data / np.repeat(np.where(norms > 0, norms, 1.0), np.diff(tf.indptr))
        self.weights_ = sp.csr_array((data, tf.indices.copy(), tf.indptr.copy()), shape=tf.shape)

    def feature_names_out(self) -> list[str]:
        return [f"{self._stem()}__{self.field}"]

    def transform(self, pairs: pd.DataFrame) -> pd.DataFrame:
        rows, codes, qt = self._prepare(pairs)
        # the query's l2 norm over its in-vocabulary terms
        qrow = np.repeat(np.arange(len(qt.ptr) - 1), np.diff(qt.ptr))
        qnorm = np.sqrt(np.bincount(qrow, weights=(qt.counts * self.idf_[qt.term_ids]) ** 2,
                                    minlength=len(qt.ptr) - 1))
        scaled = QueryTerms(qt.ptr, qt.term_ids, qt.counts * self.idf_[qt.term_ids] /
                            np.repeat(np.where(qnorm > 0, qnorm, 1.0), np.diff(qt.ptr)), qt.n_tokens,
                            qt.n_distinct)
        score = _pair_sums(self.weights_, rows, scaled, codes, self.weights_t_)
        score[qt.n_tokens[codes] == 0] = np.nan
        return self._frame({self.feature_names_out()[0]: score}, pairs)


_SMOOTHING = ("dirichlet", "jm")


@register
class QueryLikelihood(_Lexical):
    """Query log-likelihood under the document's smoothed unigram language model.

    log P(q | d) = sum_{t in q, cf(t) > 0} log p(t | d), with p(t | C) = cf(t) / |C| and

    - Dirichlet: p(t | d) = (tf(t, d) + mu p(t | C)) / (|d| + mu);
    - Jelinek-Mercer: p(t | d) = (1 - lam) tf(t, d) / |d| + lam p(t | C) (``lam`` weighs the collection
      model, as Zhai & Lafferty write it; an empty document keeps only ``lam p(t | C)``).

    Query terms absent from the field (cf = 0) are left out; a query with no term in the vocabulary gives
    NaN.

    Parameters
    ----------
    field : str, default="body"
    smoothing : {"dirichlet", "jm"}, default="dirichlet"
    mu : float, default=2000
    lam : float, default=0.1
    lowercase, stopwords, stemmer, pattern
        :class:`ltr.text.Tokenizer` settings.

    Feature: ``ql_dirichlet__<field>`` or ``ql_jm__<field>``.

    References
    ----------
    Zhai, Lafferty. ACM TOIS 22(2), 2004. doi:10.1145/984321.984322
    """

    name = "ql"

    def __init__(self, *, field="body", smoothing="dirichlet", mu=2000.0, lam=0.1, lowercase=True,
                 stopwords="english", stemmer="english", pattern=DEFAULT_PATTERN):
        self.field, self.smoothing, self.mu, self.lam = field, smoothing, mu, lam
        self.lowercase, self.stopwords, self.stemmer, self.pattern = lowercase, stopwords, stemmer, pattern

    @property
    def _feature_params(self):
        return ("mu",) if self.smoothing == "dirichlet" else ("lam",)

    def _prefix(self):
        return f"ql_{self.smoothing}"

    def _validate(self):
        if self.smoothing not in _SMOOTHING:
            raise ConfigError(f"Unknown smoothing {self.smoothing!r}. Choose from {list(_SMOOTHING)}.")
        _check_number("QueryLikelihood", "mu", self.mu, low=0.0)
        lam = _check_number("QueryLikelihood", "lam", self.lam, low=0.0, high=1.0)
        if lam == 0.0:
            raise ConfigError("The 'lam' parameter of QueryLikelihood must be a float in (0, 1]. Got 0 instead "
                              "(no smoothing: a document lacking a query term would score -inf).")
        if self.smoothing == "dirichlet" and float(self.mu) == 0.0:
            raise ConfigError("The 'mu' parameter of QueryLikelihood must be a float > 0. Got 0 instead.")

    def _fit_index(self, index):
        tf = index.tf
        total = float(index.cf.sum())
        self.p_collection_ = index.cf / total if total > 0 else np.zeros_like(index.cf)
        pc = self.p_collection_[tf.indices]
        dl = np.repeat(index.doc_len, np.diff(tf.indptr))
        # log p(t|d) = base(t, d) + log(1 + ratio): store log1p(ratio) sparsely, base per query/document
        if self.smoothing == "dirichlet":
            mu = float(self.mu)
            data = np.log1p(tf.data / (mu * pc))
            with np.errstate(divide="ignore"):
                self.term_base_ = np.log(mu * self.p_collection_)
            self.doc_base_ = -np.log(index.doc_len + mu)
        else:
            lam = float(self.lam)
            data = np.log1p((1 - lam) * tf.data / (dl * lam * pc))
            with np.errstate(divide="ignore"):
                self.term_base_ = np.log(lam * self.p_collection_)
            self.doc_base_ = np.zeros(index.n_docs)
        self.weights_ = sp.csr_array((data, tf.indices.copy(), tf.indptr.copy()), shape=tf.shape)

    def feature_names_out(self) -> list[str]:
        return [f"{self._stem()}__{self.field}"]

    def transform(self, pairs: pd.DataFrame) -> pd.DataFrame:
        rows, codes, qt = self._prepare(pairs)
        n_terms = np.bincount(np.repeat(np.arange(len(qt.ptr) - 1), np.diff(qt.ptr)), weights=qt.counts,
                              minlength=len(qt.ptr) - 1)  # in-vocabulary query tokens
        score = (_pair_sums(self.weights_, rows, qt, codes, self.weights_t_) + qt.constant(self.term_base_)[codes]
                 + n_terms[codes] * self.doc_base_[rows])
        score[n_terms[codes] == 0] = np.nan
        return self._frame({self.feature_names_out()[0]: score}, pairs)


@register
class TermMatch(_Lexical):
    """How many distinct query terms occur in the document field, and which fraction of them.

    count(q, d) = |{t in q : tf(t, d) > 0}|,   coverage(q, d) = count(q, d) / |{t in q}|
    (distinct tokens; out-of-vocabulary terms count in the denominator). Both NaN for a query without
    tokens.

    Parameters
    ----------
    field : str, default="body"
    lowercase, stopwords, stemmer, pattern
        :class:`ltr.text.Tokenizer` settings.

    Features: ``match__<field>__count``, ``match__<field>__coverage``.
    """

    name = "match"
    prefix = "match"

    def __init__(self, *, field="body", lowercase=True, stopwords="english", stemmer="english",
                 pattern=DEFAULT_PATTERN):
        self.field = field
        self.lowercase, self.stopwords, self.stemmer, self.pattern = lowercase, stopwords, stemmer, pattern

    def _fit_index(self, index):
        tf = index.tf
        self.weights_ = sp.csr_array((np.ones_like(tf.data), tf.indices.copy(), tf.indptr.copy()), shape=tf.shape)

    def feature_names_out(self) -> list[str]:
        stem = self._stem()
        return [f"{stem}__{self.field}__count", f"{stem}__{self.field}__coverage"]

    def transform(self, pairs: pd.DataFrame) -> pd.DataFrame:
        rows, codes, qt = self._prepare(pairs)
        ones = QueryTerms(qt.ptr, qt.term_ids, np.ones_like(qt.counts), qt.n_tokens, qt.n_distinct)
        count = _pair_sums(self.weights_, rows, ones, codes, self.weights_t_)
        distinct = qt.n_distinct[codes]
        count[distinct == 0] = np.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            coverage = count / distinct
        names = self.feature_names_out()
        return self._frame({names[0]: count, names[1]: coverage}, pairs)


@register
class Length(_Lexical):
    """Document length and query length in tokens (after stop-word removal).

    Parameters
    ----------
    field : str, default="body"
    lowercase, stopwords, stemmer, pattern
        :class:`ltr.text.Tokenizer` settings.

    Features: ``length__<field>__doc`` (0 for an empty or missing field) and ``length__<field>__query``
    (all query tokens, in the vocabulary or not).
    """

    name = "length"
    prefix = "length"

    def __init__(self, *, field="body", lowercase=True, stopwords="english", stemmer="english",
                 pattern=DEFAULT_PATTERN):
        self.field = field
        self.lowercase, self.stopwords, self.stemmer, self.pattern = lowercase, stopwords, stemmer, pattern

    def feature_names_out(self) -> list[str]:
        stem = self._stem()
        return [f"{stem}__{self.field}__doc", f"{stem}__{self.field}__query"]

    def transform(self, pairs: pd.DataFrame) -> pd.DataFrame:
        rows, codes, qt = self._prepare(pairs)
        names = self.feature_names_out()
        return self._frame({names[0]: self.index_.doc_len[rows], names[1]: qt.n_tokens[codes]}, pairs)


__all__ = ["BM25", "BM25Index", "BM25_VARIANTS", "FieldIndex", "Length", "QueryLikelihood", "QueryTerms",
           "TermMatch", "TfIdfCosine", "bm25_weights", "field_index", "field_texts"]
