"""Tests of features.lexical.

Oracles: rank_bm25.BM25Okapi (epsilon=0) = (k1 + 1) x robertson; bm25s for every variant (float64);
scikit-learn's TfidfVectorizer for the TF-IDF cosine; slow direct loops for query likelihood, matched terms
and lengths (written from the formulas in the docstrings, not from the implementation).
"""

from __future__ import annotations

import math
from collections import Counter

import bm25s
import numpy as np
import pandas as pd
import pytest
from rank_bm25 import BM25Okapi
from sklearn.feature_extraction.text import TfidfVectorizer

from features.base import FeatureSet
from features.lexical import BM25, BM25_VARIANTS, BM25Index, Length, QueryLikelihood, TermMatch, TfIdfCosine
from ltr.collection import Collection
from ltr.errors import ConfigError, DataError, SchemaError, UnknownNameError
from ltr.text import Tokenizer

TOK = Tokenizer()


def zipf_collection(n_docs=300, n_queries=25, vocab=400, seed=0) -> Collection:
    rng = np.random.default_rng(seed)
    words = [f"w{i}x" for i in range(vocab)]
    p = 1.0 / np.arange(1, vocab + 1)
    p /= p.sum()

    def text(n):
        return " ".join(words[i] for i in rng.choice(vocab, size=n, p=p))

    docs = pd.DataFrame({"docid": [f"d{i}" for i in range(n_docs)],
                         "title": [text(rng.integers(1, 6)) for _ in range(n_docs)],
                         "body": [text(rng.integers(5, 80)) for _ in range(n_docs)]})
    queries = pd.DataFrame({"qid": [f"q{i}" for i in range(n_queries)],
                            "query": [text(rng.integers(1, 6)) + " unseenterm" * (i % 4 == 0)
                                      for i in range(n_queries)]})
    qrels = pd.DataFrame({"qid": ["q0"], "docid": ["d0"], "label": [1.0]})
    return Collection("zipf", docs, queries, qrels, fields=("title", "body"))


def all_pairs(c: Collection) -> pd.DataFrame:
    pairs = pd.DataFrame([(q, t, d) for q, t in zip(c.queries.qid, c.queries["query"]) for d in c.documents.docid],
                         columns=["qid", "query", "docid"])
    return pairs.sample(frac=1.0, random_state=0)


@pytest.fixture(scope="module")
def zipf():
    return zipf_collection()


@pytest.fixture(scope="module")
def zipf_tokens(zipf):
    return TOK.tokenize_many(zipf.documents.body.tolist()), TOK.tokenize_many(zipf.queries["query"].tolist())


@pytest.mark.parametrize("k1,b", [(0.9, 0.4), (1.2, 0.75), (2.0, 1.0), (0.5, 0.0)])
def test_bm25_robertson_equals_rank_bm25(zipf, zipf_tokens, k1, b):
    """Oracle: rank_bm25.BM25Okapi(k1, b, epsilon=0) = (k1 + 1) x robertson, float64, to 1e-12."""
    docs, queries = zipf_tokens
    ours = BM25Index(k1=k1, b=b, variant="robertson").fit(zipf.documents.body, zipf.documents.docid)
    oracle = BM25Okapi(docs, k1=k1, b=b, epsilon=0)
    ours_scores = ours.score_matrix(zipf.queries["query"])
    for i, q in enumerate(queries):
        np.testing.assert_allclose(ours_scores[i] * (k1 + 1), oracle.get_scores(q), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("variant", sorted(BM25_VARIANTS))
@pytest.mark.parametrize("k1,b,delta", [(0.9, 0.4, 0.5), (1.5, 0.75, 1.0)])
def test_bm25_variants_equal_bm25s(zipf, zipf_tokens, variant, k1, b, delta):
    """Oracle: bm25s.BM25(method=variant, dtype float64) indexed on the same tokens."""
    docs, queries = zipf_tokens
    oracle = bm25s.BM25(method=variant, k1=k1, b=b, delta=delta, dtype="float64")
    oracle.index(docs, show_progress=False)
    ours = BM25Index(k1=k1, b=b, variant=variant, delta=delta).fit(zipf.documents.body, zipf.documents.docid)
    ours_scores = ours.score_matrix(zipf.queries["query"])
    for i, q in enumerate(queries):
        known = [t for t in q if t in oracle.vocab_dict]  # bm25s refuses unknown tokens; they score 0 here
        expected = oracle.get_scores(known) if known else np.zeros(len(docs))
        np.testing.assert_allclose(ours_scores[i], expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("variant", sorted(BM25_VARIANTS))
def test_bm25_feature_equals_index(zipf, variant):
    """Oracle: BM25Index.score_matrix (the first-stage scores): the feature is the same number in float32."""
    pairs = all_pairs(zipf)
    feat = BM25(field="body", variant=variant).fit(zipf).transform(pairs)
    index = BM25Index(variant=variant).fit(zipf.documents.body, zipf.documents.docid)
    full = index.score_matrix(zipf.queries["query"])
    qrow = pd.Index(zipf.queries["query"]).get_indexer(pairs["query"])
    drow = pd.Index(zipf.documents.docid).get_indexer(pairs.docid)
    expected = full[qrow, drow].astype(np.float32)
    np.testing.assert_array_equal(feat.iloc[:, 0].to_numpy(), expected)
    assert feat.index.equals(pairs.index)


def test_tfidf_equals_sklearn(zipf):
    """Oracle: sklearn TfidfVectorizer(analyzer=Tokenizer().tokenize) + dot product of l2-normalised rows."""
    vec = TfidfVectorizer(analyzer=TOK.tokenize)
    d = vec.fit_transform(zipf.documents.body.tolist())
    q = vec.transform(zipf.queries["query"].tolist())
    expected_full = (q @ d.T).toarray()
    pairs = all_pairs(zipf)
    got = TfIdfCosine(field="body").fit(zipf).transform(pairs).iloc[:, 0].to_numpy()
    qrow = pd.Index(zipf.queries["query"]).get_indexer(pairs["query"])
    drow = pd.Index(zipf.documents.docid).get_indexer(pairs.docid)
    np.testing.assert_allclose(got, expected_full[qrow, drow], rtol=1e-6, atol=1e-7)


def slow_ql(query_tokens, doc_tokens, corpus_tokens, smoothing, mu, lam):
    cf = Counter(t for d in corpus_tokens for t in d)
    total = sum(cf.values())
    tf = Counter(doc_tokens)
    dl = len(doc_tokens)
    terms = [t for t in query_tokens if cf[t] > 0]
    if not terms:
        return math.nan
    s = 0.0
    for t in terms:
        pc = cf[t] / total
        if smoothing == "dirichlet":
            s += math.log((tf[t] + mu * pc) / (dl + mu))
        else:
            s += math.log((1 - lam) * (tf[t] / dl if dl else 0.0) + lam * pc)
    return s


@pytest.mark.parametrize("smoothing,mu,lam", [("dirichlet", 2000.0, 0.1), ("dirichlet", 10.0, 0.1),
                                              ("jm", 2000.0, 0.1), ("jm", 2000.0, 0.7)])
def test_query_likelihood_equals_direct_formula(smoothing, mu, lam):
    """Oracle: a slow loop over the Zhai & Lafferty formulas (float64), on title (short, some empty)."""
    c = zipf_collection(n_docs=60, n_queries=8)
    c.documents.loc[3, "title"] = ""  # an empty document: collection model only
    corpus = TOK.tokenize_many(c.documents.title.tolist())
    pairs = all_pairs(c)
    got = QueryLikelihood(field="title", smoothing=smoothing, mu=mu, lam=lam).fit(c).transform(pairs)
    doc_of = dict(zip(c.documents.docid, corpus))
    expected = [slow_ql(TOK.tokenize(q), doc_of[d], corpus, smoothing, mu, lam)
                for q, d in zip(pairs["query"], pairs.docid)]
    np.testing.assert_allclose(got.iloc[:, 0].to_numpy(), np.asarray(expected, dtype=np.float32), rtol=1e-6)


def test_match_and_length_equal_loops(zipf):
    """Oracle: set intersections and len() of the tokens."""
    pairs = all_pairs(zipf).head(2000)
    m = TermMatch(field="title").fit(zipf).transform(pairs)
    ln = Length(field="title").fit(zipf).transform(pairs)
    doc_of = dict(zip(zipf.documents.docid, TOK.tokenize_many(zipf.documents.title.tolist())))
    for (i, row), cnt, cov, dl, ql in zip(pairs.iterrows(), *(m[c] for c in m), *(ln[c] for c in ln)):
        q = set(TOK.tokenize(row["query"]))
        matched = len(q & set(doc_of[row.docid]))
        assert cnt == matched and cov == np.float32(matched / len(q))
        assert dl == len(doc_of[row.docid]) and ql == len(TOK.tokenize(row["query"]))


def test_empty_query_and_empty_document_rules(tiny_collection, tiny_pairs):
    """Oracle: the module's documented rules (query 'the' has no token after stop words)."""
    fs = FeatureSet([BM25(), TfIdfCosine(), QueryLikelihood(), TermMatch(), Length(),
                     BM25(field="title", variant="bm25+")])
    out = fs.fit(tiny_collection).transform(tiny_pairs)
    empty_q = (tiny_pairs["query"] == "the").to_numpy()
    nan_cols = [c for c in out.columns if not c.startswith("length")]
    assert out.loc[empty_q, nan_cols].isna().all().all()
    assert not out.loc[~empty_q, nan_cols].isna().any().any()
    assert (out.loc[empty_q, "length__body__query"] == 0).all()
    # d3 has an empty title, d6 a missing one: empty documents; bm25+ gives them the delta floor only
    no_title = tiny_pairs.docid.isin(["d3", "d6"]).to_numpy() & ~empty_q
    floor = BM25(field="title", variant="bm25+").fit(tiny_collection)
    idf = np.log((6 + 1) / floor.index_.df)
    for i in np.flatnonzero(no_title):
        toks = [t for t in TOK.tokenize(tiny_pairs["query"].iloc[i]) if t in floor.index_.vocabulary]
        exp = sum(0.5 * idf[floor.index_.vocabulary[t]] for t in toks)
        assert out["bm25_bm25+__title"].iloc[i] == pytest.approx(exp, rel=1e-6)


def test_missing_query_text_is_nan(tiny_collection, tiny_pairs):
    """Oracle: the documented rule (missing text has no token)."""
    pairs = tiny_pairs.copy()
    pairs.loc[pairs.index[:3], "query"] = None
    out = BM25().fit(tiny_collection).transform(pairs)
    assert out.iloc[:3, 0].isna().all()


def test_feature_names_depend_on_field_and_params():
    """Oracle: the naming rule in the docstrings."""
    assert BM25().feature_names_out() == ["bm25__body"]
    assert BM25(field="title").feature_names_out() == ["bm25__title"]
    assert BM25(variant="atire", k1=1.2, b=0.75).feature_names_out() == ["bm25_atire_k1=1.2_b=0.75__body"]
    assert BM25(delta=1.0).feature_names_out() == ["bm25__body"]  # delta is unused by lucene
    assert BM25(variant="bm25l", delta=1.0).feature_names_out() == ["bm25_bm25l_delta=1.0__body"]
    assert BM25(stemmer=None).feature_names_out() == ["bm25_stemmer=None__body"]
    assert QueryLikelihood().feature_names_out() == ["ql_dirichlet__body"]
    assert QueryLikelihood(smoothing="jm", lam=0.5).feature_names_out() == ["ql_jm_lam=0.5__body"]
    assert QueryLikelihood(smoothing="jm", mu=10).feature_names_out() == ["ql_jm__body"]
    assert TermMatch(field="title").feature_names_out() == ["match__title__count", "match__title__coverage"]
    assert Length().feature_names_out() == ["length__body__doc", "length__body__query"]
    assert TfIdfCosine(field="title").feature_names_out() == ["tfidf__title"]
    a = BM25(stopwords=["x"]).feature_names_out()
    assert a != BM25(stopwords=["y"]).feature_names_out()
    names = FeatureSet([BM25(field="title"), BM25(), BM25(k1=1.2), QueryLikelihood(smoothing="jm"),
                        QueryLikelihood()]).feature_names_out()
    assert len(set(names)) == len(names)


def test_unknown_docids_raise(tiny_collection, tiny_pairs):
    """Oracle: the documented error naming the ids."""
    pairs = tiny_pairs.copy()
    pairs.loc[pairs.index[0], "docid"] = "nope"
    with pytest.raises(DataError, match=r"BM25.transform: 1 document ids of the pairs are not in the collection it was fitted on, e.g. \['nope'\]"):
        BM25().fit(tiny_collection).transform(pairs)


def test_bad_parameters_raise(tiny_collection, tiny_pairs):
    """Oracle: the error templates of STYLE.md §8."""
    with pytest.raises(ConfigError, match=r"The 'k1' parameter of BM25 must be a float >= 0.0. Got -1 instead."):
        BM25(k1=-1).fit(tiny_collection)
    with pytest.raises(ConfigError, match=r"'b' parameter of BM25 must be a float in \[0.0, 1.0\]. Got 2 instead"):
        BM25(b=2).fit(tiny_collection)
    with pytest.raises(UnknownNameError, match=r"Unknown BM25 variant 'okapi'. Choose from \['atire', 'bm25\+', "
                                               r"'bm25l', 'lucene', 'robertson'\]"):
        BM25(variant="okapi").fit(tiny_collection)
    with pytest.raises(ConfigError, match=r"Unknown smoothing 'laplace'. Choose from \['dirichlet', 'jm'\]"):
        QueryLikelihood(smoothing="laplace").fit(tiny_collection)
    with pytest.raises(ConfigError, match=r"has no field 'abstract'. Choose from \['body', 'title'\] or 'all'"):
        BM25(field="abstract").fit(tiny_collection)
    with pytest.raises(SchemaError, match=r"BM25.transform needs columns \['query'\]"):
        BM25().fit(tiny_collection).transform(tiny_pairs[["qid", "docid"]])


def test_all_field_joins_fields(tiny_collection, tiny_pairs):
    """Oracle: BM25Index over title + ' ' + body built by hand."""
    docs = tiny_collection.documents
    texts = (docs.title.fillna("") + " " + docs.body).tolist()
    full = BM25Index().fit(texts, docs.docid).score_matrix(tiny_collection.queries["query"])
    got = BM25(field="all").fit(tiny_collection).transform(tiny_pairs).iloc[:, 0].to_numpy()
    q = pd.Index(tiny_collection.queries["query"]).get_indexer(tiny_pairs["query"])
    d = pd.Index(docs.docid).get_indexer(tiny_pairs.docid)
    np.testing.assert_array_equal(got, full[q, d].astype(np.float32))


def test_topk_order_and_search_frame():
    """Oracle: a full stable sort of score_matrix (score descending, document order on ties)."""
    c = zipf_collection(n_docs=200, n_queries=10, vocab=30)  # small vocabulary: many ties
    index = BM25Index().fit(c.documents.body, c.documents.docid)
    full = index.score_matrix(c.queries["query"])
    rows, scores = index.topk(c.queries["query"], k=50)
    for i in range(len(full)):
        expected = np.lexsort((np.arange(200), -full[i]))[:50]
        np.testing.assert_array_equal(rows[i], expected)
        np.testing.assert_array_equal(scores[i], full[i, expected])
    run = index.search(c.queries["query"], k=5, qids=c.queries.qid)
    assert list(run.columns) == ["qid", "docid", "score", "rank"] and len(run) == 50
    assert run["rank"].tolist()[:5] == [1, 2, 3, 4, 5]
    assert run.docid.iloc[0] == c.documents.docid.iloc[rows[0, 0]]
    rows_all, _ = index.topk(c.queries["query"], k=10_000)
    assert rows_all.shape == (10, 200)
    with pytest.raises(ConfigError, match="'k' parameter of BM25Index.topk must be an int >= 1"):
        index.topk(["x"], k=0)


def test_transform_does_not_retokenize_the_collection(tiny_collection):
    """Oracle: identity of the cached field index (extractors on one field share one tokenisation)."""
    a = BM25().fit(tiny_collection)
    b = QueryLikelihood().fit(tiny_collection)
    assert a.index_ is b.index_
    assert BM25(stemmer=None).fit(tiny_collection).index_ is not a.index_


@pytest.mark.parametrize("dense_factor", [0, 8, 10**9], ids=["search-only", "adaptive", "dense-only"])
def test_numba_kernel_equals_numpy_reference(zipf, monkeypatch, dense_factor):
    """Oracle: the numpy reference path (_pair_sums_numpy); same terms in the same order, so equal bits, on
    the binary-search path, the dense-scatter path and the adaptive mix."""
    import features.index as index

    if index._numba_kernel() is None:
        pytest.skip("numba is not installed: only the numpy path exists")
    monkeypatch.setattr(index, "_DENSE_FACTOR", dense_factor)
    pairs = pd.concat([all_pairs(zipf), all_pairs(zipf).head(7)])  # repeated pairs, uneven query groups
    pairs.loc[pairs.index[:5], "query"] = "the"  # a query without tokens
    for ex in (BM25(variant="bm25+"), QueryLikelihood(smoothing="jm"), TfIdfCosine(), TermMatch()):
        ex.fit(zipf)
        rows, codes, qt = ex._prepare(pairs)
        np.testing.assert_array_equal(index._pair_sums(ex.weights_, rows, qt, codes, ex.weights_t_),
                                      index._pair_sums_numpy(ex.weights_, rows, qt, codes))


def test_unfitted_index_and_extractor_raise(tiny_pairs):
    """Oracle: the NotFittedError messages."""
    from ltr.errors import NotFittedError

    with pytest.raises(NotFittedError, match="BM25Index is not fitted yet"):
        BM25Index().topk(["x"], k=3)
    with pytest.raises(NotFittedError, match="BM25 is not fitted yet"):
        BM25().transform(tiny_pairs)
