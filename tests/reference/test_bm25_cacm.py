"""First-stage BM25 (BM25Index.topk over the whole collection) against REFERENCE.md's bm25s figures.

Oracle: ../shared/data/REFERENCE.md, "First-stage BM25" table, measured there with bm25s 0.3.16 (method
"lucene", top 1000, bm25s default regex, lower-cased, its English stop list, PyStemmer "english"; indexed
.T + .W; queries .W) and scored with trec_eval measures via pytrec_eval, over the judged queries.

On the gap to Anserini's published CACM BM25 (MAP 0.3123, P@30 0.1942, cacm/SOURCE.md): Anserini indexes
the whole SMART record (dates, authors, .X citation-number lines, keywords) with Lucene's analyzer and the
Porter stemmer, and uses k1 = 0.9, b = 0.4 as we do; REFERENCE.md reproduces 0.3098 / 0.1949 by indexing
every field that way. Indexing only title + abstract with the Snowball stemmer gives the higher 0.3422:
the gap is the indexed text and the tokenisation, not the BM25 formula.
"""

from __future__ import annotations

import numpy as np
import pytest
import pytrec_eval

from features.lexical import BM25Index, field_texts
from ltr.datasets.loaders import load_cacm, load_cranfield, load_vaswani
from tests.conftest import shared_path

MEASURES = {"map": "map", "P_30": "P_30", "ndcg_cut_10": "ndcg_cut_10", "recall_1000": "recall_1000"}


def bm25_run_measures(collection, k1, b):
    index = BM25Index(k1=k1, b=b).fit(field_texts(collection, "all", owner="test"), collection.documents.docid)
    judged = collection.queries[collection.queries.qid.isin(set(collection.qrels.qid))]
    run = index.search(judged["query"], k=1000, qids=judged.qid)
    runs: dict = {}
    for qid, docid, score in zip(run.qid, run.docid, run.score):
        runs.setdefault(qid, {})[docid] = float(score)
    qrels: dict = {}
    for qid, docid, label in zip(collection.qrels.qid, collection.qrels.docid, collection.qrels.label):
        qrels.setdefault(qid, {})[docid] = int(label)
    per_query = pytrec_eval.RelevanceEvaluator(qrels, set(MEASURES)).evaluate(runs)
    return {m: float(np.mean([r[m] for r in per_query.values()])) for m in MEASURES}, len(per_query)


@pytest.mark.parametrize("k1,b,expected", [
    (0.9, 0.4, {"map": 0.3422, "P_30": 0.1936, "ndcg_cut_10": 0.4874, "recall_1000": 0.8856}),
    (1.2, 0.75, {"map": 0.3463, "P_30": 0.1968, "ndcg_cut_10": 0.4994, "recall_1000": 0.8835}),
])
def test_cacm_bm25_matches_reference(k1, b, expected):
    """Oracle: REFERENCE.md CACM rows (52 judged queries), to the 4 printed decimals."""
    got, n = bm25_run_measures(load_cacm(shared_path("cacm")), k1, b)
    assert n == 52
    for m, v in expected.items():
        assert round(got[m], 4) == v, (m, got[m], v)


def test_vaswani_bm25_matches_reference():
    """Oracle: REFERENCE.md Vaswani row (93 queries), to the 4 printed decimals."""
    got, n = bm25_run_measures(load_vaswani(shared_path("vaswani-npl")), 0.9, 0.4)
    assert n == 93
    expected = {"map": 0.2891, "P_30": 0.2405, "ndcg_cut_10": 0.4449, "recall_1000": 0.9337}
    for m, v in expected.items():
        assert round(got[m], 4) == v, (m, got[m], v)


def test_cranfield_bm25_near_reference():
    """Oracle: REFERENCE.md Cranfield row (MAP 0.2878, P@30 0.1154, nDCG@10 0.3516).

    We land at MAP 0.2880 / nDCG@10 0.3517 (P@30 equal). Records 240, 576 and 578 repeat their .W section;
    we append the repeats, and keeping only the first or only the last gives MAP 0.2884 / 0.2881, so the
    reference parsed those records in yet another way. R@1000 differs more (0.9742 against 0.9515) and is not
    asserted: it stays 0.9742 whichever way the repeats are read, and its cause was not found.
    """
    got, n = bm25_run_measures(load_cranfield(shared_path("cranfield")), 0.9, 0.4)
    assert n == 225
    assert got["map"] == pytest.approx(0.2878, abs=5e-4)
    assert round(got["P_30"], 4) == 0.1154
    assert got["ndcg_cut_10"] == pytest.approx(0.3516, abs=5e-4)
