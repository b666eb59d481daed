"""Tests of ltr.pipeline.first_stage. Oracles: bm25s (its "lucene" scores in float64 on the same tokens),
the lexical feature ``features.lexical.BM25`` (bit-for-bit agreement), pytrec_eval's recall_k."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from features.lexical import BM25
from ltr.collection import Collection
from ltr.errors import ConfigError, NotFittedError, SchemaError
from ltr.pipeline.first_stage import BM25Retriever, recall_at_k
from ltr.text import Tokenizer


def _zipf_collection(n_docs=600, n_queries=40, seed=0) -> Collection:
    rng = np.random.default_rng(seed)
    vocab = np.array([f"t{i}x" for i in range(800)], dtype=object)
    p = 1.0 / np.arange(1, len(vocab) + 1) ** 1.1
    p /= p.sum()
    body = [" ".join(rng.choice(vocab, size=int(rng.integers(5, 60)), p=p)) for _ in range(n_docs)]
    title = [" ".join(rng.choice(vocab, size=int(rng.integers(1, 6)), p=p)) for _ in range(n_docs)]
    docs = pd.DataFrame({"docid": [f"D{i}" for i in range(n_docs)], "title": title, "body": body})
    queries = [" ".join(rng.choice(vocab[:300], size=int(rng.integers(1, 5)))) for _ in range(n_queries)]
    queries[3] = "the of"                  # only stop words: retrieves nothing
    queries[5] = "zzzunknownword"          # no term in the vocabulary: retrieves nothing
    q = pd.DataFrame({"qid": [f"Q{i}" for i in range(n_queries)], "query": queries})
    qrels = pd.DataFrame({"qid": np.repeat(q.qid, 3), "docid": rng.choice(docs.docid, 3 * n_queries),
                          "label": rng.integers(0, 3, 3 * n_queries).astype(float)}).drop_duplicates(["qid", "docid"])
    return Collection("zipf", docs, q, qrels, fields=("title", "body"))


@pytest.fixture(scope="module")
def zipf():
    return _zipf_collection()


def _retrieve(retriever, queries, k=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return retriever.retrieve(queries, k)


@pytest.mark.parametrize("field", ["body", "all"])
def test_scores_equal_bm25s_lucene(zipf, field):
    """Oracle: bm25s.BM25(method="lucene", dtype="float64") over the same tokens. Every retrieved score
    equals bm25s' score of that document to 1e-12, and the top-k sets agree (no ties in this data)."""
    bm25s = pytest.importorskip("bm25s")
    tok = Tokenizer()
    retriever = BM25Retriever(field=field, k=50, k1=1.2, b=0.75).fit(zipf)
    run = _retrieve(retriever, zipf.queries)
    docs = zipf.documents
    texts = (docs.title + " " + docs.body) if field == "all" else docs.body
    ref = bm25s.BM25(k1=1.2, b=0.75, method="lucene", dtype="float64")
    ref.index(tok.tokenize_many(texts.tolist()), show_progress=False)
    for qid, text in zip(zipf.queries.qid, zipf.queries["query"]):
        tokens = tok.tokenize(text)
        got = run[run.qid == qid]
        if not [t for t in tokens if t in ref.vocab_dict]:
            assert got.empty
            continue
        scores = ref.get_scores(tokens)
        rows = docs.index[docs.docid.isin(got.docid)]
        expected = pd.Series(scores, index=docs.docid)
        np.testing.assert_allclose(got.score.to_numpy(), expected[got.docid].to_numpy(), rtol=0, atol=1e-12)
        n_match = int((scores > 0).sum())
        assert len(got) == min(50, n_match) and len(rows) == len(got)
        top = np.sort(scores)[::-1][:len(got)]
        np.testing.assert_allclose(got.score.to_numpy(), top, atol=1e-12)
        assert got["rank"].tolist() == list(range(1, len(got) + 1))


def test_scores_equal_lexical_feature_bit_for_bit(zipf):
    """Oracle: features.lexical.BM25 on the same pairs (the first-stage score is the feature)."""
    retriever = BM25Retriever(field="body", k=30).fit(zipf)
    run = _retrieve(retriever, zipf.queries)
    pairs = run.merge(zipf.queries, on="qid")
    feat = BM25(field="body").fit(zipf).transform(pairs)["bm25__body"].to_numpy()
    np.testing.assert_array_equal(feat, run.score.to_numpy(dtype=np.float32))


def test_empty_queries_and_k_capped(zipf):
    """Oracle: the documented rules. k beyond the collection is capped; stop-word-only and out-of-vocabulary
    queries retrieve nothing, are listed and warned about."""
    retriever = BM25Retriever(k=10_000).fit(zipf)
    with pytest.warns(UserWarning, match=r"2 of 40 queries retrieved no document.*\['Q3', 'Q5'\]"):
        run = retriever.retrieve(zipf.queries)
    assert run.attrs["k"] == 600 and run.attrs["empty_queries"] == ["Q3", "Q5"]
    assert not run.qid.isin(["Q3", "Q5"]).any()
    assert run.groupby("qid").size().max() <= 600
    assert (run.score > 0).all()
    assert run.qid.drop_duplicates().tolist() == [q for q in zipf.queries.qid if q not in ("Q3", "Q5")]
    assert run.dtypes.to_dict() == {"qid": object, "docid": object, "score": np.float64, "rank": np.int64}


def test_deterministic(zipf):
    """Oracle: a second run. Same input, same run, bit for bit."""
    r = BM25Retriever(k=100).fit(zipf)
    pd.testing.assert_frame_equal(_retrieve(r, zipf.queries), _retrieve(r, zipf.queries))


def test_bad_input(zipf):
    """Oracle: the error messages."""
    with pytest.raises(NotFittedError, match=r"call fit\(collection\) first"):
        BM25Retriever().retrieve(zipf.queries)
    r = BM25Retriever().fit(zipf)
    with pytest.raises(ConfigError, match=r"'k' parameter of BM25Retriever.retrieve must be an integer >= 1"):
        r.retrieve(zipf.queries, 0)
    with pytest.raises(SchemaError, match=r"needs columns \['query'\]"):
        r.retrieve(zipf.queries[["qid"]])
    with pytest.raises(ConfigError, match=r"has no field 'abstract'"):
        BM25Retriever(field="abstract").fit(zipf)


def test_recall_at_k_equals_trec_eval():
    """Oracle: pytrec_eval's recall_10 / recall_100 / recall_1000 on a random run without ties."""
    pytrec_eval = pytest.importorskip("pytrec_eval")
    rng = np.random.default_rng(3)
    rows, qrels = [], []
    for q in range(15):
        docs = [f"d{i}" for i in range(300)]
        scores = rng.permutation(300).astype(float) + rng.random(300) * 0.5
        rows += [(f"q{q}", d, s) for d, s in zip(docs, scores)]
        rel = rng.choice(400, size=int(rng.integers(1, 20)), replace=False)  # some beyond the run
        qrels += [(f"q{q}", f"d{i}", float(rng.integers(1, 3))) for i in rel]
        qrels += [(f"q{q}", f"d{i}", 0.0) for i in range(400, 403)]
    run = pd.DataFrame(rows, columns=["qid", "docid", "score"])
    qrels = pd.DataFrame(qrels, columns=["qid", "docid", "label"])
    ours = recall_at_k(run, qrels, ks=(10, 100, 200, 1000)).set_index("k")
    ev = pytrec_eval.RelevanceEvaluator(
        {q: {d: int(l) for d, l in zip(g.docid, g.label)} for q, g in qrels.groupby("qid")}, {"recall"})
    res = ev.evaluate({q: dict(zip(g.docid, g.score)) for q, g in run.groupby("qid")})
    for k in (10, 100, 200):
        assert ours.loc[k, "recall"] == pytest.approx(np.mean([r[f"recall_{k}"] for r in res.values()]), abs=1e-12)
    # 1000 is beyond the run's depth: capped at 300, which equals trec_eval's recall_1000 here
    assert 1000 not in ours.index and ours.loc[300, "recall"] == pytest.approx(
        np.mean([r["recall_1000"] for r in res.values()]), abs=1e-12)
    assert (ours.n_queries == 15).all() and ours.recall.is_monotonic_increasing


def test_recall_counts_missing_queries_as_zero():
    """Oracle: hand count. A query with relevant documents but no rows in the run counts 0 (trec_eval -c)."""
    run = pd.DataFrame({"qid": ["a", "a"], "docid": ["x", "y"], "score": [2.0, 1.0]})
    qrels = pd.DataFrame({"qid": ["a", "b"], "docid": ["x", "z"], "label": [1.0, 1.0]})
    out = recall_at_k(run, qrels, ks=(1, 10))
    assert out.k.tolist() == [1, 2] and out.recall.tolist() == [0.5, 0.5]


@pytest.mark.parametrize("variant", ["lucene", "robertson", "bm25l", "bm25+"])
@pytest.mark.parametrize("k", [1, 7, 600])
def test_numba_backend_equals_numpy_reference(variant, k):
    """Oracle: the numpy backend (features.lexical.BM25Index.topk). The numba kernel returns the same run bit
    for bit, ties included (duplicated documents make ties; equal scores stay in document order)."""
    pytest.importorskip("numba")
    c = _zipf_collection(n_docs=300, n_queries=40, seed=2)
    docs = c.documents.copy()
    dup = docs.iloc[:60].assign(docid=lambda f: "copy_" + f.docid)  # exact copies tie with their originals
    docs = pd.concat([docs, dup], ignore_index=True)
    c = Collection("zipf-dup", docs, c.queries, c.qrels, fields=("title", "body"))
    runs = {}
    for backend in ("numpy", "numba"):
        r = BM25Retriever(field="all", variant=variant, backend=backend, batch_size=16).fit(c)
        runs[backend] = _retrieve(r, c.queries, k)
    pd.testing.assert_frame_equal(runs["numba"], runs["numpy"], check_exact=True)


def test_python_kernel_equals_numba_kernel():
    """Oracle: the same kernel run as plain Python (the fallback without numba) on random postings with
    ties: identical rows, scores and counts."""
    pytest.importorskip("numba")
    import scipy.sparse as sp

    from ltr.pipeline._topk import topk_postings

    rng = np.random.default_rng(0)
    w = sp.random(30, 200, density=0.2, random_state=1, format="csr")
    w.data = np.round(w.data * 4) / 4 + 0.25  # coarse values: many ties
    ptr = np.array([0, 2, 2, 5, 6])
    terms = np.array([3, 7, 0, 1, 29, 12])
    counts = np.array([1.0, 2.0, 1.0, 1.0, 3.0, 1.0])
    const = np.zeros(4)
    for k in (1, 5, 200):
        a = topk_postings(ptr, terms, counts, const, w.indptr, w.indices, w.data, 200, k, use_numba=True)
        b = topk_postings(ptr, terms, counts, const, w.indptr, w.indices, w.data, 200, k, use_numba=False)
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
        assert a[2][1] == 0  # a query without terms retrieves nothing
    del rng


def test_get_first_stage_round_trip():
    """Oracle: the printed form. spec() parses back to the same parameters; '@k' sets k; typos are named."""
    from ltr.errors import UnknownNameError
    from ltr.pipeline import get_first_stage

    r = get_first_stage("bm25(field='body', k1=1.2, b=0.75)@500")
    assert (r.field, r.k1, r.b, r.k) == ("body", 1.2, 0.75, 500)
    assert get_first_stage(r.spec()).get_params() == r.get_params()
    with pytest.raises(UnknownNameError, match=r"Unknown first stage 'bm26'. Choose from \['bm25'\]"):
        get_first_stage("bm26")
    with pytest.raises(UnknownNameError, match=r"first stage 'bm25' got unknown parameters \['kl'\]"):
        get_first_stage("bm25(kl=1.2)")


def test_retrieve_does_not_change_the_retriever(zipf):
    """Oracle: the retriever's attributes before and after; what a call decided is in the run's attrs."""
    retriever = BM25Retriever(k=50).fit(zipf)
    before = {k: v for k, v in vars(retriever).items()}
    with pytest.warns(UserWarning):
        run = retriever.retrieve(zipf.queries, 7)
    assert vars(retriever).keys() == before.keys()
    assert all(vars(retriever)[k] is v for k, v in before.items())
    assert run.attrs["k"] == 7 and run.attrs["seconds"] >= 0


@pytest.mark.parametrize("spec, message", [
    ("bm25(k1=-1)", r"The 'k1' parameter of BM25Retriever must be a float >= 0.0. Got -1 instead."),
    ("bm25(b=1.5)", r"The 'b' parameter of BM25Retriever must be a float in \[0.0, 1.0\]. Got 1.5 instead."),
    ("bm25(variant='okapi')", r"Unknown BM25 variant 'okapi'"),
    ("bm25(k=0)", r"The 'k' parameter of BM25Retriever must be an integer >= 1. Got 0 instead."),
    ("bm25(kone=1)", r"unknown .*kone"),
])
def test_first_stage_parameters_are_checked_when_declared(spec, message):
    """Oracle: the documented messages, raised by get_first_stage before any collection is read."""
    from ltr.errors import LTRError
    from ltr.pipeline import get_first_stage
    with pytest.raises(LTRError, match=message):
        get_first_stage(spec)
