"""A tiny collection with every optional part (fields, URLs, timestamps, links, query times) for extractor tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltr.collection import Collection


def make_tiny_collection() -> Collection:
    ts = pd.to_datetime(["2020-01-01", "2021-06-15", None, "2023-03-01", "2019-12-31", "2022-02-02"],
                        utc=True)
    documents = pd.DataFrame({
        "docid": ["d1", "d2", "d3", "d4", "d5", "d6"],
        "title": ["Fast ranking with trees", "Gradient boosting", "", "Ranking news fresh",
                  "BM25 explained", None],
        "body": ["learning to rank with gradient boosted trees and lambdarank",
                 "boosting trees gradient descent on the loss",
                 "a page with no title about cooking pasta",
                 "fresh news about ranking models and search engines",
                 "bm25 is a ranking function used by search engines",
                 "the the the"],
        "url": ["https://www.example.co.uk/ml/ranking.html", "http://blog.example.com/2021/06/gbdt",
                "https://cooking.example.org/pasta", "https://news.example.com/a/b/c/ranking?id=7",
                "http://192.168.0.1:8080/bm25", None],
        "timestamp": ts,
    })
    links = pd.DataFrame({"source": ["d1", "d2", "d3", "d4", "d4", "d5", "d1"],
                          "target": ["d2", "d1", "d1", "d1", "d1", "d5", "d4"]})
    queries = pd.DataFrame({"qid": ["q1", "q2", "q3"],
                            "query": ["ranking trees", "search engines bm25", "the"],
                            "query_time": pd.to_datetime(["2022-01-01", "2023-01-01", "2024-01-01"], utc=True)})
    qrels = pd.DataFrame({"qid": ["q1", "q1", "q2", "q2"], "docid": ["d1", "d4", "d5", "d4"],
                          "label": [2.0, 1.0, 2.0, 1.0]})
    return Collection("tiny", documents, queries, qrels, fields=("title", "body"), links=links,
                      reference_time=pd.Timestamp("2024-01-01", tz="UTC"))


def make_tiny_pairs(collection: Collection) -> pd.DataFrame:
    """Every (query, document) pair, with query text and query time, in a shuffled but fixed order."""
    q = collection.queries
    rows = [(qid, d) for qid in q["qid"] for d in collection.documents["docid"]]
    pairs = pd.DataFrame(rows, columns=["qid", "docid"])
    pairs = pairs.merge(q, on="qid", how="left")
    order = np.random.default_rng(0).permutation(len(pairs))
    return pairs.iloc[order].reset_index(drop=True)


@pytest.fixture
def tiny_collection() -> Collection:
    return make_tiny_collection()


@pytest.fixture
def tiny_pairs(tiny_collection) -> pd.DataFrame:
    return make_tiny_pairs(tiny_collection)
